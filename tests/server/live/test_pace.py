"""Audience-paced sessions: each participant steps through the activities, the presenter watches completion."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from activities import registry
from server.decks import DeckInvalid, parse_deck
from server.models import Pace
from tests.factories import Presenter, caught_up, join, login, receive_until, respond, root_id

SURVEY = """\
title: Survey
pace: audience
activities:
  - kind: poll
    title: First question
    options: [Yes, No]
  - kind: scale
    title: Second question
    statements: [I listen in stereo]
    min: 1
    max: 3
    labels: [Not yet, Sometimes, Routinely]
  - kind: open
    title: Third question
"""


@pytest.fixture
def survey(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    session = presenter.start(SURVEY)
    caught_up(client, session["id"])
    return session


def ids(session: dict[str, Any]) -> list[int]:
    return [int(a["id"]) for a in session["activities"]]


def page(client: TestClient, session: dict[str, Any], token: str, at: int | str | None = None) -> str:
    client.cookies.delete("handsup_participant")
    client.cookies.set("handsup_participant", token)
    response = client.get(f"/{session['code']}", params={"at": at} if at is not None else None)
    assert response.status_code == 200, response.text
    return response.text


def heading(html: str) -> str:
    match = re.search(r'<h1 id="title-\d+">([^<]+)</h1>', html)
    return match.group(1) if match else ""


def test_a_deck_can_start_at_the_audiences_pace() -> None:
    assert parse_deck(SURVEY, registry).pace == Pace.audience
    assert parse_deck(SURVEY.replace("pace: audience\n", ""), registry).pace == Pace.presenter
    with pytest.raises(DeckInvalid, match=r"line 2: pace: 'presenter' or 'audience'"):
        parse_deck(SURVEY.replace("pace: audience", "pace: [fast]"), registry)


def test_each_participant_starts_at_their_first_unanswered_activity(
    client: TestClient, presenter: Presenter, survey: dict[str, Any]
) -> None:
    first, second, _ = ids(survey)
    ana, ben = join(client, survey["code"]), join(client, survey["code"])
    assert survey["pace"] == "audience" and survey["current_activity_id"] is None
    assert heading(page(client, survey, ana)) == "First question"
    assert respond(client, ana, first, choice="0").status_code == 201
    html = page(client, survey, ana)
    assert heading(html) == "Second question"
    assert "1 of 3 answered" in html
    assert heading(page(client, survey, ben)) == "First question"
    # Going back is a link away, and the earlier answer is there to change.
    back = page(client, survey, ana, at=first)
    assert heading(back) == "First question" and re.search(r'value="0"\s+checked', back)


def test_answers_to_any_activity_are_taken_at_the_audiences_pace_only(
    client: TestClient, presenter: Presenter, survey: dict[str, Any]
) -> None:
    _, _, third = ids(survey)
    token = join(client, survey["code"])
    assert respond(client, token, third, text="Listening").status_code == 201
    presenter.control(survey["id"], "pace", pace="presenter")
    caught_up(client, survey["id"])
    refused = respond(client, token, third, text="Listening more")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "The presenter has not started an activity yet."


def test_a_participant_who_answered_everything_is_told_they_are_done(
    client: TestClient, presenter: Presenter, survey: dict[str, Any]
) -> None:
    first, second, third = ids(survey)
    token = join(client, survey["code"])
    assert respond(client, token, first, choice="1").status_code == 201
    respond(client, token, second, **{"statement-0": "2"})
    respond(client, token, third, text="More time to think")
    html = page(client, survey, token)
    assert "All done, thank you!" in html and "3 of 3 answered" in html
    login(client, presenter.user.email)
    watching = client.get(f"/present/{survey['id']}").text
    assert "<strong>1</strong> of 1 have answered every open activity" in watching
    assert "Back to presenter pace" in watching


def test_the_presenter_switches_the_pace_and_phones_follow(
    client: TestClient, presenter: Presenter, survey: dict[str, Any]
) -> None:
    first, second, _ = ids(survey)
    presenter.control(survey["id"], "pace", pace="presenter")
    presenter.control(survey["id"], "goto", second)
    caught_up(client, survey["id"])
    token = join(client, survey["code"])
    headers = {"cookie": f"handsup_participant={token}"}
    with client.websocket_connect(f"/ws/participant/{survey['code']}", headers=headers) as phone:
        stage = receive_until(phone, lambda frame: root_id(frame) == "stage")
        assert heading(stage) == "Second question" and "answered</p>" not in stage
        presenter.control(survey["id"], "pace", pace="audience")
        stage = receive_until(phone, lambda frame: root_id(frame) == "stage")
        assert heading(stage) == "First question" and "0 of 3 answered" in stage
        # At their own pace, a phone stays where it is while the presenter moves on.
        phone.send_text(json.dumps({"activity": str(first), "choice": "0"}))
        receive_until(phone, lambda frame: root_id(frame) == f"status-{first}")
        presenter.control(survey["id"], "goto", second)
        presenter.control(survey["id"], "close", second)
        stage = receive_until(phone, lambda frame: root_id(frame) == "stage")
        assert heading(stage) == "First question"


@pytest.mark.parametrize("value", ["", "fast", "Audience"])
def test_an_unknown_pace_is_refused(
    client: TestClient, presenter: Presenter, survey: dict[str, Any], value: str
) -> None:
    response = client.post(
        f"/api/v1/sessions/{survey['id']}/control",
        headers=presenter.headers,
        json={"action": "pace", "fields": {"pace": value}},
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "Choose who sets the pace: presenter or audience."
