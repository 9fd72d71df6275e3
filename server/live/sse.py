"""Server-sent events: the participant's way to follow the presenter when a network lets no websocket through.

A stream is a Connection like a socket (server/live/connections.py): it sits in the room's participant audience,
has the same bounded outbox, is sent the same stages by the same code, and counts against the same per-address
limit. Only the way a message travels differs: each fragment is one `text/event-stream` event whose `id:` is the
stage key the phone shows once it has it, so EventSource's own reconnect (it sends `Last-Event-ID`) resyncs like a
socket's `?stage=`. Answers go by plain form posts (POST /{code}/respond), as without JavaScript.
"""

from __future__ import annotations

import asyncio
import contextlib
from asyncio import FIRST_COMPLETED
from typing import TYPE_CHECKING

from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from activities.i18n import _
from server.live.connections import TOO_MANY_CONNECTIONS, Audience, Connection, attached
from server.web.i18n import speaking

if TYPE_CHECKING:
    from server.live.room import Room

MEDIA_TYPE = "text/event-stream"
HEADERS = [
    (b"content-type", f"{MEDIA_TYPE}; charset=utf-8".encode()),
    # no-transform: a proxy may neither compress nor hold back a stream (and GZipMiddleware skips this type).
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on as it comes
]
HEARTBEAT = b": still here\n\n"  # a comment line: EventSource ignores it; proxies see traffic and keep the stream


def event(text: str, event_id: str) -> bytes:
    """One server-sent event carrying an HTML fragment (every line of it a `data:` line) and its id."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    data = "".join(f"data: {line}\n" for line in lines)
    return f"id: {event_id}\n{data}\n".encode()


class StreamConnection(Connection):
    """A participant's phone on an event stream; the response's body is written by the connection's drain."""

    __slots__ = ("_send", "finished", "opened")

    def __init__(self, send: Send, participant_id: int, limit: int, at: int | None, language: str) -> None:
        super().__init__(Audience.participant, participant_id, limit, at, language)
        self._send = send
        self.finished = asyncio.Event()  # ended by the server: too slow, stopping, or its room closed
        self.opened = asyncio.Event()  # the status line and headers have gone: events may follow

    async def write(self, body: bytes) -> None:
        await self._send({"type": "http.response.body", "body": body, "more_body": True})

    async def open(self, retry_ms: int) -> None:
        """Start the response: the headers, and how long EventSource waits before reconnecting."""
        await self._send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await self.write(f"retry: {retry_ms}\n\n".encode())
        self.opened.set()

    async def _deliver(self, text: str, stage_key: str) -> None:
        await self.opened.wait()  # a push may be queued while the headers are still being sent
        await self.write(HEARTBEAT if not text else event(text, stage_key))

    def beat(self) -> None:
        """Queue a heartbeat (an empty message), behind whatever is being sent."""
        self.send("")

    async def _close(self, code: int, reason: str) -> None:
        self.end()

    def end(self) -> None:
        """End the stream (a phone too slow to keep up, the server stopping): EventSource reconnects and resyncs."""
        self.finished.set()

    async def stop(self) -> None:
        self.finished.set()
        await super().stop()


class EventStream(Response):
    """The response of GET /{code}/events: it attaches a StreamConnection to the room and keeps the stream open
    until the phone goes away (or the server ends it), then detaches it, leaving no task behind."""

    media_type = MEDIA_TYPE

    def __init__(
        self, room: Room, participant_id: int, at: int | None, known: str | None, address: str, language: str
    ) -> None:
        super().__init__(status_code=200)
        self.room, self.participant_id, self.at, self.known = room, participant_id, at, known
        self.address, self.language = address, language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        room, settings = self.room, self.room.deps.settings
        connection = StreamConnection(send, self.participant_id, settings.client_queue_limit, self.at, self.language)
        # As for a socket: a phone that shows the current stage already (its page, or the stage it last received:
        # Last-Event-ID) is not sent it again, which would wipe what someone is typing.
        stage = room.stage(self.participant_id, self.at)
        room.show(connection, stage)

        def first() -> str:
            with speaking(self.language):
                return room.deps.fragments.participant_stage(room, stage)

        async with attached(room, connection, self.address, None if self.known == stage.key else first) as admitted:
            if not admitted:
                retry = str(max(1, settings.event_stream_retry_ms // 1000))
                with speaking(self.language):
                    refusal = Response(_(TOO_MANY_CONNECTIONS), 503, {"Retry-After": retry}, media_type="text/plain")
                await refusal(scope, receive, send)
                return
            await connection.open(settings.event_stream_retry_ms)
            gone = await _follow(connection, receive, settings.event_stream_heartbeat_seconds)
        if not gone:  # ended by us: finish the body, and EventSource reconnects
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _follow(connection: StreamConnection, receive: Receive, heartbeat: float) -> bool:
    """Keep the stream until the phone goes (True) or the server ends it (False), with a heartbeat whenever it
    has been quiet for `heartbeat` seconds."""
    gone = asyncio.ensure_future(_disconnected(receive))
    finished = asyncio.ensure_future(connection.finished.wait())
    try:
        while True:
            done, _pending = await asyncio.wait({gone, finished}, timeout=heartbeat, return_when=FIRST_COMPLETED)
            if gone in done:
                return True
            if finished in done:
                return False
            connection.beat()
    finally:
        gone.cancel()
        finished.cancel()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
