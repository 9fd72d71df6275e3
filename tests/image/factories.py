"""Helpers the tests of tests/image/ share; import them from here: conftest.py keeps only fixtures and hooks."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


BASE = "docker.io/library/python:3.11-slim-bookworm"  # the Dockerfile's FROM, as podman names it


IMAGE = "localhost/handsup:image-test"


SUITE = "bookworm"


PACKAGES = "podman runc debootstrap"


CONTAINERS_CONF = '[containers]\ndefault_ulimits = []\n\n[engine]\ncgroup_manager = "cgroupfs"\n'


# What the official image's configuration holds and a tarball import lacks.
BASE_CONFIG = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
    "LABEL org.opencontainers.image.description="
    '"Stand-in for python:3.11-slim-bookworm made by tests/image: Debian bookworm, Python from Debian in /usr/bin"',
]


WAIT = 60.0  # seconds a container may take to answer, on a loaded two-core machine


T = TypeVar("T")


def require_tools() -> None:
    """podman, runc and debootstrap, as root; a machine without them fails the image tests, it never skips them."""
    missing = [name for name in PACKAGES.split() if shutil.which(name) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not installed: `make test` installs them by apt-get when run as root "
            f"(apt-get install --no-install-recommends {PACKAGES})"
        )
    if os.geteuid() != 0:
        pytest.fail("the image tests run podman as root (as `make test` does on the project's machines)")


class Podman:
    """The podman command with this machine's settings; a failing command fails the test with what podman said."""

    def __init__(self, folder: Path) -> None:
        config = folder / "containers.conf"
        config.write_text(CONTAINERS_CONF)
        self.env = {**os.environ, "CONTAINERS_CONF": str(config)}

    def run(
        self,
        *args: str,
        timeout: float = 60,
        check: bool = True,
        stdin: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        command = ["podman", "--runtime", "runc", *args]
        try:
            done = subprocess.run(
                command,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                env={**self.env, **(env or {})},
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            raise AssertionError(f"`{' '.join(command)}` did not finish within {timeout:.0f} s") from expired
        if check and done.returncode != 0:
            raise AssertionError(
                f"`{' '.join(command)}` exited with {done.returncode}:\n{done.stderr[-4000:]}\n{done.stdout[-2000:]}"
            )
        return done

    def exists(self, image: str) -> bool:
        return self.run("image", "exists", image, check=False).returncode == 0

    def image_id(self, image: str) -> str | None:
        done = self.run("image", "inspect", "--format", "{{.Id}}", image, check=False)
        return done.stdout.strip() if done.returncode == 0 else None


def debian_mirror(suite: str = SUITE, apt: Path = Path("/etc/apt")) -> str:
    """The Debian mirror this machine's apt fetches `suite` from: the first `deb` source of it with the main
    component in /etc/apt/sources.list or /etc/apt/sources.list.d/ (one-line `.list` or deb822 `.sources`)."""
    files = [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*.list"))]
    for path in [p for p in files if p.is_file()]:
        for line in path.read_text().splitlines():
            words = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()
            if len(words) >= 4 and words[0] == "deb" and words[2] == suite and "main" in words[3:]:
                return words[1]
    for path in sorted((apt / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text()):
            fields: dict[str, list[str]] = {}
            for line in stanza.splitlines():
                name, colon, value = line.partition(":")
                if colon and not line.startswith(("#", " ", "\t")):
                    fields[name.strip().lower()] = value.split()
            if (
                "deb" in fields.get("types", [])
                and suite in fields.get("suites", [])
                and "main" in fields.get("components", [])
                and fields.get("enabled", ["yes"]) != ["no"]
                and fields.get("uris")
            ):
                return fields["uris"][0]
    pytest.fail(f"no Debian {suite} mirror in {apt}/sources.list or {apt}/sources.list.d/ to debootstrap from")


def make_base(podman: Podman, folder: Path) -> None:
    """Debian bookworm with Python, from Debian's packages, imported into podman under the Dockerfile's base name."""
    rootfs = folder / "rootfs"
    log = folder / "debootstrap.log"
    packages = "python3,python3-venv,python3-pip,python-is-python3"
    command = ["debootstrap", "--variant=minbase", f"--include={packages}", SUITE, str(rootfs), debian_mirror()]
    try:
        with log.open("w") as out:
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=600, check=False)
        assert done.returncode == 0, f"`{' '.join(command)}` exited with {done.returncode}:\n{log.read_text()[-4000:]}"
        changes = [arg for change in BASE_CONFIG for arg in ("--change", change)]
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            imported = subprocess.run(
                ["podman", "import", *changes, "-", BASE],
                stdin=tar.stdout,
                capture_output=True,
                text=True,
                timeout=300,
                env=podman.env,
                check=False,
            )
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            tar.wait(timeout=60)
        assert imported.returncode == 0 and tar.returncode == 0, f"podman import failed:\n{imported.stderr}"
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


def build(podman: Podman) -> None:
    """`podman build` of the repository's Dockerfile, as an operator would run it; the image it replaces goes."""
    before = podman.image_id(IMAGE)
    args = ["build", "--isolation", "chroot", "--network", "host", "--format", "docker", "--pull=never"]
    trust = os.environ.get("SSL_CERT_FILE")
    if trust and Path(trust).is_file():
        args += ["-v", f"{trust}:/etc/ssl/certs/ca-certificates.crt:ro"]
    podman.run(*args, "-t", IMAGE, str(ROOT), timeout=900)
    if before is not None and before != podman.image_id(IMAGE):
        podman.run("rmi", before, check=False)  # still used by a leftover container: it stays, harmlessly


def until(probe: Callable[[], T | None], what: str, seconds: float, logs: Callable[[], str]) -> T:
    """`probe()` once it returns something other than None (or stops failing an assertion), within `seconds`;
    else the test fails, saying what did not happen, with the containers' logs."""
    deadline = time.monotonic() + seconds
    last = ""
    while True:
        try:
            found = probe()
            if found is not None:
                return found
        except (AssertionError, httpx.HTTPError) as error:
            last = f" (last: {error})"
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:.0f} s{last}\n{logs()}")
        time.sleep(0.2)


@dataclass
class Container:
    """One container of the image on the host's network, serving on 127.0.0.1:`port`."""

    podman: Podman
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        done = self.podman.run("logs", self.name, check=False)
        return f"--- podman logs {self.name} ---\n{(done.stdout + done.stderr)[-6000:]}"

    def state(self) -> str:
        done = self.podman.run("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", self.name, check=False)
        return done.stdout.strip() or done.stderr.strip()

    def inspect(self, template: str) -> str:
        return self.podman.run("inspect", "--format", template, self.name).stdout.strip()

    def wait_ready(self, seconds: float = WAIT) -> None:
        """Until /healthz answers 200; a container that exits meanwhile fails at once, with its logs."""

        def healthy() -> bool | None:
            state = self.state()
            if not state.startswith("running"):  # not an AssertionError: `until` would keep waiting
                raise RuntimeError(f"{self.name} is not running ({state})\n{self.logs()}")
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200 or None

        until(healthy, f"{self.name} answering /healthz on port {self.port}", seconds, self.logs)

    def handsup(self, *args: str, stdin: str | None = None) -> str:
        """The `handsup` command inside the container (its user, its settings), as `podman exec` runs it."""
        done = self.podman.run("exec", "-i", self.name, "handsup", *args, stdin=stdin, check=False, timeout=120)
        assert done.returncode == 0, f"handsup {' '.join(args)} exited with {done.returncode}: {done.stderr}"
        return done.stdout.strip()


@dataclass
class Containers:
    """Starts containers of the image and removes every one it started (and its anonymous volumes) at the end."""

    podman: Podman
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    started: list[Container] = field(default_factory=list)

    def start(
        self, label: str, port: int, data: Path | None = None, settings: dict[str, str] | None = None
    ) -> Container:
        """`podman run -d` of the image with host networking, listening on 127.0.0.1:`port`; ready when it returns.
        `data`, a host folder, is mounted at /data; settings are HANDSUP_* variables (passed by name, so the secret
        key never appears on a command line)."""
        name = f"handsup-test-{label}-{secrets.token_hex(3)}"
        env = {"HANDSUP_SECRET_KEY": self.secret, "HANDSUP_HOST": "127.0.0.1", "HANDSUP_PORT": str(port)}
        env.update(settings or {})
        args = ["run", "-d", "--name", name, "--network", "host"]
        args += [arg for variable in env for arg in ("-e", variable)]
        if data is not None:
            args += ["-v", f"{data}:/data"]
        container = Container(self.podman, name, port)
        self.started.append(container)
        self.podman.run(*args, IMAGE, env=env)
        container.wait_ready()
        return container

    def once(self, command: list[str], settings: dict[str, str]) -> str:
        """A one-off container running `command` to its end (as compose's `migrate` service does); its output."""
        env = {"HANDSUP_SECRET_KEY": self.secret, **settings}
        args = ["run", "--rm", "--network", "host", *(arg for variable in env for arg in ("-e", variable))]
        done = self.podman.run(*args, IMAGE, *command, env=env, timeout=120)
        return done.stdout + done.stderr

    def remove(self, *containers: Container) -> None:
        """Stopped (SIGTERM, then SIGKILL after 10 s) and removed with their anonymous volumes, in one command."""
        if containers:
            names = [container.name for container in containers]
            self.podman.run("rm", "--force", "--volumes", "--time", "10", *names, check=False, timeout=60)
        self.started = [container for container in self.started if container not in containers]

    def remove_all(self) -> None:
        self.remove(*self.started)


def owned_by_the_image_user(folder: Path) -> Path:
    """A host folder the container's user (uid 10001, docs/deploy.md) may write: what a bind-mounted /data needs."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, 10001, 10001)
    return folder
