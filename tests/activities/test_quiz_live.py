"""A quiz question through the server: the answer's time is what the server measured from the question's opening,
and the reveal closes voting so no answer comes after the right one was shown."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.models import Response, Session
from tests.factories import Presenter, caught_up, join, respond, run, services_of, stored

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


def phone_page(client: TestClient, code: str, token: str) -> str:
    kept = client.cookies
    client.cookies = type(kept)()  # this participant's browser: their cookie only
    client.cookies.set("handsup_participant", token)
    try:
        return client.get(f"/{code}").text
    finally:
        client.cookies = kept


def test_after_the_reveal_each_phone_sees_right_or_wrong_its_points_and_its_rank(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    question = session["activities"][0]["id"]
    presenter.control(session["id"], "goto", question)
    caught_up(client, session["id"])
    fast, slow, wrong, silent = (join(client, session["code"]) for _ in range(4))
    for token, choice in ((fast, "2"), (slow, "2"), (wrong, "0")):
        assert respond(client, token, question, choice=[choice]).status_code == 201
        time.sleep(0.05)
    before = phone_page(client, session["code"], fast)
    assert "Right!" not in before and "Rank" not in before  # nothing is given away before the reveal
    presenter.control(session["id"], "reveal", question)
    caught_up(client, session["id"])
    rows = stored(client, select(Response).where(Response.activity_id == question))
    elapsed = sorted(row.payload["elapsed"] for row in rows if row.payload["choices"] == [2])
    expected = [round(1000 * (1 - t / 40)) for t in elapsed]  # the stated formula, limit 20
    fast_page = phone_page(client, session["code"], fast)
    assert "Right!" in fast_page and f"+{expected[0]} points" in fast_page and "Rank 1 of 3" in fast_page
    slow_page = phone_page(client, session["code"], slow)
    assert f"+{expected[1]} points" in slow_page and "Rank 2 of 3" in slow_page
    wrong_page = phone_page(client, session["code"], wrong)
    assert "Not this time." in wrong_page and "+0 points" in wrong_page and "Rank 3 of 3" in wrong_page
    assert "You did not answer this one." in phone_page(client, session["code"], silent)


def test_the_standings_are_rebuilt_the_same_from_the_database_when_a_worker_reopens_the_room(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    first, second = (a["id"] for a in session["activities"])
    people = [join(client, session["code"]) for _ in range(4)]
    presenter.control(session["id"], "goto", first)
    for token, choice in zip(people, ["2", "2", "1", "2"], strict=True):
        assert respond(client, token, first, choice=[choice]).status_code == 201
    presenter.control(session["id"], "reveal", first)
    presenter.control(session["id"], "goto", second)
    for token, typed in zip(people, ["distributed leadrship", "no idea", "Distributed Leadership!", ""], strict=True):
        if typed:
            assert respond(client, token, second, answer=typed).status_code == 201
    presenter.control(session["id"], "reveal", second)
    caught_up(client, session["id"])

    # An independent count from the stored answers: the stated formula, each question's limit (20 and 20).
    totals: dict[int, int] = {}
    for row in stored(client, select(Response)):
        payload = row.payload
        right = payload["choices"] == [2] if row.activity_id == first else payload["answer"] != "no idea"
        points = round(1000 * (1 - payload["elapsed"] / 40)) if right and payload["elapsed"] <= 20 else 0
        totals[row.participant_id] = totals.get(row.participant_id, 0) + points

    hub = services_of(client).hub

    async def reopened() -> tuple[Any, Any]:
        before = (await hub.room(session["id"])).standings()
        await hub.forget(session["id"])  # as a worker that restarts, or another worker that opens the room
        after = (await hub.room(session["id"])).standings()
        return before, after

    before, after = run(client, reopened)
    assert before.rows == after.rows
    assert {row.participant_id: row.points for row in after.rows} == totals
    assert [row.points for row in after.rows] == sorted(totals.values(), reverse=True)


def test_with_the_streak_bonus_on_the_room_adds_it_in_deck_order(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    first, second = (a["id"] for a in session["activities"])
    always, once = join(client, session["code"]), join(client, session["code"])
    rounds: list[tuple[int, dict[str, dict[str, Any]]]] = [
        (first, {always: {"choice": ["2"]}, once: {"choice": ["2"]}}),
        (second, {always: {"answer": "Distributed leadership"}, once: {"answer": "no"}}),
    ]
    for question, answers in rounds:
        presenter.control(session["id"], "goto", question)
        for token, fields in answers.items():
            assert respond(client, token, question, **fields).status_code == 201
        presenter.control(session["id"], "reveal", question)
    caught_up(client, session["id"])
    services = services_of(client)

    async def with_streak() -> Any:
        async with services.db() as db, db.begin():
            stored_session = await db.get(Session, session["id"])
            assert stored_session is not None
            stored_session.streak = True
        await services.hub.forget(session["id"])  # the room is rebuilt with the session's option
        return (await services.hub.room(session["id"])).standings()

    board = run(client, with_streak)
    points = {row.participant_id: row for row in board.rows}
    assert sorted((row.bonus, row.run) for row in points.values()) == [(0, 0), (100, 2)]
    best = board.rows[0]
    own = [row.payload for row in stored(client, select(Response)) if row.participant_id == best.participant_id]
    assert best.points == sum(round(1000 * (1 - answer["elapsed"] / 40)) for answer in own) + 100


def test_once_every_question_is_revealed_the_projector_shows_the_podium_and_phones_their_final_rank(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    first, second = (a["id"] for a in session["activities"])
    people = [join(client, session["code"]) for _ in range(5)]
    presenter.control(session["id"], "goto", first)
    for token in people:
        assert respond(client, token, first, choice=["2"]).status_code == 201
        time.sleep(0.1)  # each a little slower: five different totals (2.5 points apart at a 20 s limit)
    presenter.control(session["id"], "reveal", first)
    caught_up(client, session["id"])
    projector = client.get(session["projector_url"]).text
    assert "Leaderboard" in projector and "Final standings" not in projector and 'class="podium"' not in projector
    assert "Rank 1 of 5" in phone_page(client, session["code"], people[0])

    presenter.control(session["id"], "goto", second)
    presenter.control(session["id"], "reveal", second)  # no one answers the last: the standings stay as they were
    caught_up(client, session["id"])
    projector = client.get(session["projector_url"]).text
    assert "Final standings" in projector
    podium = projector.split('<ol class="podium">')[1].split("</ol>")[0]
    rest = projector.split('<ol class="podium">')[1].split("</ol>")[1]
    assert [podium.count(f"step-{n}") for n in (1, 2, 3)] == [1, 1, 1]
    assert rest.count('class="quiz-leader') == 2  # fourth and fifth below the podium
    assert "Final rank 1 of 5" in phone_page(client, session["code"], people[0])
    assert "Final rank 5 of 5" in phone_page(client, session["code"], people[4])
