"""A quiz question through the server: the answer's time is what the server measured from the question's opening,
and the reveal closes voting so no answer comes after the right one was shown."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.models import Response
from tests.factories import Presenter, caught_up, join, respond, stored

DECK = """\
title: Quick check
activities:
  - kind: quiz
    title: Which PSEL standard is about equity?
    options: [Mission and vision, Ethics, Equity and cultural responsiveness, Curriculum]
    correct: [3]
    time_limit: 20
  - kind: quiz
    title: A leadership that is shared among many is called...
    accepted: [Distributed leadership]
"""


@pytest.fixture
def session(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    return presenter.start(DECK)


def payload_of(client: TestClient, activity_id: int) -> dict[str, Any]:
    rows = stored(client, select(Response).where(Response.activity_id == activity_id))
    assert len(rows) == 1
    return dict(rows[0].payload)


def test_an_answer_is_timed_by_the_server_from_when_the_question_was_shown(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    question = session["activities"][0]["id"]
    token = join(client, session["code"])
    presenter.control(session["id"], "goto", question)
    caught_up(client, session["id"])
    shown = time.monotonic()
    time.sleep(0.3)
    sent = respond(client, token, question, choice=["2"], elapsed=["0"])  # a phone claiming it answered at once
    waited = time.monotonic() - shown
    assert sent.status_code == 201, sent.text
    given = payload_of(client, question)
    assert given["choices"] == [2]
    assert 0.3 <= given["elapsed"] <= waited + 0.5  # the server's clock started at the goto, before `shown`
    assert presenter.tally(session["id"], question)["results"]["right"] == 1


def test_a_question_not_yet_shown_takes_no_answer(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    first, second = (a["id"] for a in session["activities"])
    presenter.control(session["id"], "goto", first)
    presenter.control(session["id"], "pace", pace="audience")  # the audience's pace: no question is "shown"
    caught_up(client, session["id"])
    token = join(client, session["code"])
    refused = respond(client, token, second, answer="distributed leadership")
    assert refused.status_code == 422
    assert refused.json()["detail"] == "This question has not started yet: wait for the presenter to show it."


def test_the_reveal_closes_voting_on_a_quiz_question(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    question = session["activities"][0]["id"]
    presenter.control(session["id"], "goto", question)
    revealed = presenter.control(session["id"], "reveal", question)["activities"][0]
    assert revealed["revealed"] is True and revealed["voting_open"] is False
    caught_up(client, session["id"])
    token = join(client, session["code"])
    refused = respond(client, token, question, choice=["2"])
    assert refused.status_code == 409 and refused.json()["detail"] == "Voting is closed for this activity."
