"""Many rooms at once: one Handsup process holds many live sessions, each with its presenter and its phones, and
every phone votes in the same short window. Is a vote as cheap, and as quick to reach its presenter, as in one big
room of the same total?

Two layouts of the same total phones, each on its own fresh server, in the same run:

- **rooms**: `rooms` sessions made through the API (`POST /api/v1/sessions` from the `distributed-leadership` deck,
  then `goto` its widest poll, as bench/loadgen.py does), one presenter socket per session (one sign-in, its cookie
  on every socket), `phones` phones joining each session as the driver's phones do (bench/driver.py `ramp`, its
  rate and cap on joins in flight shared out among the rooms, so the whole ramp offers the profile's);
- **one room**: a single session with `rooms * phones` phones, the same ramp, the same votes.

Then every phone votes once, open loop, the votes spread evenly over `vote_window_s` and taken room after room in
turn. Per room the vote-to-presenter latency is traced as in the driver (the k-th acknowledged vote of a room is
shown once that room's presenter tally holds k votes); the figures pool every room's. Server CPU per vote is the
server's CPU from the first vote until every ack and every presenter tally is in, over the votes acknowledged. After
the stop, every phone's acknowledged vote must be in the database (bench/loadgen.py's check, per session).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench.driver import (
    Client,
    Meters,
    Presenter,
    Profile,
    Run,
    Vote,
    _send_vote,
    await_presenter,
    close_all,
    last_answers,
    open_socket,
    percentile,
    presenter_latencies,
    quiet_collector,
    ramp,
    read_presenter,
    spread,
    wait_until,
)
from bench.loadgen import HandsupTarget, log_problems
from bench.run import Goal, judge, ratios, run_one
from bench.spy import recording, summary


@dataclass(frozen=True)
class RoomsProfile:
    """The rooms, their phones, the window the votes are spread over; the ramp and the waits as a driver profile."""

    base: Profile
    rooms: int
    phones: int  # per room
    vote_window_s: float

    @property
    def total(self) -> int:
        return self.rooms * self.phones


# Joins in flight at most: fewer than the server's budget of join-code lookups from one address (30 a minute,
# HANDSUP_JOIN_MISSES_PER_ADDRESS). A lookup holds a token until its code is found live, so more lookups than that
# in flight at once, from the one loopback address, are refused (429) even with the right code. Joins are not what
# these scenarios measure; the cap keeps the setup clear of that refusal.
JOINS_IN_FLIGHT = 25


def _base(name: str, join_rate: float, idle_s: float, **waits: float) -> Profile:
    return Profile(name, 0, 0, 0.0, join_rate=join_rate, join_concurrency=JOINS_IN_FLIGHT, idle_s=idle_s, **waits)


PROFILES = {
    "smoke": RoomsProfile(_base("smoke", 50.0, 0.2), rooms=3, phones=5, vote_window_s=0.3),
    "quick": RoomsProfile(_base("quick", 250.0, 0.5), rooms=20, phones=25, vote_window_s=1.0),
    # The issue's: 200 sessions of 50 phones, 10,000 votes in 5 s (2,000/s, as the poll's full burst).
    "full": RoomsProfile(
        _base("full", 250.0, 2.0, join_timeout_s=60.0, ack_timeout_s=120.0, presenter_timeout_s=60.0),
        rooms=200,
        phones=50,
        vote_window_s=5.0,
    ),
}


async def open_rooms(host: HandsupTarget, http: httpx.AsyncClient, profile: RoomsProfile, rooms: int) -> list[Run]:
    """`rooms` sessions on the host's server, each at its poll with its presenter's socket open; one run each."""
    phones = profile.total // rooms
    share = dataclasses.replace(
        profile.base,
        participants=phones,
        join_rate=profile.base.join_rate / wave(profile, rooms),
        join_concurrency=profile.base.join_concurrency // wave(profile, rooms),
    )
    _, signed_in = await host.presenter_socket(http)  # one sign-in; its cookie opens every session's socket
    meters = Meters(host.server_pid)
    runs = []
    for _ in range(rooms):
        room = copy.copy(host)  # the same server and account, its own session
        await room.prepare(http)
        run = Run(room, share, [Client(i) for i in range(phones)], Presenter(), meters)
        url = f"ws://127.0.0.1:{room.port}/ws/presenter/{room.session_id}"
        run.presenter.ws = await asyncio.wait_for(open_socket(url, signed_in), 30)
        run.presenter.reader = asyncio.create_task(read_presenter(run))
        runs.append(run)
    return runs


COMMIT_FAMILIES = ("handsup_commit_seconds", "handsup_commit_wait_seconds", "handsup_commit_batch_size")


async def commit_meters(http: httpx.AsyncClient, url: str) -> dict[str, float]:
    """The server's group-commit histograms (GET /metrics, open to this machine): each family's sum and count."""
    response = await http.get(f"{url}/metrics")
    response.raise_for_status()
    found: dict[str, float] = {}
    for line in response.text.splitlines():
        name, _, value = line.partition(" ")
        if name.removesuffix("_sum").removesuffix("_count") in COMMIT_FAMILIES and name.endswith(("_sum", "_count")):
            found[name] = float(value)
    return found


def commit_figures(before: dict[str, float], after: dict[str, float]) -> dict[str, float | None]:
    """Between two readings: the group commits made, their mean duration, the mean of each commit's longest wait
    (submit to committed), and their mean size; where the acks' time went, if it went to the writer."""

    def grown(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    commits = grown("handsup_commit_seconds_count")

    def mean(family: str, scale: float) -> float | None:
        return round(scale * grown(f"{family}_sum") / commits, 2) if commits else None

    return {
        "commits": commits,
        "commit_mean_ms": mean("handsup_commit_seconds", 1000),
        "commit_wait_mean_ms": mean("handsup_commit_wait_seconds", 1000),
        "commit_batch_mean": mean("handsup_commit_batch_size", 1),
    }


def wave(profile: RoomsProfile, rooms: int) -> int:
    """Rooms whose phones join at once: at most one per join in flight, so the profile's cap holds overall."""
    return min(rooms, profile.base.join_concurrency)


async def ramp_rooms(runs: list[Run], http: httpx.AsyncClient, profile: RoomsProfile) -> None:
    """The driver's ramp, in waves of rooms: each wave shares the profile's join rate and its cap on joins in
    flight, so the whole ramp offers what a one-room ramp would."""
    size = wave(profile, len(runs))
    for first in range(0, len(runs), size):
        await asyncio.gather(*(ramp(run, http) for run in runs[first : first + size]))


def plan(runs: list[Run]) -> list[tuple[Run, Vote]]:
    """One vote per connected phone (its first, the poll's first option), room after room in turn."""
    per_room = [[(run, Vote(i, client, 0)) for i, client in enumerate(run.connected)] for run in runs]
    for run, votes in zip(runs, per_room, strict=True):
        run.votes = [vote for _, vote in votes]
    deepest = max((len(votes) for votes in per_room), default=0)
    return [votes[i] for i in range(deepest) for votes in per_room if i < len(votes)]


async def vote_all(order: list[tuple[Run, Vote]], window_s: float) -> None:
    """Send every vote, open loop, evenly over the window."""
    rate = len(order) / window_s if window_s > 0 else float("inf")
    started = time.perf_counter()
    for index, (run, vote) in enumerate(order):
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif index % 16 == 0:
            await asyncio.sleep(0)  # behind schedule: still let the readers timestamp what arrives
        await _send_vote(run, vote)


async def drive_layout(host: HandsupTarget, profile: RoomsProfile, rooms: int) -> tuple[dict[str, Any], list[Run]]:
    """Open the rooms, join their phones, vote, wait for every ack and tally; the figures, and the rooms' runs."""
    base = profile.base
    limits = httpx.Limits(max_connections=base.join_concurrency, max_keepalive_connections=base.join_concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30.0)) as http:
        started = time.perf_counter()
        runs = await open_rooms(host, http, profile, rooms)
        setup_s = time.perf_counter() - started
        meters = runs[0].meters
        levels = [0] * len(runs)  # each presenter's tally before the votes
        pushed = [0] * len(runs)  # and the tallies pushed to it so far
        try:
            meters.mark("ramp_start")
            await ramp_rooms(runs, http, profile)
            meters.mark("ramp_end")
            await asyncio.sleep(base.idle_s)
            meters.mark("idle_end")
            levels = [run.presenter.level for run in runs]
            pushed = [len(run.presenter.timeline) for run in runs]
            before = await commit_meters(http, host.url)
            spy = layout_profile(host, rooms)
            with quiet_collector(), recording(host.server_pid, spy) if spy else contextlib.nullcontext():
                await vote_all(plan(runs), profile.vote_window_s)
                meters.mark("sent")
                votes = [vote for run in runs for vote in run.votes]
                if not await wait_until(
                    lambda: all(v.acked is not None or v.error is not None or v.sent is None for v in votes),
                    base.ack_timeout_s,
                ):
                    runs[0].notes.append(f"acks still missing after {base.ack_timeout_s:.0f} s")
                await asyncio.gather(*(await_presenter(run, level) for run, level in zip(runs, levels, strict=True)))
                meters.mark("votes_end")
            writer = commit_figures(before, await commit_meters(http, host.url))
        finally:
            await asyncio.gather(*(close_all(run) for run in runs))
    figures = {**layout_figures(runs, levels, profile, rooms), **writer, **push_figures(runs, pushed)}
    figures["sessions_setup_s"] = round(setup_s, 2)
    return figures, runs


def push_figures(runs: list[Run], pushed: list[int]) -> dict[str, Any]:
    """The tallies pushed to the presenters since the votes began (`pushed`: how many each had before), in all and
    per acknowledged vote: how many renderings of a presenter's results the votes cost the server."""
    pushes = sum(len(run.presenter.timeline) - before for run, before in zip(runs, pushed, strict=True))
    acked = sum(1 for run in runs for vote in run.votes if vote.acked is not None)
    return {"presenter_pushes": pushes, "presenter_pushes_per_vote": round(pushes / acked, 3) if acked else None}


def layout_profile(host: HandsupTarget, rooms: int) -> Path | None:
    """Where py-spy records the server through this layout's votes (with `--server-profile`): one file per layout."""
    spy = host.profile_file
    return spy.with_name(f"{spy.stem}.{rooms}{spy.suffix}") if spy is not None else None


def layout_figures(runs: list[Run], levels: list[int], profile: RoomsProfile, rooms: int) -> dict[str, Any]:
    meters = runs[0].meters
    clients = [c for run in runs for c in run.clients]
    votes = [v for run in runs for v in run.votes]
    acked = [v for v in votes if v.acked is not None and v.sent is not None]
    presenter: list[float] = []
    worst: float | None = None
    untraced = 0
    for run, level in zip(runs, levels, strict=True):
        latencies, missing = presenter_latencies(run, level)
        presenter += latencies
        untraced += missing
        room_p99 = percentile(latencies, 99)
        if room_p99 is not None:
            worst = max(worst or 0.0, room_p99)
        for vote in run.votes:
            if vote.error is not None:
                run.fail("vote", vote.error)
    window = meters.between("idle_end", "votes_end")
    failures: dict[str, int] = {}
    samples: dict[str, list[str]] = {}
    for run in runs:
        for kind, count in run.failures.items():
            failures[kind] = failures.get(kind, 0) + count
            samples.setdefault(kind, []).extend(run.samples[kind][: 5 - len(samples.get(kind, []))])
    return {
        "rooms": rooms,
        "phones_per_room": profile.total // rooms,
        "participants": len(clients),
        "participants_connected": sum(1 for c in clients if c.join_s is not None),
        **spread([c.join_s for c in clients if c.join_s is not None], "join"),
        "ramp_s": meters.between("ramp_start", "ramp_end")["wall_s"],
        "votes_offered": len(votes),
        "votes_sent": sum(1 for v in votes if v.sent is not None),
        "votes_acked": len(acked),
        "votes_refused_or_lost": len(votes) - len(acked),
        "vote_window_s": profile.vote_window_s,
        **spread([v.acked - v.sent for v in acked if v.acked is not None and v.sent is not None], "ack"),
        **spread(presenter, "presenter"),
        "presenter_p99_worst_room_ms": worst,
        "presenter_untraced_votes": untraced,
        "server_cpu_s": window["server_cpu_s"],
        "server_cpu_per_vote_ms": round(1000 * window["server_cpu_s"] / len(acked), 3) if acked else None,
        "idle_server_cpu_s": meters.between("ramp_end", "idle_end")["server_cpu_s"],
        "client_cpu_s": window["client_cpu_s"],
        "other_processes_cpu_s": window["other_cpu_s"],
        "votes_wall_s": window["wall_s"],
        "failures": failures,
        "failure_samples": samples,
        "notes": [note for run in runs for note in run.notes],
    }


def check(runs: list[Run]) -> dict[str, Any]:
    """After the stop: each session's acknowledged votes against its database rows (bench/loadgen.py's check)."""
    totals = {"participants_with_acked_vote": 0, "acked_answers_persisted": 0, "acked_answers_lost": 0}
    for run in runs:
        room: HandsupTarget = run.target  # type: ignore[assignment]
        found = room._persisted(last_answers(run))  # the per-poll check, one session at a time
        for key in totals:
            totals[key] += found[key]
    return totals


async def run_layout(target: HandsupTarget, profile: RoomsProfile, rooms: int) -> dict[str, Any]:
    """Start the target's server, run one layout on it, stop it; its votes against the database, and its log."""
    try:
        await asyncio.to_thread(target.launch)
        figures, runs = await drive_layout(target, profile, rooms)
    finally:
        exit_code = await asyncio.to_thread(target.stop)
    figures.update(await asyncio.to_thread(check, runs))
    assert target.server is not None
    figures.update(server_exit_code=exit_code, **log_problems(target.server.log))
    spy = layout_profile(target, rooms)
    if spy is not None and spy.exists():
        figures["server_profile"] = {**summary(spy), "raw": str(spy)}
    return figures


async def run_rooms(host: HandsupTarget, profile: RoomsProfile) -> dict[str, Any]:
    """The many rooms on the host's server, then the one room of the same total on a fresh server of its own (its
    data folder inside the host's): each layout pays for its own cold start. Run on one server, whichever layout
    went second committed several times faster (at 200 rooms x 10 phones, group commits of 80-170 ms first against
    4-80 ms second), which decided the comparison more than the rooms did."""
    many = await run_layout(host, profile, profile.rooms)
    folder = host.workdir / "one-room"
    folder.mkdir()
    single = await run_layout(HandsupTarget(folder, profile_file=host.profile_file), profile, 1)
    return compare(many, single)


def drive(profile: RoomsProfile) -> Callable[[Any, Profile], Coroutine[Any, Any, dict[str, Any]]]:
    def start(target: Any, _: Profile) -> Coroutine[Any, Any, dict[str, Any]]:
        return run_rooms(target, profile)

    return start


def compare(rooms: dict[str, Any], single: dict[str, Any]) -> dict[str, Any]:
    """The many rooms' figures, the one room's under `one_room`, and the ratio of their server CPU per vote."""
    ratio = ratios(rooms, single, ("server_cpu_per_vote_ms",))["server_cpu_per_vote_ms"]
    lost = rooms.get("acked_answers_lost")
    refused = rooms.get("votes_refused_or_lost")
    return {
        **rooms,
        "votes_lost": lost + refused if isinstance(lost, int) and isinstance(refused, int) else None,
        "one_room": single,
        "cpu_per_vote_ratio_to_one_room": ratio,
    }


# --- the scenario (`python -m bench.run --scenario rooms`) -------------------------------------------------------


def goals(profile: RoomsProfile) -> list[Goal]:
    return [
        Goal(
            f"{profile.total} phones connected in {profile.rooms} rooms",
            "participants_connected",
            profile.total,
            at_most=False,
        ),
        Goal("every vote acknowledged and stored", "votes_lost", 0, at_most=True),
        Goal("vote-to-presenter p99 at most 500 ms in every room", "presenter_p99_ms", 500.0, at_most=True),
        Goal(
            "server CPU per vote at most 1.5 times one room's of the same total",
            "cpu_per_vote_ratio_to_one_room",
            1.5,
            at_most=True,
        ),
    ]


def scenario(name: str, keep: bool, profile_file: Path | None = None) -> dict[str, Any]:
    """The many rooms, then the one room of the same total phones, on one Handsup server (no baseline here);
    with `profile_file`, py-spy through each layout's votes (the file's name gains the number of rooms)."""
    profile = PROFILES[name]
    result = run_one(partial(HandsupTarget, profile_file=profile_file), profile.base, keep, drive(profile))
    result["profile"] = {**dataclasses.asdict(profile), "total": profile.total}
    result["targets"] = judge(goals(profile), result)
    return result
