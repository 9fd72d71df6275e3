"""The colours results are drawn in stay apart for colour-blind people, and text on the projector's colours meets
WCAG: AA (4.5:1) in the standard palette, AAA (7:1) in high contrast; bars and focus rings 3:1 against their ground.
Pure colour arithmetic: sRGB, the Machado-Oliveira-Fernandes (2009) simulation matrices, CIELAB, WCAG luminance."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest

from activities.palette import OKABE_ITO, ON_WHITE
from activities.sort import BIN_COLOURS

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "handsup.css"
Rgb = tuple[float, float, float]
# Full-severity dichromacy, applied to linear RGB (Machado, Oliveira and Fernandes 2009, table for severity 1.0).
DICHROMACY = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
# CIELAB distance (ΔE 1976). About 2.3 is the smallest difference people notice side by side; 15 is two colours
# nobody takes for one another at a glance across a room.
APART = 15.0


def linear(colour: str) -> Rgb:
    """#rrggbb (or #rgb) as linear-light RGB in 0..1."""
    digits = colour.lstrip("#")
    digits = "".join(c * 2 for c in digits) if len(digits) == 3 else digits
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return r, g, b


def seen_with(deficiency: str | None, colour: str) -> Rgb:
    rgb = linear(colour)
    if deficiency is None:
        return rgb
    r, g, b = (min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in DICHROMACY[deficiency])
    return r, g, b


def lab(rgb: Rgb) -> Rgb:
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two colours."""

    def luminance(colour: str) -> float:
        r, g, b = linear(colour)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def closest_pair(palette: tuple[str, ...], deficiency: str | None) -> tuple[float, str, str]:
    return min(
        (math.dist(lab(seen_with(deficiency, a)), lab(seen_with(deficiency, b))), a, b)
        for a, b in itertools.combinations(palette, 2)
    )


def css_colours(selector: str) -> dict[str, str]:
    """The custom properties (--name: #hex) a rule of handsup.css sets."""
    match = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS.read_text(encoding="utf-8"))
    assert match, f"handsup.css has a `{selector}` rule"
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})\b", match.group(1)))


STANDARD = css_colours(":root")
HIGH = {**STANDARD, **css_colours("body.high-contrast")}
# (foreground, background): text the projector and phones show on those colours.
TEXT = [
    ("ink", "paper"),
    ("muted", "paper"),
    ("muted", "wash"),
    ("accent", "paper"),
    ("accent-ink", "accent"),
    ("paper", "ink"),
    ("error", "paper"),
    ("ok", "paper"),
    ("lead-ink", "paper"),
]
# Shapes that carry meaning (bars, the leading bar, the focus ring) against the track or page behind them.
SHAPES = [("bar", "wash"), ("lead", "wash"), ("bar", "paper"), ("lead", "paper"), ("focus", "paper")]
BAR_PAIRS = {"standard": (STANDARD["bar"], STANDARD["lead"]), "high contrast": (HIGH["bar"], HIGH["lead"])}
PALETTES = {
    "card-sort bins": BIN_COLOURS,
    "archive charts": OKABE_ITO,
    "word cloud": ON_WHITE,
    **{f"poll bars, {name}": pair for name, pair in BAR_PAIRS.items()},
}


@pytest.mark.parametrize("deficiency", [None, *DICHROMACY])
@pytest.mark.parametrize("name", list(PALETTES))
def test_every_pair_of_a_palette_stays_apart_with_colour_blindness(name: str, deficiency: str | None) -> None:
    distance, one, other = closest_pair(PALETTES[name], deficiency)
    assert distance >= APART, f"{name}: {one} and {other} look alike with {deficiency or 'typical vision'}"


def test_the_simulation_finds_the_classic_confusion() -> None:
    # Red and green, far apart for typical vision, nearly merge for deuteranopes: the matrices do what they claim.
    red, green = "#D62728", "#2CA02C"
    assert closest_pair((red, green), None)[0] > 80
    assert closest_pair((red, green), "deuteranopia")[0] < APART


@pytest.mark.parametrize(("name", "colours", "least"), [("standard", STANDARD, 4.5), ("high contrast", HIGH, 7.0)])
def test_text_colours_meet_wcag(name: str, colours: dict[str, str], least: float) -> None:
    ratios = [(fg, bg, round(contrast(colours[fg], colours[bg]), 2)) for fg, bg in TEXT]
    assert [ratio for ratio in ratios if ratio[2] < least] == [], f"{name} text below {least}:1"


@pytest.mark.parametrize("colours", [STANDARD, HIGH], ids=["standard", "high contrast"])
def test_bars_and_focus_rings_stand_out_from_their_ground(colours: dict[str, str]) -> None:
    faint = [(fg, bg, round(contrast(colours[fg], colours[bg]), 2)) for fg, bg in SHAPES]
    assert [pair for pair in faint if pair[2] < 3.0] == []


def test_word_cloud_words_read_as_text_on_white() -> None:
    assert [(colour, round(contrast(colour, "#fff"), 2)) for colour in ON_WHITE if contrast(colour, "#fff") < 4.5] == []


def test_high_contrast_is_black_on_white_with_no_grey_text() -> None:
    assert (HIGH["ink"], HIGH["paper"], HIGH["muted"]) == ("#000", "#fff", "#000")
    assert contrast(HIGH["ink"], HIGH["paper"]) == pytest.approx(21.0)
