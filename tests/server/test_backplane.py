"""The backplane interface, proven on the in-memory backend and on Redis; then what Redis adds: several workers,
an outage, a return."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable

import pytest

from server.backplane import (
    Backplane,
    MemoryBackplane,
    Message,
    Overflow,
    RedisBackplane,
    Subscription,
    from_url,
    session_channel,
)
from tests.factories import free_port
from tests.services import RedisServer

pytestmark = pytest.mark.anyio


async def settle(backplane: Backplane) -> None:
    """Everything published so far is delivered: a probe published after it comes back (Redis keeps the order)."""
    async with backplane.subscribe("settle") as probe:
        await backplane.publish("settle", {"probe": True})
        assert await asyncio.wait_for(probe.get(), 5) == {"probe": True}


def listeners(backplane: Backplane, channel: str) -> int:
    assert isinstance(backplane, MemoryBackplane | RedisBackplane)
    return len(backplane._subscribers.get(channel, ()))


@pytest.fixture(params=["memory", "redis"])
async def backplane(request: pytest.FixtureRequest) -> AsyncIterator[Backplane]:
    """Each test runs on the in-memory backend and on Redis (a real redis-server of its own)."""
    url = "memory://" if request.param == "memory" else request.getfixturevalue("redis_server").url
    plane = from_url(url, queue_limit=3)
    await plane.connect()
    yield plane
    await plane.close()


@pytest.fixture
async def redis_plane(redis_server: RedisServer) -> AsyncIterator[RedisBackplane]:
    plane = RedisBackplane(redis_server.url, queue_limit=100, publish_timeout=0.5, reconnect_max=0.2)
    await plane.connect()
    assert plane.connected
    yield plane
    await plane.close()


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait (bounded) for something the backend does in the background."""
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


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


async def test_a_subscriber_waiting_for_a_message_is_woken_to_resync() -> None:
    subscription = Subscription("room", limit=2)
    waiting = asyncio.create_task(subscription.get())
    await asyncio.sleep(0)
    subscription.overflow()
    with pytest.raises(Overflow):
        await asyncio.wait_for(waiting, 5)
    subscription.deliver('{"n": 1}')
    assert await subscription.get() == {"n": 1}


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


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://cache.example.org:6380/1"])
def test_from_url_gives_the_redis_backend_for_redis_urls(url: str) -> None:
    plane = from_url(url, queue_limit=7, publish_timeout=0.25)
    assert isinstance(plane, RedisBackplane)
    assert (plane.url, plane.queue_limit, plane.publish_timeout) == (url, 7, 0.25)


@pytest.mark.parametrize(("url", "scheme"), [("kafka://q", "kafka"), ("localhost", "")])
def test_from_url_refuses_a_scheme_it_has_no_backend_for(url: str, scheme: str) -> None:
    with pytest.raises(ValueError) as refused:
        from_url(url)
    message = str(refused.value)
    assert message == f"HANDSUP_BACKPLANE_URL: no backplane for {scheme!r} URLs (use memory://, redis:// or rediss://)"


def test_session_channel_names_the_session() -> None:
    assert session_channel(42) == "handsup:session:42"


# --- what Redis adds ----------------------------------------------------------------------------------------


async def test_a_message_reaches_the_subscribers_of_every_worker(redis_plane: RedisBackplane) -> None:
    other = RedisBackplane(redis_plane.url)
    await other.connect()
    try:
        async with redis_plane.subscribe("room") as here, other.subscribe("room") as there:
            await other.publish("room", {"vote": 1})
            assert await here.get() == await there.get() == {"vote": 1}
    finally:
        await other.close()


async def test_one_connection_carries_every_channel_a_worker_subscribes_to(redis_plane: RedisBackplane) -> None:
    async with redis_plane.subscribe("room-a") as one, redis_plane.subscribe("room-b") as two:
        await redis_plane.publish("room-b", {"for": "b"})
        await redis_plane.publish("room-a", {"for": "a"})
        assert (await one.get(), await two.get()) == ({"for": "a"}, {"for": "b"})
        clients = await redis_plane._publisher.client_list()
    assert sum(int(client["sub"]) > 0 for client in clients) == 1


async def test_with_redis_down_publish_does_not_raise_and_counts_the_failures(
    redis_server: RedisServer, redis_plane: RedisBackplane
) -> None:
    redis_server.stop()
    await until(lambda: not redis_plane.connected)
    for n in range(20):
        await redis_plane.publish("room", {"n": n})
    assert redis_plane.publish_failures == 20


async def test_a_publish_redis_does_not_answer_gives_up_after_its_timeout(
    redis_server: RedisServer, redis_plane: RedisBackplane
) -> None:
    await redis_plane.publish("room", {"n": 0})
    assert redis_server.process is not None
    redis_server.process.send_signal(signal.SIGSTOP)  # Redis stops answering without closing its sockets
    try:
        await asyncio.wait_for(redis_plane.publish("room", {"n": 1}), 20 * redis_plane.publish_timeout)
        assert redis_plane.publish_failures == 1
    finally:
        redis_server.process.send_signal(signal.SIGCONT)


async def test_when_redis_comes_back_every_subscription_overflows_so_its_room_reloads(
    redis_server: RedisServer, redis_plane: RedisBackplane
) -> None:
    async with redis_plane.subscribe("room-a") as one, redis_plane.subscribe("room-b") as two:
        redis_server.stop()
        await until(lambda: not redis_plane.connected)
        await redis_plane.publish("room-a", {"lost": True})
        redis_server.start()
        await until(lambda: redis_plane.connected)
        for subscription in (one, two):
            with pytest.raises(Overflow):
                await asyncio.wait_for(subscription.get(), 5)
        assert redis_plane.reconnects == 1
        await redis_plane.publish("room-a", {"after": True})
        assert await asyncio.wait_for(one.get(), 5) == {"after": True}


async def test_a_room_opened_while_redis_is_away_gets_messages_once_it_returns(
    redis_server: RedisServer, redis_plane: RedisBackplane
) -> None:
    redis_server.stop()
    await until(lambda: not redis_plane.connected)
    async with redis_plane.subscribe("room") as subscription:
        redis_server.start()
        await until(lambda: redis_plane.connected)
        with pytest.raises(Overflow):
            await asyncio.wait_for(subscription.get(), 5)
        await redis_plane.publish("room", {"n": 1})
        assert await asyncio.wait_for(subscription.get(), 5) == {"n": 1}


async def test_a_failed_publish_makes_the_other_workers_reload_once_redis_answers(
    redis_server: RedisServer, redis_plane: RedisBackplane
) -> None:
    other = RedisBackplane(redis_plane.url)
    await other.connect()
    try:
        async with other.subscribe("room") as there:
            assert redis_server.process is not None
            redis_server.process.send_signal(signal.SIGSTOP)  # this publish times out; the other worker stays up
            try:
                await redis_plane.publish("room", {"lost": True})
            finally:
                redis_server.process.send_signal(signal.SIGCONT)
            assert redis_plane.publish_failures == 1
            await redis_plane.publish("room", {"next": True})
            with pytest.raises(Overflow):  # the stalled publish may still arrive first, when Redis resumes
                async with asyncio.timeout(5):
                    while True:
                        assert await there.get() in ({"lost": True}, {"next": True})
            await redis_plane.publish("room", {"after": True})
            assert await asyncio.wait_for(there.get(), 5) == {"after": True}
    finally:
        await other.close()


async def test_a_worker_starts_without_redis_and_connects_when_it_comes(redis_server: RedisServer) -> None:
    redis_server.stop()
    plane = RedisBackplane(redis_server.url, publish_timeout=0.1, reconnect_max=0.2)
    await plane.connect()
    try:
        assert not plane.connected
        redis_server.start()
        await until(lambda: plane.connected)
        async with plane.subscribe("room") as subscription:
            await plane.publish("room", {"n": 1})
            assert await asyncio.wait_for(subscription.get(), 5) == {"n": 1}
    finally:
        await plane.close()


async def test_a_worker_that_starts_makes_every_room_of_the_others_reload(redis_plane: RedisBackplane) -> None:
    """A worker back from a crash may have committed answers it never published: the others reload them."""
    async with redis_plane.subscribe("room-a") as one, redis_plane.subscribe("room-b") as two:
        restarted = RedisBackplane(redis_plane.url)
        await restarted.connect()
        try:
            for subscription in (one, two):
                with pytest.raises(Overflow):
                    await asyncio.wait_for(subscription.get(), 5)
        finally:
            await restarted.close()


async def test_the_log_says_redis_does_not_answer_without_its_password(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    plane = RedisBackplane(f"redis://:hunter2@127.0.0.1:{port}/0", publish_timeout=0.05)
    await plane.connect()
    try:
        assert not plane.connected
        await plane.publish("room", {"n": 1})
        assert plane.publish_failures == 1
    finally:
        await plane.close()
    assert f"Redis at redis://:***@127.0.0.1:{port}/0 does not answer" in caplog.text
    assert "hunter2" not in caplog.text
