"""The backplane: how a committed event reaches every worker serving a session.

Three names make the surface: `publish(channel, message)`, `subscribe(channel)` (an async context manager
giving a `Subscription` to iterate), and `connect()` / `close()`. Backends are chosen by URL scheme
(`memory://` for one process; `redis://` or `rediss://` when several processes serve one deployment) and
imported lazily.

Delivery is best effort and the database is the truth: a subscriber that may have missed messages (its queue
overflowed, or the connection to Redis dropped) gets `Overflow` and resyncs from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

Message = dict[str, Any]
log = logging.getLogger(__name__)


class Overflow(Exception):
    """The subscriber fell behind and messages were dropped: it must resync from the database."""


class Subscription:
    """Messages on one channel for one subscriber, through a bounded queue."""

    WAKE = ""  # not a JSON message: put in the queue to wake a waiting get() when the subscription overflows

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

    def overflow(self) -> None:
        """Messages may have been lost (the backend's connection dropped): the next get() raises Overflow, and one
        waiting already is woken to raise it."""
        self._overflowed = True
        if self._queue.empty():
            self._queue.put_nowait(self.WAKE)

    @property
    def depth(self) -> int:
        """Messages delivered and not yet taken."""
        return self._queue.qsize()

    async def get(self) -> Message:
        """The next message; raises Overflow once if messages were lost since the last call."""
        while True:
            if self._overflowed:
                self._overflowed = False
                while not self._queue.empty():
                    self._queue.get_nowait()
                raise Overflow(self.channel)
            raw = await self._queue.get()
            if raw != self.WAKE:
                message: Message = json.loads(raw)
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
        self.publish_failures = 0  # messages that could not be sent (a networked backend that was down)

    @abstractmethod
    async def connect(self) -> None:
        """Open connections; called once at start-up."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; called once at shutdown."""

    @abstractmethod
    async def publish(self, channel: str, message: Message) -> None:
        """Send a JSON-able message to every subscriber of the channel, in every worker.

        A message that is not JSON-able raises TypeError. A backend that cannot deliver logs and counts it
        (publish_failures) instead of raising: what was published is stored already, and subscribers that missed
        it resync from the database."""

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


class RedisBackplane(Backplane):
    """Redis pub/sub: one connection per worker carries every channel its rooms subscribe to.

    Publishing uses a pool of its own with a short timeout and is not tried while the listening connection is
    down, so a dead Redis costs the writer nothing. The listener reconnects with backoff; on reconnecting, every
    Subscription is marked overflowed (once Redis confirms its channel), so each room reloads from the database
    and presenters catch up. A channel whose publish failed gets a resync marker once Redis answers again, so
    other workers that stayed connected reload too. A worker that starts sends a resync to every room of every
    worker: if it is back from a crash, what it committed but had not yet published reaches the others that way.
    """

    RESYNC = "resync"  # a raw message no JSON object encodes to: subscribers of the channel reload
    EVERY_ROOM = "handsup:backplane:every-room"  # a resync there reloads every room of every worker

    def __init__(
        self,
        url: str,
        queue_limit: int = 50_000,
        *,
        publish_timeout: float = 0.5,
        reconnect_min: float = 0.05,
        reconnect_max: float = 2.0,
    ) -> None:
        super().__init__(queue_limit)
        self.url = url
        self.publish_timeout = publish_timeout
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.reconnects = 0  # times the listening connection came back after dropping
        # A channel of this worker's own, subscribed first on every connection: its confirmation says it is up.
        self._control_channel = f"handsup:backplane:{secrets.token_hex(8)}"
        self._subscribers: dict[str, set[Subscription]] = {}
        self._confirming: dict[str, list[asyncio.Future[None]]] = {}  # SUBSCRIBE sent, confirmation awaited
        self._unsent: set[str] = set()  # channels whose subscribers elsewhere may have missed a message
        self._stale: set[Subscription] = set()  # may have missed messages: overflowed once their channel is back
        self._listening: PubSub | None = None  # the listening connection, from its first SUBSCRIBE on
        self._up = False  # Redis confirmed the listening connection, and it has not dropped since
        self._listener: asyncio.Task[None] | None = None
        self._first_connection: asyncio.Event = asyncio.Event()
        self._publisher: Redis
        self._subscriber: Redis

    @property
    def connected(self) -> bool:
        """Whether the listening connection is up."""
        return self._up

    async def connect(self) -> None:
        """Start listening; waits a moment for Redis, but starts without it (votes are stored all the same)."""
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No retries inside redis-py for the listener: a dropped connection must surface here, where it triggers
        # the resync. A publish may retry once, within its timeout, for a pooled connection that went stale.
        timeout = self.publish_timeout
        self._publisher = Redis.from_url(
            self.url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 1),
        )
        self._subscriber = Redis.from_url(
            self.url, socket_connect_timeout=timeout, socket_keepalive=True, retry=Retry(NoBackoff(), 0)
        )
        self._listener = asyncio.create_task(self._listen())
        try:
            await asyncio.wait_for(self._first_connection.wait(), timeout=max(2.0, 4 * timeout))
        except TimeoutError:
            log.error("backplane: Redis at %s does not answer; serving without it and retrying", _safe(self.url))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._publisher.aclose()
        await self._subscriber.aclose()
        self._subscribers.clear()

    async def publish(self, channel: str, message: Message) -> None:
        raw = json.dumps(message, separators=(",", ":"))
        await self._send_resyncs()
        if not await self._send(channel, raw):
            self.publish_failures += 1
            self._unsent.add(channel)

    async def _send(self, channel: str, raw: str) -> bool:
        if not self._up:  # Redis is away: do not wait on it
            return False
        try:
            await asyncio.wait_for(self._publisher.publish(channel, raw), self.publish_timeout)
        except Exception as error:  # timeouts and connection errors alike: the message is lost, not the vote
            log.warning("backplane: publishing on %s failed (%s)", channel, error.__class__.__name__)
            return False
        return True

    async def _send_resyncs(self) -> None:
        while self._unsent:
            channel = self._unsent.pop()
            # On the every-room channel the resync names its sender, which has nothing to reload.
            marker = self._control_channel if channel == self.EVERY_ROOM else self.RESYNC
            if not await self._send(channel, marker):
                self._unsent.add(channel)
                return

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(channel, self.queue_limit)
        new = channel not in self._subscribers
        self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            if not self._up:
                self._stale.add(subscription)  # subscribed and resynced when the connection comes up
            elif new and self._listening is not None:
                if await self._confirm(self._listening, channel):
                    subscription._overflowed = False  # a resync before the room has loaded changes nothing
                else:
                    self._stale.add(subscription)
            yield subscription
        finally:
            self._stale.discard(subscription)
            subscribers = self._subscribers.get(channel, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(channel, None)
                if self._up and self._listening is not None:
                    with contextlib.suppress(Exception):
                        await self._listening.execute_command("UNSUBSCRIBE", channel)

    async def _confirm(self, listening: PubSub, channel: str) -> bool:
        """SUBSCRIBE and wait until Redis confirms it: only then is every later message sure to arrive. If the
        connection drops meanwhile, the reconnect subscribes the channel and the subscription resyncs."""
        confirmed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._confirming.setdefault(channel, []).append(confirmed)
        try:
            await listening.execute_command("SUBSCRIBE", channel)
            await asyncio.wait_for(asyncio.shield(confirmed), self.reconnect_max + self.publish_timeout)
        except Exception as error:
            log.warning("backplane: subscribing to %s unconfirmed (%s)", channel, error.__class__.__name__)
            return False
        finally:
            waiting = self._confirming.get(channel, [])
            if confirmed in waiting:
                waiting.remove(confirmed)
            if not waiting:
                self._confirming.pop(channel, None)
        return self._up

    async def _listen(self) -> None:
        delay = self.reconnect_min
        while True:
            listening = self._subscriber.pubsub()
            self._listening = listening
            try:
                await listening.execute_command("SUBSCRIBE", self._control_channel, self.EVERY_ROOM)
                while True:
                    response = await listening.parse_response(block=True)
                    if self._dispatch(response):
                        await self._came_up(listening)
                        delay = self.reconnect_min
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self._up:
                    log.warning("backplane: lost Redis (%s); reconnecting", error.__class__.__name__)
            finally:
                self._listening, self._up = None, False
                # Whatever passed while the connection was down is lost: every room resyncs once it is back.
                self._stale.update(s for subscribers in self._subscribers.values() for s in subscribers)
                for waiting in self._confirming.values():
                    for confirmed in waiting:
                        if not confirmed.done():
                            confirmed.set_result(None)
                with contextlib.suppress(Exception):
                    await listening.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_max)

    async def _came_up(self, listening: PubSub) -> None:
        """The listening connection answers: subscribe every channel (from here on, rooms subscribe their own)."""
        self._up = True
        if self._first_connection.is_set():
            self.reconnects += 1
            log.warning("backplane: Redis is back; rooms reload from the database")
            await self._publisher.connection_pool.disconnect()  # its connections went with Redis
        else:
            self._unsent.add(self.EVERY_ROOM)
        # Resyncs first, before this connection hears its channels again: its own rooms reload anyway.
        await self._send_resyncs()
        self._first_connection.set()
        if self._subscribers:
            await listening.execute_command("SUBSCRIBE", *self._subscribers)

    def _dispatch(self, response: Any) -> bool:
        """Hand one raw pub/sub reply to its subscribers; True when it confirms the connection is up."""
        kind, channel = _text(response[0]), _text(response[1])
        if kind == "message":
            raw = _text(response[2])
            if channel == self.EVERY_ROOM:
                if raw == self._control_channel:
                    return False
                for subscribers in self._subscribers.values():
                    for subscription in subscribers:
                        subscription.overflow()
                return False
            for subscription in tuple(self._subscribers.get(channel, ())):
                if raw == self.RESYNC:
                    subscription.overflow()
                else:
                    subscription.deliver(raw)
        elif kind == "subscribe":
            for confirmed in self._confirming.get(channel, ()):
                if not confirmed.done():
                    confirmed.set_result(None)
            for subscription in self._subscribers.get(channel, ()):
                if subscription in self._stale:  # it may have missed messages: its room reloads from the database
                    self._stale.discard(subscription)
                    subscription.overflow()
            return channel == self._control_channel
        return False


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _safe(url: str) -> str:
    """A URL for the log, without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=f"{parts.username or ''}:***@{parts.hostname}:{parts.port}").geturl()


def from_url(url: str, queue_limit: int = 50_000, *, publish_timeout: float = 0.5) -> Backplane:
    """The backend for a URL: `memory://`, or `redis://host:port/db` (`rediss://` over TLS)."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryBackplane(queue_limit)
    if scheme in ("redis", "rediss"):
        return RedisBackplane(url, queue_limit, publish_timeout=publish_timeout)
    raise ValueError(f"HANDSUP_BACKPLANE_URL: no backplane for {scheme!r} URLs (use memory://, redis:// or rediss://)")


def session_channel(session_id: int) -> str:
    """The channel a session's events travel on."""
    return f"handsup:session:{session_id}"
