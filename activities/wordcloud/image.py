"""Drawing the cloud with the `wordcloud` package. Runs in a worker process: CPU-bound, seconds at most."""

from __future__ import annotations

import io

from activities.palette import ON_WHITE

WIDTH, HEIGHT = 1000, 500
# Caps the first words' size, so a cloud of three words does not fill the screen edge to edge.
MAX_FONT_SIZE = 110


def font_path() -> str:
    """DejaVu Sans Bold, which matplotlib (a dependency of wordcloud) ships: no system font needed."""
    from matplotlib import font_manager

    return str(font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans", weight="bold")))


def draw(frequencies: list[tuple[str, int]], seed: int, fmt: str) -> bytes:
    """The cloud as PNG or SVG bytes. Same words, counts and seed: same picture, so it does not reshuffle."""
    from wordcloud import WordCloud

    if not frequencies:
        return _empty(fmt)
    # Colour by rank: neighbouring words in the ranking never share a colour, and a word keeps its colour.
    colours = {word: ON_WHITE[rank % len(ON_WHITE)] for rank, (word, _) in enumerate(frequencies)}
    cloud = WordCloud(
        width=WIDTH,
        height=HEIGHT,
        background_color="white",
        random_state=seed,
        max_words=len(frequencies),
        prefer_horizontal=0.95,
        relative_scaling=0.6,
        min_font_size=12,
        max_font_size=MAX_FONT_SIZE,
        margin=8,
        font_path=font_path(),
        color_func=lambda word, **_: colours[word],
    )
    # Ties keep the given (alphabetical) order: the layout depends only on the table, not on arrival order.
    cloud.generate_from_frequencies(dict(frequencies))
    if fmt == "svg":
        return str(cloud.to_svg(embed_font=False)).encode()
    buffer = io.BytesIO()
    cloud.to_image().save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _empty(fmt: str) -> bytes:
    if fmt == "svg":
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"></svg>'.encode()
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (WIDTH, HEIGHT), "white").save(buffer, format="PNG")
    return buffer.getvalue()
