"""The benchmark harness itself: `make bench` must keep working, so the suite drives it end to end (no timing)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.run import PROFILES, Goal, goals, main

# The figures issue 6 asks `bench/results/latest.json` to hold.
ASKED = (
    "participants",
    "votes_offered",
    "votes_acked",
    "votes_persisted",
    "ack_p50_ms",
    "ack_p99_ms",
    "presenter_p50_ms",
    "presenter_p99_ms",
    "fanout_p99_ms",
    "rss_per_participant_kib",
    "throughput_ratio_to_baseline",
)


def test_a_smoke_run_drives_both_targets_and_writes_every_asked_figure(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    assert main(["--profile", "smoke", "--server-profile", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert not [name for name in ASKED if result.get(name) is None]
    smoke = PROFILES["smoke"]
    assert result["participants_connected"] == smoke.participants == result["baseline"]["participants_connected"]
    assert result["votes_acked"] == smoke.votes
    assert result["votes_persisted"] == smoke.participants  # a later vote replaces the earlier one
    assert result["acked_answers_lost"] == 0
    assert result["fanout_received"] == smoke.participants
    assert result["server_log_problems"] == 0, result["server_log_samples"]
    assert {verdict["figure"] for verdict in result["targets"]} == {goal.figure for goal in goals(smoke)}
    profile = result["server_profile"]  # py-spy sampled the server through burst and fan-out
    assert profile["samples"] > 0 and profile["self"] and (tmp_path / "latest.profile.txt").exists()


def test_a_target_says_by_how_much_it_is_met_or_missed() -> None:
    latency = Goal("p99 at most 500 ms", "presenter_p99_ms", 500.0, at_most=True)
    assert latency.verdict({"presenter_p99_ms": 400.0}) == {
        "target": "p99 at most 500 ms",
        "figure": "presenter_p99_ms",
        "bound": 500.0,
        "measured": 400.0,
        "met": True,
        "margin": 100.0,
        "margin_pct": 20.0,
    }
    missed = latency.verdict({"presenter_p99_ms": 1924.2})
    assert not missed["met"] and missed["margin"] == -1424.2
    ratio = Goal("at least half", "throughput_ratio_to_baseline", 0.5, at_most=False)
    assert ratio.verdict({"throughput_ratio_to_baseline": 0.78})["met"]
    assert ratio.verdict({})["met"] is False


def test_the_slide_import_benchmark_writes_each_path_and_the_ratio(tmp_path: Path) -> None:
    from bench.slide_import import main as slide_import

    out = tmp_path / "slide_import.json"
    assert slide_import(["--pages", "2", "--repeat", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    for path in ("pipeline", "baseline", "baseline_render_only", "stored"):
        assert result[path]["pages"] == 2
        assert result[path]["per_page_ms"] > 0
    assert result["pipeline_per_page_ratio_to_baseline"] > 0
    assert result["rendered_size"] == [1920, 1080]
