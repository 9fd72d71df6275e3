"""The backplane: how a committed event reaches every worker serving a session.

Three names make the surface: `publish(channel, message)`, `subscribe(channel)` (an async context manager
giving a `Subscription` to iterate), and `connect()` / `close()`. Backends are chosen by URL scheme
(`memory://` here; `redis://` when several processes serve one deployment) and imported lazily.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

Message = dict[str, Any]


class Overflow(Exception):
    """The subscriber fell behind and messages were dropped: it must resync from the database."""


class Subscription:
    """Messages on one channel for one subscriber, through a bounded queue."""

    def __init__(self, channel: str, limit: int) -> None:
        self.channel = channel
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=limit)
        self._overflowed = False

    def deliver(self, raw: str) -> None:
        """Called by the backend; never blocks. A full queue marks the subscription overflowed."""
        try:
            self._queue.put_nowait(raw)
        except asyncio.QueueFull:
            self._overflowed = True

    async def get(self) -> Message:
        """The next message; raises Overflow once if messages were lost since the last call."""
        if self._overflowed:
            self._overflowed = False
            while not self._queue.empty():
                self._queue.get_nowait()
            raise Overflow(self.channel)
        message: Message = json.loads(await self._queue.get())
        return message

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while True:
            yield await self.get()


class Backplane(ABC):
    """Publish/subscribe between the workers of one deployment."""

    def __init__(self, queue_limit: int = 50_000) -> None:
        self.queue_limit = queue_limit

    @abstractmethod
    async def connect(self) -> None:
        """Open connections; called once at start-up."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; called once at shutdown."""

    @abstractmethod
    async def publish(self, channel: str, message: Message) -> None:
        """Send a JSON-able message to every subscriber of the channel, in every worker."""

    @abstractmethod
    def subscribe(self, channel: str) -> Any:
        """An async context manager yielding a Subscription; messages published after entry are delivered."""


class MemoryBackplane(Backplane):
    """One process: delivery is a function call. Messages are still encoded, so every backend behaves alike."""

    def __init__(self, queue_limit: int = 50_000) -> None:
        super().__init__(queue_limit)
        self._subscribers: dict[str, set[Subscription]] = {}

    async def connect(self) -> None:
        """Nothing to open: subscribers live in this process."""

    async def close(self) -> None:
        self._subscribers.clear()

    async def publish(self, channel: str, message: Message) -> None:
        raw = json.dumps(message, separators=(",", ":"))
        for subscription in tuple(self._subscribers.get(channel, ())):
            subscription.deliver(raw)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(channel, self.queue_limit)
        self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(channel, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(channel, None)


def from_url(url: str, queue_limit: int = 50_000) -> Backplane:
    """The backend for a URL: `memory://`, or `redis://host:port/db` once that backend is installed."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryBackplane(queue_limit)
    raise ValueError(f"HANDSUP_BACKPLANE_URL: no backplane for {scheme!r} URLs (this version has memory://)")


def session_channel(session_id: int) -> str:
    """The channel a session's events travel on."""
    return f"handsup:session:{session_id}"
