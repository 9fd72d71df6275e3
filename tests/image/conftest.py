"""The production image, built from the repository's Dockerfile with podman and run for real on loopback.

There is no Docker engine on the machines this suite runs on, and no container registry is reachable, but Debian's
podman builds and runs images as root (`make test` installs `podman runc debootstrap` by apt-get). Each command is
what an operator would type; the few settings this machine needs are here, in one place:

- `podman --runtime runc`: crun, podman's default runtime, refuses these machines' cgroup layout.
- A containers.conf of our own (`CONTAINERS_CONF`): no default ulimits, cgroups managed by podman itself (no
  systemd here).
- `podman build --isolation chroot --network host --format docker`: chroot isolation needs no user namespaces,
  and the docker format keeps the Dockerfile's HEALTHCHECK (the OCI format drops it). Package downloads in the
  build may go through a TLS-inspecting proxy: the host's trust store (`SSL_CERT_FILE`, where set) is mounted
  for the build only, never copied into the image.
- Containers run with host networking on 127.0.0.1 and a free port (published ports would need more setup).

The base image, `python:3.11-slim-bookworm`, cannot be pulled here. When podman's store does not have it, a
stand-in is made from Debian's own packages (debootstrap bookworm with python3, python3-venv and python3-pip,
from the mirror this machine's apt uses) and tagged with that name, so the Dockerfile builds unchanged. It stands
in for the official image: its Python is Debian's 3.11 in /usr/bin, not python.org's in /usr/local/bin; both are
Debian bookworm with CPython 3.11, which is what the Dockerfile relies on. The first run pays for it (about 75 s);
later runs find it in the store and reuse it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.image.factories import (
    BASE,
    Containers,
    Podman,
    build,
    make_base,
    require_tools,
)
from tests.services import scratch_folder


@pytest.fixture(scope="session")
def podman() -> Iterator[Podman]:
    """podman, with the image built from this checkout (and the stand-in base made first, when missing)."""
    require_tools()
    folder = scratch_folder("handsup-image-")
    try:
        tool = Podman(folder)
        if not tool.exists(BASE):
            make_base(tool, folder)
        build(tool)
        yield tool
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def containers(podman: Podman) -> Iterator[Containers]:
    """Containers of the image, all removed when the module's tests are done (or fail)."""
    made = Containers(podman)
    try:
        yield made
    finally:
        made.remove_all()
