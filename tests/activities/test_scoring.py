"""Points for right answers, the same for every kind that scores (activities/scoring.py): a quiz question, a
guess-the-number with its right answer, a pin with its correct areas. Each answer is timed by the server; the
session's standings add them up, and each phone and the projector see them once revealed."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import select
from starlette.testclient import TestClient

from activities import registry
from activities.scoring import timed_points
from server.decks import parse_deck
from server.models import Participant, Response
from server.sessions import hash_token
from tests.activities.test_quiz_live import phone_page
from tests.factories import DECK as EXAMPLE_DECK
from tests.factories import Presenter, caught_up, join, respond, stored

MEDIA = "c" * 64 + ".png"
DECK = f"""\
title: Scored three ways
activities:
  - kind: quiz
    title: Which PSEL standard is about equity?
    options: [Mission and vision, Ethics, Equity and cultural responsiveness, Curriculum]
    correct: [3]
  - kind: number
    title: How many PSEL standards are there?
    min: 1
    max: 20
    correct: 10
    tolerance: 1
    points: true
    time_limit: 30
  - kind: pin
    title: Where are decisions made?
    image: {{media: {MEDIA}, alt: A floor plan}}
    areas: [{{label: Principal's office, x: 0.1, y: 0.1, width: 0.3, height: 0.2}}]
    points: true
  - kind: number
    title: How many teachers are in your school?
    min: 0
    max: 500
"""


def test_the_formula_is_stated_once() -> None:
    assert [timed_points(True, t, 20) for t in (0, 10, 20, 20.001)] == [1000, 750, 500, 0]
    assert timed_points(False, 1, 20) == 0 and timed_points(True, None, 20) == 0


def test_a_number_or_pin_scores_only_with_a_right_answer_to_judge_by() -> None:
    with pytest.raises(ValidationError, match="give the right answer"):
        registry["number"].parse_config({"min": 0, "max": 9, "points": True})
    with pytest.raises(ValidationError, match="correct areas"):
        registry["pin"].parse_config({"image": {"media": MEDIA, "alt": "A plan"}, "points": True})
    unscored = registry["number"].parse_config({"min": 0, "max": 9, "correct": 3})
    assert not registry["number"].scored(unscored) and not registry["number"].closes_on_reveal(unscored)


def test_a_guess_and_a_pin_with_points_join_the_quiz_in_the_standings(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(DECK)
    quiz, number, pin, unscored = (a["id"] for a in session["activities"])
    right, close, wrong = (join(client, session["code"]) for _ in range(3))
    rounds: list[tuple[int, dict[str, dict[str, Any]]]] = [
        (quiz, {right: {"choice": ["2"]}, close: {"choice": ["2"]}, wrong: {"choice": ["0"]}}),
        (number, {right: {"value": "10"}, close: {"value": "11"}, wrong: {"value": "15"}}),  # tolerance 1
        (pin, {right: {"x": "20", "y": "15"}, close: {"x": "90", "y": "90"}, wrong: {"x": "39", "y": "29"}}),
    ]
    for activity, answers in rounds:
        presenter.control(session["id"], "goto", activity)
        for token, fields in answers.items():
            assert respond(client, token, activity, **fields).status_code == 201
        presenter.control(session["id"], "reveal", activity)
        late = respond(client, right, activity, **answers[right])
        assert late.status_code == 409  # the reveal gave the answer away: voting closed
    # An unscored activity takes no clock and adds nothing, and its reveal leaves voting open.
    presenter.control(session["id"], "goto", unscored)
    presenter.control(session["id"], "reveal", unscored)
    assert respond(client, right, unscored, value="30").status_code == 201
    caught_up(client, session["id"])

    # An independent count from the stored answers, by the stated formula.
    judged = {quiz: lambda p: p["choices"] == [2], number: lambda p: abs(p["value"] - 10) <= 1,
              pin: lambda p: 0.1 <= p["x"] <= 0.4 and 0.1 <= p["y"] <= 0.3}  # fmt: skip
    limits = {quiz: 20, number: 30, pin: 20}
    totals: dict[int, int] = {}
    for row in stored(client, select(Response)):
        if row.activity_id in judged:
            points = timed_points(judged[row.activity_id](row.payload), row.payload["elapsed"], limits[row.activity_id])
            totals[row.participant_id] = totals.get(row.participant_id, 0) + points
        else:
            assert row.payload["elapsed"] is None  # no clock for an unscored guess
    pid = {
        token: stored(client, select(Participant).where(Participant.token_hash == hash_token(token)))[0].id
        for token in (right, close, wrong)
    }
    # Each right answer within its limit scores 500 to 1000 (how many depends on how fast this machine answered).
    assert len(totals) == 3 and 1500 <= totals[pid[right]] <= 3000  # three right
    assert 1000 <= totals[pid[close]] <= 2000 and 500 <= totals[pid[wrong]] <= 1000  # two right; only the pin
    place = 1 + sum(total > totals[pid[close]] for total in totals.values())

    page = phone_page(client, session["code"], close)
    assert "points in all" not in page  # the unscored guess is showing: no standings on it
    presenter.control(session["id"], "goto", pin)
    caught_up(client, session["id"])
    page = phone_page(client, session["code"], close)
    assert "Not this time." in page and "+0 points" in page and f"{totals[pid[close]]} points in all" in page
    assert f"Final rank {place} of 3" in page  # every scored activity is revealed
    projector = client.get(session["projector_url"]).text
    assert "Final standings" in projector and projector.count("step step-") == 3


def test_the_shipped_closing_quiz_scores_five_questions_in_two_languages() -> None:
    deck = parse_deck((EXAMPLE_DECK.parent / "closing-quiz.yaml").read_text(encoding="utf-8"), registry)
    scored = [a for a in deck.activities if registry[a.kind].scored(registry[a.kind].parse_config(a.config))]
    assert [a.kind for a in scored] == ["quiz", "quiz", "quiz", "number", "quiz"]
    assert all(a.texts.get("es") for a in deck.activities)  # every activity speaks Spanish too
