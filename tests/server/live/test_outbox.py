"""A connection's outbox (server/live/connections.py): a message to an idle client is written at once, without a
task; one whose delivery must wait goes on in order behind it, and the bound still counts the message in flight."""

from __future__ import annotations

import asyncio

from server.live.connections import Audience, Connection


class Recorded(Connection):
    """A client whose transport takes a message at once, or waits for `gate` while it is set up (a full buffer)."""

    __slots__ = ("written", "gate", "closed")

    def __init__(self, limit: int) -> None:
        super().__init__(Audience.participant, 1, limit, language="en")
        self.written: list[str] = []
        self.gate: asyncio.Event | None = None
        self.closed: list[str] = []

    async def _deliver(self, text: str, stage_key: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if text == "fail":
            raise ConnectionError("gone")
        self.written.append(text)

    async def _close(self, code: int, reason: str) -> None:
        self.closed.append(reason)


def test_a_message_to_an_idle_client_is_written_at_once_without_a_task() -> None:
    async def scenario() -> None:
        connection = Recorded(limit=2)
        connection.send("one")
        assert connection.written == ["one"]  # before the loop ran anything else
        assert connection._sender is None and connection._outbox is None
        connection.send("fail")
        assert connection.dropped and not connection.overran
        connection.send("two")
        assert connection.written == ["one"]

    asyncio.run(scenario())


def test_a_delivery_that_waits_goes_on_in_order_and_counts_against_the_bound() -> None:
    async def scenario() -> None:
        connection = Recorded(limit=2)
        connection.gate = gate = asyncio.Event()
        connection.send("one")
        assert connection._sender is not None and connection.written == []
        connection.send("two")
        await asyncio.sleep(0)
        assert connection.written == []
        gate.set()
        await asyncio.sleep(0.01)
        assert connection.written == ["one", "two"]
        assert connection._sender is None and connection._outbox is None

        connection.gate = gate = asyncio.Event()
        connection.send("three")  # in flight, waiting
        connection.send("four")  # the outbox is full: "three" is still in it
        assert not connection.dropped
        connection.send("five")
        assert connection.dropped and connection.overran
        await asyncio.sleep(0.01)
        assert connection.closed == ["too slow: reconnect to catch up"]

    asyncio.run(scenario())


def test_stopping_a_client_cancels_a_delivery_that_waits() -> None:
    async def scenario() -> None:
        connection = Recorded(limit=2)
        connection.gate = asyncio.Event()
        connection.send("one")
        await asyncio.sleep(0)
        await connection.stop()
        assert connection._sender is None and connection.written == []

    asyncio.run(scenario())
