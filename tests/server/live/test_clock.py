"""The answer clock: the server remembers when the room was shown an activity open for answers, by its own clock,
so a timed kind can measure how long each answer took (no phone's clock is trusted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.models import Activity, as_utc, utcnow
from server.sessions import elapsed_since_open
from tests.factories import Presenter, run, services_of

DECK = """\
title: Clocked
activities:
  - kind: poll
    title: First
    countdown: 5
    options: [Agree, Disagree]
  - kind: poll
    title: Second
    options: [Agree, Disagree]
"""


@pytest.fixture
def session(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    return presenter.start(DECK)


def opened_at(client: TestClient, activity_id: int) -> datetime | None:
    async def load() -> datetime | None:
        async with services_of(client).db() as db:
            activity = await db.get(Activity, activity_id)
        assert activity is not None
        return None if activity.opened_at is None else as_utc(activity.opened_at)

    return run(client, load)


def test_an_activity_never_shown_has_no_clock(client: TestClient, session: dict[str, Any]) -> None:
    first = session["activities"][0]["id"]
    assert opened_at(client, first) is None
    assert elapsed_since_open(Activity(session_id=1, position=0, kind="poll", title="x")) is None


def test_showing_an_open_activity_starts_its_clock_and_showing_it_again_does_not(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    first, second = (a["id"] for a in session["activities"])
    before = utcnow()
    presenter.control(session["id"], "goto", first)
    started = opened_at(client, first)
    assert started is not None and before <= started <= utcnow()
    assert opened_at(client, second) is None
    presenter.control(session["id"], "goto", first)  # already shown: the clock keeps running
    assert opened_at(client, first) == started
    presenter.control(session["id"], "next")
    assert opened_at(client, second) is not None


def test_a_closed_activity_shown_gets_its_clock_when_voting_opens(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    first = session["activities"][0]["id"]
    presenter.control(session["id"], "close", first)
    presenter.control(session["id"], "goto", first)
    assert opened_at(client, first) is None
    before = utcnow()
    presenter.control(session["id"], "open", first)
    started = opened_at(client, first)
    assert started is not None and started >= before
    presenter.control(session["id"], "open", first)  # already open: nothing restarts
    assert opened_at(client, first) == started


def test_a_countdown_restarts_the_clock(client: TestClient, presenter: Presenter, session: dict[str, Any]) -> None:
    first = session["activities"][0]["id"]
    presenter.control(session["id"], "goto", first)
    shown = opened_at(client, first)
    presenter.control(session["id"], "countdown", first)
    counted = opened_at(client, first)
    assert shown is not None and counted is not None and counted > shown


def test_a_reveal_leaves_voting_open_for_a_kind_that_does_not_close_on_reveal(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    first = session["activities"][0]["id"]
    revealed = presenter.control(session["id"], "reveal", first)["activities"][0]
    assert revealed["revealed"] is True and revealed["voting_open"] is True
