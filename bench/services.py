"""Real Redis, PostgreSQL and nginx servers, started on loopback in a scratch folder: the deployments of several
workers that the benchmark measures (bench/deployments.py) and the tests check (tests/services.py, tests/scale).

`make test` installs `redis-server`, `postgresql` and `nginx` by apt; a machine without them fails with a sentence
saying what to install. Each server can be stopped and started again on the same port, which is how the fault tests
take Redis away and bring it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import asyncpg

from bench.procs import ROOT, free_port

T = TypeVar("T")
MISSING = "{what} is not installed: `make test` installs it by apt-get when run as root ({package})"


def program(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(MISSING.format(what=name, package=package))
    return found


def _postgres_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not versions:
        found = shutil.which("pg_ctl")
        if found is None:
            raise RuntimeError(MISSING.format(what="PostgreSQL (pg_ctl)", package="postgresql"))
        return Path(found).resolve().parent
    return versions[-1].parent


def wait_until_up(probe: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError):
            if probe():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {seconds:.0f} s")
        time.sleep(0.05)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class RedisServer:
    """`redis-server` on a loopback port, with no persistence: a pure message bus, as the backplane uses it."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        found = program("redis-server", "redis-server")
        log = (self.folder / "redis.log").open("ab")
        with log:
            self.process = subprocess.Popen(
                [found, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
                + ["--dir", str(self.folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(lambda: listening(self.port), f"redis-server on port {self.port}")

    def stop(self) -> None:
        """Take Redis away at once, as a crash would (SIGKILL), and wait until it is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of its own on a loopback port (trust authentication, user `postgres`)."""

    folder: Path
    port: int = field(default_factory=free_port)
    _as_postgres: list[str] = field(default_factory=list)

    def start(self) -> None:
        binaries = _postgres_bin()
        data = self.folder / "pg"
        data.mkdir(mode=0o700)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: the cluster belongs to the postgres user
            shutil.chown(self.folder, "postgres")
            shutil.chown(data, "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
        run = self._as_postgres
        subprocess.run(
            [*run, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            + ["--locale=C.UTF-8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=on -c max_connections=200"
        subprocess.run(
            [*run, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "postgres.log")]
            + ["-o", options, "-w", "start"],
            check=True,
            capture_output=True,
        )
        self._pg_ctl = [*run, str(binaries / "pg_ctl"), "-D", str(data)]

    def stop(self) -> None:
        subprocess.run([*self._pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)

    @property
    def pid(self) -> int:
        """The postmaster's process id (the parent of every backend), from its postmaster.pid file."""
        return int((self.folder / "pg" / "postmaster.pid").read_text().split("\n", 1)[0])

    def url(self, database: str) -> str:
        """The app's URL for one database of this cluster."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database, empty or a copy of `template` (much quicker than migrating each one); its URL."""
        copy = f' TEMPLATE "{template}"' if template else ""

        async def create() -> None:
            connection = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres")
            try:
                await connection.execute(f'CREATE DATABASE "{name}"{copy}')
            finally:
                await connection.close()

        in_thread(create)
        return self.url(name)


@dataclass
class NginxServer:
    """nginx in the foreground with a configuration of our own: `site` is what goes inside its http block (a
    server block, upstreams, maps), as in /etc/nginx/conf.d/. Logs, pid and temporary files stay in `folder`.
    `connections` is each worker's limit: a proxied websocket holds two (the client's and the upstream's), and each
    worker may open as many files as this process's hard limit allows."""

    folder: Path
    site: str
    connections: int = 1024
    workers: int = 1

    def __post_init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.config = self.folder / "nginx.conf"
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        files = 2 * self.connections + 64 if hard == resource.RLIM_INFINITY else min(2 * self.connections + 64, hard)
        (self.folder / "site.conf").write_text(self.site)
        temporary = "\n".join(
            f"    {kind}_temp_path {self.folder / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        self.config.write_text(
            f"worker_processes {self.workers};\npid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.folder / 'error.log'} warn;\nworker_rlimit_nofile {files};\n"
            f"events {{ worker_connections {self.connections}; }}\n"
            f"http {{\n    access_log {self.folder / 'access.log'};\n{temporary}\n"
            f"    include {self.folder / 'site.conf'};\n}}\n"
        )

    def check(self) -> str:
        """`nginx -t` on the configuration: its report (it fails the test when nginx refuses the file)."""
        done = subprocess.run(
            [program("nginx", "nginx"), "-t", "-p", str(self.folder), "-c", str(self.config)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stderr

    def start(self, port: int) -> None:
        """Start it and wait until `port` (one it listens on) takes connections."""
        self.check()
        log = (self.folder / "nginx.out").open("ab")
        with log:
            self.process = subprocess.Popen(
                [program("nginx", "nginx"), "-p", str(self.folder), "-c", str(self.config), "-g", "daemon off;"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_up(lambda: listening(port), f"nginx on port {port}")

    @property
    def pid(self) -> int:
        """The master process's id (its worker is its child)."""
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


def in_thread(work: Callable[[], Awaitable[T]]) -> T:
    """Run async code to completion on an event loop of its own thread: callable from anywhere, even beside
    Playwright's sync API, whose loop owns the main thread's while it lives."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()  # type: ignore[arg-type]


def scratch_folder(prefix: str) -> Path:
    """A folder another user (postgres) can enter: pytest's own temporary folders are private to this user."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def stop_process(process: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    """SIGTERM (a graceful stop) or SIGKILL (a crash), then reap it."""
    process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


SHIPPED_NGINX = ROOT / "deploy" / "nginx.conf"


def shipped_nginx(app_ports: tuple[int, int], listen: int) -> str:
    """deploy/nginx.conf (what compose.yaml runs) with compose's service names swapped for two loopback ports of
    app processes (the same port twice for one process), listening on a loopback port of its own."""
    config = SHIPPED_NGINX.read_text()
    swaps = [
        ("server app1:8000 ", f"server 127.0.0.1:{app_ports[0]} "),
        ("server app2:8000 ", f"server 127.0.0.1:{app_ports[1]} "),
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
    ]
    for old, new in swaps:
        if config.count(old) != 1:
            raise RuntimeError(f"deploy/nginx.conf no longer has {old!r}: update bench/services.py with it")
        config = config.replace(old, new)
    return config
