"""The benchmark on several deployments (bench/deployments.py): the two-worker one on real PostgreSQL, Redis and
nginx works end to end, every acknowledged vote and every joined phone is stored, and its figures sit beside one
worker's (no timing)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from bench.deployments import DEPLOYMENTS, deployments_option, summary_of
from bench.run import PROFILES, SURGE_PROFILES, goals, main, surge_goals


@pytest.mark.scale
@pytest.mark.timeout(400)  # three servers, two workers and one more worker started and stopped on a busy machine
def test_the_smoke_run_on_two_workers_behind_nginx_stores_every_acked_vote(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    argv = ["--profile", "smoke", "--scenario", "poll", "--only", "handsup", "--keep", "--out", str(out)]
    assert main([*argv, "--deployment", "postgres-redis-2,sqlite"]) == 0
    result = json.loads(out.read_text())
    try:
        smoke = PROFILES["smoke"]
        two = result["deployments"]["postgres_redis_2"]
        assert result["deployment"] == two["deployment"] == "postgres-redis-2"
        assert result["votes_acked"] == two["votes_acked"]  # the first deployment's figures are the top level's
        assert two["participants_connected"] == smoke.participants
        assert two["votes_acked"] == smoke.votes and two["votes_refused_or_lost"] == 0
        assert two["votes_persisted"] == smoke.participants  # in PostgreSQL, read after the workers stopped
        assert two["acked_answers_lost"] == 0
        assert two["presenter_untraced_votes"] == 0  # the presenter's worker saw the other's votes, over Redis
        assert two["fanout_received"] == smoke.participants
        assert two["server_log_problems"] == 0, two["server_log_samples"]
        assert two["proxy_log_problems"] == 0, two["proxy_log_samples"]
        assert set(two["services_cpu_s"]) == {"postgres", "redis", "nginx"}
        assert set(two["phases"]["burst"]["services_cpu_s"]) == {"postgres", "redis", "nginx"}
        assert {verdict["figure"] for verdict in two["targets"]} == {goal.figure for goal in goals(smoke)}
        workers = [Path(two["workdir"]) / f"worker{n}.log" for n in (1, 2)]
        phones = [log.read_text().count('"WEBSOCKET /ws/participant/') for log in workers]
        assert sum(phones) == smoke.participants and min(phones) > 0, phones  # nginx spread them over both

        one = result["deployments"]["sqlite"]
        assert one["deployment"] == "sqlite" and "services_cpu_s" not in one
        assert one["acked_answers_lost"] == 0 and one["votes_persisted"] == smoke.participants
        assert list(result["deployments_summary"]) == ["postgres_redis_2", "sqlite"]
    finally:
        for figures in result["deployments"].values():
            shutil.rmtree(figures["workdir"], ignore_errors=True)


@pytest.mark.scale
@pytest.mark.timeout(300)  # two workers, nginx, PostgreSQL and Redis, then one worker, each started and stopped
def test_the_smoke_surge_on_two_workers_behind_nginx_stores_every_joined_phone(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    argv = ["--profile", "smoke", "--scenario", "surge", "--only", "handsup", "--keep", "--out", str(out)]
    assert main([*argv, "--deployment", "postgres-redis-2,sqlite"]) == 0
    result = json.loads(out.read_text())
    try:
        (profile,) = SURGE_PROFILES["smoke"].surges
        rate = f"{profile.join_rate:g}_per_s"
        two = result["deployments"]["postgres_redis_2"]["surge"][rate]
        assert result["surge"][rate]["participants_connected"] == two["participants_connected"]  # the top level's
        assert two["deployment"] == result["deployments"]["postgres_redis_2"]["deployment"] == "postgres-redis-2"
        assert "baseline" not in two
        assert two["participants_connected"] == profile.participants and two["participants_gave_up"] == 0
        assert two["join_server_errors"] == 0 and two["join_errors"] == {}
        assert two["phones_deferred"] <= two["join_deferrals"]
        assert two["participants_stored"] >= two["participants_connected"]  # in PostgreSQL, read before it stopped
        assert two["joined_not_stored"] == 0
        assert two["server_log_problems"] == 0, two["server_log_samples"]
        assert two["proxy_log_problems"] == 0, two["proxy_log_samples"]
        assert set(two["services_cpu_s"]) == {"postgres", "redis", "nginx"}  # apart from the workers' CPU
        spent = two["server_cpu_s"] + sum(two["services_cpu_s"].values())
        assert two["cpu_per_join_with_services_ms"] == round(1000 * spent / profile.participants, 3)
        assert {v["figure"] for v in two["targets"]} == {g.figure for g in surge_goals(profile, saturation=True)}
        workers = [Path(two["workdir"]) / f"worker{n}.log" for n in (1, 2)]
        phones = [log.read_text().count('"WEBSOCKET /ws/participant/') for log in workers]
        assert sum(phones) == profile.participants and min(phones) > 0, phones  # nginx spread them over both

        one = result["deployments"]["sqlite"]["surge"][rate]
        assert one["deployment"] == "sqlite" and "services_cpu_s" not in one
        assert one["participants_connected"] == profile.participants and one["joined_not_stored"] == 0
        summary = result["deployments_summary"]
        assert list(summary) == ["postgres_redis_2", "sqlite"]
        assert summary["postgres_redis_2"]["surge"][rate]["cpu_per_join_with_services_ms"] is not None
        assert summary["sqlite"]["surge"][rate]["participants_connected"] == profile.participants
    finally:
        for figures in result["deployments"].values():
            for run in figures["surge"].values():
                shutil.rmtree(run["workdir"], ignore_errors=True)


def test_the_deployment_option_takes_names_lists_and_all() -> None:
    assert [d.name for d in deployments_option("postgres")] == ["postgres"]
    assert [d.name for d in deployments_option("sqlite, postgres-redis-2,sqlite")] == ["sqlite", "postgres-redis-2"]
    assert [d.key for d in deployments_option("all")] == ["sqlite", "postgres", "postgres_redis_2"]
    with pytest.raises(argparse.ArgumentTypeError, match="choose from sqlite, postgres, postgres-redis-2"):
        deployments_option("mysql")
    assert [DEPLOYMENTS[name].workers for name in DEPLOYMENTS] == [1, 1, 2]


def test_the_summary_puts_each_deployments_cost_in_one_row() -> None:
    figures = {
        "sqlite": {"server_cpu_s": 3.0, "ack_p99_ms": 40.0, "phases": {}},
        "postgres_redis_2": {"server_cpu_s": 5.0, "services_cpu_s": {"postgres": 1.5}, "error": "RuntimeError: x"},
    }
    assert summary_of(figures) == {
        "sqlite": {"ack_p99_ms": 40.0, "server_cpu_s": 3.0},
        "postgres_redis_2": {"server_cpu_s": 5.0, "services_cpu_s": {"postgres": 1.5}, "error": "RuntimeError: x"},
    }


def test_the_summary_puts_each_deployments_surges_beside_its_poll() -> None:
    figures = {
        "postgres": {
            "server_cpu_s": 4.0,
            "surge": {
                "250_per_s": {"participants_connected": 900, "join_p99_ms": 800.0, "join_curve": [[0, 0]]},
                "1000_per_s": {"error": "RuntimeError: x"},
            },
        },
    }
    assert summary_of(figures) == {
        "postgres": {
            "server_cpu_s": 4.0,
            "surge": {
                "250_per_s": {"participants_connected": 900, "join_p99_ms": 800.0},
                "1000_per_s": {"error": "RuntimeError: x"},
            },
        },
    }
