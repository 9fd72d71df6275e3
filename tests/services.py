"""Real Redis, PostgreSQL and nginx servers (bench/services.py, shared with the benchmark's deployments), and a real
OpenID provider, for the tests, started on loopback in a scratch folder.

`make test` installs `redis-server`, `postgresql` and `nginx` by apt; a machine without them fails these tests with a
sentence saying what to install, never skips them. Each server can be stopped and started again on the same
port, which is how the fault tests take Redis away and bring it back.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from bench.services import (
    NginxServer,
    PostgresServer,
    RedisServer,
    in_thread,
    listening,
    program,
    scratch_folder,
    stop_process,
    wait_until_up,
)
from tests.factories import ROOT, free_port

__all__ = ["NginxServer", "OpenIdProvider", "PostgresServer", "RedisServer", "in_thread", "scratch_folder"]

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
        node = program("node", "nodejs")
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
        wait_until_up(lambda: self._discovered(), f"the OpenID provider on port {self.port}")

    def _discovered(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited:\n{(self.folder / 'oidc-provider.log').read_text()}")
        return listening(self.port) and "listening" in (self.folder / "oidc-provider.log").read_text()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
