"""The benchmark's pictures (bench/charts.py): drawn from a result's JSON as SVG, readable, and never a crash."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from bench.charts import Axis, cdf_points, main, nice_step, number, percentile

SVG = "{http://www.w3.org/2000/svg}"


def spread(count: int, low: float, high: float) -> list[float]:
    """`count` sorted samples evenly between low and high."""
    return [round(low + (high - low) * i / max(count - 1, 1), 3) for i in range(count)]


def figures(scale: float, *, phones: int = 500) -> dict[str, Any]:
    return {
        "participants": phones,
        "distributions": {
            "join_ms": spread(phones, 2 * scale, 40 * scale),
            "presenter_ms": spread(1000, scale, 5 * scale),
            "fanout_ms": spread(phones, 3 * scale, 4 * scale),
        },
    }


def surge_run(rate: float, phones: int, seconds: float, *, baseline_seconds: float) -> dict[str, Any]:
    def curve(total_s: float) -> list[list[float]]:
        steps = int(total_s / 0.5)
        return [[0.5 * (i + 1), min(phones, round(phones * (i + 1) / steps))] for i in range(steps)]

    def run(total_s: float, scale: float) -> dict[str, Any]:
        return {
            "participants": phones,
            "join_rate_offered_per_s": rate,
            "join_curve": curve(total_s),
            "distributions": {"join_ms": spread(phones, scale, 100 * scale)},
        }

    return {**run(seconds, 50.0), "baseline": run(baseline_seconds, 0.5)}


def result(**overrides: Any) -> dict[str, Any]:
    """A result as `python -m bench.run` writes it, with the distributions and surge runs the charts read."""
    made = {
        **figures(20.0),
        "baseline": figures(0.1),
        "profile": {"name": "quick", "repeat": 3},
        "code": {"commit": "0123456789abcdef"},
        "started_at": "2026-12-07T23:10:00+00:00",
        "surge": {
            "250_per_s": surge_run(250, 1500, 12.0, baseline_seconds=6.5),
            "1000_per_s": surge_run(1000, 1500, 13.0, baseline_seconds=2.0),
        },
    }
    return {**made, **overrides}


def draw(tmp_path: Path, data: Any, *args: str) -> dict[str, ET.Element]:
    source = tmp_path / "latest.json"
    source.write_text(json.dumps(data))
    out = tmp_path / "charts"
    assert main([str(source), str(out), *args]) == 0
    return {path.name: ET.parse(path).getroot() for path in sorted(out.glob("*.svg"))}


def texts(svg: ET.Element) -> list[str]:
    return ["".join(element.itertext()) for element in svg.iter(f"{SVG}text")]


def series(svg: ET.Element) -> dict[str, ET.Element]:
    return {group.get("data-series", ""): group for group in svg.iter(f"{SVG}g") if group.get("data-series")}


def test_a_result_gives_latency_curves_and_a_join_curve_per_surge_run(tmp_path: Path) -> None:
    drawn = draw(tmp_path, result())
    assert sorted(drawn) == [
        "latency-fanout-quick.svg",
        "latency-join-quick.svg",
        "latency-presenter-quick.svg",
        "surge-1000-per-s-join-time-quick.svg",
        "surge-1000-per-s-joins-quick.svg",
        "surge-250-per-s-join-time-quick.svg",
        "surge-250-per-s-joins-quick.svg",
    ]
    for svg in drawn.values():
        assert svg.get("role") == "img"
        assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}desc") is not None


def test_a_latency_chart_draws_handsup_beside_the_baseline_with_axes_and_legend(tmp_path: Path) -> None:
    svg = draw(tmp_path, result())["latency-join-quick.svg"]
    title = svg.findtext(f"{SVG}title") or ""
    assert title == "Join time, quick profile, 500 phones"
    lines = series(svg)
    assert set(lines) == {"handsup", "bare-baseline"}
    assert all(group.find(f"{SVG}path") is not None for group in lines.values())
    words = texts(svg)
    assert title in words
    assert "milliseconds (logarithmic scale)" in words and "share of samples" in words
    assert {"0.1", "1", "10", "1,000", "0 %", "60 %", "100 %", "p50", "p99"} <= set(words)
    # The legend names each line with its percentiles, and the description says the same in words.
    assert "Handsup: p50 419 ms, p99 792 ms (500 samples)" in words
    assert "bare baseline: p50 2.1 ms, p99 4.0 ms (500 samples)" in words
    desc = svg.findtext(f"{SVG}desc") or ""
    assert "Handsup: 500 samples, p50 419 ms, p99 792 ms." in desc
    assert "commit 0123456 · 2026-12-07 23:10 UTC · 3 runs of each target" in words


def test_a_join_curve_shows_both_targets_and_the_offered_arrivals(tmp_path: Path) -> None:
    svg = draw(tmp_path, result())["surge-250-per-s-joins-quick.svg"]
    assert svg.findtext(f"{SVG}title") == "Joins during a surge of 1,500 phones at 250/s, quick profile"
    assert set(series(svg)) == {"handsup", "bare-baseline", "offered"}
    words = texts(svg)
    assert {"seconds since the ramp started", "phones joined", "offered: 250 phones/s"} <= set(words)
    assert "Handsup: 1,500 joined by 12 s" in words
    assert "bare baseline: 1,500 of 1,500 phones joined by 6.5 s." in (svg.findtext(f"{SVG}desc") or "")
    # The offered line reaches every phone at 1,500 / 250 = 6 s, on the same axes as the curves.
    path = series(svg)["offered"].find(f"{SVG}path")
    assert path is not None and len((path.get("d") or "").split("L")) == 3


def test_a_surge_that_lost_phones_says_so_in_the_legend(tmp_path: Path) -> None:
    run = surge_run(250, 1500, 40.0, baseline_seconds=6.5)
    run["join_curve"] = [[t, min(n, 1412)] for t, n in run["join_curve"]]
    run.update(participants_gave_up=88, join_server_errors=1000, join_deferrals=0)
    svg = draw(tmp_path, result(surge={"250_per_s": run}))["surge-250-per-s-joins-quick.svg"]
    assert "Handsup: 1,412 joined by 40 s, 88 gave up, 1,000 server errors" in texts(svg)
    desc = svg.findtext(f"{SVG}desc") or ""
    assert "Handsup: 1,412 of 1,500 phones joined by 40 s, 88 gave up, 1,000 server errors." in desc


def test_text_from_the_json_is_escaped(tmp_path: Path) -> None:
    drawn = draw(
        tmp_path,
        result(
            profile={"name": "quick"},
            code={"commit": '<a&"b>\x01cdef'},
            surge={'<b>"x"</b>&': {**surge_run(250, 30, 1.0, baseline_seconds=0.5), "join_rate_offered_per_s": None}},
        ),
    )
    assert "surge-b-x-b-joins-quick.svg" in drawn  # a file name made only of letters, digits and dashes
    words = texts(drawn["latency-join-quick.svg"])
    assert 'commit <a&"b> · 2026-12-07 23:10 UTC' in words  # parsed back as text: it was escaped, not markup
    title = drawn["surge-b-x-b-joins-quick.svg"].findtext(f"{SVG}title")
    assert title == 'Joins during a surge of 30 phones (<b>"x"</b>&), quick profile'


def test_the_name_option_and_the_profile_name_make_the_suffix(tmp_path: Path) -> None:
    assert "latency-join-full.svg" in draw(tmp_path, result(profile={"name": "full"}))
    assert "latency-join-mine.svg" in draw(tmp_path, result(), "--name", "mine")


@pytest.mark.parametrize(
    "data",
    [
        {},
        [],
        {"baseline": None, "surge": None, "distributions": None},
        {"distributions": {"join_ms": []}, "baseline": {"distributions": {"join_ms": "x"}}, "surge": {"a": 3}},
        {"surge": {"250_per_s": {"join_curve": [], "baseline": {"join_curve": [[1, "x"], [2]]}}}},
        {"error": "RuntimeError: the server did not start", "baseline": {"error": "too"}},
    ],
)
def test_missing_or_empty_data_draws_nothing_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any
) -> None:
    assert draw(tmp_path, data) == {}
    err = capsys.readouterr().err
    assert "skipped latency-join-run.svg: no `distributions.join_ms`" in err
    assert "skipped latency-fanout-run.svg" in err


def test_one_side_missing_still_draws_the_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = result(baseline={"error": "RuntimeError: no"})
    data["distributions"]["fanout_ms"] = [0.0, 0.0, 5.0]  # zeros on a log axis sit at its left end
    data["distributions"]["presenter_ms"] = [42.0]  # one sample: a step at 42 ms
    del data["surge"]["250_per_s"]["baseline"]
    data["surge"]["1000_per_s"]["join_curve"] = None
    drawn = draw(tmp_path, data)
    assert set(series(drawn["latency-join-quick.svg"])) == {"handsup"}
    assert "bare baseline: no samples" in texts(drawn["latency-join-quick.svg"])
    assert "Handsup: p50 42 ms, p99 42 ms (1 sample)" in texts(drawn["latency-presenter-quick.svg"])
    assert "Handsup: p50 0 ms, p99 5 ms (3 samples)" in texts(drawn["latency-fanout-quick.svg"])
    assert set(series(drawn["surge-250-per-s-joins-quick.svg"])) == {"handsup", "offered"}
    assert set(series(drawn["surge-1000-per-s-joins-quick.svg"])) == {"bare-baseline", "offered"}
    assert "Handsup: no join curve" in texts(drawn["surge-1000-per-s-joins-quick.svg"])


def test_an_unreadable_result_is_an_error_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    assert main([str(tmp_path / "bad.json"), str(tmp_path / "out")]) == 1
    assert main([str(tmp_path / "missing.json"), str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.count("charts: cannot read") == 2


def test_axes_helpers_pick_round_ticks_and_percentiles_by_nearest_rank() -> None:
    assert [nice_step(span) for span in (1, 6, 13, 1500, 0.3)] == [0.2, 1, 2.5, 250, 0.05]
    assert Axis(0.1, 100, "ms", log=True).ticks() == [(0.1, "0.1"), (1, "1"), (10, "10"), (100, "100")]
    assert [label for _value, label in Axis(0, 1.5, "s").ticks()] == [
        "0.00",
        "0.25",
        "0.50",
        "0.75",
        "1.00",
        "1.25",
        "1.50",
    ]
    assert [number(v) for v in (1234.6, 12.34, 0.123, 7.0)] == ["1,235", "12.3", "0.12", "7"]
    assert percentile([1, 2, 3, 4], 50) == 2 and percentile([1, 2, 3, 4], 99) == 4 and percentile([], 50) is None
    assert cdf_points([5, 10]) == [(5, 0), (5, 50), (10, 50), (10, 100)]
    assert len(cdf_points(list(range(10_000)))) == 4000  # at most 2,000 order statistics, two points each
