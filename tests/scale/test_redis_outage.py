"""Redis goes away mid-session: votes are still taken and stored; when it returns, the presenter on the other
worker catches up to the full tally by itself."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from tests.factories import eventually
from tests.scale.factories import (
    WAIT,
    Deployment,
    Session,
    acknowledged,
    answered,
    frame,
    phones,
    presenter_socket,
    token_hashes,
    vote,
)
from tests.services import in_thread

pytestmark = pytest.mark.scale
BEFORE, DURING, LATECOMERS = 10, 10, 5


def test_votes_are_stored_while_redis_is_down_and_the_presenter_catches_up_when_it_returns(
    deployment: Deployment, session: Session
) -> None:
    a, b = deployment.workers
    tokens = session.join(a, BEFORE + DURING)

    async def run() -> tuple[list[bool], list[str], int, str]:
        async with AsyncExitStack() as stack:
            presenter = await presenter_socket(stack, b, session)
            sockets = await phones(stack, a, session, tokens)
            for n, phone in enumerate(sockets[:BEFORE]):
                await vote(phone, session.poll, n % 3)
            acks = list(await asyncio.gather(*(acknowledged(phone, session.poll) for phone in sockets[:BEFORE])))
            await frame(presenter, answered(BEFORE))

            await asyncio.to_thread(deployment.redis.stop)
            latecomers = await asyncio.to_thread(session.join, a, LATECOMERS)  # joining needs no Redis either
            during = sockets[BEFORE:] + await phones(stack, a, session, latecomers)
            for n, phone in enumerate(during):
                await vote(phone, session.poll, n % 3)
            acks += await asyncio.gather(*(acknowledged(phone, session.poll) for phone in during))
            stored_while_down = len(await asyncio.to_thread(deployment.stored_choices, session.poll))

            await asyncio.to_thread(deployment.redis.start)
            caught_up = await frame(presenter, answered(BEFORE + DURING + LATECOMERS))
            return acks, latecomers, stored_while_down, caught_up

    acks, latecomers, stored_while_down, caught_up = in_thread(run)
    everyone = BEFORE + DURING + LATECOMERS
    assert acks == [True] * everyone
    assert stored_while_down == everyone
    assert f'id="results-{session.poll}"' in caught_up
    assert set(deployment.stored_choices(session.poll)) == token_hashes(tokens + latecomers)

    def agree() -> None:
        assert [session.respondents(worker, session.poll) for worker in (a, b)] == [everyone, everyone]

    eventually(agree, seconds=WAIT)
