"""The benchmark's entry point: `python -m bench.run --profile quick` (from the repository root).

Runs the bare baseline app and then the Handsup server under the same load, each in its own process started
here, and writes bench/results/latest.json: Handsup's figures at the top level, the baseline's under `baseline`,
and their ratios. A target that fails is reported (with the reason) rather than ending the run.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.baseline import BaselineTarget
from bench.deployments import DEPLOYMENTS, deployments_option, summary_of, target_for
from bench.driver import Profile, downsample, run_target
from bench.procs import ROOT, raise_open_files
from bench.quiz import DEFAULT_SIZES, QUESTIONS, QuizBaseline, QuizHandsup, QuizTarget, pooled, run_quiz_target
from bench.surge import run_surges

RESULTS = ROOT / "bench" / "results"
OPEN_FILES = 65536
PROFILES = {
    # The harness end to end in seconds: what the test suite runs (tests/bench), not a measurement.
    "smoke": Profile("smoke", participants=20, votes=40, rate=100.0, join_rate=50.0, join_concurrency=10, idle_s=0.5),
    "quick": Profile(
        "quick", participants=500, votes=1000, rate=500.0, join_rate=250.0, join_concurrency=100, idle_s=3.0, repeat=1
    ),
    # The targets of the project's scale issue: 10,000 participants, 10,000 votes at 2,000/s.
    "full": Profile(
        "full",
        participants=10_000,
        votes=10_000,
        rate=2000.0,
        join_rate=250.0,
        join_concurrency=200,
        idle_s=5.0,
        join_timeout_s=60.0,
        ack_timeout_s=120.0,
        presenter_timeout_s=60.0,
        fanout_timeout_s=120.0,
    ),
}
# The quiz scenario (bench/quiz.py): phones answer each of its questions in a burst, then the presenter reveals.
QUIZ_PROFILES = {
    "smoke": Profile(
        "smoke", participants=20, votes=20, rate=100.0, join_rate=50.0, join_concurrency=10, idle_s=0.5, settle_s=0.5
    ),
    # Small enough that `make bench` (the poll's quick profile, then this) stays under two minutes on a quiet machine.
    "quick": Profile(
        "quick",
        participants=200,
        votes=200,
        rate=1000.0,
        join_rate=250.0,
        join_concurrency=100,
        idle_s=1.0,
        settle_s=0.5,
    ),
    # The issue's: 2,000 phones answer one timed question in a burst (here each of three questions, at 2,000/s).
    "full": Profile(
        "full",
        participants=2000,
        votes=2000,
        rate=2000.0,
        join_rate=250.0,
        join_concurrency=200,
        idle_s=3.0,
        join_timeout_s=60.0,
        ack_timeout_s=120.0,
        fanout_timeout_s=120.0,
    ),
}


def surge_profile(phones: int, rate: float, idle_s: float, give_up_s: float) -> Profile:
    """One surge (bench/surge.py): `phones` join open loop at `rate` per second, no cap in flight; each gives up
    after `give_up_s`; then `idle_s` before the memory is read. No votes."""
    return Profile(
        f"surge-{rate:g}",
        participants=phones,
        votes=0,
        rate=0.0,
        join_rate=rate,
        join_concurrency=0,
        idle_s=idle_s,
        join_timeout_s=give_up_s,
    )


@dataclasses.dataclass(frozen=True)
class SurgePlan:
    """The surges of a profile, in order; `one_server`: all of them on one server process per target (each in a
    new session), which saves its start-ups but measures the memory per phone on the first surge only."""

    surges: tuple[Profile, ...]
    one_server: bool = False


# The surge scenario (issue 18): a room that joins at once, at the 250/s and at 1,000/s, faster than either
# target takes joins (the throughput at saturation). One run of each target per surge, the baseline first.
SURGE_PROFILES = {
    "smoke": SurgePlan((surge_profile(30, 100.0, idle_s=0.5, give_up_s=30.0),)),
    "quick": SurgePlan(
        (
            surge_profile(1500, 250.0, idle_s=2.0, give_up_s=60.0),
            surge_profile(1500, 1000.0, idle_s=2.0, give_up_s=60.0),
        ),
        one_server=True,  # so that `make bench` stays short
    ),
    "full": SurgePlan(
        (
            surge_profile(10_000, 250.0, idle_s=5.0, give_up_s=180.0),
            surge_profile(10_000, 1000.0, idle_s=5.0, give_up_s=180.0),
        )
    ),
}
SURGE_RATIOS = (
    "join_p50_ms",
    "join_p99_ms",
    "join_rate_sustained_per_s",
    "server_cpu_per_join_ms",
    "rss_per_participant_kib",
)
WORST = frozenset(
    {
        "acked_answers_lost",
        "votes_refused_or_lost",
        "presenter_untraced_votes",
        "server_log_problems",
        "answers_refused_or_lost",
        "leaderboard_mismatches",
    }
)
SUMMARY = (
    "participants_connected",
    "join_p50_ms",
    "ack_p50_ms",
    "ack_p99_ms",
    "presenter_p50_ms",
    "presenter_p99_ms",
    "fanout_p99_ms",
    "throughput_votes_per_s",
    "server_cpu_s",
    "client_cpu_s",
    "other_processes_cpu_s",
    "acked_answers_lost",
    "error",
)
QUIZ_SUMMARY = (
    "participants_connected",
    "answers_acked",
    "ack_p99_ms",
    "reveal_projector_p99_ms",
    "reveal_phones_p50_ms",
    "reveal_phones_p99_ms",
    "server_cpu_s",
    "other_processes_cpu_s",
    "acked_answers_lost",
    "leaderboard_mismatches",
    "error",
)
QUIZ_RATIOS = (
    "reveal_projector_p50_ms",
    "reveal_projector_p99_ms",
    "reveal_phones_p50_ms",
    "reveal_phones_p99_ms",
    "ack_p50_ms",
    "ack_p99_ms",
    "join_p50_ms",
    "server_cpu_s",
)
RATIOS = (
    "throughput_votes_per_s",
    "ack_p50_ms",
    "ack_p99_ms",
    "presenter_p50_ms",
    "presenter_p99_ms",
    "fanout_p99_ms",
    "close_fanout_p99_ms",
    "join_p50_ms",
    "rss_per_participant_kib",
    "server_cpu_s",
)


@dataclasses.dataclass(frozen=True)
class Goal:
    """One of the scale issue's targets: a figure of the JSON and the bound it must keep."""

    name: str
    figure: str
    bound: float
    at_most: bool  # True: the figure must not exceed the bound; False: it must reach it

    def verdict(self, figures: dict[str, Any]) -> dict[str, Any]:
        """Met or not, and by how much (in the figure's own unit, and as a share of the bound)."""
        measured = figures.get(self.figure)
        entry: dict[str, Any] = {"target": self.name, "figure": self.figure, "bound": self.bound}
        if not isinstance(measured, int | float):
            return {**entry, "measured": None, "met": False, "margin": None, "margin_pct": None}
        margin = self.bound - measured if self.at_most else measured - self.bound
        pct = round(100 * margin / self.bound, 1) if self.bound else None
        return {**entry, "measured": measured, "met": margin >= 0, "margin": round(margin, 3), "margin_pct": pct}


# The targets of the scale issue, for the full profile on a 2-core machine; the quick profile is judged by the same
# bounds, except that it asks for fewer participants and votes (its own counts are the bounds there).
def goals(profile: Profile) -> list[Goal]:
    """The targets a run of this profile is judged by; a positive margin is room to spare, a negative one the miss."""
    return [
        Goal(
            f"{profile.participants} concurrent participants in one worker",
            "participants_connected",
            profile.participants,
            at_most=False,
        ),
        Goal("at most 40 KiB of server RSS per idle participant", "rss_per_participant_kib", 40.0, at_most=True),
        Goal(f"all {profile.votes} votes acknowledged", "votes_acked", profile.votes, at_most=False),
        Goal("no acknowledged vote missing from the database", "acked_answers_lost", 0, at_most=True),
        Goal("vote-to-presenter p50 at most 150 ms", "presenter_p50_ms", 150.0, at_most=True),
        Goal("vote-to-presenter p99 at most 500 ms", "presenter_p99_ms", 500.0, at_most=True),
        Goal("slide change reaches every phone: p99 at most 1 s", "fanout_p99_ms", 1000.0, at_most=True),
        Goal("throughput at least half the bare baseline's", "throughput_ratio_to_baseline", 0.5, at_most=False),
        Goal(
            "RSS per idle participant at most 1.25 times the bare baseline's",
            "rss_per_participant_ratio_to_baseline",
            1.25,
            at_most=True,
        ),
    ]


def quiz_goals(profile: Profile) -> list[Goal]:
    """The quiz scenario's targets: the issue's bound on the leaderboard's reach, and nothing lost or wrong."""
    answers = profile.participants * len(QUESTIONS)
    return [
        Goal(f"{profile.participants} phones connected", "participants_connected", profile.participants, at_most=False),
        # Judged on the refused or lost (the worst run's, with repeats), not on the acknowledged (a median).
        Goal(f"all {answers} answers acknowledged", "answers_refused_or_lost", 0, at_most=True),
        Goal("no acknowledged answer missing from the database", "acked_answers_lost", 0, at_most=True),
        Goal(
            "the leaderboards shown equal the standings computed from the stored answers",
            "leaderboard_mismatches",
            0,
            at_most=True,
        ),
        Goal(
            "the leaderboard reaches the projector within 1 s of the reveal (p99)",
            "reveal_projector_p99_ms",
            1000.0,
            at_most=True,
        ),
    ]


def surge_goals(profile: Profile, saturation: bool, memory: bool = True) -> list[Goal]:
    """The surge's targets (issue 18), for one surge; `saturation`: this is the fastest surge of the profile, whose
    sustained join rate is compared with the baseline's; `memory`: this surge measured the memory per phone."""
    rate = f"{profile.join_rate:g}/s"
    found = [
        Goal(
            f"all {profile.participants} phones joined at {rate}", "participants_connected", profile.participants, False
        ),
        Goal("no server error while joining", "join_server_errors", 0, at_most=True),
        Goal(
            "every deferral page refreshes itself after its Retry-After",
            "join_deferrals_without_refresh",
            0,
            at_most=True,
        ),
        Goal("every phone that joined is stored", "joined_not_stored", 0, at_most=True),
        Goal("server CPU per join at most 2 ms", "server_cpu_per_join_ms", 2.0, at_most=True),
    ]
    if memory:
        ratio = "rss_per_participant_ratio_to_baseline"
        found.append(
            Goal("RSS per idle phone after the surge at most 1.25 times the bare baseline's", ratio, 1.25, True)
        )
    if profile.join_rate <= 250:
        found.insert(3, Goal(f"join p99 at most 5 s at {rate}", "join_p99_ms", 5000.0, at_most=True))
    if saturation:
        found.append(
            Goal(
                "join throughput at saturation at least half the bare baseline's",
                "join_saturation_ratio_to_baseline",
                0.5,
                at_most=False,
            )
        )
    return found


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for the load generator when it is installed (as uvicorn uses it for the servers): less client CPU."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_one(
    make: Callable[[Path], Any],
    profile: Profile,
    keep: bool,
    drive: Callable[[Any, Profile], Coroutine[Any, Any, dict[str, Any]]] = run_target,
) -> dict[str, Any]:
    """One target, in its own temporary folder and event loop; a failure becomes an `error` entry."""
    workdir = Path(tempfile.mkdtemp(prefix="handsup-bench-"))
    started = time.perf_counter()
    target = make(workdir)
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            figures = runner.run(drive(target, profile))
    except Exception as error:  # report what failed and go on to the next target
        figures = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc().splitlines()[-12:]}
    figures["target_wall_s"] = round(time.perf_counter() - started, 1)
    figures["workdir"] = str(workdir) if keep else None
    if not keep:
        _remove(workdir)
    return figures


def combine(runs: list[dict[str, Any]], summary: tuple[str, ...] = SUMMARY) -> dict[str, Any]:
    """Several runs of one target as one: the median of each number (the worst for loss counts), every run kept."""
    if len(runs) == 1:
        return runs[0]
    merged = dict(runs[-1])
    for key, value in runs[-1].items():
        values = [run.get(key) for run in runs]
        if isinstance(value, bool) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            continue
        merged[key] = max(values) if key in WORST else statistics.median(values)  # type: ignore[type-var]
    for run in runs:
        if "error" in run:
            merged.setdefault("error", run["error"])
    pooled_ms: dict[str, list[float]] = {}  # the runs' distributions pooled, for the charts
    for run in runs:
        for name, values in run.get("distributions", {}).items():
            pooled_ms.setdefault(name, []).extend(values)
    if pooled_ms:
        merged["distributions"] = {name: downsample(values) for name, values in pooled_ms.items()}
    merged["repeats"] = [{key: run.get(key) for key in summary} for run in runs]
    return merged


def _remove(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    folder.rmdir()


def ratios(
    handsup: dict[str, Any], baseline: dict[str, Any], names: tuple[str, ...] = RATIOS
) -> dict[str, float | None]:
    """Handsup's figure divided by the baseline's, for the figures both have."""
    out: dict[str, float | None] = {}
    for name in names:
        mine, bare = handsup.get(name), baseline.get(name)
        ok = isinstance(mine, int | float) and isinstance(bare, int | float) and bare
        out[name] = round(mine / bare, 3) if ok else None  # type: ignore[operator]
    return out


def code_version() -> dict[str, Any]:
    """The commit the servers ran from, and whether the code under test had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "server", "activities", "client", "static")
    return {"commit": git("rev-parse", "HEAD") or None, "uncommitted_changes_under_test": bool(changed)}


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total = next((int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:")), None)
    return {
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "memory_kib": total,
        "load_average_at_start": os.getloadavg(),
        "open_files_limit": raise_open_files(OPEN_FILES),
        "client_event_loop": "uvloop" if event_loop_factory() else "asyncio",
        "versions": {name: version(name) for name in ("uvicorn", "websockets", "starlette", "fastapi", "httpx")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark Handsup against a bare uvicorn websocket app.")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--only", choices=["both", "handsup", "baseline"], default="both")
    parser.add_argument(
        "--scenario",
        choices=["all", "poll", "quiz", "surge", "saturation", "rooms"],
        default="all",
        help="the poll's votes and slide change, the quiz's answers and reveal (bench/quiz.py), the surge of joins "
        "(bench/surge.py), the vote rate stepped up to saturation (bench/saturation.py), many rooms at once "
        "(bench/rooms.py); by default all of them (the saturation and the rooms only for the quick and full profiles)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--repeat", type=int, help="runs of each target, alternating (default: the profile's)")
    parser.add_argument("--keep", action="store_true", help="keep the data folders and server logs")
    parser.add_argument("--server-gc", action="store_true", help="time Handsup's garbage-collector pauses per phase")
    parser.add_argument(
        "--server-profile",
        action="store_true",
        help="sample Handsup's stacks with py-spy during burst and fan-out (raw stacks beside --out, summary in JSON)",
    )
    parser.add_argument(
        "--deployment",
        type=deployments_option,
        default=[DEPLOYMENTS["sqlite"]],
        help="the poll and the surge on: sqlite (one worker, the default), postgres (one worker), postgres-redis-2 "
        "(two workers behind nginx); several separated by commas, or all: the first's figures at the top level, "
        "every one's under `deployments` (the surge's under `deployments.<name>.surge`; bench/deployments.py)",
    )
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile]
    host = machine()  # raises the open-files limit first: the servers inherit it
    started = datetime.now(UTC)
    repeat = args.repeat or profile.repeat
    result: dict[str, Any] = {}
    failed = False
    if args.scenario in ("all", "poll"):
        result, failed = poll_scenario(args, profile, repeat)
        if len(args.deployment) > 1 and args.only != "baseline":
            result["deployments"], failed_too = deployments_scenario(args, profile, repeat, result)
            result["deployments_summary"] = summary_of(result["deployments"])
            failed = failed or failed_too
    if args.scenario in ("all", "quiz"):
        result["quiz"] = quiz_scenario(args, QUIZ_PROFILES[args.profile], args.repeat or 1)
        failed = failed or "error" in result["quiz"] or "error" in result["quiz"]["baseline"]
    if args.scenario in ("all", "surge"):
        plan = SURGE_PROFILES[args.profile]
        result["surge"] = surge_scenario(args, plan)
        failed = failed or any("error" in run or "error" in run["baseline"] for run in result["surge"].values())
        if len(args.deployment) > 1 and args.only != "baseline":
            surges, failed_too = surge_deployments_scenario(args, plan, result["surge"])
            deployments = result.setdefault("deployments", {})
            for deployment in args.deployment:  # beside the poll's figures, when the poll ran too
                entry = deployments.setdefault(deployment.key, {"deployment": deployment.name})
                entry["surge"] = surges[deployment.key]
            result["deployments_summary"] = summary_of(deployments)
            failed = failed or failed_too
    failed = limit_scenarios(args, result) or failed
    result.update(
        {
            "profile": {**dataclasses.asdict(profile), "repeat": repeat},
            "machine": host,
            "code": code_version(),
            "command": " ".join([Path(sys.executable).name, "-m", "bench.run", *(argv or sys.argv[1:])]),
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))  # noqa: T201  (the figures are the program's output)
    return 1 if failed else 0


def limit_scenarios(args: argparse.Namespace, result: dict[str, Any]) -> bool:
    """The saturation and the many rooms (issue 18), when asked or by default beyond the smoke profile; failed?"""
    from bench import rooms, saturation  # here: both modules import this one

    failed = False
    default = args.scenario == "all" and args.profile != "smoke"
    if args.scenario == "saturation" or default:
        spy = args.out.with_suffix(".saturation.profile.txt") if args.server_profile else None
        result["saturation"] = saturation.scenario(args.profile, args.only, args.keep, args.repeat or 1, spy)
        failed = "error" in result["saturation"] or "error" in result["saturation"]["baseline"]
    if (args.scenario == "rooms" or default) and args.only != "baseline":  # Handsup's rooms against its one room
        spy = args.out.with_suffix(".rooms.profile.txt") if args.server_profile else None
        result["rooms"] = rooms.scenario(args.profile, args.keep, spy)
        failed = failed or "error" in result["rooms"]
    return failed


def poll_scenario(args: argparse.Namespace, profile: Profile, repeat: int) -> tuple[dict[str, Any], bool]:
    """The votes on a poll, the close and the slide change: Handsup's figures, the baseline's, their ratios."""
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "handsup": []}
    for _ in range(repeat):  # alternate the two targets, so that both see the same (noisy) machine
        if args.only != "handsup":
            runs["baseline"].append(run_one(BaselineTarget, profile, args.keep))
        if args.only != "baseline":
            spy = args.out.with_suffix(".profile.txt") if args.server_profile else None
            target = target_for(args.deployment[0], gc_stats=args.server_gc, profile_file=spy)
            runs["handsup"].append(run_one(target, profile, args.keep))
    baseline = combine(runs["baseline"]) if runs["baseline"] else {}
    handsup = combine(runs["handsup"]) if runs["handsup"] else {}
    result = {
        **handsup,
        "baseline": baseline,
        "throughput_ratio_to_baseline": ratios(handsup, baseline)["throughput_votes_per_s"],
        "rss_per_participant_ratio_to_baseline": ratios(handsup, baseline)["rss_per_participant_kib"],
        "ratios_to_baseline": ratios(handsup, baseline),
    }
    if handsup:
        result["targets"] = judge(goals(profile), result)
        result["deployment"] = args.deployment[0].name
    return result, "error" in handsup or "error" in baseline


def deployments_scenario(
    args: argparse.Namespace, profile: Profile, repeat: int, first: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """The poll on each further deployment (bench/deployments.py), after the first's runs (the top level, repeated
    here without its baseline); each judged by the same goals, against the same baseline."""
    baseline = first.get("baseline", {})
    side_by_side = {args.deployment[0].key: {key: value for key, value in first.items() if key != "baseline"}}
    for deployment in args.deployment[1:]:
        figures = combine([run_one(target_for(deployment), profile, args.keep) for _ in range(repeat)])
        figures["deployment"] = deployment.name
        compared = ratios(figures, baseline)
        figures["throughput_ratio_to_baseline"] = compared["throughput_votes_per_s"]
        figures["rss_per_participant_ratio_to_baseline"] = compared["rss_per_participant_kib"]
        figures["ratios_to_baseline"] = compared
        sys.stderr.write(f"-- the poll on {deployment.name}:\n")
        figures["targets"] = judge(goals(profile), figures)
        side_by_side[deployment.key] = figures
    return side_by_side, any("error" in figures for figures in side_by_side.values())


def quiz_scenario(args: argparse.Namespace, profile: Profile, repeat: int) -> dict[str, Any]:
    """The quiz (bench/quiz.py): Handsup first in each repeat, so the baseline broadcasts fragments of the sizes
    Handsup sent; the projector's reveal figures pooled over every run's reveals."""
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "handsup": []}
    sizes = DEFAULT_SIZES
    for _ in range(repeat):
        if args.only != "baseline":
            spy = args.out.with_suffix(".quiz.profile.txt") if args.server_profile else None
            make = partial(QuizHandsup, profile_file=spy)
            runs["handsup"].append(run_one(make, profile, args.keep, drive_quiz_with(sizes)))
            measured = runs["handsup"][-1]
            sizes = (
                measured.get("reveal_projector_bytes") or DEFAULT_SIZES[0],
                measured.get("reveal_phone_bytes") or DEFAULT_SIZES[1],
            )
        if args.only != "handsup":
            runs["baseline"].append(run_one(QuizBaseline, profile, args.keep, drive_quiz_with(sizes)))
    baseline = {**combine(runs["baseline"], QUIZ_SUMMARY), **pooled(runs["baseline"])} if runs["baseline"] else {}
    handsup = {**combine(runs["handsup"], QUIZ_SUMMARY), **pooled(runs["handsup"])} if runs["handsup"] else {}
    result = {
        **handsup,
        "baseline": baseline,
        "ratios_to_baseline": ratios(handsup, baseline, QUIZ_RATIOS),
        "profile": {**dataclasses.asdict(profile), "repeat": repeat, "questions": len(QUESTIONS)},
    }
    if handsup:
        result["targets"] = judge(quiz_goals(profile), result)
    return result


def surge_scenario(args: argparse.Namespace, plan: SurgePlan) -> dict[str, Any]:
    """Each surge of the profile (bench/surge.py) on the first `--deployment`, the baseline then Handsup: keyed by
    the offered rate ("250_per_s"), Handsup's figures at the top of each, the baseline's under `baseline`, ratios,
    targets."""
    deployment = args.deployment[0]
    found: dict[str, list[dict[str, Any]]] = {"baseline": [], "handsup": []}
    for batch in surge_batches(plan):  # the two targets alternate, so that both see the same (noisy) machine
        for name, make in (("baseline", BaselineTarget), ("handsup", target_for(deployment))):
            if args.only not in ("both", name):
                found[name].extend({} for _ in batch)
                continue
            found[name].extend(surges_on_one_server(make, batch, args.keep))
    return surge_entries(plan, deployment.name, found["baseline"], found["handsup"])


def surge_deployments_scenario(
    args: argparse.Namespace, plan: SurgePlan, first: dict[str, Any]
) -> tuple[dict[str, dict[str, Any]], bool]:
    """The surges on each further deployment (bench/deployments.py), after the first's (the top level, repeated
    here without its baseline): deployment key -> its surges by rate, judged against the first's baseline runs."""
    baselines = [first.get(rate, {}).get("baseline", {}) for rate in surge_keys(plan)]
    side_by_side = {
        args.deployment[0].key: {
            rate: {name: value for name, value in entry.items() if name != "baseline"} for rate, entry in first.items()
        }
    }
    for deployment in args.deployment[1:]:
        found: list[dict[str, Any]] = []
        for batch in surge_batches(plan):
            found.extend(surges_on_one_server(target_for(deployment), batch, args.keep))
        sys.stderr.write(f"-- the surge on {deployment.name}:\n")
        entries = surge_entries(plan, deployment.name, baselines, found)
        side_by_side[deployment.key] = {
            rate: {name: value for name, value in entry.items() if name != "baseline"}
            for rate, entry in entries.items()
        }
    failed = any("error" in run for surges in side_by_side.values() for run in surges.values())
    return side_by_side, failed


def surge_batches(plan: SurgePlan) -> list[tuple[Profile, ...]]:
    """The surges each server process runs: all of them on one (`one_server`), or one each."""
    return [plan.surges] if plan.one_server else [(profile,) for profile in plan.surges]


def surge_keys(plan: SurgePlan) -> list[str]:
    return [f"{profile.join_rate:g}_per_s" for profile in plan.surges]


def surges_on_one_server(make: Callable[[Path], Any], batch: tuple[Profile, ...], keep: bool) -> list[dict[str, Any]]:
    return split_surges(run_one(make, batch[0], keep, partial(drive_surges, batch)), len(batch))


def surge_entries(
    plan: SurgePlan, deployment: str, baselines: list[dict[str, Any]], handsups: list[dict[str, Any]]
) -> dict[str, Any]:
    """Handsup's figures per surge, beside the baseline's, with the ratios and the verdicts on the targets."""
    fastest = max(profile.join_rate for profile in plan.surges)
    result: dict[str, Any] = {}
    for index, (profile, baseline, handsup) in enumerate(zip(plan.surges, baselines, handsups, strict=True)):
        compared = ratios(handsup, baseline, SURGE_RATIOS)
        entry = {
            **handsup,
            "baseline": baseline,
            "ratios_to_baseline": compared,
            "rss_per_participant_ratio_to_baseline": compared["rss_per_participant_kib"],
            "join_saturation_ratio_to_baseline": compared["join_rate_sustained_per_s"],
            "profile": dataclasses.asdict(profile),
        }
        if handsup:
            entry["deployment"] = deployment
            memory = index == 0 or not plan.one_server
            entry["targets"] = judge(surge_goals(profile, profile.join_rate == fastest, memory), entry)
        result[surge_keys(plan)[index]] = entry
    return result


def drive_surges(profiles: tuple[Profile, ...], target: Any, _: Profile) -> Coroutine[Any, Any, dict[str, Any]]:
    return run_surges(target, profiles)


def split_surges(figures: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """run_one's answer for a server that ran `count` surges: one figures dict per surge (the error in each)."""
    surges = figures.pop("surges", None)
    if surges is None:  # the target failed: its error stands for every surge it should have run
        return [dict(figures) for _ in range(count)]
    return [{**surge, **figures} for surge in surges]


def drive_quiz_with(sizes: tuple[int, int]) -> Callable[[Any, Profile], Coroutine[Any, Any, dict[str, Any]]]:
    def drive(target: QuizTarget, profile: Profile) -> Coroutine[Any, Any, dict[str, Any]]:
        return run_quiz_target(target, profile, sizes)

    return drive


def judge(goals_: list[Goal], figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal's verdict, also written to stderr as a line."""
    verdicts = [goal.verdict(figures) for goal in goals_]
    for verdict in verdicts:
        state = "met" if verdict["met"] else "NOT MET"
        sys.stderr.write(
            f"{state:8} {verdict['target']}: measured {verdict['measured']}, margin {verdict['margin']}"
            f" ({verdict['margin_pct']} % of the bound)\n"
        )
    return verdicts


if __name__ == "__main__":
    raise SystemExit(main())
