"""Helpers the tests of tests/scale/ share; import them from here: conftest.py keeps only fixtures and hooks."""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from websockets.asyncio.client import ClientConnection, connect

from server.sessions import hash_token
from tests.browser.factories import LiveDeck
from tests.factories import (
    LiveServer,
    start_server,
)
from tests.services import RedisServer, in_thread

WAIT = 20.0  # seconds anything in these tests may take to happen, on a loaded two-core machine


@dataclass
class Deployment:
    """Workers sharing one PostgreSQL database and one Redis; each keeps its own data folder and port."""

    folder: Path
    database_url: str
    redis: RedisServer
    workers: list[LiveServer]

    def settings(self) -> dict[str, str]:
        return {"HANDSUP_DATABASE_URL": self.database_url, "HANDSUP_BACKPLANE_URL": self.redis.url}

    def start(self, name: str, port: int | None = None) -> LiveServer:
        """A worker started (or started again, on the same port and data folder) and ready."""
        return start_server(self.folder / name, port, **self.settings())

    def restart(self, worker: LiveServer) -> LiveServer:
        """The same worker again after it died: same port, same data folder."""
        again = self.start(worker.data_dir.name, worker.port)
        self.workers[self.workers.index(worker)] = again
        return again

    def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Rows straight from the database, as an operator's psql would see them."""

        async def read() -> list[asyncpg.Record]:
            connection = await asyncpg.connect(self.database_url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                return list(await connection.fetch(sql, *args))
            finally:
                await connection.close()

        return in_thread(read)

    def stored_choices(self, activity_id: int) -> dict[str, list[int]]:
        """participant token hash -> the choices stored for them in a poll."""
        rows = self.query(
            "SELECT p.token_hash, r.payload FROM response r JOIN participant p ON p.id = r.participant_id"
            " WHERE r.activity_id = $1",
            activity_id,
        )
        return {row["token_hash"]: json.loads(row["payload"])["choices"] for row in rows}


@dataclass
class Session:
    """A live session on the poll of TWO_QUESTIONS, run through the JSON API, with its presenter's cookie."""

    deck: LiveDeck
    cookie: str  # the presenter's signed-in session cookie (valid on every worker: one secret key)

    @property
    def id(self) -> int:
        return int(self.deck.session["id"])

    @property
    def code(self) -> str:
        return self.deck.code

    @property
    def poll(self) -> int:
        return int(self.deck.session["activities"][0]["id"])

    @property
    def cloud(self) -> int:
        return int(self.deck.session["activities"][1]["id"])

    def api(self, worker: LiveServer) -> httpx.Client:
        """The presenter's API client for one worker."""
        return httpx.Client(base_url=worker.url, headers=dict(self.deck.api.headers), timeout=10)

    def goto(self, worker: LiveServer, activity_id: int) -> None:
        with self.api(worker) as api:
            response = api.post(
                f"/api/v1/sessions/{self.id}/control", json={"action": "goto", "activity_id": activity_id}
            )
        assert response.status_code == 200, response.text

    def respondents(self, worker: LiveServer, activity_id: int) -> int:
        """What a worker's own room counts (the JSON API's tally is that room's)."""
        return int(self.tally(worker, activity_id)["respondents"])

    def tally(self, worker: LiveServer, activity_id: int) -> dict[str, Any]:
        with self.api(worker) as api:
            response = api.get(f"/api/v1/sessions/{self.id}/activities/{activity_id}/tally")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def join(self, worker: LiveServer, people: int) -> list[str]:
        """Participant tokens of people who joined through one worker's JSON API."""
        with httpx.Client(base_url=worker.url, timeout=10) as http:
            tokens = []
            for _ in range(people):
                joined = http.post("/api/v1/join", json={"code": self.code})
                assert joined.status_code == 201, joined.text
                tokens.append(str(joined.json()["participant_token"]))
        return tokens


def ws_url(worker: LiveServer, path: str) -> str:
    return worker.url.replace("http://", "ws://") + path


async def frame(socket: ClientConnection, pattern: str, seconds: float = WAIT) -> str:
    """The first text frame matching `pattern` within `seconds`."""
    async with asyncio.timeout(seconds):
        while True:
            text = await socket.recv()
            if isinstance(text, str) and re.search(pattern, text):
                return text


async def phones(
    stack: AsyncExitStack, worker: LiveServer, session: Session, tokens: list[str]
) -> list[ClientConnection]:
    """Participants' sockets on a worker, each showing its stage."""
    url = ws_url(worker, f"/ws/participant/{session.code}")
    sockets = [
        await stack.enter_async_context(connect(url, additional_headers={"Cookie": f"handsup_participant={t}"}))
        for t in tokens
    ]
    await asyncio.gather(*(frame(s, r'^\s*<section id="stage"') for s in sockets))
    return sockets


async def vote(phone: ClientConnection, activity_id: int, choice: int) -> None:
    """Answer a poll as the phone's form does (htmx's ws extension sends the form as JSON)."""
    await phone.send(f'{{"activity": "{activity_id}", "choice": "{choice}", "HEADERS": {{}}}}')


async def acknowledged(phone: ClientConnection, activity_id: int) -> bool:
    """Whether the phone's answer was acknowledged: its status says Received (sent only after the commit)."""
    reply = await frame(phone, rf'id="status-{activity_id}"')
    return "Received" in reply


async def presenter_socket(stack: AsyncExitStack, worker: LiveServer, session: Session) -> ClientConnection:
    url = ws_url(worker, f"/ws/presenter/{session.id}")
    socket = await stack.enter_async_context(
        connect(url, additional_headers={"Cookie": f"handsup_session={session.cookie}"})
    )
    await frame(socket, r'^\s*<div id="presenter-live"')
    return socket


def answered(count: int) -> str:
    """The line a presenter's results show for `count` respondents."""
    return f"{count} {'person' if count == 1 else 'people'} answered"


def token_hashes(tokens: list[str]) -> set[str]:
    return {hash_token(t) for t in tokens}
