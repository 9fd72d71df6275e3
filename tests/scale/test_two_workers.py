"""Two workers on one PostgreSQL and one Redis: phones vote on one, the presenter watches on the other."""

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
PEOPLE = 40


def test_the_presenter_on_one_worker_sees_every_vote_cast_on_the_other(
    deployment: Deployment, session: Session
) -> None:
    a, b = deployment.workers
    tokens = session.join(a, PEOPLE)

    async def run() -> tuple[list[bool], str]:
        async with AsyncExitStack() as stack:
            presenter = await presenter_socket(stack, b, session)
            sockets = await phones(stack, a, session, tokens)
            for n, phone in enumerate(sockets):
                await vote(phone, session.poll, n % 3)
            acks = await asyncio.gather(*(acknowledged(phone, session.poll) for phone in sockets))
            return list(acks), await frame(presenter, answered(PEOPLE))

    acks, seen = in_thread(run)
    assert all(acks)
    assert f'id="results-{session.poll}"' in seen
    stored = deployment.stored_choices(session.poll)
    assert set(stored) == token_hashes(tokens)
    counts = [sum(choices == [option] for choices in stored.values()) for option in range(3)]
    assert counts == [14, 13, 13]

    def agree() -> None:
        for worker in (a, b):
            tally = session.tally(worker, session.poll)
            assert tally["respondents"] == PEOPLE
            assert [option["count"] for option in tally["results"]["options"]] == counts

    eventually(agree, seconds=WAIT)
