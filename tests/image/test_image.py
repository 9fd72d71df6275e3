"""The production image, built from the Dockerfile and run for real (podman; tests/image/conftest.py says how, and
what stands in for what): a phone joins and votes over a real websocket and is told "Received"; the vote is in the
API's tally; the image's health check passes; the server is not root; the data outlives the container. Then two
containers on one PostgreSQL and one Redis (real servers on loopback, tests/services.py) behind the shipped
deploy/nginx.conf, as compose.yaml arranges them: a vote that nginx hands to either container is in the other's
tally too.

The base image is a stand-in for the official python:3.11-slim-bookworm, which no registry here can serve: Debian
bookworm from Debian's packages, with Debian's Python 3.11 in /usr/bin (python.org's build lives in /usr/local/bin
in the official image). The Dockerfile only needs a bookworm with `python` 3.11, venv and pip, so it builds
unchanged on either.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from bench.services import shipped_nginx
from tests.factories import free_port
from tests.image.factories import (
    IMAGE,
    WAIT,
    Container,
    Containers,
    Podman,
    debian_mirror,
    owned_by_the_image_user,
    until,
)
from tests.services import NginxServer, PostgresServer, RedisServer, scratch_folder

pytestmark = [pytest.mark.image, pytest.mark.timeout(900)]  # the first run makes the base image and builds
PRESENTER = "presenter@example.org"
PASSWORD = "correct horse battery staple"
DECK = "distributed-leadership"  # the example deck the image ships (examples/decks)


@dataclass
class Presented:
    """A live session on the example deck, moved to its first poll, and its presenter's API token."""

    token: str
    session: dict[str, Any]
    poll: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.session["code"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def tally(self, container: Container) -> dict[str, Any]:
        """The poll's tally as one container's room holds it, read straight from that container."""
        answer = httpx.get(
            f"{container.url}/api/v1/sessions/{self.session['id']}/activities/{self.poll['id']}/tally",
            headers=self.headers,
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def present(container: Container, url: str) -> Presented:
    """A presenter account and API token made with the `handsup` command inside the container, then a session
    started on the example deck through the JSON API at `url` and moved to the deck's first poll."""
    container.handsup("user", "add", PRESENTER, "--role", "presenter", "--password-file", "/dev/stdin", stdin=PASSWORD)
    token = container.handsup("token", "create", PRESENTER, "--name", "image test")
    assert token.startswith("hsu_"), token
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as api:
        started = api.post("/api/v1/sessions", json={"deck_slug": DECK, "title": "Image test"})
        assert started.status_code == 201, started.text
        session = started.json()
        poll = next(a for a in session["activities"] if a["kind"] == "poll")
        moved = api.post(
            f"/api/v1/sessions/{session['id']}/control", json={"action": "goto", "activity_id": poll["id"]}
        )
        assert moved.status_code == 200, moved.text
    return Presented(token, session, poll)


async def frame(socket: ClientConnection, pattern: str) -> str:
    """The first text frame matching `pattern`, within WAIT seconds."""
    async with asyncio.timeout(WAIT):
        while True:
            text = await socket.recv()
            if isinstance(text, str) and re.search(pattern, text):
                return text


async def phone_votes(url: str, code: str, activity_id: int, choice: int) -> str:
    """A phone as a browser is one: it opens the join page (which gives it its participant cookie), opens the
    participant websocket with that cookie and the page's Origin, answers the poll as htmx's form does, and
    returns the status fragment the server sends back once the answer is stored."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as browser:
        page = await browser.get(f"/{code}")
        assert page.status_code == 200, page.text
        cookie = browser.cookies.get("handsup_participant")
    assert cookie, "the join page gives the phone its participant cookie"
    headers = {"Cookie": f"handsup_participant={cookie}", "Origin": url}
    async with connect(f"{url.replace('http://', 'ws://')}/ws/participant/{code}", additional_headers=headers) as ws:
        await frame(ws, r'^\s*<section id="stage"')
        await ws.send(json.dumps({"activity": str(activity_id), "choice": str(choice), "HEADERS": {}}))
        return await frame(ws, rf'id="status-{activity_id}"')


def vote(url: str, presented: Presented, choice: int) -> None:
    status = asyncio.run(phone_votes(url, presented.code, int(presented.poll["id"]), choice))
    assert "Received" in status, status


def counts(tally: dict[str, Any]) -> list[int]:
    return [int(option["count"]) for option in tally["results"]["options"]]


# --- one container, SQLite in a data folder mounted at /data ------------------------------------------------------


@dataclass
class Single:
    containers: Containers
    container: Container
    data: Path
    presented: Presented


@pytest.fixture(scope="module")
def single(containers: Containers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Single]:
    data = owned_by_the_image_user(tmp_path_factory.mktemp("image") / "data")
    container = containers.start("single", free_port(), data)
    # No account yet: the first start logs the setup link (docs/deploy.md, "The first account"), as a JSON record.
    assert f'"setup_link": "http://127.0.0.1:{container.port}/setup/' in container.logs(), container.logs()
    yield Single(containers, container, data, present(container, container.url))


def test_the_stand_in_base_comes_from_the_mirror_apt_uses(tmp_path: Path) -> None:
    """Either way apt is told where Debian is: one-line entries or deb822 stanzas (Debian 12's default)."""
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# an older mirror: http://old.example/debian\nURIs: http://deb.example/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\nComponents: main\n"
    )
    assert debian_mirror("bookworm", tmp_path) == "http://deb.example/debian"
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb-src http://source.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://list.example/debian bookworm main contrib\n"
    )
    assert debian_mirror("bookworm", tmp_path) == "http://list.example/debian"
    with pytest.raises(pytest.fail.Exception, match="no Debian trixie mirror"):
        debian_mirror("trixie", tmp_path)


def test_the_image_is_configured_as_the_dockerfile_says(podman: Podman) -> None:
    image = json.loads(podman.run("image", "inspect", IMAGE).stdout)[0]
    config = image["Config"]
    assert config["User"] == "handsup"
    assert config["Cmd"] == ["handsup", "serve"]
    assert "8000/tcp" in config["ExposedPorts"] and "/data" in config["Volumes"]
    env = dict(variable.split("=", 1) for variable in config["Env"])
    assert env["HANDSUP_ENV"] == "production" and env["HANDSUP_DATA_DIR"] == "/data"
    assert env["HANDSUP_LOG_FORMAT"] == "json"
    check = image["Healthcheck"]  # kept by the docker format; the OCI format would drop it
    assert check["Test"][:2] == ["CMD", "python"] and "/healthz" in check["Test"][-1]
    assert check["Interval"] == 15 * 10**9 and check["Timeout"] == 3 * 10**9 and check["Retries"] == 3


def test_without_a_secret_key_the_container_says_so_and_exits(podman: Podman) -> None:
    done = podman.run("run", "--rm", "--network", "host", IMAGE, check=False, timeout=120)
    assert done.returncode == 2, f"{done.returncode}: {done.stdout}{done.stderr}"
    assert "HANDSUP_SECRET_KEY is not set" in done.stdout + done.stderr


def test_a_phone_joins_votes_over_the_websocket_and_the_vote_is_stored(single: Single) -> None:
    presented, container = single.presented, single.container
    page = httpx.get(f"{container.url}/{presented.code}", timeout=10)
    assert page.status_code == 200 and "Image test" in page.text, page.text[:500]
    before = presented.tally(container)
    vote(container.url, presented, 1)

    def counted() -> bool | None:
        tally = presented.tally(container)
        return tally["respondents"] == before["respondents"] + 1 and counts(tally)[1] == counts(before)[1] + 1 or None

    until(counted, "the vote in the API's tally", WAIT, container.logs)
    assert (single.data / "handsup.db").is_file(), sorted(p.name for p in single.data.iterdir())


def test_the_image_health_check_passes(single: Single) -> None:
    container = single.container
    done = container.podman.run("healthcheck", "run", container.name, check=False)
    assert done.returncode == 0, f"{done.stdout}{done.stderr}\n{container.logs()}"
    assert container.inspect("{{.State.Health.Status}}") == "healthy"


def test_the_server_does_not_run_as_root(single: Single) -> None:
    container = single.container
    pid = container.inspect("{{.State.Pid}}")
    status = Path(f"/proc/{pid}/status").read_text()
    uids = re.search(r"^Uid:\s+(.*)$", status, re.MULTILINE)
    assert uids and uids.group(1).split() == ["10001"] * 4, status  # real, effective, saved and filesystem
    assert b"handsup\0serve" in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert container.podman.run("exec", container.name, "id", "-u").stdout.strip() == "10001"


def test_the_data_outlives_the_container(single: Single) -> None:
    """Stopped (the server shuts down cleanly), removed, and a new container on the same data folder: the session
    is still live, under its code, with every vote."""
    presented, old = single.presented, single.container
    vote(old.url, presented, 2)

    def with_the_vote() -> dict[str, Any] | None:
        tally = presented.tally(old)
        return tally if counts(tally)[2] == 1 else None

    kept = until(with_the_vote, "the vote in the API's tally", WAIT, old.logs)
    old.podman.run("stop", "--time", "30", old.name, timeout=60)
    assert old.state() == "exited 0", f"{old.state()}\n{old.logs()}"
    single.containers.remove(old)

    new = single.containers.start("again", free_port(), single.data)
    single.container = new
    session = httpx.get(f"{new.url}/api/v1/sessions/{presented.session['id']}", headers=presented.headers, timeout=10)
    assert session.status_code == 200, session.text
    assert session.json()["code"] == presented.code and session.json()["state"] == "live"
    assert session.json()["current_activity_id"] == presented.poll["id"]
    assert presented.tally(new) == kept
    assert httpx.get(f"{new.url}/{presented.code}", timeout=10).status_code == 200


# --- two containers on PostgreSQL and Redis, behind the shipped nginx.conf -----------------------------------------


@dataclass
class Deployment:
    apps: tuple[Container, Container]
    proxy_url: str


@pytest.fixture
def deployment(containers: Containers) -> Iterator[Deployment]:
    """compose.yaml's arrangement on loopback: PostgreSQL and Redis (tests/services.py), the schema applied by a
    one-off container (compose's `migrate`), two app containers, nginx with the shipped configuration."""
    with ExitStack() as stack:
        folder = scratch_folder("handsup-image-deployment-")
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        postgres, redis = PostgresServer(folder / "postgres"), RedisServer(folder / "redis")
        for server in (postgres, redis):
            server.folder.mkdir(mode=0o755)
            server.start()
            stack.callback(server.stop)
        settings = {
            "HANDSUP_DATABASE_URL": postgres.create_database("handsup"),
            "HANDSUP_BACKPLANE_URL": redis.url,
            "HANDSUP_FORWARDED_ALLOW_IPS": "127.0.0.1",  # nginx, on this machine's loopback
        }
        migrated = containers.once(["handsup", "db", "upgrade"], settings)
        assert "Database is up to date." in migrated, migrated
        apps: list[Container] = []
        stack.callback(lambda: containers.remove(*apps))
        for name in ("app1", "app2"):
            apps.append(containers.start(name, free_port(), settings=settings))
        listen = free_port()
        (folder / "nginx").mkdir(mode=0o755)
        proxy = NginxServer(folder / "nginx", shipped_nginx((apps[0].port, apps[1].port), listen))
        stack.callback(proxy.stop)
        proxy.start(listen)
        yield Deployment((apps[0], apps[1]), f"http://127.0.0.1:{listen}")


def socket_records(container: Container, code: str) -> list[dict[str, Any]]:
    """The container's access-log records (JSON lines on its output) of participant sockets of session `code`."""
    done = container.podman.run("logs", container.name)
    output = done.stdout + done.stderr
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [r for r in records if r.get("method") == "WEBSOCKET" and r.get("path") == f"/ws/participant/{code}"]


def test_two_containers_behind_nginx_share_every_vote(deployment: Deployment) -> None:
    app1, app2 = deployment.apps

    def logs() -> str:
        return f"{app1.logs()}\n{app2.logs()}"

    presented = present(app1, deployment.proxy_url)
    phones = 4
    for phone in range(phones):
        vote(deployment.proxy_url, presented, phone % 2)

    def everything_on(app: Container) -> dict[str, Any] | None:
        tally = presented.tally(app)
        return tally if tally["respondents"] == phones and counts(tally)[:2] == [2, 2] else None

    assert until(lambda: everything_on(app1), "app1's tally", WAIT, logs) == until(
        lambda: everything_on(app2), "app2's tally", WAIT, logs
    )

    def sockets_served() -> tuple[int, int] | None:  # a socket's access line is written when it closes
        served = (len(socket_records(app1, presented.code)), len(socket_records(app2, presented.code)))
        return served if sum(served) == phones else None

    # Each phone's socket was served by one container, yet both tallies hold every vote: whatever a container's own
    # sockets did not bring came from the other one, over Redis. (nginx takes turns per request, and each phone
    # loads its page before opening its socket: the sockets may well all land on one container.)
    until(sockets_served, "each phone's socket in one container's access log", WAIT, logs)
