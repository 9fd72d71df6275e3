"""The live sockets (docs/protocol.md), as async helpers: a participant's phone, a presenter's view and a projector.

Every frame the server sends is HTML: one or more top-level elements, each with an `id` that names what it replaces
on the page (`stage`, `status-<activity id>`, `results-<activity id>`, `counts`...). A Frame says which ids it
carries and what their text reads. A participant answers with one JSON frame: the activity's id as `activity`, and
the kind's fields (the same as `answer` in `POST /api/v1/responses`).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from handsup_client.client import FieldValue

REFUSED = 4404
"""The close code of a socket the server turns away (the reason says why): do not retry it."""
TRY_LATER = 1013
"""The close code of a socket refused for a while (too many connections or codes from one network, too slow)."""


class SocketRefused(Exception):
    """The server closed the socket: `code` (4404 refused, 1013 try again later...) and its `reason`."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"socket closed ({code}): {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Frame:
    """One frame from the server: its HTML, the ids of its top-level elements, and each one's text."""

    html: str
    texts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, html: str) -> Frame:
        reader = _Roots()
        reader.feed(html)
        reader.close()
        return cls(html, {root: " ".join(" ".join(parts).split()) for root, parts in reader.texts.items()})

    @property
    def ids(self) -> list[str]:
        return list(self.texts)

    def has(self, root: str) -> bool:
        """Whether the frame carries the element of this id, or (for a name ending in `-`) one starting with it."""
        return any(key == root or (root.endswith("-") and key.startswith(root)) for key in self.texts)

    def text(self, root: str) -> str:
        """The text an element of the frame reads (tags dropped, spaces collapsed)."""
        return self.texts[root]


class _Roots(HTMLParser):
    """The top-level elements' ids and texts of a fragment."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.current: str | None = None
        self.texts: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth == 0:
            self.current = dict(attrs).get("id") or ""
            self.texts.setdefault(self.current, [])
        if tag not in self.VOID:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID:
            self.depth = max(0, self.depth - 1)

    def handle_data(self, data: str) -> None:
        if self.depth > 0 and self.current is not None:
            self.texts[self.current].append(unescape(data))


def socket_url(base_url: str, path: str, query: Mapping[str, str] | None = None) -> str:
    """A socket's URL on the server at `base_url` (http becomes ws, https wss)."""
    url = re.sub(r"^http", "ws", base_url.rstrip("/")) + path
    return f"{url}?{urlencode(query)}" if query else url


class _Socket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def receive(self, timeout: float = 10) -> Frame:
        """The next frame; SocketRefused when the server closed the socket."""
        try:
            message = await asyncio.wait_for(self.connection.recv(), timeout)
        except ConnectionClosed as closed:
            received = closed.rcvd
            raise SocketRefused(received.code if received else None, received.reason if received else "") from None
        return Frame.of(message if isinstance(message, str) else message.decode())

    async def until(self, wanted: Callable[[Frame], bool], timeout: float = 10) -> Frame:
        """Read frames until one is `wanted` (the others are passed over); TimeoutError after `timeout` seconds."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.receive(timeout)
                if wanted(frame):
                    return frame


class ParticipantSocket(_Socket):
    """A phone's socket: `/ws/participant/{code}`, authenticated by the participant token as its cookie."""

    async def answer(self, activity_id: int, fields: Mapping[str, FieldValue], timeout: float = 10) -> Frame:
        """Send an answer and wait for its reply: `status-<id>` ("✓ Received...", with `submit-<id>`, the button now
        reading "Update my answer"), or `connection` for an answer the screen cannot take (another activity...)."""
        await self.connection.send(json.dumps({"activity": str(activity_id), **fields}))
        return await self.until(lambda frame: frame.has(f"status-{activity_id}") or frame.has("connection"), timeout)

    async def react(self, reaction: str) -> None:
        await self.connection.send(json.dumps({"reaction": reaction}))


class PresenterSocket(_Socket):
    """A presenter's socket: `/ws/presenter/{session_id}`, authenticated by an API token (the `Authorization`
    header of the handshake) or the signed-in session cookie. Push-only: the server ignores what it is sent."""


class ProjectorSocket(_Socket):
    """A projector's socket: `/ws/projector/{secret}`; the secret is the key, read-only. Its first frame is
    `projector-stage`."""


@asynccontextmanager
async def participant_socket(
    base_url: str, code: str, token: str, *, stage: str | None = None, at: int | None = None
) -> AsyncIterator[ParticipantSocket]:
    """Open a phone's socket with the participant token (from `Handsup.join`) as its `handsup_participant` cookie.
    The first frame is the phone's `stage` (unless `stage` names the key of the stage already shown)."""
    query = {name: str(value) for name, value in (("stage", stage), ("at", at)) if value is not None}
    url = socket_url(base_url, f"/ws/participant/{code}", query)
    async with connect(url, additional_headers={"Cookie": f"handsup_participant={token}"}) as connection:
        yield ParticipantSocket(connection)


def _credentials(token: str | None, cookie: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if cookie is not None:
        sent["Cookie"] = f"handsup_session={cookie}"
    return sent


@asynccontextmanager
async def presenter_socket(
    base_url: str,
    session_id: int,
    *,
    token: str | None = None,
    cookie: str | None = None,
    headers: Mapping[str, str] | None = None,
    view: str | None = None,
) -> AsyncIterator[PresenterSocket]:
    """Open a presenter's socket with an API token (`token`, sent as `Authorization: Bearer` on the handshake)
    or the signed-in session cookie (`cookie`, `Handsup.sign_in`'s answer); with both, the token decides.
    `view="remote"` for the remote's. `headers` are sent with the handshake as they are. The first frame is
    `presenter-live` (`remote-live` for the remote); a refused one raises SocketRefused (4404) on the first
    `receive`."""
    url = socket_url(base_url, f"/ws/presenter/{session_id}", {"view": view} if view else None)
    async with connect(url, additional_headers=_credentials(token, cookie, headers)) as connection:
        yield PresenterSocket(connection)


def projector_secret(projector_url: str) -> str:
    """The secret of a projector link (`Session.projector_url`, `<base>/projector/<secret>`): its last segment."""
    return projector_url.rstrip("/").rsplit("/", 1)[-1]


@asynccontextmanager
async def projector_socket(
    base_url: str,
    secret: str,
    *,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[ProjectorSocket]:
    """Open a projector's socket: `secret` is the projector link's (`projector_secret(session.projector_url)`).
    No credential is needed beside it; an API token (`token`) lets a handshake from another site's page in (its
    `Origin` in `headers`). The first frame is `projector-stage`."""
    url = socket_url(base_url, f"/ws/projector/{secret}")
    async with connect(url, additional_headers=_credentials(token, None, headers)) as connection:
        yield ProjectorSocket(connection)
