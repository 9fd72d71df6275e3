"""The presenter's JSON API (server/routes/presenter.py api_router): starting, reading and running sessions, tallies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from activities import registry
from server.decks import parse_deck
from server.models import Activity, Role, Session
from tests.factories import (
    DECK,
    TWO_QUESTIONS,
    Presenter,
    api_token,
    caught_up,
    eventually,
    join,
    make_user,
    respond,
    stored,
)
from tests.server.routes.factories import cloud_of, poll_of, problem

BROKEN_DECK = """\
title: Broken
activities:
  - kind: trivia
    title: A
  - kind: poll
    title: B
    options: [only one]
"""

KNOWN = ", ".join(registry.names())  # the unknown-kind message lists every kind there is


def test_create_session_by_deck_slug(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start()
    assert re.fullmatch(r"\d{6}", session["code"])
    assert session["title"] == "Transforming Schools Through Distributed Leadership"
    assert session["state"] == "live" and session["current_activity_id"] is None
    assert session["join_url"] == f"http://testserver/{session['code']}"
    assert session["qr_svg_url"] == f"http://testserver/{session['code']}/qr.svg"
    assert re.fullmatch(r"http://testserver/projector/[\w-]{16,64}", session["projector_url"])
    assert [a["kind"] for a in session["activities"]][:2] == ["wordcloud", "poll"]
    assert len(session["activities"]) == len(parse_deck(DECK.read_text(), registry).activities)
    first = session["activities"][0]
    assert (first["position"], first["voting_open"], first["revealed"], first["results"]) == (0, True, False, "live")


def test_create_session_by_deck_id_with_a_title(client: TestClient, presenter: Presenter) -> None:
    decks = client.get("/api/v1/decks", headers=presenter.headers).json()
    [deck] = [one for one in decks if one["slug"] == "distributed-leadership"]
    response = client.post(
        "/api/v1/sessions", json={"deck_id": deck["id"], "title": "Oakland, April 27"}, headers=presenter.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "Oakland, April 27"


def test_create_session_from_inline_deck_yaml(presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    assert session["title"] == "Two questions"
    assert [(a["kind"], a["title"]) for a in session["activities"]] == [
        ("poll", "Where does the week go?"),
        ("wordcloud", "Three words"),
    ]
    assert session["activities"][0]["config"] == {
        "options": ["Fires", "Maintenance", "Improvement"],
        "multiple": False,
        "max_choices": None,
    }


@pytest.mark.parametrize("media_type", ["application/yaml", "application/x-yaml", "text/yaml; charset=utf-8"])
def test_create_session_from_a_raw_yaml_body(client: TestClient, presenter: Presenter, media_type: str) -> None:
    response = client.post(
        "/api/v1/sessions", content=TWO_QUESTIONS.encode(), headers={**presenter.headers, "Content-Type": media_type}
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "Two questions"


def test_a_session_created_over_the_api_belongs_to_its_presenter(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    [row] = stored(client, select(Session))
    assert (row.id, row.presenter_id) == (session["id"], presenter.user.id)
    assert client.get(f"/api/v1/sessions/{session['id']}", headers=presenter.headers).json() == session


def test_a_bad_inline_deck_is_422_with_every_problem_and_its_line(client: TestClient, presenter: Presenter) -> None:
    response = client.post("/api/v1/sessions", json={"deck_yaml": BROKEN_DECK}, headers=presenter.headers)
    body = problem(response, 422)
    assert body["title"] == "The deck has problems"
    assert body["problems"] == [
        {"line": 3, "path": "activities[0].kind", "message": f"unknown kind 'trivia' ({KNOWN})"},
        {
            "line": 7,
            "path": "activities[1].options",
            "message": "List should have at least 2 items after validation, not 1",
        },
    ]
    assert body["detail"].splitlines()[0] == f"line 3: activities[0].kind: unknown kind 'trivia' ({KNOWN})"


def test_a_bad_raw_yaml_deck_is_422_with_line_numbers(client: TestClient, presenter: Presenter) -> None:
    response = client.post(
        "/api/v1/sessions",
        content=b"title: T\nactivities:\n  - kind: poll\n\ttitle: A\n",
        headers={**presenter.headers, "Content-Type": "application/yaml"},
    )
    [found] = problem(response, 422)["problems"]
    assert found["line"] == 4 and found["message"].startswith("not valid YAML")


def test_a_failed_create_starts_no_session(client: TestClient, presenter: Presenter) -> None:
    client.post("/api/v1/sessions", json={"deck_yaml": BROKEN_DECK}, headers=presenter.headers)
    assert stored(client, select(Session)) == []


@pytest.mark.parametrize("body", [{"deck_slug": "no-such-deck"}, {"deck_id": 999}])
def test_create_session_from_an_unknown_deck_is_404(
    client: TestClient, presenter: Presenter, body: dict[str, Any]
) -> None:
    assert problem(client.post("/api/v1/sessions", json=body, headers=presenter.headers), 404)["title"] == (
        "No such deck"
    )


def test_create_session_without_a_deck_says_what_to_give(client: TestClient, presenter: Presenter) -> None:
    body = problem(client.post("/api/v1/sessions", json={"title": "x"}, headers=presenter.headers), 422)
    assert body["detail"] == "Give deck_id, deck_slug or deck_yaml."


@pytest.mark.parametrize("content", [b"{not json", b'{"deck_id": "abc"}', b'{"deck_slug": "x", "extra": [}'])
def test_create_session_with_a_malformed_json_body_is_422(
    client: TestClient, presenter: Presenter, content: bytes
) -> None:
    response = client.post(
        "/api/v1/sessions", content=content, headers={**presenter.headers, "Content-Type": "application/json"}
    )
    assert problem(response, 422)["title"] == "The request is not valid"


@pytest.mark.parametrize("media_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None])
def test_create_session_with_another_media_type_is_415(
    client: TestClient, presenter: Presenter, media_type: str | None
) -> None:
    headers = dict(presenter.headers)
    if media_type is not None:
        headers["Content-Type"] = media_type
    body = problem(client.post("/api/v1/sessions", content=TWO_QUESTIONS.encode(), headers=headers), 415)
    assert body["detail"] == "Send application/json or application/yaml."


# --- presenting -----------------------------------------------------------------------------------------------------


def test_read_session_of_another_presenter_is_404(client: TestClient, presenter: Presenter, other: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    sid = session["id"]
    assert problem(client.get(f"/api/v1/sessions/{sid}", headers=other.headers), 404)["detail"] == (
        "No such session among yours."
    )
    problem(client.post(f"/api/v1/sessions/{sid}/control", json={"action": "next"}, headers=other.headers), 404)
    problem(client.get(f"/api/v1/sessions/{sid}/activities/{poll_of(session)}/tally", headers=other.headers), 404)
    assert client.get(f"/api/v1/sessions/{sid}", headers=presenter.headers).json()["current_activity_id"] is None


def test_read_session_that_does_not_exist_is_404(client: TestClient, presenter: Presenter) -> None:
    problem(client.get("/api/v1/sessions/999", headers=presenter.headers), 404)


def test_an_admin_may_run_anyones_session(client: TestClient, presenter: Presenter) -> None:
    admin = make_user(client, "admin@example.org", Role.admin)
    headers = {"Authorization": f"Bearer {api_token(client, admin.email)}"}
    session = presenter.start(TWO_QUESTIONS)
    assert client.get(f"/api/v1/sessions/{session['id']}", headers=headers).status_code == 200


def test_control_answers_with_the_session_after_the_action(presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    after = presenter.control(session["id"], "next")
    assert after["current_activity_id"] == poll_of(session)
    closed = presenter.control(session["id"], "close")
    assert closed["activities"][0]["voting_open"] is False


def test_control_refusal_is_409_with_the_reason(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    presenter.control(session["id"], "goto", cloud_of(session))
    response = client.post(
        f"/api/v1/sessions/{session['id']}/control", json={"action": "next"}, headers=presenter.headers
    )
    body = problem(response, 409)
    assert (body["title"], body["detail"]) == ("Not possible now", "This is the last activity.")


def test_control_with_an_unknown_action_is_422(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    response = client.post(
        f"/api/v1/sessions/{session['id']}/control", json={"action": "shuffle"}, headers=presenter.headers
    )
    body = problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "action"]


def test_control_moderate_takes_fields_as_text_or_lists(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    presenter.control(session["id"], "moderate", cloud_of(session), verb="hide", word="rude")
    presenter.control(session["id"], "moderate", cloud_of(session), verb=["hide"], word=["awful"])
    [cloud] = stored(client, select(Activity).where(Activity.id == cloud_of(session)))
    assert cloud.moderation == {"hidden": ["awful", "rude"]}
    response = client.post(
        f"/api/v1/sessions/{session['id']}/control",
        headers=presenter.headers,
        json={"action": "moderate", "activity_id": poll_of(session), "fields": {"verb": "hide", "word": "x"}},
    )
    assert problem(response, 409)["detail"] == "Poll has no moderation action 'hide'."


def test_tally_of_a_poll_counts_and_percentages(
    client: TestClient, presenter: Presenter, running: dict[str, Any]
) -> None:
    poll = poll_of(running)
    for choice in ("0", "0", "2"):
        assert respond(client, join(client, running["code"]), poll, choice=choice).status_code == 201

    def counted() -> dict[str, Any]:
        tally = presenter.tally(running["id"], poll)
        assert tally["respondents"] == 3
        return tally

    tally = eventually(counted)
    assert (tally["activity_id"], tally["kind"]) == (poll, "poll")
    assert [(o["label"], o["count"], o["percent"], o["leading"]) for o in tally["results"]["options"]] == [
        ("Fires", 2, 67, True),
        ("Maintenance", 0, 0, False),
        ("Improvement", 1, 33, False),
    ]


def test_tally_of_a_word_cloud_applies_moderation(
    client: TestClient, presenter: Presenter, running: dict[str, Any]
) -> None:
    cloud = cloud_of(running)
    presenter.control(running["id"], "goto", cloud)
    caught_up(client, running["id"])
    for words in (["Trust", "rude"], ["trust!"]):
        assert respond(client, join(client, running["code"]), cloud, word=words).status_code == 201
    presenter.control(running["id"], "moderate", cloud, verb="hide", word="rude")

    def moderated() -> dict[str, Any]:
        results = presenter.tally(running["id"], cloud)["results"]
        assert results["respondents"] == 2 and results["hidden"]
        return results

    results = eventually(moderated)
    assert results["words"] == [{"key": "trust", "text": "trust", "count": 2}]
    assert results["hidden"] == [{"key": "rude", "text": "rude", "count": 1}]


def test_tally_of_an_activity_of_another_session_is_404(client: TestClient, presenter: Presenter) -> None:
    mine, theirs = presenter.start(TWO_QUESTIONS), presenter.start(TWO_QUESTIONS)
    response = client.get(
        f"/api/v1/sessions/{mine['id']}/activities/{poll_of(theirs)}/tally", headers=presenter.headers
    )
    assert problem(response, 404)["detail"] == "No such activity in this session."
