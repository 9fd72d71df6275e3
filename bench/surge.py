"""The surge: a room that joins at once, open loop, as people scanning a QR code do (issue 18).

Phone i starts its join at t0 + i / rate whatever happens to the others: no cap on joins in flight (the capped ramp
of bench/driver.py stays for the poll). A join is the same as there: `GET /{code}` on a fresh connection, the
participant socket, the first stage; a 503 with Retry-After is waited out and asked again, anything else that goes
wrong is an error. Each phone gives up after the profile's `join_timeout_s`, generous so a slow server shows as
latency, not as loss. Then an idle of `idle_s`, for the memory an idle phone costs.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections.abc import Sequence
from typing import Any

import httpx

from bench.driver import (
    Client,
    LagProbe,
    Meters,
    Presenter,
    Profile,
    Run,
    Target,
    close_all,
    connect_presenter,
    distribution,
    join_one,
    join_outcomes,
    quiet_collector,
    socket_figures,
    spread,
)

CURVE_STEP_S = 0.5  # the join curve's sampling interval
SUSTAINED = (0.1, 0.9)  # the sustained join rate is measured between these shares of the joins
# What a target's check says of the whole server (of every surge on it): its workers' logs, nginx's, and how long a
# deployment took to start and stop (bench/deployments.py).
LOGGED = (
    "server_log_problems",
    "server_log_samples",
    "proxy_log_problems",
    "proxy_log_samples",
    "deployment_timings",
)


async def open_ramp(run: Run, http: httpx.AsyncClient) -> list[float]:
    """Start phone i's join at t0 + i / rate, every phone, without waiting for any other; return when every phone
    has joined or given up. How late each phone started, in seconds (the client's own lag, not the server's)."""
    rate = run.profile.join_rate
    tasks: list[asyncio.Task[None]] = []
    late: list[float] = []
    started = time.perf_counter()
    for client in run.clients:
        due = started + client.index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        late.append(max(0.0, time.perf_counter() - due))
        tasks.append(asyncio.create_task(join_one(run, client, http)))
    await asyncio.gather(*tasks)
    return late


def join_curve(clients: list[Client], start: float, step: float = CURVE_STEP_S) -> list[list[float]]:
    """[seconds since the ramp started, phones joined so far], every `step` seconds until the last join."""
    done = sorted(c.joined_at - start for c in clients if c.joined_at is not None)
    end = math.ceil(done[-1] / step) if done else 0
    return [[round(i * step, 3), bisect.bisect_right(done, i * step)] for i in range(end + 1)]


def sustained_rate(clients: list[Client]) -> float | None:
    """Joins per second between the 10th and the 90th percentile of the join completions: the rate the server
    sustains, without the first joins (before it is busy) and the stragglers' tail."""
    done = sorted(c.joined_at for c in clients if c.joined_at is not None)
    low, high = (math.floor(share * (len(done) - 1)) for share in SUSTAINED)
    if high <= low or done[high] <= done[low]:
        return None
    return round((high - low) / (done[high] - done[low]), 1)


def per_join(seconds: float, joined: list[Client]) -> float | None:
    """CPU seconds as milliseconds per phone that joined."""
    return round(1000 * seconds / len(joined), 3) if joined else None


def services_figures(ramp: dict[str, Any], joined: list[Client]) -> dict[str, Any]:
    """A deployment's services during the ramp (bench/deployments.py): each one's CPU seconds, theirs per join, and
    the CPU per join of the whole deployment (workers and services); nothing for one process on SQLite."""
    services = ramp.get("services_cpu_s")
    if not services:
        return {}
    spent = sum(services.values())
    return {
        "services_cpu_s": services,
        "services_cpu_per_join_ms": per_join(spent, joined),
        "cpu_per_join_with_services_ms": per_join(ramp["server_cpu_s"] + spent, joined),
    }


def surge_figures(run: Run, late: list[float], probe: LagProbe) -> dict[str, Any]:
    clients = run.clients
    meters = run.meters
    start = meters.marks["ramp_start"].wall
    ramp = meters.between("ramp_start", "ramp_end")
    joined = [c for c in clients if c.join_s is not None]
    times = [c.join_s for c in joined if c.join_s is not None]
    idle_delta = meters.rss("idle_end") - meters.rss("ramp_start")
    last = max((c.joined_at for c in joined if c.joined_at is not None), default=None)
    return {
        "participants": run.profile.participants,
        "participants_connected": len(joined),
        "participants_gave_up": len(clients) - len(joined),
        **join_outcomes(clients),
        "join_rate_offered_per_s": run.profile.join_rate,
        "join_rate_achieved_per_s": round(len(joined) / (last - start), 1) if last and last > start else None,
        "join_rate_sustained_per_s": sustained_rate(clients),
        **spread(times, "join"),
        **spread([c.join_http_s for c in joined if c.join_http_s is not None], "join_http"),
        "ramp_wall_s": ramp["wall_s"],
        "server_cpu_s": ramp["server_cpu_s"],
        "server_cpu_per_join_ms": per_join(ramp["server_cpu_s"], joined),
        **services_figures(ramp, joined),
        "client_cpu_s": ramp["client_cpu_s"],
        "other_processes_cpu_s": ramp["other_cpu_s"],
        "rss_before_kib": meters.rss("ramp_start"),
        "rss_idle_kib": meters.rss("idle_end"),
        "rss_per_participant_kib": round(idle_delta / len(joined), 1) if joined else None,
        "client_start_late_p99_ms": spread(late, "late")["late_p99_ms"],
        "client_start_late_max_ms": spread(late, "late")["late_max_ms"],
        **probe.figures(),
        **socket_figures(run),
        "join_curve": join_curve(clients, start),
        "distributions": {"join_ms": distribution(times)},
    }


async def surge(target: Target, profile: Profile) -> tuple[dict[str, Any], Run]:
    """One surge against a started target: the session and the presenter as in the poll, the open ramp, the idle."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as http:
        await target.prepare(http)
        # A deployment of several workers (bench/deployments.py) reads its own usage: the workers' CPU and RSS summed,
        # the services' apart. Without it, only the first worker's process would be measured.
        meters = Meters(target.server_pid, usage=getattr(target, "usage", None))
        run = Run(target, profile, [Client(i) for i in range(profile.participants)], Presenter(), meters)
        await connect_presenter(run, http)
        probe = LagProbe()
        watcher = asyncio.create_task(probe.watch())
        try:
            with quiet_collector():
                run.meters.mark("ramp_start")
                late = await open_ramp(run, http)
                run.meters.mark("ramp_end")
            watcher.cancel()
            await asyncio.sleep(profile.idle_s)
            run.meters.mark("idle_end")
            figures = surge_figures(run, late, probe)
        finally:
            watcher.cancel()
            await close_all(run)
    figures["failures"] = dict(run.failures)
    figures["failure_samples"] = run.samples
    figures["notes"] = run.notes
    return figures, run


async def run_surges(target: Target, profiles: Sequence[Profile]) -> dict[str, Any]:
    """Start the target's server, run each surge in turn (each in a new session, once the last one's phones have
    left), stop it; per surge, what the server logged and (Handsup) whether every phone that joined is stored.

    Only the first surge on a server measures the memory per phone: a later one fills what the earlier phones
    freed. `{"surges": [figures, ...]}`, in the order of `profiles`."""
    results: list[dict[str, Any]] = []
    joined: list[tuple[int | None, list[str]]] = []
    try:
        await asyncio.to_thread(target.launch)
        for index, profile in enumerate(profiles):
            figures, run = await surge(target, profile)
            if index:
                figures["rss_per_participant_kib"] = None
                figures["notes"].append("memory per phone not measured: the server held an earlier surge")
            tokens = [c.joined.token for c in run.clients if c.joined is not None and c.join_s is not None]
            joined.append((getattr(target, "session_id", None), tokens))
            results.append(figures)
    finally:
        exit_code = await asyncio.to_thread(target.stop)
    checked = await asyncio.to_thread(target.check, {})
    # Handsup's database (SQLite's file, or PostgreSQL as read before its server stopped); the bare app stores nothing
    stored = getattr(target, "stored_participants", None)
    for figures, (session, tokens) in zip(results, joined, strict=True):
        figures["server_exit_code"] = exit_code
        figures["surges_on_this_server"] = len(profiles)
        for name in LOGGED:  # the whole server's log (and a deployment's proxy and timings)
            if name in checked:
                figures[name] = checked[name]
        if stored is not None:
            figures.update(await asyncio.to_thread(stored, tokens, session))
    return {"surges": results}
