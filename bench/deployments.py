"""The Handsup server deployed three ways, so the benchmark shows what each part costs (docs/benchmarks.md):

- `sqlite`: one worker on its SQLite file (bench/loadgen.py's HandsupTarget as it is);
- `postgres`: one worker on PostgreSQL, same port, no proxy: the cost of the database server;
- `postgres-redis-2`: two workers on one PostgreSQL and one Redis backplane, behind nginx with the shipped
  deploy/nginx.conf (round robin, no sticky sessions, as docs/deploy.md recommends): compose.yaml's arrangement.

PostgreSQL, Redis and nginx are real servers on loopback (bench/services.py, which the tests use too). The workers'
CPU and RSS are summed; each service's CPU (the whole process tree: PostgreSQL's backends, nginx's worker) is
reported apart, under `services_cpu_s`.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg

from bench.loadgen import EMAIL, HandsupTarget, hash_token, log_problems
from bench.procs import ServerProcess, cpu_seconds, free_port, rss_kib, start_process, tree_cpu_seconds
from bench.services import NginxServer, PostgresServer, RedisServer, in_thread, shipped_nginx

# nginx as the official image runs it on two cores (`worker_processes auto`): two workers, each with as many
# connections as its open-files limit allows; a proxied phone holds two (its own and the upstream one).
PROXY_WORKERS = 2
PROXY_CONNECTIONS = 16384


@dataclass(frozen=True)
class Deployment:
    name: str
    workers: int
    postgres: bool
    redis: bool

    @property
    def key(self) -> str:
        """The name as a JSON key: `postgres_redis_2`."""
        return self.name.replace("-", "_")

    @property
    def proxied(self) -> bool:
        return self.workers > 1


DEPLOYMENTS = {
    d.name: d
    for d in (
        Deployment("sqlite", workers=1, postgres=False, redis=False),
        Deployment("postgres", workers=1, postgres=True, redis=False),
        Deployment("postgres-redis-2", workers=2, postgres=True, redis=True),
    )
}


def deployments_option(value: str) -> list[Deployment]:
    """`--deployment`: a name, several separated by commas, or `all` (argparse's type)."""
    names = list(DEPLOYMENTS) if value == "all" else [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in DEPLOYMENTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{value!r}: choose from {', '.join(DEPLOYMENTS)} (comma-separated) or all")
    return [DEPLOYMENTS[name] for name in dict.fromkeys(names)]


def target_for(deployment: Deployment, **options: Any) -> Callable[[Path], HandsupTarget]:
    """What bench/run.py's run_one makes a target with: one worker on SQLite is HandsupTarget itself (the options,
    the collector's pauses and py-spy, apply to it alone)."""
    if deployment.name == "sqlite":
        return partial(HandsupTarget, **options)
    return partial(DeployedTarget, deployment=deployment)


class DeployedTarget(HandsupTarget):
    """Handsup on PostgreSQL (and Redis, and several workers behind nginx), each part started here in `workdir`.

    The phones, the presenter and the API all go through `self.port`: the worker's own with one worker, nginx's
    with several. After the workers stop, what the database holds is read, then the services are stopped."""

    def __init__(self, workdir: Path, deployment: Deployment) -> None:
        workdir.chmod(0o755)  # PostgreSQL's and nginx's workers run as other users when started by root
        self.deployment = deployment
        self.postgres = PostgresServer(workdir / "postgres") if deployment.postgres else None
        self.redis = RedisServer(workdir / "redis") if deployment.redis else None
        extra: dict[str, str] = {}
        if self.postgres is not None:
            extra["HANDSUP_DATABASE_URL"] = self.postgres.url("handsup")
        if self.redis is not None:
            extra["HANDSUP_BACKPLANE_URL"] = self.redis.url
        super().__init__(workdir, extra_env=extra)
        self.workers: list[ServerProcess] = []
        self.proxy: NginxServer | None = None
        self.stored: tuple[int, dict[str, Any]] | None = None
        self.participants: dict[int, set[str]] | None = None  # session id -> its participants' token hashes
        self.services_started: list[Callable[[], None]] = []  # their stops, in reverse order of starting
        self.timings: dict[str, float] = {}  # seconds to start and stop the whole deployment (not measured load)

    # --- lifecycle ----------------------------------------------------------------------------------------------

    def launch(self) -> None:
        """The services, the account (the CLI migrates the database), the workers together, then the proxy."""
        started = time.perf_counter()
        try:
            self._launch()
        finally:
            self.timings["start_s"] = round(time.perf_counter() - started, 1)

    def _launch(self) -> None:
        for service in (self.postgres, self.redis):
            if service is not None:
                service.folder.mkdir(mode=0o755)
                service.start()
                self.services_started.append(service.stop)
        if self.postgres is not None:
            self.postgres.create_database("handsup")
        password = self.workdir / "password"
        password.write_text(secrets.token_urlsafe(24))
        self._cli("user", "add", EMAIL, "--role", "presenter", "--password-file", str(password))
        self.token = self._cli("token", "create", EMAIL).strip()
        ports = [self.port] if not self.deployment.proxied else [free_port() for _ in range(self.deployment.workers)]
        with ThreadPoolExecutor(len(ports)) as pool:
            starting = [pool.submit(self._start_worker, index, port) for index, port in enumerate(ports)]
        self.workers = [future.result() for future in starting if future.exception() is None]
        for future in starting:
            if future.exception() is not None:
                raise RuntimeError(f"a worker did not start: {future.exception()}")
        self.server = self.workers[0]  # what a single-process figure (py-spy) looks at
        if self.deployment.proxied:
            folder = self.workdir / "nginx"
            folder.mkdir(mode=0o755)
            site = shipped_nginx((ports[0], ports[1]), self.port)
            self.proxy = NginxServer(folder, site, PROXY_CONNECTIONS, PROXY_WORKERS)
            self.proxy.start(self.port)
            self.services_started.append(self.proxy.stop)

    def _start_worker(self, index: int, port: int) -> ServerProcess:
        """One `handsup serve`, with its own port and data folder; the secret key and database are shared."""
        data = self.workdir / f"worker{index + 1}"
        data.mkdir(exist_ok=True)
        env = {**self.env, "HANDSUP_PORT": str(port), "HANDSUP_DATA_DIR": str(data)}
        return start_process(
            [sys.executable, "-m", "server.cli", "serve"], env, port, self.workdir / f"worker{index + 1}.log"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def usage(self) -> tuple[float, int, dict[str, float]]:
        """The workers' CPU seconds and RSS summed, and each service's CPU seconds (bench/driver.py's Meters)."""
        cpu = sum(cpu_seconds(worker.pid) for worker in self.workers)
        rss = sum(rss_kib(worker.pid) for worker in self.workers)
        services: dict[str, float] = {}
        if self.postgres is not None:
            services["postgres"] = tree_cpu_seconds(self.postgres.pid)
        if self.redis is not None and self.redis.process is not None:
            services["redis"] = cpu_seconds(self.redis.process.pid)
        if self.proxy is not None:
            services["nginx"] = tree_cpu_seconds(self.proxy.pid)
        return cpu, rss, services

    def stop(self) -> int | None:
        """Stop the workers (their writers commit what they hold), read the database, stop the services; the first
        worker's exit code, or another's that is neither 0 nor -15 (uvicorn's clean stop on SIGTERM)."""
        started = time.perf_counter()
        try:
            with ThreadPoolExecutor(max(1, len(self.workers))) as pool:
                codes = list(pool.map(lambda worker: worker.stop(), self.workers))
            if self.postgres is not None and self.poll_id and self.workers:
                self.stored, self.participants = in_thread(self._read_postgres)
        finally:
            for stop in reversed(self.services_started):
                stop()
            self.services_started.clear()
            self.timings["stop_s"] = round(time.perf_counter() - started, 1)
        if not codes:
            return None
        return next((code for code in codes if code not in (0, -15)), codes[0])

    # --- what was stored, what was logged -----------------------------------------------------------------------

    async def _read_postgres(self) -> tuple[tuple[int, dict[str, Any]], dict[int, set[str]]]:
        """The responses (the poll's check) and every session's participants (the surge's), in one connection."""
        assert self.postgres is not None
        connection = await asyncpg.connect(
            host="127.0.0.1", port=self.postgres.port, user="postgres", database="handsup"
        )
        try:
            total = await connection.fetchval("SELECT count(*) FROM response")
            rows = await connection.fetch(
                "SELECT p.token_hash, r.payload FROM response r JOIN participant p ON p.id = r.participant_id"
                " WHERE r.activity_id = $1",
                self.poll_id,
            )
            joined = await connection.fetch("SELECT session_id, token_hash FROM participant")
        finally:
            await connection.close()
        participants: dict[int, set[str]] = {}
        for row in joined:
            participants.setdefault(row["session_id"], set()).add(row["token_hash"])
        choices = {row["token_hash"]: json.loads(row["payload"]).get("choices") for row in rows}
        return (int(total), choices), participants

    def _stored(self) -> tuple[int, dict[str, Any]]:
        if self.stored is None:
            raise RuntimeError("the database was not read before the services stopped")
        return self.stored

    def stored_participants(self, tokens: list[str], session_id: int) -> dict[str, Any]:
        """The surge's check on PostgreSQL (as HandsupTarget's on SQLite): the session's participant rows, and how
        many of the phones that joined have none; from what was read before the services stopped."""
        if self.participants is None:
            raise RuntimeError("the database was not read before the services stopped")
        stored = self.participants.get(session_id, set())
        return {
            "participants_stored": len(stored),
            "joined_not_stored": sum(1 for token in tokens if hash_token(token) not in stored),
        }

    def check(self, answers: dict[str, int]) -> dict[str, Any]:
        """Every acknowledged last answer must be in PostgreSQL; what the workers and nginx logged."""
        figures: dict[str, Any] = {**self._persisted(answers), "deployment_timings": self.timings}
        logged = [log_problems(worker.log) for worker in self.workers]
        figures["server_log_problems"] = sum(entry["server_log_problems"] for entry in logged)
        figures["server_log_samples"] = sorted({s for entry in logged for s in entry["server_log_samples"]})[:8]
        if self.proxy is not None:
            figures.update(proxy_problems(self.proxy.folder / "error.log"))
        return figures


def proxy_problems(log: Path) -> dict[str, Any]:
    """nginx's error log lines of level error and worse (a refused or reset upstream, too few connections)."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    flagged = [line for line in lines if any(f"[{level}]" in line for level in ("error", "crit", "alert", "emerg"))]
    return {"proxy_log_problems": len(flagged), "proxy_log_samples": flagged[:5]}


# What each part costs, side by side: a deployment's figures in one row (the full figures are beside it).
SUMMARY = (
    "participants_connected",
    "join_p50_ms",
    "join_p99_ms",
    "rss_per_participant_kib",
    "votes_acked",
    "throughput_votes_per_s",
    "ack_p50_ms",
    "ack_p99_ms",
    "presenter_p50_ms",
    "presenter_p99_ms",
    "fanout_p99_ms",
    "server_cpu_s",
    "services_cpu_s",
    "client_cpu_s",
    "other_processes_cpu_s",
    "acked_answers_lost",
    "error",
)


# The surge's headline figures, per offered rate (bench/surge.py): joined, lost, deferred, how long, at what CPU.
SURGE_SUMMARY = (
    "participants_connected",
    "participants_gave_up",
    "join_server_errors",
    "join_deferrals",
    "phones_deferred",
    "join_p50_ms",
    "join_p99_ms",
    "join_rate_sustained_per_s",
    "server_cpu_per_join_ms",
    "cpu_per_join_with_services_ms",
    "services_cpu_s",
    "joined_not_stored",
    "error",
)


def summary_of(deployments: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Deployment key -> its summary figures (those it has); its surges' under `surge`, keyed by the rate."""
    rows: dict[str, dict[str, Any]] = {}
    for key, figures in deployments.items():
        rows[key] = {name: figures[name] for name in SUMMARY if name in figures}
        surges = figures.get("surge")
        if isinstance(surges, dict):
            rows[key]["surge"] = {
                rate: {name: run[name] for name in SURGE_SUMMARY if name in run} for rate, run in surges.items()
            }
    return rows
