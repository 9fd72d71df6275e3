"""The write-behind queue: group commits, acknowledged only after commit, (epoch, version) order, back-pressure."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from activities.testing import seed_session
from server.backplane import MemoryBackplane, session_channel
from server.db import create_engine, session_factory, transaction, upgrade
from server.live.writer import ResponseWriter, VersionClock, WriterBusy, WriterFailed
from server.models import Activity, Response

pytestmark = [pytest.mark.anyio, pytest.mark.postgresql]
PEOPLE = 20


@dataclass
class World:
    """A migrated database with one session, one poll and PEOPLE participants."""

    engine: AsyncEngine
    backplane: MemoryBackplane
    session_id: int
    activity_id: int
    people: list[int]

    def writer(self, **limits: Any) -> ResponseWriter:
        options = {"interval_ms": 1, "batch_limit": 1000, "queue_limit": 1000, **limits}
        return ResponseWriter(self.engine, self.backplane, **options)

    async def submit(self, writer: ResponseWriter, person: int, choice: int, epoch: int = 0) -> Any:
        return await writer.submit(self.session_id, self.activity_id, self.people[person], epoch, {"choices": [choice]})

    async def rows(self) -> dict[int, tuple[int, int, dict[str, Any]]]:
        """participant id -> (epoch, version, payload), read on a connection of its own."""
        async with session_factory(self.engine)() as db:
            found = (await db.exec(select(Response).where(Response.activity_id == self.activity_id))).all()
        return {r.participant_id: (r.epoch, r.version, r.payload) for r in found}


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url)
    async with transaction(session_factory(engine)) as db:
        session_id, ids = await seed_session(db, PEOPLE)
        activity = Activity(
            session_id=session_id, position=0, kind="poll", title="Poll", config={"options": ["a", "b"]}
        )
        db.add(activity)
        await db.flush()
        assert activity.id is not None
    yield World(engine, MemoryBackplane(), session_id, activity.id, ids)
    await engine.dispose()


@contextlib.asynccontextmanager
async def running(writer: ResponseWriter) -> AsyncIterator[None]:
    task = asyncio.create_task(writer.run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def settle() -> None:
    """Let every ready task run a step (without a writer loop, nothing can complete)."""
    for _ in range(10):
        await asyncio.sleep(0)


def ahead_of_time(writer: ResponseWriter) -> ResponseWriter:
    """A writer whose clock runs far ahead, like another worker process on a box with a fast clock."""
    writer._clock._last = 10**17
    return writer


async def test_a_response_is_in_the_database_when_submit_returns(world: World) -> None:
    writer = world.writer()
    async with running(writer):
        event = await world.submit(writer, 0, 1)
        assert await world.rows() == {world.people[0]: (0, event.version, {"choices": [1]})}


async def test_submit_does_not_return_before_the_commit(world: World) -> None:
    writer = world.writer()
    waiting = asyncio.create_task(world.submit(writer, 0, 1))
    await settle()
    assert not waiting.done()
    assert writer.depth == 1
    assert await world.rows() == {}
    async with running(writer):
        event = await waiting
    assert await world.rows() == {world.people[0]: (0, event.version, {"choices": [1]})}


async def test_concurrent_submits_are_committed_in_fewer_batches_than_submissions(world: World) -> None:
    writer = world.writer()
    async with running(writer):
        events = await asyncio.gather(*(world.submit(writer, person, person % 2) for person in range(PEOPLE)))
    assert writer.committed == PEOPLE
    assert 1 <= writer.batches < PEOPLE
    assert len(await world.rows()) == PEOPLE
    assert len({event.version for event in events}) == PEOPLE


async def test_a_batch_never_holds_more_than_the_batch_limit(world: World) -> None:
    writer = world.writer(batch_limit=8)
    waiting = [asyncio.create_task(world.submit(writer, person, 0)) for person in range(PEOPLE)]
    await settle()
    async with running(writer):
        await asyncio.gather(*waiting)
    assert (writer.committed, writer.batches) == (PEOPLE, 3)


async def test_a_newer_answer_replaces_the_stored_one(world: World) -> None:
    writer = world.writer()
    async with running(writer):
        await world.submit(writer, 0, 0)
        newer = await world.submit(writer, 0, 1)
    assert await world.rows() == {world.people[0]: (0, newer.version, {"choices": [1]})}


async def test_two_answers_in_one_batch_keep_the_later(world: World) -> None:
    writer = world.writer()
    first = asyncio.create_task(world.submit(writer, 0, 0))
    second = asyncio.create_task(world.submit(writer, 0, 1))
    await settle()
    async with running(writer):
        older, newer = await asyncio.gather(first, second)
    assert older.version < newer.version
    assert writer.batches == 1
    assert await world.rows() == {world.people[0]: (0, newer.version, {"choices": [1]})}


async def test_an_older_version_does_not_replace_a_newer_one(world: World) -> None:
    fast_clock, writer = ahead_of_time(world.writer()), world.writer()
    async with running(fast_clock), running(writer):
        kept = await world.submit(fast_clock, 0, 0)
        late = await world.submit(writer, 0, 1)
    assert late.version < kept.version
    assert await world.rows() == {world.people[0]: (0, kept.version, {"choices": [0]})}


async def test_a_newer_epoch_replaces_even_with_a_lower_version(world: World) -> None:
    fast_clock, writer = ahead_of_time(world.writer()), world.writer()
    async with running(fast_clock), running(writer):
        await world.submit(fast_clock, 0, 0, epoch=0)
        after_reset = await world.submit(writer, 0, 1, epoch=1)
    assert await world.rows() == {world.people[0]: (1, after_reset.version, {"choices": [1]})}


async def test_an_answer_from_before_a_reset_does_not_replace_one_from_after(world: World) -> None:
    writer = world.writer()
    async with running(writer):
        after_reset = await world.submit(writer, 0, 1, epoch=1)
        await world.submit(writer, 0, 0, epoch=0)
    assert await world.rows() == {world.people[0]: (1, after_reset.version, {"choices": [1]})}


async def test_a_full_queue_refuses_with_writer_busy_and_stores_nothing_of_it(world: World) -> None:
    writer = world.writer(queue_limit=2)
    queued = [asyncio.create_task(world.submit(writer, person, 0)) for person in range(2)]
    await settle()
    with pytest.raises(WriterBusy):
        await world.submit(writer, 2, 0)
    async with running(writer):
        await asyncio.gather(*queued)
    assert set(await world.rows()) == {world.people[0], world.people[1]}
    assert writer.committed == 2


async def test_a_refused_group_stores_nothing_and_the_writer_carries_on(world: World) -> None:
    writer = world.writer()
    good = asyncio.create_task(world.submit(writer, 0, 0))
    stranger = asyncio.create_task(writer.submit(world.session_id, world.activity_id, 999_999, 0, {"choices": [0]}))
    await settle()
    async with running(writer):
        outcomes = await asyncio.gather(good, stranger, return_exceptions=True)
        assert all(isinstance(outcome, WriterFailed) for outcome in outcomes)
        assert await world.rows() == {}
        assert writer.failed_commits == 1 and writer.committed == 0
        later = await world.submit(writer, 1, 1)
    assert await world.rows() == {world.people[1]: (0, later.version, {"choices": [1]})}


async def test_a_submitter_that_stops_waiting_still_has_its_response_committed(world: World) -> None:
    """A phone that goes away while its answer waits for the commit: the answer is stored with its group (it was
    taken), the others of the group are acknowledged, and the writer carries on."""
    writer = world.writer()
    gone = asyncio.create_task(world.submit(writer, 0, 1))
    staying = asyncio.create_task(world.submit(writer, 1, 0))
    await settle()
    gone.cancel()
    async with world.backplane.subscribe(session_channel(world.session_id)) as subscription, running(writer):
        kept = await staying
        message = await subscription.get()
        later = await world.submit(writer, 2, 1)
    assert gone.cancelled()
    rows = await world.rows()
    assert rows[world.people[0]][2] == {"choices": [1]} and rows[world.people[1]] == (0, kept.version, {"choices": [0]})
    assert rows[world.people[2]] == (0, later.version, {"choices": [1]})
    assert [item["participant"] for item in message["items"]] == world.people[:2]
    assert writer.committed == 3


async def test_committed_responses_are_published_on_the_sessions_channel(world: World) -> None:
    writer = world.writer()
    async with world.backplane.subscribe(session_channel(world.session_id)) as subscription, running(writer):
        event = await world.submit(writer, 3, 1)
        message = await subscription.get()
    assert message == {"type": "responses", "items": [event.to_json()]}


async def test_a_group_is_published_as_one_message(world: World) -> None:
    writer = world.writer()
    waiting = [asyncio.create_task(world.submit(writer, person, 0)) for person in range(5)]
    await settle()
    async with world.backplane.subscribe(session_channel(world.session_id)) as subscription, running(writer):
        events = await asyncio.gather(*waiting)
        message = await subscription.get()
    assert message["items"] == [event.to_json() for event in events]


async def test_drain_commits_what_is_queued(world: World) -> None:
    writer = world.writer()
    waiting = [asyncio.create_task(world.submit(writer, person, 1)) for person in range(3)]
    await settle()
    await writer.drain()
    await asyncio.gather(*waiting)
    assert len(await world.rows()) == 3
    assert writer.depth == 0


def test_version_clock_always_moves_forward() -> None:
    clock = VersionClock()
    versions = [clock.next() for _ in range(10_000)]
    assert all(a < b for a, b in itertools.pairwise(versions))
