"""Helpers the tests share: factories (make_user, Presenter, join, respond...), clients, waits and servers.

Import them from here; tests/conftest.py keeps only fixtures and hooks.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx
import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient, WebSocketTestSession

from server.accounts.people import add_user, create_token
from server.db import upgrade
from server.models import Media, Role, User, UserIdentity
from server.services import Services
from server.sessions import SessionSnapshot, load_snapshot

if TYPE_CHECKING:
    from tests.services import PostgresServer


ROOT = Path(__file__).resolve().parent.parent


DECK = ROOT / "examples" / "decks" / "distributed-leadership.yaml"
# The pictures shipped beside the example deck (its pin activity's floor plan): every server stores them at start.
SHIPPED_MEDIA = frozenset(path.name for path in (DECK.parent / "media").glob("*"))


def uploaded_media() -> Any:
    """A query of the stored images besides the shipped ones: what uploads, imports and sweeps did."""
    return select(Media).where(col(Media.name).not_in(SHIPPED_MEDIA))


PASSWORD = "correct horse battery staple"


# A small deck for tests that need a poll (position 0) and a word cloud (position 1).
TWO_QUESTIONS = """\
title: Two questions
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
  - kind: wordcloud
    title: Three words
"""


SECRET = "test-secret-" + "x" * 40


T = TypeVar("T")


class PostgresDatabases:
    """The suite's PostgreSQL cluster (started once), handing out a database of its own to each test."""

    TEMPLATE = "handsup_migrated"

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self._made = 0
        template = server.create_database(self.TEMPLATE)
        with ThreadPoolExecutor(1) as pool:  # alembic runs its own event loop: not in a thread that has one
            pool.submit(upgrade, template).result()

    def fresh(self, *, migrated: bool = True) -> str:
        """The URL of a new database: a copy of the migrated template, or empty."""
        self._made += 1
        return self.server.create_database(f"test_{self._made}", self.TEMPLATE if migrated else "template0")


def limits(**named: Any) -> pytest.MarkDecorator:
    """Run a test with these settings."""
    return pytest.mark.parametrize(
        "settings", [named], indirect=True, ids=[",".join(f"{k}={v}" for k, v in named.items())]
    )


def services_of(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def run(client: TestClient, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run a coroutine function on the app's own event loop (where its database and hub live)."""
    assert client.portal is not None
    return client.portal.call(fn, *args)


def make_user(client: TestClient, email: str = "presenter@example.org", role: Role = Role.presenter) -> User:
    return run(client, lambda: add_user(services_of(client).db, email, PASSWORD, role))


def set_pending(client: TestClient, user_id: int) -> None:
    """Make an account wait for an administrator's approval, as a single sign-on makes it."""

    async def wait() -> None:
        async with services_of(client).db() as db, db.begin():
            user = await db.get(User, user_id)
            assert user is not None
            user.pending = True
            db.add(user)

    run(client, wait)


def link_request(client: TestClient, user_id: int, email: str, subject: str = "e-1") -> int:
    """A provider's sign-in with the email of an existing account, asking to be linked to it (its id)."""

    async def ask() -> int:
        identity = UserIdentity(
            user_id=user_id, provider="district", issuer="https://id.example.org", subject=subject, email=email
        )
        async with services_of(client).db() as db, db.begin():
            db.add(identity)
            await db.flush()
            assert identity.id is not None
            return identity.id

    return run(client, ask)


def api_token(client: TestClient, email: str) -> str:
    return run(client, lambda: create_token(services_of(client).db, email))


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Sign a TestClient in through the real login form (CSRF token included)."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "login page has a CSRF field"
    response = client.post(
        "/login",
        data={"csrf_token": token.group(1), "email": email, "password": password, "next": "/present"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@dataclass
class Presenter:
    """A presenter with an API token, and helpers to drive a session through the JSON API."""

    client: TestClient
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def start(self, deck_yaml: str | None = None) -> dict[str, Any]:
        body = {"deck_yaml": deck_yaml} if deck_yaml is not None else {"deck_slug": "distributed-leadership"}
        response = self.client.post("/api/v1/sessions", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def control(self, session_id: int, action: str, activity_id: int | None = None, **fields: Any) -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/sessions/{session_id}/control",
            headers=self.headers,
            json={"action": action, "activity_id": activity_id, "fields": fields},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def tally(self, session_id: int, activity_id: int) -> dict[str, Any]:
        response = self.client.get(
            f"/api/v1/sessions/{session_id}/activities/{activity_id}/tally", headers=self.headers
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


def join(client: TestClient, code: str) -> str:
    """Join as a new participant through the API; the token doubles as the participant cookie."""
    response = client.post("/api/v1/join", json={"code": code})
    assert response.status_code == 201, response.text
    return str(response.json()["participant_token"])


def respond(client: TestClient, token: str, activity_id: int, **answer: Any) -> httpx.Response:
    return client.post(
        "/api/v1/responses", json={"activity_id": activity_id, "answer": answer}, headers={"X-Participant-Token": token}
    )


def eventually(probe: Callable[[], T], *, seconds: float = 5.0) -> T:
    """Call `probe` until it stops failing an assertion, for at most `seconds` (tallies fold asynchronously)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return probe()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.02)


def stored(client: TestClient, statement: Any) -> list[Any]:
    """Rows of a SQLModel `select(...)`, read from the app's database on its own loop."""

    async def read() -> list[Any]:
        async with services_of(client).db() as db:
            return list((await db.exec(statement)).all())

    return run(client, read)


def caught_up(client: TestClient, session_id: int) -> None:
    """Wait (bounded) until this worker's room shows the session as the database has it.

    A presenter action reaches the rooms through the backplane a moment after the control call returns.
    """
    services = services_of(client)

    def view(snapshot: SessionSnapshot) -> tuple[Any, ...]:
        activities = [(a.id, a.voting_open, a.revealed, a.epoch, a.moderation) for a in snapshot.activities]
        session = snapshot.session
        flags = (
            session.state,
            session.current_activity_id,
            session.pace,
            session.beside_activity_id,
            session.reactions,
        )
        return flags, activities

    async def compare() -> tuple[Any, Any]:
        room = await services.hub.room(session_id)
        return view(room.snapshot), view(await load_snapshot(services.db, services.registry, session_id))

    def same() -> None:
        in_room, in_database = run(client, compare)
        assert in_room == in_database

    eventually(same)


def csrf_from(html: str) -> str:
    """The CSRF token a page carries (a form field, or htmx's X-CSRF-Token header on <body>)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'"X-CSRF-Token": "([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def home_csrf(client: TestClient) -> str:
    """This client's CSRF token as a phone has it, from the join page (which joins nobody): for participant posts."""
    return csrf_from(client.get("/").text)


def receive(ws: WebSocketTestSession, seconds: float = 5.0) -> str:
    """The next text frame within `seconds`: a push that never comes fails the test instead of hanging it.

    TestClient's own receive_text() has no timeout; this reads the same in-memory stream with one.
    """

    async def next_message() -> Any:
        with anyio.fail_after(seconds):
            return await ws._send_rx.receive()

    message = ws.portal.call(next_message)
    ws._raise_on_close(message)
    return str(message["text"])


def receive_until(ws: WebSocketTestSession, wanted: Callable[[str], bool], seconds: float = 5.0) -> str:
    """The first frame `wanted` accepts, skipping the others (counts, other fragments), within `seconds`."""
    deadline = time.monotonic() + seconds
    seen: list[str] = []
    while True:
        try:
            frame = receive(ws, max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise AssertionError(f"no wanted frame within {seconds} s; got {[root_id(f) for f in seen]}") from None
        if wanted(frame):
            return frame
        seen.append(frame)


def root_id(frame: str) -> str:
    """The id of a fragment's root element, which is what htmx swaps by."""
    match = re.match(r'\s*<[a-z]+[^>]*?\sid="([^"]+)"', frame)
    assert match, f"a fragment with an id at its root: {frame[:120]}"
    return match.group(1)


@dataclass
class EventStreamTestSession:
    """An event stream opened on the app in-process, called as uvicorn calls it: the status and headers, then each
    event as it is written. TestClient would wait for the end of a body that never ends; this reads it as it comes,
    and the client goes away (http.disconnect) when the block ends."""

    client: TestClient
    status: int
    headers: dict[str, str]
    body: bytes
    _messages: Any
    _gone: Any
    _call: Any

    def event(self, seconds: float = 5.0) -> dict[str, str]:
        """The next event with data (comments, such as heartbeats, and the opening `retry:` skipped) as its fields,
        `data` lines joined."""
        while b"\n\n" not in self.body.lstrip(b"\n"):
            self.body += self._next_body(seconds)
        self.body = self.body.lstrip(b"\n")
        block, self.body = self.body.split(b"\n\n", 1)
        fields: dict[str, list[str]] = {}
        for line in block.decode().split("\n"):
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value[1:] if value.startswith(" ") else value)
        if "data" not in fields:
            return self.event(seconds)
        return {name: "\n".join(values) for name, values in fields.items() if name}

    def raw(self, seconds: float = 5.0) -> bytes:
        """The next body chunk as written (heartbeats included)."""
        return self._next_body(seconds)

    def _next_body(self, seconds: float) -> bytes:
        async def next_message() -> Any:
            with anyio.fail_after(seconds):
                return await self._messages.receive()

        assert self.client.portal is not None
        message = self.client.portal.call(next_message)
        assert message["type"] == "http.response.body", message
        if not message.get("more_body", False):
            raise EOFError("the stream ended")
        return bytes(message.get("body", b""))


@contextmanager
def event_stream(
    client: TestClient, path: str, headers: dict[str, str] | None = None
) -> Iterator[EventStreamTestSession]:
    """Open `path` as a browser's EventSource would (headers as given) and keep it open while the block runs."""
    portal = client.portal
    assert portal is not None
    path, _, query = path.partition("?")
    raw = [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw,
        "client": ("testclient", 50000),  # as TestClient names its requests and sockets
        "server": ("testserver", 80),
        "state": {},
    }
    send_in, messages = portal.call(lambda: anyio.create_memory_object_stream[Any](1000))
    gone = portal.call(anyio.Event)
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        await send_in.send(message)

    call = portal.start_task_soon(client.app, scope, receive, send)

    async def first() -> Any:
        with anyio.fail_after(10):
            return await messages.receive()

    start = portal.call(first)
    assert start["type"] == "http.response.start", start
    session = EventStreamTestSession(
        client,
        int(start["status"]),
        {k.decode().lower(): v.decode() for k, v in start.get("headers", [])},
        b"",
        messages,
        gone,
        call,
    )
    try:
        yield session
    finally:
        portal.call(gone.set)
        try:
            call.result(timeout=10)
        finally:
            portal.call(send_in.close)
            portal.call(messages.close)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A `handsup serve` process on loopback, with its own data folder."""

    url: str
    port: int
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]
    extra: dict[str, str] = field(default_factory=dict)  # its own HANDSUP_* settings (database, backplane)

    def setup_link(self) -> str:
        match = re.search(r"(http://\S+/setup/\S+)", self.log.read_text())
        assert match, f"the server printed a setup link:\n{self.log.read_text()}"
        return match.group(1)

    def env(self) -> dict[str, str]:
        return server_env(self.port, self.data_dir, **self.extra)


def cli(server: LiveServer, *args: str) -> str:
    """Run `handsup ...` against a live server's data folder, as an operator would on the box."""
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def server_env(port: int, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDSUP_")}
    env.update(
        HANDSUP_ENV="test", HANDSUP_PORT=str(port), HANDSUP_DATA_DIR=str(data_dir), HANDSUP_SECRET_KEY=SECRET, **extra
    )
    return env


def start_server(data_dir: Path, port: int | None = None, *, args: tuple[str, ...] = (), **extra: str) -> LiveServer:
    """Start `handsup serve [args]` and wait until /healthz answers 200 (a real uvicorn, real sockets)."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "server.log"
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", *args],
            cwd=ROOT,
            env=server_env(port, data_dir, **extra),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(url, port, data_dir, log, process, extra)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the server did not become ready:\n{log.read_text()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
