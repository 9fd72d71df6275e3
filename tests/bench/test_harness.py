"""The benchmark harness itself: `make bench` must keep working, so the suite drives it end to end (no timing)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

import bench.charts
from bench.driver import (
    Client,
    Deferred,
    Joined,
    Meters,
    Presenter,
    Profile,
    Run,
    StatusError,
    Vote,
    _page,
    downsample,
    failure_kind,
    fetch_page,
    refreshes_after,
)
from bench.loadgen import hash_token
from bench.quiz import QUESTIONS, Asked, QuizRecord, pooled, ranked, verify
from bench.run import PROFILES, QUIZ_PROFILES, SURGE_PROFILES, Goal, goals, main, quiz_goals, surge_goals
from bench.surge import join_curve, sustained_rate
from server.names import generated_name

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
    for figures in (result, result["baseline"]):  # per-phone samples for the charts, sorted
        spreads = figures["distributions"]
        assert len(spreads["join_ms"]) == smoke.participants and spreads["join_ms"] == sorted(spreads["join_ms"])
        assert len(spreads["presenter_ms"]) == smoke.votes - figures["presenter_untraced_votes"]
        assert len(spreads["fanout_ms"]) == figures["fanout_received"]
        assert all(values == sorted(values) for values in spreads.values())
        assert figures["join_server_errors"] == 0 and figures["join_errors"] == {}
    profile = result["server_profile"]  # py-spy sampled the server through burst and fan-out
    assert profile["samples"] > 0 and profile["self"] and (tmp_path / "latest.profile.txt").exists()

    quiz = result["quiz"]  # every phone answers each question, the presenter reveals each
    phones, answers = QUIZ_PROFILES["smoke"].participants, QUIZ_PROFILES["smoke"].participants * len(QUESTIONS)
    assert quiz["participants_connected"] == phones == quiz["baseline"]["participants_connected"]
    assert quiz["answers_acked"] == quiz["answers_persisted"] == answers == quiz["baseline"]["answers_acked"]
    assert quiz["response_rows"] == answers  # one row per phone and question, no more
    assert 0 < quiz["answers_right_sent"] < answers  # right and wrong mixed, so ranks differ
    assert quiz["acked_answers_lost"] == 0
    assert quiz["leaderboard_mismatches"] == 0, quiz["check_samples"]  # boards and ranks as computed from the rows
    assert quiz["ranked_at_last_reveal"] == phones
    assert quiz["reveal_projector_samples"] == len(QUESTIONS) == quiz["baseline"]["reveal_projector_samples"]
    assert quiz["reveal_phones_received"] == quiz["reveal_phones_expected"] == answers
    assert quiz["baseline"]["reveal_phones_received"] == answers
    assert quiz["ratios_to_baseline"]["reveal_projector_p99_ms"] is not None
    assert quiz["server_log_problems"] == 0, quiz["server_log_samples"]
    assert {v["figure"] for v in quiz["targets"]} == {goal.figure for goal in quiz_goals(QUIZ_PROFILES["smoke"])}
    assert quiz["server_profile"]["samples"] > 0 and (tmp_path / "latest.quiz.profile.txt").exists()

    surges = SURGE_PROFILES["smoke"].surges  # phones join open loop; the figures add up (no timing asserted)
    assert list(result["surge"]) == [f"{profile.join_rate:g}_per_s" for profile in surges]
    for profile, surge in zip(surges, result["surge"].values(), strict=True):
        for figures in (surge, surge["baseline"]):
            assert_surge_figures_add_up(figures, profile)
        assert surge["participants_stored"] >= surge["participants_connected"]
        assert surge["joined_not_stored"] == 0
        assert surge["server_log_problems"] == 0, surge["server_log_samples"]
        assert surge["join_saturation_ratio_to_baseline"] is not None
        assert surge["rss_per_participant_ratio_to_baseline"] is not None
        assert {v["figure"] for v in surge["targets"]} == {g.figure for g in surge_goals(profile, saturation=True)}

    charts = tmp_path / "charts"  # the charts are drawn from this JSON (bench/charts.py)
    assert bench.charts.main([str(out), str(charts)]) == 0
    assert (charts / "latency-join-smoke.svg").exists() and list(charts.glob("surge-*.svg"))


def assert_surge_figures_add_up(figures: dict[str, Any], profile: Profile) -> None:
    offered, joined = profile.participants, figures["participants_connected"]
    assert figures["participants"] == offered and figures["join_rate_offered_per_s"] == profile.join_rate
    assert joined == offered  # a smoke-sized surge is taken whole by both targets
    assert joined + figures["participants_gave_up"] == offered
    assert sum(figures["join_errors"].values()) == figures["participants_gave_up"]
    assert figures["join_server_errors"] <= figures["participants_gave_up"]
    assert figures["phones_deferred"] <= figures["join_deferrals"]
    curve = figures["join_curve"]
    assert [t for t, _ in curve] == sorted({t for t, _ in curve}) and curve[0][0] == 0
    assert [n for _, n in curve] == sorted(n for _, n in curve) and curve[-1][1] == joined
    spread = figures["distributions"]["join_ms"]
    assert len(spread) == joined and spread == sorted(spread) and spread[-1] == figures["join_max_ms"]
    assert figures["server_cpu_per_join_ms"] is not None and figures["rss_per_participant_kib"] is not None
    assert figures["join_rate_sustained_per_s"] is not None


def test_a_quiz_run_can_be_run_alone(tmp_path: Path) -> None:
    out = tmp_path / "quiz.json"
    assert main(["--profile", "smoke", "--scenario", "quiz", "--only", "handsup", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert "votes_acked" not in result and result["quiz"]["baseline"] == {}
    assert result["quiz"]["leaderboard_mismatches"] == 0
    assert [v["met"] for v in result["quiz"]["targets"]][:4] == [True] * 4  # the bound on time is not judged here


# --- the quiz's check, on a made-up run: three phones, the first question ---------------------------------------

TOKENS = {0: "token-a", 1: "token-b", 2: "token-c"}
PEOPLE = {hash_token(token): 11 + index for index, token in TOKENS.items()}  # participant ids 11, 12, 13
SESSION = 4


def asked_first_question(board: list[tuple[int, int, int]], phones: dict[int, str]) -> Asked:
    """Question 1 opened at 0.0-0.1 s; phone i answered at i + 1 s (acked 50 ms later): right, right, wrong."""
    asked = Asked(0, open_sent=0.0, open_done=0.1, reveal_sent=10.0, board_at=10.2, expected=3)
    for index, choice in enumerate((2, 2, 0)):
        asked.votes.append(Vote(index, Client(index), choice, sent=index + 1.0, acked=index + 1.05))
    asked.board = "".join(
        f'<li class="quiz-leader podium-{rank}">\n <span class="quiz-place">{rank}</span>\n'
        f' <span class="quiz-name">{generated_name(SESSION, 10 + number)}</span>\n'
        f' <span class="quiz-points">{total} points</span>'
        for rank, number, total in board
    )
    asked.phones = {index: (10.3, html) for index, html in phones.items()}
    return asked


STORED = {(11, 0): {"choices": [2], "elapsed": 0.95}, (12, 0): {"choices": [2], "elapsed": 1.95}}
STORED[(13, 0)] = {"choices": [0], "elapsed": 2.95}
RIGHT_BOARD = [(1, 1, 984), (2, 2, 968), (3, 3, 0)]  # round(1000 * (1 - t / 60)) for the right ones, limit 30 s
RIGHT_PHONES = {0: "Rank 1 of 3 · 984 points in all", 1: "Rank 2 of 3 · 968 points in all"}
RIGHT_PHONES[2] = "Rank 3 of 3 · 0 points in all"


def test_the_quiz_check_agrees_with_a_run_that_showed_the_right_standings() -> None:
    checked = verify(QuizRecord(TOKENS, [asked_first_question(RIGHT_BOARD, RIGHT_PHONES)]), PEOPLE, STORED, SESSION)
    assert checked["leaderboard_mismatches"] == 0, checked["check_samples"]
    assert checked["answers_persisted"] == 3 and checked["acked_answers_lost"] == 0
    assert checked["ranked_at_last_reveal"] == 3 and checked["top_points_at_last_reveal"] == 984


def test_the_quiz_check_counts_every_disagreement() -> None:
    board = [(1, 1, 984), (2, 2, 967), (3, 3, 0)]  # one point short
    phones = {**RIGHT_PHONES, 2: "Rank 2 of 3 · 0 points in all"}  # a wrong rank
    stored = {**STORED, (11, 0): {"choices": [2], "elapsed": 0.01}}  # before the phone even sent it
    del stored[(12, 0)]  # an acknowledged answer missing
    checked = verify(QuizRecord(TOKENS, [asked_first_question(board, phones)]), PEOPLE, stored, SESSION)
    assert checked["acked_answers_lost"] == 1
    assert checked["check_problems"] == {
        "acked_answer_lost": 1,
        "elapsed_outside_window": 1,
        "ranked_count": 1,  # with the lost answer, two are ranked where three answered
        "board": 1,
        "phone_rank": 3,  # every phone's place moved with the lost answer
    }
    named = [(1, 2, 984), (2, 1, 968), (3, 3, 0)]  # the right points, the names swapped
    swapped = verify(QuizRecord(TOKENS, [asked_first_question(named, RIGHT_PHONES)]), PEOPLE, STORED, SESSION)
    assert swapped["check_problems"] == {"board_name": 2}


def test_equal_totals_share_a_rank() -> None:
    assert ranked({5: 900, 6: 1000, 7: 900, 8: 0}) == {6: (1, 1000), 5: (2, 900), 7: (2, 900), 8: (4, 0)}


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


def test_the_projector_figures_pool_every_runs_reveals() -> None:
    runs = [{"reveal_projector_samples_ms": [120.0, 80.0, 95.5]}, {"reveal_projector_samples_ms": [1400.0, 60.0]}]
    figures = pooled(runs)
    assert figures["reveal_projector_samples"] == 5
    assert figures["reveal_projector_p50_ms"] == 95.5
    assert figures["reveal_projector_p99_ms"] == figures["reveal_projector_max_ms"] == 1400.0  # 5 samples: the worst


# --- the surge's pieces, without a server ----------------------------------------------------------------------


def test_a_distribution_keeps_its_extremes_and_at_most_the_points_asked() -> None:
    values = [float(v) for v in range(10_001, 0, -1)]
    kept = downsample(values, 2000)
    assert len(kept) == 2000 and kept == sorted(kept)
    assert kept[0] == 1.0 and kept[-1] == 10_001.0 and set(kept) <= set(values)
    assert 4990 < kept[1000] < 5010  # evenly spaced: the middle one is near the median
    assert downsample([3.0, 1.0, 2.0], 2000) == [1.0, 2.0, 3.0]


def finished(times: list[float | None]) -> list[Client]:
    return [Client(i, joined_at=t, join_s=t) for i, t in enumerate(times)]


def test_the_join_curve_counts_the_phones_joined_every_half_second() -> None:
    clients = finished([0.2, 0.5, 0.7, None, 1.6])  # the fourth gave up
    assert join_curve(clients, start=0.0) == [[0.0, 0], [0.5, 2], [1.0, 3], [1.5, 3], [2.0, 4]]
    assert join_curve(finished([None]), start=0.0) == [[0.0, 0]]


def test_the_sustained_join_rate_leaves_out_the_first_and_the_last_tenth() -> None:
    steady = [i / 100 for i in range(100)]  # 100 joins/s, then two stragglers
    assert sustained_rate(finished([*steady, 30.0, 60.0])) == 100.0
    assert sustained_rate(finished([1.0, None])) is None


def test_a_failed_join_is_classified() -> None:
    assert failure_kind(StatusError(500, "boom"), "page") == ("http_500", True)
    assert failure_kind(StatusError(429, "slow down"), "page") == ("http_429", False)
    assert failure_kind(TimeoutError(), "socket") == ("timeout", False)
    assert failure_kind(ConnectionRefusedError(), "page") == ("connection", False)
    assert failure_kind(ConnectionResetError(), "socket") == ("socket_connection", False)


class Filling:
    """A real HTTP server on loopback that answers the overload contract: 503 + Retry-After twice, then the page."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.asked = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(self.answers[min(self.asked, len(self.answers) - 1)])
        self.asked += 1
        await writer.drain()
        writer.close()


FILLING_PAGE = b'<meta http-equiv="refresh" content="0"><p id="filling">The room is filling up</p>'
FULL = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nConnection: close\r\n\r\n" + FILLING_PAGE
BARE = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"
PAGE = b"HTTP/1.1 200 OK\r\nSet-Cookie: handsup_participant=abc; Path=/\r\nContent-Length: 2\r\n\r\nok"
BROKEN = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"


class PageTarget:
    def __init__(self, port: int) -> None:
        self.port = port

    async def join(self, http: httpx.AsyncClient) -> Joined:
        return Joined(await fetch_page("127.0.0.1", self.port, "/123456", "handsup_participant"))


async def join_page(answers: list[bytes]) -> tuple[Client, Joined | BaseException, int]:
    filling = Filling(answers)
    server = await asyncio.start_server(filling.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    profile = Profile("t", 1, 0, 0.0, 1.0, 0, 0.0)
    run = Run(PageTarget(port), profile, [Client(0)], Presenter(), Meters(os.getpid()))  # type: ignore[arg-type]
    async with server, httpx.AsyncClient() as http:
        try:
            outcome: Joined | BaseException = await asyncio.wait_for(_page(run, run.clients[0], http), 10)
        except Exception as error:
            outcome = error
    return run.clients[0], outcome, filling.asked


def test_a_deferred_join_asks_again_after_retry_after_and_counts_each_deferral() -> None:
    client, outcome, asked = asyncio.run(join_page([FULL, BARE, PAGE]))
    assert outcome == Joined("abc") and asked == 3 and client.deferrals == 2
    assert client.deferrals_without_refresh == 1  # the second page said nothing to a browser


def test_a_deferral_page_must_refresh_after_the_same_seconds_and_say_the_room_is_filling() -> None:
    page = b'<head><META content="3" http-equiv="Refresh"></head><main id="filling">'
    assert refreshes_after(page, 3)
    assert not refreshes_after(page, 2)
    assert not refreshes_after(page.replace(b"filling", b"other"), 3)
    assert not refreshes_after(b'<meta name="refresh" content="3"><p id="filling">', 3)


def test_a_server_error_on_the_page_is_not_a_deferral() -> None:
    client, outcome, asked = asyncio.run(join_page([FULL, BROKEN]))
    assert isinstance(outcome, StatusError) and failure_kind(outcome, "page") == ("http_500", True)
    assert asked == 2 and client.deferrals == 1
    assert not isinstance(outcome, Deferred)


@pytest.mark.browser
def test_the_first_load_benchmark_writes_its_figures_and_verdict(tmp_path: Path) -> None:
    """bench/firstload.py end to end with one phone: a real server, Chromium under Slow 3G (the time is not judged)."""
    from bench.firstload import main as firstload

    out = tmp_path / "firstload.json"
    assert firstload(["--phones", "1", "--warm-up", "0", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["network"]["latency"] == 2000
    for figure in ("usable_ms", "paint_ms", "first_stylesheet_ms", "dom_content_loaded_ms", "socket_open_ms"):
        assert result[figure] > 0, figure
    assert len(result["runs"]) == 1
    assert [target["figure"] for target in result["targets"]] == ["usable_ms"]
