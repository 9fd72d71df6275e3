"""Real Redis, PostgreSQL and nginx servers, and a real OpenID provider, for the tests, started on loopback in a scratch
folder.

`make test` installs `redis-server`, `postgresql` and `nginx` by apt; a machine without them fails these tests with a
sentence saying what to install, never skips them. Each server can be stopped and started again on the same
port, which is how the fault tests take Redis away and bring it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
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

from tests.factories import ROOT, free_port

T = TypeVar("T")
MISSING = "{what} is not installed: `make test` installs it by apt-get when run as root ({package})"


def _program(name: str, package: str) -> str:
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


def _wait(probe: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError):
            if probe():
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {seconds:.0f} s")
        time.sleep(0.05)


def _listening(port: int) -> bool:
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
        program = _program("redis-server", "redis-server")
        log = (self.folder / "redis.log").open("ab")
        with log:
            self.process = subprocess.Popen(
                [program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
                + ["--dir", str(self.folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait(lambda: _listening(self.port), f"redis-server on port {self.port}")

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
    server block, upstreams, maps), as in /etc/nginx/conf.d/. Logs, pid and temporary files stay in `folder`."""

    folder: Path
    site: str

    def __post_init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.config = self.folder / "nginx.conf"
        (self.folder / "site.conf").write_text(self.site)
        temporary = "\n".join(
            f"    {kind}_temp_path {self.folder / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        self.config.write_text(
            f"worker_processes 1;\npid {self.folder / 'nginx.pid'};\nerror_log {self.folder / 'error.log'} warn;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{\n    access_log {self.folder / 'access.log'};\n{temporary}\n"
            f"    include {self.folder / 'site.conf'};\n}}\n"
        )

    def check(self) -> str:
        """`nginx -t` on the configuration: its report (it fails the test when nginx refuses the file)."""
        done = subprocess.run(
            [_program("nginx", "nginx"), "-t", "-p", str(self.folder), "-c", str(self.config)],
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
                [_program("nginx", "nginx"), "-p", str(self.folder), "-c", str(self.config), "-g", "daemon off;"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait(lambda: _listening(port), f"nginx on port {port}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


OIDC_SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
OIDC_MODULE = ROOT / "tests" / "browser" / "node_modules" / "oidc-provider" / "package.json"


@dataclass
class OpenIdProvider:
    """The `oidc-provider` package from npm (a certified OpenID Provider implementation) run by `node` on a loopback
    port (tests/oidc/provider.mjs): its own login and consent pages, its own signing keys, real codes and tokens.

    `clients` are registered as given (client_id, client_secret, redirect_uris); `accounts` map the login typed at
    its sign-in page to the claims it vouches for (email, email_verified, name)."""

    folder: Path
    clients: list[dict[str, object]]
    accounts: dict[str, dict[str, object]]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        node = _program("node", "nodejs")
        if not OIDC_MODULE.exists():
            raise RuntimeError(
                "the npm package oidc-provider is not installed: `make test` installs it "
                "(npm ci --prefix tests/browser)"
            )
        config = {"port": self.port, "clients": self.clients, "accounts": self.accounts}
        log = (self.folder / "oidc-provider.log").open("ab")
        with log:
            self.process = subprocess.Popen(
                [node, str(OIDC_SCRIPT), json.dumps(config)], stdout=log, stderr=subprocess.STDOUT
            )
        _wait(lambda: self._discovered(), f"the OpenID provider on port {self.port}")

    def _discovered(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited:\n{(self.folder / 'oidc-provider.log').read_text()}")
        return _listening(self.port) and "listening" in (self.folder / "oidc-provider.log").read_text()

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
