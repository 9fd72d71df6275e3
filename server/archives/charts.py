"""One renderer for every kind's charts: a `Chart` (labelled bars, a legend, a unit) as a standalone SVG.

Kinds say what to draw (`ActivityKind.chart`), this module how, so every chart in an archive looks alike. Labels
come from decks and from participants, so every text is escaped, and characters XML cannot hold are dropped.
"""

from __future__ import annotations

import html
import re

from activities.base import Chart, ChartRow
from activities.i18n import _
from activities.palette import OKABE_ITO

WIDTH = 760
MARGIN = 16
LABEL_WIDTH = 270
NOTE_WIDTH = 170
ROW_HEIGHT = 28
BAR_HEIGHT = 18
FONT_SIZE = 13
# An average glyph of the 13 px sans-serif font, for fitting labels into their column (SVG text does not wrap).
CHAR_WIDTH = 7.0
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
# Ordered series (points of a rating scale) go from the light to the dark end of one hue.
LIGHT, DARK = (0xC6, 0xDB, 0xEF), (0x08, 0x30, 0x6B)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def chart_svg(chart: Chart, title: str, *, heading: bool = True) -> str:
    """The chart as SVG markup: a file on its own (with `heading`, its title on top) or inline in a page."""
    colours = series_colours(chart)
    scale = chart.scale or max((sum(row.values) for row in chart.rows), default=0) or 1
    parts: list[str] = []
    y = MARGIN
    if heading:
        parts.append(_text(MARGIN, y + 15, title, size=16, weight="bold"))
        y += 28
    parts.append(_text(MARGIN, y + 12, _("Bars: {unit}").format(unit=chart.unit), size=12, fill="#555"))
    y += 22
    if chart.series:
        legend, y = _legend(chart.series, colours, y)
        parts += legend
    for row in chart.rows:
        parts.append(_row(row, colours, scale, y))
        y += ROW_HEIGHT
    height = y + MARGIN
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{_escape(title)}" font-family="{FONT}" '
        f'font-size="{FONT_SIZE}">\n<title>{_escape(title)}</title>\n'
        f'<rect width="100%" height="100%" fill="#fff"/>\n' + "\n".join(parts) + "\n</svg>\n"
    )


def series_colours(chart: Chart) -> list[str]:
    """One colour per value of a row: the palette's hues in turn, or shades of one hue for ordered series."""
    count = max(len(chart.series), max((len(row.values) for row in chart.rows), default=1), 1)
    if not chart.ordered:
        return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(count)]
    steps = max(count - 1, 1)
    return [
        "#" + "".join(f"{round(low + (high - low) * i / steps):02x}" for low, high in zip(LIGHT, DARK, strict=True))
        for i in range(count)
    ]


def _legend(series: tuple[str, ...], colours: list[str], y: int) -> tuple[list[str], int]:
    parts: list[str] = []
    x = MARGIN
    for name, colour in zip(series, colours, strict=False):
        label = _fit(name, 30)
        width = 18 + int(len(label) * CHAR_WIDTH) + 16
        if x + width > WIDTH - MARGIN and x > MARGIN:
            x, y = MARGIN, y + 20
        parts.append(f'<rect x="{x}" y="{y + 2}" width="12" height="12" fill="{colour}"/>')
        parts.append(_text(x + 18, y + 12, label))
        x += width
    return parts, y + 26


def _row(row: ChartRow, colours: list[str], scale: float, y: int) -> str:
    left = MARGIN + LABEL_WIDTH + 8
    room = WIDTH - left - NOTE_WIDTH - MARGIN
    bar_y = y + (ROW_HEIGHT - BAR_HEIGHT) // 2
    parts = [f"<g><title>{_escape(row.label)}{': ' + _escape(row.note) if row.note else ''}</title>"]
    parts.append(_text(MARGIN, bar_y + BAR_HEIGHT - 4, _fit(row.label, int(LABEL_WIDTH / CHAR_WIDTH))))
    parts.append(f'<line x1="{left}" y1="{y}" x2="{left}" y2="{y + ROW_HEIGHT}" stroke="#999"/>')
    x = float(left)
    for value, colour in zip(row.values, colours, strict=False):
        width = room * max(value, 0) / scale
        if width > 0:
            parts.append(f'<rect x="{x:.1f}" y="{bar_y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{colour}"/>')
        x += width
    if row.note:
        parts.append(_text(int(x) + 6, bar_y + BAR_HEIGHT - 4, _fit(row.note, int(NOTE_WIDTH / CHAR_WIDTH) + 4)))
    parts.append("</g>")
    return "".join(parts)


def _text(x: float, y: float, text: str, *, size: int | None = None, weight: str = "", fill: str = "#1a1a1a") -> str:
    extra = (f' font-size="{size}"' if size else "") + (f' font-weight="{weight}"' if weight else "")
    return f'<text x="{x}" y="{y}" fill="{fill}"{extra}>{_escape(text)}</text>'


def _fit(text: str, chars: int) -> str:
    """The text cut to `chars` characters with an ellipsis (the whole of it is in the row's tooltip)."""
    text = " ".join(_NOT_XML.sub("", text).split())
    return text if len(text) <= chars else text[: max(chars - 1, 1)].rstrip() + "…"


def _escape(text: str) -> str:
    return html.escape(_NOT_XML.sub("", text), quote=True)
