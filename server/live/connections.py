"""Connections: the clients of a room (websockets here, event streams in server/live/sse.py), each with a bounded
outbox, and the socket loop that keeps one attached while it is open.

A client that falls behind is dropped and resyncs; an idle client holds no task and no queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket

from activities.i18n import N_, _
from server.web.i18n import current_language
from server.web.throttle import address_of

if TYPE_CHECKING:
    from server.live.room import Room

# Close codes: 1013 asks htmx's ws extension (and any client) to reconnect after a pause; 4404/4403 do not.
TRY_AGAIN = 1013
GONE = 4404
TOO_MANY_CONNECTIONS = N_("Too many connections from your network; try again later.")


class Audience(StrEnum):
    participant = "participant"
    presenter = "presenter"
    projector = "projector"
    remote = "remote"  # a presenter's phone (the remote): pushed its own small view, never the results


async def refuse(websocket: WebSocket, reason: str, code: int = GONE, subprotocol: str | None = None) -> None:
    """Turn a socket away with 4404 (or 1013: try again later), which browsers (and htmx) report; closing before
    accept would not. A client that offered subprotocols is accepted with the one it would be (or a browser fails
    the handshake and never sees the reason)."""
    await websocket.accept(subprotocol=subprotocol)
    await websocket.close(code, reason)


class Connection:
    """One client of a room and its bounded outbox; a subclass carries the messages (a websocket, an event stream).

    The outbox, and the task that drains it, exist only while there is something to send: an idle socket (most of a
    room, most of the time) holds no task, no coroutine and no queue of its own, which is memory per participant
    and objects the garbage collector would otherwise walk. Each queued message keeps the stage key the client was
    being sent when it was queued, so a transport that tells the client where it is (an event stream's `id:`)
    names the stage the client has actually received. Slots, not a dict per instance: one per phone adds up."""

    __slots__ = (
        "language", "audience", "participant_id", "_limit", "_outbox", "_sender", "dropped", "overran", "at",
        "stage_key", "showing",
    )  # fmt: skip

    def __init__(
        self,
        audience: Audience,
        participant_id: int | None,
        limit: int,
        at: int | None = None,
        language: str | None = None,
    ) -> None:
        # What this client is pushed in: the language of the request that opened it, unless told otherwise.
        self.language = language if language is not None else current_language()
        self.audience = audience
        self.participant_id = participant_id
        self._limit = limit
        self._outbox: deque[tuple[str, str]] | None = None  # made by the first message (an empty deque: 760 bytes)
        self._sender: asyncio.Task[None] | None = None
        self.dropped = False
        self.overran = False  # dropped for a full outbox (not for a socket that failed): counted by /metrics
        self.at = at  # the activity the participant chose (Q&A, their own pace); None follows the presenter
        self.stage_key = ""  # the participant stage this client shows (see Room.stage)
        self.showing: int | None = None  # the activity on that stage

    def send(self, text: str) -> None:
        """Queue a message; a full outbox drops the client, which reconnects and gets a fresh page."""
        if self.dropped:
            return
        outbox = self._outbox
        if outbox is None:
            outbox = self._outbox = deque()
        if len(outbox) >= self._limit:
            self.dropped = self.overran = True
            outbox.clear()
            self._sender = asyncio.create_task(self._close(TRY_AGAIN, "too slow: reconnect to catch up"))
            return
        outbox.append((text, self.stage_key))
        if self._sender is None:
            self._sender = asyncio.create_task(self._drain(outbox))

    async def _drain(self, outbox: deque[tuple[str, str]]) -> None:
        try:
            while outbox:
                await self._deliver(*outbox[0])
                outbox.popleft()
        except Exception:
            self.dropped = True  # the client is gone: its reader sees the disconnect and detaches it
        finally:
            self._sender = None
            if not outbox:
                self._outbox = None

    async def _deliver(self, text: str, stage_key: str) -> None:
        raise NotImplementedError

    async def _close(self, code: int, reason: str) -> None:
        raise NotImplementedError

    def end(self) -> None:
        """The server is stopping: let the client go, to come back once it runs again. A socket needs nothing:
        uvicorn closes it with 1012 (restarting) by itself."""

    async def stop(self) -> None:
        sender = self._sender
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender


class SocketConnection(Connection):
    """A client on a websocket (uvicorn pings it: it needs no heartbeat of ours)."""

    __slots__ = ("websocket",)

    def __init__(
        self,
        websocket: WebSocket,
        audience: Audience,
        participant_id: int | None,
        limit: int,
        at: int | None = None,
        language: str | None = None,
    ) -> None:
        super().__init__(audience, participant_id, limit, at, language)
        self.websocket = websocket

    async def _deliver(self, text: str, stage_key: str) -> None:
        await self.websocket.send_text(text)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)


@contextlib.asynccontextmanager
async def attached(
    room: Room, connection: Connection, address: str, first: Callable[[], str] | None
) -> AsyncIterator[bool]:
    """Keep a client attached to a room while the block runs, with the current view sent first (unless it has it).

    `first` renders that view. It is called here, and its text is held by the outbox alone until sent: a view
    kept in a local for the client's lifetime cost 12.7 KiB per idle phone (tracemalloc, docs/benchmarks.md).

    Yields False, attaching nothing, when `address` has connections_per_address clients open already: websockets
    and event streams count alike."""
    open_connections = room.deps.throttles.connections
    if not open_connections.acquire(address):
        yield False
        return
    if first is not None:
        connection.send(first())
    room.attach(connection)
    try:
        yield True
    finally:
        open_connections.release(address)
        await room.detach(connection)


async def serve_socket(
    room: Room,
    connection: SocketConnection,
    first: Callable[[], str] | None,
    on_message: Callable[[str], Awaitable[None]] | None,
) -> None:
    """Attach a socket to a room, send it the current view (unless it has it), then read until it closes.

    A socket past its address's open connections (connections_per_address) is closed with 1013, try again later."""
    websocket = connection.websocket
    async with attached(room, connection, address_of(websocket), first) as admitted:
        if not admitted:
            await websocket.close(TRY_AGAIN, _(TOO_MANY_CONNECTIONS))
            return
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")  # binary frames are not part of the protocol: ignored
            if on_message is not None and text is not None:
                await on_message(text)
