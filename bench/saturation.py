"""Votes at saturation: the offered vote rate grows step by step on the phones already joined, until a step's
acknowledgements fall behind; the best step that kept up is the target's sustained vote rate.

The poll's burst offers a fixed rate that both Handsup and the bare baseline keep up with, so its throughput ratio
is about 1.0 by construction. Here each target gets the same ramp (bench/driver.py) and then, per step, votes
offered open loop at `start_rate * factor**step` for `step_s` seconds, spread over every connected phone. After a
step the harness waits (bounded) until every vote of it is acknowledged or refused, then judges it:

- **kept up**: every vote acknowledged and the ack p99 at most `p99_bound_s` (1 s);
- the ramp stops after a step that did not keep up, after one whose acknowledged rate grew by less than
  `min_growth` over the best so far, after one the sender itself could not offer (`client_bound`: the load
  generator, not the server, was the limit), or after `max_steps`.

`sustained_votes_per_s` is the highest acknowledged rate of a step that kept up. A phone votes the poll's options in
turn (a later vote replaces its earlier one), so after the stop the database must hold, for every phone, the option
of its last acknowledged vote (`acked_answers_lost`, as bench/loadgen.py checks it). The server's per-phone answer
budget (`HANDSUP_SUBMISSIONS_PER_MINUTE`, 30 a minute by default) is raised for this scenario: a few hundred phones
must carry thousands of votes a second, and the budget guards against one abusive phone, not the server's capacity.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench.baseline import BaselineTarget
from bench.driver import (
    Client,
    Meters,
    Presenter,
    Profile,
    Run,
    Target,
    Vote,
    burst,
    close_all,
    connect_presenter,
    last_answers,
    percentile,
    quiet_collector,
    ramp,
    wait_until,
)
from bench.loadgen import HandsupTarget
from bench.rooms import JOINS_IN_FLIGHT
from bench.run import Goal, combine, judge, ratios, run_one
from bench.spy import recording

# The per-phone answer budget, out of the way: each phone here carries tens of votes a second.
UNTHROTTLED = {"HANDSUP_SUBMISSIONS_PER_MINUTE": "1000000"}


@dataclass(frozen=True)
class Steps:
    """How the offered vote rate grows, and when a step counts as kept up."""

    start_rate: float  # votes per second offered in the first step
    factor: float  # each step offers this times the previous one
    step_s: float  # seconds of votes per step
    max_steps: int
    p99_bound_s: float = 1.0  # a step whose ack p99 passes this did not keep up
    min_growth: float = 1.1  # a step whose acked rate is below best * this ends the ramp (the rate stopped growing)
    sender_share: float = 0.9  # a step the sender offered at less than this share of its rate is client-bound
    settle_timeout_s: float = 20.0  # per step: the longest wait for its last acks
    refine: int = 2  # steps between the last rate kept up and the first not, after the climb (geometric means)


@dataclass(frozen=True)
class SaturationProfile:
    """The phones (and their ramp) as a driver profile, and the steps of the vote rate."""

    base: Profile
    steps: Steps


def _phones(name: str, participants: int, idle_s: float, **waits: float) -> Profile:
    """The phones and their ramp (the votes are the steps'); joins are not measured here, so they come quickly."""
    return Profile(name, participants, 0, 0.0, 500.0, JOINS_IN_FLIGHT, idle_s, **waits)


# Each phone's votes are handled one after the other, each after its group commit (one socket, one reader): a step
# is spread over every phone, and enough phones keep the votes per phone per second low, as a room's are.
PROFILES = {
    "smoke": SaturationProfile(_phones("smoke", 20, 0.2), Steps(start_rate=100.0, factor=2.0, step_s=0.5, max_steps=2)),
    # Small: 1,000 to 8,000 votes a second, a second each, on the 500 phones of the poll's quick profile.
    "quick": SaturationProfile(
        _phones("quick", 500, 0.5), Steps(start_rate=1000.0, factor=2.0, step_s=1.0, max_steps=4, settle_timeout_s=10.0)
    ),
    "full": SaturationProfile(
        _phones("full", 5000, 2.0, join_timeout_s=60.0), Steps(start_rate=1000.0, factor=1.5, step_s=3.0, max_steps=10)
    ),
}


def handsup(workdir: Path, profile_file: Path | None = None) -> HandsupTarget:
    return HandsupTarget(workdir, extra_env=UNTHROTTLED, profile_file=profile_file)


def baseline(workdir: Path) -> BaselineTarget:
    return BaselineTarget(workdir)


def plan_step(run: Run, rate: float, seconds: float, sent: dict[int, int]) -> list[Vote]:
    """The step's votes, phone after phone in turn; a phone's k-th vote picks option k mod the poll's options (the
    target's `rounds_limit`), so each differs from the one before and the last acknowledged one is known."""
    clients = run.connected
    if not clients:
        return []
    options = run.target.rounds_limit
    votes = []
    for index in range(max(1, round(rate * seconds))):
        client = clients[index % len(clients)]
        count = sent.get(client.index, 0)
        sent[client.index] = count + 1
        votes.append(Vote(index, client, count % options))
    return votes


def step_figures(run: Run, rate: float, start: str, end: str, steps: Steps) -> dict[str, Any]:
    """One step: what was offered, sent and acknowledged, at what rates, how soon, and at what server CPU."""
    votes = run.votes
    sent = [v.sent for v in votes if v.sent is not None]
    acked = [v for v in votes if v.acked is not None and v.sent is not None]
    latencies = [v.acked - v.sent for v in acked if v.acked is not None and v.sent is not None]
    last_ack = max((v.acked for v in acked if v.acked is not None), default=None)
    send_span = max(sent) - min(sent) if len(sent) > 1 else None
    # From the first send to the last ack, plus one send interval: n votes acknowledged at once span n / rate.
    span = last_ack - min(sent) + 1 / rate if sent and last_ack is not None else None
    cpu = run.meters.between(start, end)
    p99 = percentile(latencies, 99)
    lost = len(votes) - len(acked)
    # The n votes go out at times 0, 1/rate, ..., (n - 1)/rate: the sender's rate over the same n - 1 gaps.
    send_rate = round((len(sent) - 1) / send_span, 1) if send_span else None
    return {
        "offered_rate_votes_per_s": rate,
        "votes_per_phone_per_s": round(rate / len(run.connected), 2) if run.connected else None,
        "votes_offered": len(votes),
        "votes_sent": len(sent),
        "votes_acked": len(acked),
        "votes_refused_or_lost": lost,
        "send_rate_votes_per_s": send_rate,
        "acked_rate_votes_per_s": round(len(acked) / span, 1) if span else None,
        "ack_p50_ms": percentile(latencies, 50),
        "ack_p99_ms": p99,
        "ack_max_ms": percentile(latencies, 100),
        "kept_up": lost == 0 and p99 is not None and p99 <= steps.p99_bound_s * 1000,
        "client_bound": send_rate is not None and send_rate < steps.sender_share * rate,
        "wall_s": cpu["wall_s"],
        "server_cpu_s": cpu["server_cpu_s"],
        "client_cpu_s": cpu["client_cpu_s"],
        "other_cpu_s": cpu["other_cpu_s"],
        "server_cpu_per_vote_ms": round(1000 * cpu["server_cpu_s"] / len(acked), 3) if acked else None,
    }


FELL_BEHIND = "ack p99 over the bound or votes not acknowledged"
FLAT = "the acknowledged rate stopped growing"
CLIENT_BOUND = "the sender could not offer the rate (client-bound)"


def stop_reason(step: dict[str, Any], best: float | None, steps: Steps) -> str | None:
    """Why the ramp ends after this step (None: go on)."""
    if not step["kept_up"]:
        return FELL_BEHIND
    if step["client_bound"]:
        return CLIENT_BOUND
    rate = step["acked_rate_votes_per_s"] or 0.0
    if best is not None and rate < best * steps.min_growth:
        return FLAT
    return None


async def run_step(run: Run, number: int, rate: float, steps: Steps, sent: dict[int, int]) -> dict[str, Any]:
    """One step at `rate`: send its votes, wait (bounded) for their answers; its figures."""
    run.profile = dataclasses.replace(run.profile, rate=rate)
    run.votes = plan_step(run, rate, steps.step_s, sent)
    run.meters.mark(f"step{number}_start")
    await burst(run)
    settled = await wait_until(
        lambda: all(v.acked is not None or v.error is not None or v.sent is None for v in run.votes),
        steps.settle_timeout_s,
    )
    run.meters.mark(f"step{number}_end")
    step = step_figures(run, rate, f"step{number}_start", f"step{number}_end", steps)
    step["settled"] = settled
    for vote in run.votes:
        if vote.error is not None:
            run.fail("vote", vote.error)
    return step


async def climb(run: Run, steps: Steps) -> tuple[list[dict[str, Any]], str]:
    """Step the offered rate up until a stop rule holds; then, when a step did not keep up, narrow the limit down
    between the last rate that did and the first that did not (`refine` steps at their geometric mean). Each
    step's figures, and why the climb stopped."""
    sent: dict[int, int] = {}
    figures: list[dict[str, Any]] = []
    best: float | None = None
    kept_rate: float | None = None  # the highest offered rate that kept up
    reason = f"the last of {steps.max_steps} steps"
    for number in range(steps.max_steps):
        if not run.connected:
            return figures, "no phone connected"
        rate = steps.start_rate * steps.factor**number
        step = await run_step(run, number, rate, steps, sent)
        figures.append({**step, "refining": False})
        stop = stop_reason(step, best, steps)
        if step["kept_up"]:
            best = max(best or 0.0, step["acked_rate_votes_per_s"] or 0.0)
            kept_rate = rate
        if stop is not None:
            reason = stop
            break
    if figures and not figures[-1]["kept_up"] and kept_rate is not None:
        low, high = kept_rate, figures[-1]["offered_rate_votes_per_s"]
        for _ in range(steps.refine):
            if not run.connected:
                break
            rate = float(round((low * high) ** 0.5))
            step = await run_step(run, len(figures), rate, steps, sent)
            figures.append({**step, "refining": True})
            low, high = (rate, high) if step["kept_up"] else (low, rate)
    return figures, reason


def summarise(steps: list[dict[str, Any]], reason: str) -> dict[str, Any]:
    """The sustained rate (the best step that kept up) and the totals over every step."""
    kept = [s for s in steps if s["kept_up"]]
    best = max(kept, key=lambda s: s["acked_rate_votes_per_s"] or 0.0, default=None)
    return {
        "sustained_votes_per_s": best["acked_rate_votes_per_s"] if best else None,
        "sustained_ack_p99_ms": best["ack_p99_ms"] if best else None,
        "sustained_offered_votes_per_s": best["offered_rate_votes_per_s"] if best else None,
        "steps_run": len(steps),
        "stopped_because": reason,
        # The target's own limit was found (it fell behind, or stopped gaining); otherwise its sustained rate is a
        # floor: the sender, or the last step, came first.
        "reached_limit": reason in (FELL_BEHIND, FLAT),
        "client_bound": any(s["client_bound"] for s in steps),
        "votes_offered": sum(s["votes_offered"] for s in steps),
        "votes_acked": sum(s["votes_acked"] for s in steps),
        "votes_refused_or_lost": sum(s["votes_refused_or_lost"] for s in steps),
        "peak_acked_rate_votes_per_s": max((s["acked_rate_votes_per_s"] or 0.0 for s in steps), default=None),
        "steps": steps,
    }


async def run_saturation(target: Target, profile: SaturationProfile) -> dict[str, Any]:
    """Start the target, join its phones, climb the vote rate, stop it, check what it stored; the figures."""
    base = profile.base
    try:
        await asyncio.to_thread(target.launch)
        limits = httpx.Limits(max_connections=base.join_concurrency, max_keepalive_connections=base.join_concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30.0)) as http:
            await target.prepare(http)
            clients = [Client(i) for i in range(base.participants)]
            run = Run(target, base, clients, Presenter(), Meters(target.server_pid))
            await connect_presenter(run, http)  # held open as a presenter's is: Handsup pushes it the tallies
            try:
                run.meters.mark("ramp_start")
                await ramp(run, http)
                run.meters.mark("ramp_end")
                await asyncio.sleep(base.idle_s)
                spy = target.profile_file
                with quiet_collector(), recording(target.server_pid, spy) if spy else contextlib.nullcontext():
                    steps, reason = await climb(run, profile.steps)
            finally:
                await close_all(run)
    finally:
        exit_code = await asyncio.to_thread(target.stop)
    figures = {
        "participants": base.participants,
        "participants_connected": sum(1 for c in run.clients if c.join_s is not None),
        **summarise(steps, reason),
        "server_exit_code": exit_code,
        "failures": dict(run.failures),
        "failure_samples": run.samples,
        "notes": run.notes,
    }
    figures.update(await asyncio.to_thread(target.check, last_answers(run)))
    return figures


# --- the scenario (`python -m bench.run --scenario saturation`) -------------------------------------------------

SUMMARY = (
    "participants_connected",
    "sustained_votes_per_s",
    "sustained_ack_p99_ms",
    "peak_acked_rate_votes_per_s",
    "steps_run",
    "stopped_because",
    "client_bound",
    "acked_answers_lost",
    "error",
)


def goals(profile: SaturationProfile) -> list[Goal]:
    return [
        Goal(
            f"{profile.base.participants} phones connected",
            "participants_connected",
            profile.base.participants,
            at_most=False,
        ),
        Goal(
            "sustained vote rate (ack p99 at most 1 s) at least half the bare baseline's",
            "sustained_ratio_to_baseline",
            0.5,
            at_most=False,
        ),
        Goal("no acknowledged vote missing from the database", "acked_answers_lost", 0, at_most=True),
    ]


def drive(profile: SaturationProfile) -> Callable[[Any, Profile], Coroutine[Any, Any, dict[str, Any]]]:
    def start(target: Any, _: Profile) -> Coroutine[Any, Any, dict[str, Any]]:
        return run_saturation(target, profile)

    return start


def scenario(name: str, only: str, keep: bool, repeat: int, profile_file: Path | None = None) -> dict[str, Any]:
    """Both targets (alternating when repeated), Handsup's figures at the top, the baseline's under `baseline`;
    with `profile_file`, py-spy through Handsup's steps."""
    profile = PROFILES[name]
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "handsup": []}
    for _ in range(repeat):
        if only != "handsup":
            runs["baseline"].append(run_one(baseline, profile.base, keep, drive(profile)))
        if only != "baseline":
            make = partial(handsup, profile_file=profile_file)
            runs["handsup"].append(run_one(make, profile.base, keep, drive(profile)))
    bare = combine(runs["baseline"], SUMMARY) if runs["baseline"] else {}
    mine = combine(runs["handsup"], SUMMARY) if runs["handsup"] else {}
    result = {
        **mine,
        "baseline": bare,
        "sustained_ratio_to_baseline": ratios(mine, bare, ("sustained_votes_per_s",))["sustained_votes_per_s"],
        "profile": {**dataclasses.asdict(profile), "repeat": repeat},
    }
    if mine:
        result["targets"] = judge(goals(profile), result)
    return result
