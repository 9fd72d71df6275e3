"""One participant's answers are taken one at a time (AnswerLocks): others are not held up, and nothing is kept
once nobody holds or awaits a participant's turn, even when a waiter is cancelled."""

from __future__ import annotations

import asyncio

import pytest

from server.live.room import AnswerLocks

pytestmark = pytest.mark.anyio


async def test_one_participants_answers_run_one_after_the_other() -> None:
    locks, order = AnswerLocks(), []

    async def answer(participant: int, name: str) -> None:
        async with locks.hold(participant):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(answer(1, "a"), answer(1, "b"), answer(1, "c"))
    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    assert locks._held == {}


async def test_other_participants_are_not_held_up() -> None:
    locks = AnswerLocks()
    async with locks.hold(1):
        async with asyncio.timeout(1):
            async with locks.hold(2):
                assert set(locks._held) == {1, 2}
    assert locks._held == {}


async def test_a_cancelled_waiter_leaves_nothing_behind_and_the_next_one_gets_its_turn() -> None:
    locks, entered = AnswerLocks(), []

    async def answer(name: str) -> None:
        async with locks.hold(7):
            entered.append(name)

    async with locks.hold(7):
        waiting = asyncio.create_task(answer("cancelled"))
        after = asyncio.create_task(answer("after"))
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.sleep(0)
        queue = locks._held[7]
        assert queue is not None and len(queue) == 1  # the cancelled one waits no more; "after" still does
    await after
    assert waiting.cancelled() and entered == ["after"] and locks._held == {}


async def test_a_waiter_cancelled_as_it_is_handed_the_turn_passes_it_on() -> None:
    locks, entered = AnswerLocks(), []

    async def answer(name: str) -> None:
        async with locks.hold(7):
            entered.append(name)

    holder = locks.hold(7)
    await holder.__aenter__()
    handed = asyncio.create_task(answer("handed"))
    after = asyncio.create_task(answer("after"))
    await asyncio.sleep(0)
    await holder.__aexit__(None, None, None)  # the turn goes to "handed", which has not run yet
    handed.cancel()
    async with asyncio.timeout(1):
        await after
    assert handed.cancelled() and entered == ["after"] and locks._held == {}


async def test_an_uncontended_turn_makes_no_queue() -> None:
    locks = AnswerLocks()
    async with locks.hold(5):
        assert locks._held == {5: None}
    assert locks._held == {}


async def test_an_error_inside_a_turn_releases_it() -> None:
    locks = AnswerLocks()
    with pytest.raises(ValueError):
        async with locks.hold(3):
            raise ValueError("refused")
    async with asyncio.timeout(1):
        async with locks.hold(3):
            pass
    assert locks._held == {}
