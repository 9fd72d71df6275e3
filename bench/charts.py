"""Pictures of a benchmark run: `python -m bench.charts RESULT.json OUTDIR` draws standalone SVGs from its JSON.

Two kinds of chart, Handsup beside the bare baseline in each: latency distributions as cumulative curves (the share
of samples at or under each time, on a logarithmic time axis) for the join, the vote reaching the presenter and the
slide change, and for each surge run the join curve (phones joined against seconds since the ramp started) with the
offered arrivals. `make bench` and `make bench-full` draw them into docs/benchmarks/, which docs/benchmarks.md shows.

Drawn here in plain SVG, in the archives' charts' style (server/archives/charts.py): the Okabe-Ito palette, the
DejaVu/Liberation fonts, every text escaped, and a `<title>` and `<desc>` that say in words what the lines show.
A chart whose data is missing from the JSON is skipped, with a line on standard error.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activities.palette import OKABE_ITO

WIDTH = 760
HEIGHT = 460
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"  # as the archives' charts
FONT_SIZE = 13
CHAR_WIDTH = 7.0  # an average glyph of the 13 px font, for laying out the legend
LEFT, RIGHT, BOTTOM = 78, 40, 58  # room for the y axis's ticks and title, the p50/p99 labels, the x axis
MAX_POINTS = 2000  # per curve: the driver sends at most this many order statistics
HANDSUP, BASELINE = OKABE_ITO[0], OKABE_ITO[1]
OFFERED = "#555555"
INK, MUTED, GRID = "#1a1a1a", "#555555", "#e4e4e4"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# The distributions drawn as cumulative curves: key in `distributions`, name in the file's, what it measures.
LATENCIES = (
    ("join_ms", "join", "Join time: the page, the socket and the first stage"),
    ("presenter_ms", "presenter", "Vote to presenter: the presenter's tally includes the vote"),
    ("fanout_ms", "fanout", "Slide change: the new stage reaches each phone"),
)


@dataclass(frozen=True)
class Series:
    """One line of a chart: its legend, its points in data units, and how it is stroked."""

    name: str
    points: list[tuple[float, float]]
    colour: str
    dash: str = ""  # an SVG stroke-dasharray; the baseline is dashed so the lines differ without colour too
    key: str = ""  # data-series attribute, for tests and for styling


@dataclass(frozen=True)
class Axis:
    """A linear or decimal-logarithmic axis from `low` to `high`, titled `label`."""

    low: float
    high: float
    label: str
    log: bool = False

    def fraction(self, value: float) -> float:
        """Where the value lies along the axis, 0 at `low` and 1 at `high` (clamped)."""
        if self.log:
            value = max(value, self.low)
            share = (math.log10(value) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        else:
            share = (value - self.low) / ((self.high - self.low) or 1)
        return min(max(share, 0.0), 1.0)

    def ticks(self) -> list[tuple[float, str]]:
        """The labelled ticks: each power of ten on a log axis, round steps on a linear one."""
        if self.log:
            first, last = round(math.log10(self.low)), round(math.log10(self.high))
            return [(10.0**power, number(10.0**power)) for power in range(first, last + 1)]
        step = nice_step(self.high - self.low)
        count = math.floor((self.high - self.low) / step + 1e-9)  # none past the end
        return [(self.low + i * step, number(self.low + i * step, step)) for i in range(count + 1)]

    def minor_ticks(self) -> list[float]:
        """2 to 9 times each power of ten on a log axis; none on a linear one."""
        if not self.log:
            return []
        first, last = round(math.log10(self.low)), round(math.log10(self.high))
        return [m * 10.0**power for power in range(first, last) for m in range(2, 10)]


@dataclass(frozen=True)
class Chart:
    """What one SVG shows: titles, the words for screen readers, the axes, the lines, and labelled levels of y."""

    title: str
    subtitle: str
    description: str
    x: Axis
    y: Axis
    series: list[Series]
    y_format: str = "{}"  # how a y tick reads, e.g. "{} %"
    marks: tuple[tuple[float, str], ...] = ()  # (y, label): dashed reference lines such as p50 and p99


def nice_step(span: float, ticks: int = 6) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals over the span."""
    raw = (span or 1) / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * 0.999)


def nice_high(value: float) -> float:
    """The first round step at or above the value, so a linear axis ends on a tick."""
    step = nice_step(value if value > 0 else 1)
    return max(step * math.ceil((value if value > 0 else 1) / step - 1e-9), step)


def number(value: float, step: float | None = None) -> str:
    """A figure as the docs write it: thousands separated by commas, decimals only where they say something."""
    if step is not None and step < 1:  # as many decimals as the step has: 0.25, 0.50, 0.75
        decimals = len(f"{step:g}".partition(".")[2])
        return f"{value:,.{decimals}f}"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.1f}"
    return f"{value:.2g}"


def percentile(samples: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted samples (the harness's definition)."""
    if not samples:
        return None
    return samples[min(len(samples) - 1, max(0, math.ceil(p / 100 * len(samples)) - 1))]


def cdf_points(samples: Sequence[float]) -> list[tuple[float, float]]:
    """The empirical cumulative distribution as a staircase: (value, % of samples at or under it)."""
    values = sorted(samples)
    count = len(values)
    if count > MAX_POINTS:  # evenly spaced order statistics, the last one kept
        values = [values[round(i * (count - 1) / (MAX_POINTS - 1))] for i in range(MAX_POINTS)]
    points: list[tuple[float, float]] = []
    for i, value in enumerate(values):
        points.append((value, 100 * i / len(values)))
        points.append((value, 100 * (i + 1) / len(values)))
    return points


def log_axis(values: Iterable[float], label: str) -> Axis:
    """A log axis from the power of ten below the smallest positive value to the one above the largest."""
    positive = [v for v in values if v > 0]
    if not positive:
        return Axis(0.1, 1.0, label, log=True)
    low = 10.0 ** math.floor(math.log10(min(positive)))
    high = 10.0 ** math.ceil(math.log10(max(positive)))
    return Axis(low, high if high > low else low * 10, label, log=True)


# Drawing


def svg(chart: Chart) -> str:
    """The chart as a standalone SVG document."""
    legend, legend_height = _legend(chart.series, 76)
    top = 76 + legend_height + 8
    plot = (LEFT, top, WIDTH - RIGHT, HEIGHT - BOTTOM)  # left, top, right, bottom of the plotting area
    parts = [
        _text(16, 28, chart.title, size=16, weight="bold"),
        _text(16, 50, chart.subtitle, size=12, fill=MUTED),
        *legend,
        *_grid(chart, plot),
        f'<clipPath id="plot"><rect x="{plot[0]}" y="{plot[1] - 2}" width="{plot[2] - plot[0]}" '
        f'height="{plot[3] - plot[1] + 4}"/></clipPath>',
        *(_line(series, chart, plot) for series in reversed(chart.series) if series.points),  # the first on top
        *_axes(chart, plot),
    ]
    title, desc = _escape(chart.title), _escape(chart.description)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="chart-title chart-desc" font-family="{FONT}" font-size="{FONT_SIZE}">\n'
        f'<title id="chart-title">{title}</title>\n<desc id="chart-desc">{desc}</desc>\n'
        f'<rect width="100%" height="100%" fill="#fff"/>\n' + "\n".join(parts) + "\n</svg>\n"
    )


def _legend(series: list[Series], y: int) -> tuple[list[str], int]:
    parts: list[str] = []
    x, row = 16, 0
    for line in series:
        width = 34 + int(len(line.name) * CHAR_WIDTH) + 22
        if x + width > WIDTH - 16 and x > 16:
            x, row = 16, row + 1
        top = y + row * 22
        dash = f' stroke-dasharray="{line.dash}"' if line.dash else ""
        parts.append(
            f'<line x1="{x}" y1="{top - 4}" x2="{x + 28}" y2="{top - 4}" stroke="{line.colour}" '
            f'stroke-width="3"{dash}/>'
        )
        parts.append(_text(x + 34, top, line.name))
        x += width
    return parts, (row + 1) * 22


def _grid(chart: Chart, plot: tuple[int, int, int, int]) -> list[str]:
    left, top, right, bottom = plot
    parts = []
    for value in chart.x.minor_ticks():
        x = _x(chart, plot, value)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}" stroke-width="0.5"/>')
    for value, _label in chart.x.ticks():
        x = _x(chart, plot, value)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{GRID}"/>')
    for value, _label in chart.y.ticks():
        y = _y(chart, plot, value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>')
    for value, label in chart.marks:
        y = _y(chart, plot, value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#999" stroke-dasharray="2 3"/>')
        parts.append(_text(right + 4, y + 4, label, size=11, fill=MUTED))
    return parts


def _axes(chart: Chart, plot: tuple[int, int, int, int]) -> list[str]:
    left, top, right, bottom = plot
    parts = [
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{INK}"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="{INK}"/>',
    ]
    for value, label in chart.x.ticks():
        x = _x(chart, plot, value)
        parts.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}" stroke="{INK}"/>')
        parts.append(_text(x, bottom + 19, label, anchor="middle"))
    for value in chart.x.minor_ticks():
        x = _x(chart, plot, value)
        parts.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 3}" stroke="{INK}"/>')
    for value, label in chart.y.ticks():
        y = _y(chart, plot, value)
        parts.append(f'<line x1="{left - 5}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="{INK}"/>')
        parts.append(_text(left - 8, y + 4, chart.y_format.format(label), anchor="end"))
    parts.append(_text((left + right) / 2, HEIGHT - 14, chart.x.label, anchor="middle"))
    middle = (top + bottom) / 2
    parts.append(
        f'<text x="20" y="{middle:.1f}" fill="{INK}" text-anchor="middle" '
        f'transform="rotate(-90 20 {middle:.1f})">{_escape(chart.y.label)}</text>'
    )
    return parts


def _line(series: Series, chart: Chart, plot: tuple[int, int, int, int]) -> str:
    coordinates = _simplified([(_x(chart, plot, value), _y(chart, plot, level)) for value, level in series.points])
    if len(coordinates) == 1:  # one sample: a dot, or nothing would show
        x, y = coordinates[0].split(",")
        return (
            f'<g data-series="{_escape(series.key)}"><title>{_escape(series.name)}</title>'
            f'<circle cx="{x}" cy="{y}" r="3" fill="{series.colour}"/></g>'
        )
    dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
    return (
        f'<g data-series="{_escape(series.key)}"><title>{_escape(series.name)}</title>'
        f'<path d="M{" L".join(coordinates)}" fill="none" stroke="{series.colour}" stroke-width="2.5" '
        f'stroke-linejoin="round"{dash} clip-path="url(#plot)"/></g>'
    )


def _simplified(points: list[tuple[float, float]]) -> list[str]:
    """The points as "x,y" for a path, thinned for size: a point closer than half a pixel to the last one kept is
    left out (the curves drawn are monotonic, so none strays further), and so are the middle points of a straight
    run along x or y (a staircase of 2,000 samples is mostly such runs). The last point is always kept."""
    near: list[tuple[float, float]] = []
    for i, (x, y) in enumerate(points):
        last = i == len(points) - 1
        if near and not last and abs(x - near[-1][0]) < 0.5 and abs(y - near[-1][1]) < 0.5:
            continue
        near.append((x, y))
    kept: list[tuple[str, str]] = []
    for x, y in near:
        point = (f"{x:.1f}", f"{y:.1f}")
        if kept and kept[-1] == point:
            continue
        if len(kept) >= 2 and (kept[-2][0] == kept[-1][0] == point[0] or kept[-2][1] == kept[-1][1] == point[1]):
            kept[-1] = point
        else:
            kept.append(point)
    return [f"{x},{y}" for x, y in kept]


def _x(chart: Chart, plot: tuple[int, int, int, int], value: float) -> float:
    return plot[0] + chart.x.fraction(value) * (plot[2] - plot[0])


def _y(chart: Chart, plot: tuple[int, int, int, int], value: float) -> float:
    return plot[3] - chart.y.fraction(value) * (plot[3] - plot[1])


def _text(
    x: float, y: float, text: str, *, size: int | None = None, weight: str = "", fill: str = INK, anchor: str = ""
) -> str:
    extra = (
        (f' font-size="{size}"' if size else "")
        + (f' font-weight="{weight}"' if weight else "")
        + (f' text-anchor="{anchor}"' if anchor else "")
    )
    return f'<text x="{x:.1f}" y="{y:.1f}" fill="{fill}"{extra}>{_escape(text)}</text>'


def _escape(text: str) -> str:
    return html.escape(_NOT_XML.sub("", text), quote=True)


# From the benchmark's JSON to charts


def latency_chart(
    title: str, what: str, subtitle: str, handsup: dict[str, Any], baseline: dict[str, Any], key: str
) -> Chart | None:
    """Handsup's and the baseline's samples of one distribution as cumulative curves; None without any sample.

    The p50 and p99 named are the drawn samples' own (nearest rank), so they match the curves: with repeats the run's
    top-level figures are medians over the runs, and the samples the last run's."""
    samples = {name: _samples(figures, key) for name, figures in (("Handsup", handsup), ("bare baseline", baseline))}
    if not any(samples.values()):
        return None
    series, words = [], []
    for (name, values), (colour, dash) in zip(samples.items(), ((HANDSUP, ""), (BASELINE, "7 4")), strict=True):
        p50, p99 = percentile(values, 50), percentile(values, 99)
        if values:
            count = f"{len(values):,} sample{'' if len(values) == 1 else 's'}"
            label = f"{name}: p50 {number(p50 or 0)} ms, p99 {number(p99 or 0)} ms ({count})"
            words.append(f"{name}: {count}, p50 {number(p50 or 0)} ms, p99 {number(p99 or 0)} ms.")
        else:
            label = f"{name}: no samples"
            words.append(f"{name}: no samples.")
        series.append(Series(label, cdf_points(values), colour, dash, key=_slug(name)))
    every = [v for values in samples.values() for v in values]
    description = (
        f"{what}. Cumulative share of samples at or under each time, the time on a logarithmic axis in milliseconds. "
        + " ".join(words)
    )
    return Chart(
        title=title,
        subtitle=subtitle,
        description=description,
        x=log_axis(every, "milliseconds (logarithmic scale)"),
        y=Axis(0, 100, "share of samples"),
        series=series,
        y_format="{} %",
        marks=((50, "p50"), (99, "p99")),
    )


def join_curve_chart(run: dict[str, Any], title: str, subtitle: str) -> Chart | None:
    """Phones joined against seconds since the ramp started, Handsup beside the baseline, with the offered line."""
    baseline = baseline_of(run)
    curves = {"Handsup": _curve(run), "bare baseline": _curve(baseline)}
    if not any(curves.values()):
        return None
    rate = _positive(run.get("join_rate_offered_per_s")) or _positive(baseline.get("join_rate_offered_per_s"))
    reached = max((joined for curve in curves.values() for _t, joined in curve), default=0.0)
    offered = _offered_phones(run) or _offered_phones(baseline) or reached
    end = max((t for curve in curves.values() for t, _joined in curve), default=0.0)
    if rate:
        end = max(end, offered / rate)
    end = nice_high(end)
    series, words = [], []
    targets = ((HANDSUP, "", run), (BASELINE, "7 4", baseline))
    for (name, curve), (colour, dash, figures) in zip(curves.items(), targets, strict=True):
        if curve:
            last_t, last_joined = curve[-1]
            label = f"{name}: {number(last_joined)} joined by {number(last_t)} s{_troubles(figures)}"
            words.append(
                f"{name}: {number(last_joined)} of {number(offered)} phones joined by {number(last_t)} s"
                f"{_troubles(figures)}."
            )
        else:
            label = f"{name}: no join curve"
            words.append(f"{name}: no join curve.")
        series.append(Series(label, curve, colour, dash, key=_slug(name)))
    if rate:
        arrivals = [(0.0, 0.0), (offered / rate, offered), (end, offered)]
        series.append(Series(f"offered: {number(rate)} phones/s", arrivals, OFFERED, "2 4", key="offered"))
        words.append(f"Offered: {number(rate)} phones a second, all {number(offered)} by {number(offered / rate)} s.")
    return Chart(
        title=title,
        subtitle=subtitle,
        description="Phones joined so far against seconds since the ramp started. " + " ".join(words),
        x=Axis(0, end, "seconds since the ramp started"),
        y=Axis(0, 1.06 * max(offered, reached), "phones joined"),  # room above the plateau, so it shows
        series=series,
    )


def charts(result: dict[str, Any], name: str) -> tuple[dict[str, Chart], list[str]]:
    """Every chart the result has data for, by file name, and a line for each one skipped."""
    drawn: dict[str, Chart] = {}
    skipped: list[str] = []
    baseline = baseline_of(result)
    phones = _count(result.get("participants"))
    about = _about(result, repeats=True)
    for key, slug, what in LATENCIES:
        file = f"latency-{slug}-{name}.svg"
        title = f"{what.split(':')[0]}, {name} profile" + (f", {phones} phones" if phones else "")
        chart = latency_chart(title, what, about, result, baseline, key)
        if chart is None:
            skipped.append(f"{file}: no `distributions.{key}` for Handsup or the baseline")
        else:
            drawn[file] = chart
    surge = result.get("surge")
    if not isinstance(surge, dict) or not surge:
        skipped.append("surge-*: the result has no `surge` runs")
        return drawn, skipped
    for run_key, run in sorted(surge.items(), key=lambda item: _rate_of(item[1]) if isinstance(item[1], dict) else 0):
        if not isinstance(run, dict):
            skipped.append(f"surge {run_key}: not a run's figures")
            continue
        rate = _positive(run.get("join_rate_offered_per_s"))
        count = _count(run.get("participants")) or _count(_offered_phones(run))
        surge_name = f"a surge of {count} phones" if count else "a surge"
        at = f" at {number(rate)}/s" if rate else f" ({run_key})"
        file = f"surge-{_slug(run_key)}-joins-{name}.svg"
        about = _about(result, repeats=False)
        curve = join_curve_chart(run, f"Joins during {surge_name}{at}, {name} profile", about)
        if curve is None:
            skipped.append(f"{file}: no `join_curve` for Handsup or the baseline in surge {run_key}")
        else:
            drawn[file] = curve
        file = f"surge-{_slug(run_key)}-join-time-{name}.svg"
        what = f"Join time during {surge_name}{at}: the page (again after each deferral), the socket, the first stage"
        times = latency_chart(
            f"Join time during {surge_name}{at}, {name} profile", what, about, run, baseline_of(run), "join_ms"
        )
        if times is None:
            skipped.append(f"{file}: no `distributions.join_ms` for Handsup or the baseline in surge {run_key}")
        else:
            drawn[file] = times
    return drawn, skipped


def baseline_of(figures: dict[str, Any]) -> dict[str, Any]:
    """The bare baseline's figures beside Handsup's (empty when the run has none)."""
    baseline = figures.get("baseline")
    return baseline if isinstance(baseline, dict) else {}


def _about(result: dict[str, Any], *, repeats: bool) -> str:
    """The subtitle: which code ran, when, and (with `repeats`) which of the runs the samples come from."""
    parts = []
    code = result.get("code") if isinstance(result.get("code"), dict) else {}
    commit = (code or {}).get("commit")
    if isinstance(commit, str) and commit:
        parts.append(f"commit {commit[:7]}")
    started = result.get("started_at")
    if isinstance(started, str) and started:
        parts.append(started[:16].replace("T", " ") + " UTC")
    profile = result.get("profile") if isinstance(result.get("profile"), dict) else {}
    repeat = (profile or {}).get("repeat")
    if repeats and isinstance(repeat, int) and repeat > 1:
        parts.append(f"{repeat} runs of each target")
    return " · ".join(parts)


def _samples(figures: dict[str, Any], key: str) -> list[float]:
    distributions = figures.get("distributions")
    if not isinstance(distributions, dict):
        return []
    values = distributions.get(key)
    if not isinstance(values, list):
        return []
    return sorted(float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool) and v == v)


def _curve(figures: dict[str, Any]) -> list[tuple[float, float]]:
    curve = figures.get("join_curve")
    if not isinstance(curve, list):
        return []
    points = [
        (float(point[0]), float(point[1]))
        for point in curve
        if isinstance(point, list | tuple)
        and len(point) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
    ]
    if points and points[0][0] > 0:
        points.insert(0, (0.0, 0.0))
    return sorted(points)


def _troubles(figures: dict[str, Any]) -> str:
    """What went wrong in a surge, for its legend: phones that gave up, server errors, deferrals (503s)."""
    said = [
        f", {number(count)} {words}"
        for key, words in (
            ("participants_gave_up", "gave up"),
            ("join_server_errors", "server errors"),
            ("join_deferrals", "deferrals"),
        )
        if (count := _positive(figures.get(key)))
    ]
    return "".join(said)


def _offered_phones(figures: dict[str, Any]) -> float | None:
    for key in ("participants", "phones_offered", "joins_offered"):
        value = _positive(figures.get(key))
        if value:
            return value
    return None


def _rate_of(run: dict[str, Any]) -> float:
    return _positive(run.get("join_rate_offered_per_s")) or 0.0


def _positive(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _count(value: Any) -> str:
    number_ = _positive(value)
    return f"{number_:,.0f}" if number_ else ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "run"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw a benchmark result's charts as SVG files.")
    parser.add_argument("result", type=Path, help="a JSON written by python -m bench.run")
    parser.add_argument("outdir", type=Path, help="where the SVGs go (docs/benchmarks for the published ones)")
    parser.add_argument("--name", help="the files' suffix: latency-join-NAME.svg (default: the result's profile)")
    args = parser.parse_args(argv)
    try:
        result = json_object(args.result)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"charts: cannot read {args.result}: {error}\n")
        return 1
    profile = result.get("profile") if isinstance(result.get("profile"), dict) else {}
    name = _slug(args.name or str((profile or {}).get("name") or "run"))
    drawn, skipped = charts(result, name)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for file, chart in drawn.items():
        (args.outdir / file).write_text(svg(chart), encoding="utf-8")
        sys.stderr.write(f"charts: drew {args.outdir / file}\n")
    for line in skipped:
        sys.stderr.write(f"charts: skipped {line}\n")
    return 0


def json_object(path: Path) -> dict[str, Any]:
    """The result file's top-level object (an empty one when the file holds something else)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


if __name__ == "__main__":
    raise SystemExit(main())
