"""The backplane interface, proven on the in-memory backend and on a fake network backend defined here."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from server.backplane import Backplane, MemoryBackplane, Message, Overflow, Subscription, from_url, session_channel

pytestmark = pytest.mark.anyio


class LoopbackBackplane(Backplane):
    """A stand-in for a networked backend: `publish` writes to a wire, a reader task delivers, like a Redis client."""

    def __init__(self, queue_limit: int = 50_000) -> None:
        super().__init__(queue_limit)
        self._wire: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._listeners: dict[str, set[Subscription]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def publish(self, channel: str, message: Message) -> None:
        await self._wire.put((channel, json.dumps(message)))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(channel, self.queue_limit)
        self._listeners.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            self._listeners[channel].discard(subscription)
            if not self._listeners[channel]:
                del self._listeners[channel]

    async def _read(self) -> None:
        while True:
            channel, raw = await self._wire.get()
            for subscription in tuple(self._listeners.get(channel, ())):
                subscription.deliver(raw)
            self._wire.task_done()

    async def settle(self) -> None:
        """Wait until everything published has come off the wire."""
        await self._wire.join()

    def listeners(self, channel: str) -> int:
        return len(self._listeners.get(channel, ()))


async def settle(backplane: Backplane) -> None:
    """Everything published so far is delivered (immediate for the memory backend)."""
    if isinstance(backplane, LoopbackBackplane):
        await backplane.settle()


def listeners(backplane: Backplane, channel: str) -> int:
    if isinstance(backplane, LoopbackBackplane):
        return backplane.listeners(channel)
    assert isinstance(backplane, MemoryBackplane)
    return len(backplane._subscribers.get(channel, ()))


BACKENDS = {"memory": MemoryBackplane, "loopback": LoopbackBackplane}


@pytest.fixture(params=sorted(BACKENDS))
async def backplane(request: pytest.FixtureRequest) -> AsyncIterator[Backplane]:
    plane: Backplane = BACKENDS[request.param](queue_limit=3)
    await plane.connect()
    yield plane
    await plane.close()


async def test_subscriber_gets_messages_published_after_it_subscribed_in_order(backplane: Backplane) -> None:
    async with backplane.subscribe("room") as subscription:
        for n in range(3):
            await backplane.publish("room", {"n": n})
        assert [await subscription.get() for _ in range(3)] == [{"n": 0}, {"n": 1}, {"n": 2}]


async def test_messages_published_before_subscribing_are_not_delivered(backplane: Backplane) -> None:
    await backplane.publish("room", {"n": "early"})
    await settle(backplane)
    async with backplane.subscribe("room") as subscription:
        await backplane.publish("room", {"n": "late"})
        assert await subscription.get() == {"n": "late"}


async def test_every_subscriber_of_a_channel_gets_every_message(backplane: Backplane) -> None:
    async with backplane.subscribe("room") as one, backplane.subscribe("room") as two:
        await backplane.publish("room", {"vote": 1})
        assert await one.get() == await two.get() == {"vote": 1}


async def test_a_subscriber_gets_only_its_own_channel(backplane: Backplane) -> None:
    async with backplane.subscribe("room-a") as subscription:
        await backplane.publish("room-b", {"for": "b"})
        await backplane.publish("room-a", {"for": "a"})
        assert await subscription.get() == {"for": "a"}


async def test_subscriptions_can_be_iterated(backplane: Backplane) -> None:
    async with backplane.subscribe("room") as subscription:
        for n in range(2):
            await backplane.publish("room", {"n": n})
        received = []
        async for message in subscription:
            received.append(message)
            if len(received) == 2:
                break
        assert received == [{"n": 0}, {"n": 1}]


async def test_messages_travel_as_json_whatever_the_backend(backplane: Backplane) -> None:
    async with backplane.subscribe("room") as subscription:
        await backplane.publish("room", {"items": (1, 2), "text": "équipe ✓"})
        assert await subscription.get() == {"items": [1, 2], "text": "équipe ✓"}


async def test_a_message_that_is_not_json_is_refused_at_publish(backplane: Backplane) -> None:
    with pytest.raises(TypeError):
        await backplane.publish("room", {"when": object()})


async def test_leaving_the_subscription_unsubscribes(backplane: Backplane) -> None:
    async with backplane.subscribe("room"):
        assert listeners(backplane, "room") == 1
    assert listeners(backplane, "room") == 0
    await backplane.publish("room", {"to": "nobody"})
    await settle(backplane)


async def test_an_error_inside_the_subscription_still_unsubscribes(backplane: Backplane) -> None:
    with pytest.raises(RuntimeError):
        async with backplane.subscribe("room"):
            raise RuntimeError("the room closed")
    assert listeners(backplane, "room") == 0


async def test_leaving_one_subscription_keeps_the_others(backplane: Backplane) -> None:
    async with backplane.subscribe("room") as staying:
        async with backplane.subscribe("room"):
            pass
        assert listeners(backplane, "room") == 1
        await backplane.publish("room", {"still": "here"})
        assert await staying.get() == {"still": "here"}


async def test_a_subscriber_that_falls_behind_gets_overflow_once_then_continues(backplane: Backplane) -> None:
    async with backplane.subscribe("room") as subscription:
        for n in range(backplane.queue_limit + 2):
            await backplane.publish("room", {"n": n})
        await settle(backplane)
        with pytest.raises(Overflow):
            await subscription.get()
        await backplane.publish("room", {"n": "after"})
        assert await subscription.get() == {"n": "after"}


async def test_overflow_does_not_slow_or_affect_other_subscribers(backplane: Backplane) -> None:
    async with backplane.subscribe("room") as slow, backplane.subscribe("room") as fast:
        for n in range(backplane.queue_limit + 1):
            await backplane.publish("room", {"n": n})
            assert await fast.get() == {"n": n}
        with pytest.raises(Overflow):
            await slow.get()


async def test_subscription_delivers_up_to_its_limit_without_overflow() -> None:
    subscription = Subscription("room", limit=2)
    subscription.deliver('{"n": 1}')
    subscription.deliver('{"n": 2}')
    assert [await subscription.get(), await subscription.get()] == [{"n": 1}, {"n": 2}]


async def test_memory_backplane_close_forgets_every_subscriber() -> None:
    plane = MemoryBackplane()
    async with plane.subscribe("room"):
        await plane.close()
        assert listeners(plane, "room") == 0


def test_a_backend_must_implement_the_whole_interface() -> None:
    class PublishOnly(Backplane):
        async def publish(self, channel: str, message: Message) -> None:
            pass

    with pytest.raises(TypeError):
        PublishOnly()  # type: ignore[abstract]


def test_from_url_gives_the_memory_backend_with_its_queue_limit() -> None:
    plane = from_url("memory://", queue_limit=7)
    assert isinstance(plane, MemoryBackplane)
    assert plane.queue_limit == 7


@pytest.mark.parametrize(
    ("url", "scheme"), [("redis://localhost:6379/0", "redis"), ("kafka://q", "kafka"), ("localhost", "")]
)
def test_from_url_refuses_a_scheme_it_has_no_backend_for(url: str, scheme: str) -> None:
    with pytest.raises(ValueError) as refused:
        from_url(url)
    message = str(refused.value)
    assert message == f"HANDSUP_BACKPLANE_URL: no backplane for {scheme!r} URLs (this version has memory://)"


def test_session_channel_names_the_session() -> None:
    assert session_channel(42) == "handsup:session:42"
