"""Countdowns: the presenter starts one, voting closes by itself at zero, and late answers are refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from activities import registry
from server.decks import DeckInvalid, parse_deck
from server.models import Activity, utcnow
from tests.factories import Presenter, caught_up, eventually, join, respond, run, services_of

DECK = """\
title: Timed
activities:
  - kind: poll
    title: Quick vote
    countdown: 5
    options: [Agree, Disagree]
  - kind: poll
    title: Untimed
    options: [Agree, Disagree]
"""


@pytest.fixture
def session(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    session = presenter.start(DECK)
    presenter.control(session["id"], "goto", session["activities"][0]["id"])
    caught_up(client, session["id"])
    return session


def activity_row(client: TestClient, activity_id: int) -> Activity:
    async def load() -> Activity:
        async with services_of(client).db() as db:
            activity = await db.get(Activity, activity_id)
        assert activity is not None
        return activity

    return run(client, load)


def test_a_deck_countdown_is_checked_and_pointed_at() -> None:
    assert parse_deck(DECK, registry).activities[0].countdown == 5
    with pytest.raises(DeckInvalid, match=r"line 5: activities\[0\]\.countdown: seconds, from 5 to 3600"):
        parse_deck(DECK.replace("countdown: 5", "countdown: 2"), registry)
    with pytest.raises(DeckInvalid, match=r"activities\[0\]\.countdown: seconds"):
        parse_deck(DECK.replace("countdown: 5", "countdown: soon"), registry)


def test_starting_the_countdown_opens_voting_with_a_deadline(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = session["activities"][0]["id"]
    presenter.control(session["id"], "close", poll)
    started = presenter.control(session["id"], "countdown", poll)["activities"][0]
    assert started["voting_open"] is True and started["countdown_seconds"] == 5
    assert started["closes_at"] is not None


def test_voting_closes_by_itself_when_the_countdown_runs_out(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = session["activities"][0]["id"]
    presenter.control(session["id"], "countdown", poll)

    def closed() -> None:
        row = activity_row(client, poll)
        assert row.voting_open is False and row.closes_at is None

    eventually(closed, seconds=15)


def test_an_answer_after_the_deadline_is_refused_even_before_the_timer_fires(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = session["activities"][0]["id"]
    token = join(client, session["code"])

    async def run_out() -> None:  # this worker's view: the deadline has passed, its timer has not fired yet
        current = services_of(client).hub.rooms[session["id"]].snapshot.current
        assert current is not None
        current.closes_at = utcnow() - timedelta(seconds=1)

    run(client, run_out)
    refused = respond(client, token, poll, choice=["0"])
    assert refused.status_code == 409 and refused.json()["detail"] == "Time is up: voting has closed."


def test_opening_or_closing_by_hand_stops_a_countdown(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = session["activities"][0]["id"]
    presenter.control(session["id"], "countdown", poll)
    reopened = presenter.control(session["id"], "open", poll)["activities"][0]
    assert reopened["voting_open"] is True and reopened["closes_at"] is None


def test_a_countdown_needs_a_length(client: TestClient, presenter: Presenter, session: dict[str, Any]) -> None:
    untimed = session["activities"][1]["id"]
    response = client.post(
        f"/api/v1/sessions/{session['id']}/control",
        json={"action": "countdown", "activity_id": untimed},
        headers=presenter.headers,
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "Give the countdown in seconds, from 5 to 3600."
    given = presenter.control(session["id"], "countdown", untimed, seconds="30")["activities"][1]
    assert given["voting_open"] is True and given["closes_at"] is not None
