"""The presenter view's actions over the JSON API: moderating answers (a typed verb and target), the report, a
kind's rendered file, and the dashboard's list of sessions."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.factories import Presenter, caught_up, join, respond
from tests.server.routes.factories import problem

DECK = """\
title: Moderated
activities:
  - kind: wordcloud
    title: Three words
  - kind: qa
    title: Questions
"""


@pytest.fixture
def answered(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    """A session whose word cloud has "school" and "time", and whose Q&A has one question waiting for approval."""
    session = presenter.start(DECK)
    cloud, qa = (activity["id"] for activity in session["activities"])
    presenter.control(session["id"], "goto", cloud)
    phone = join(client, session["code"])
    assert respond(client, phone, cloud, word=["school", "time"]).status_code == 201
    presenter.control(session["id"], "goto", qa)
    assert respond(client, phone, qa, question="When is lunch?").status_code == 201
    caught_up(client, session["id"])
    return {"session": session, "cloud": cloud, "qa": qa}


def _moderate(presenter: Presenter, session_id: int, activity_id: int, **body: Any) -> Any:
    return presenter.client.post(
        f"/api/v1/sessions/{session_id}/activities/{activity_id}/moderation", json=body, headers=presenter.headers
    )


def test_hiding_a_word_takes_it_out_of_the_cloud_and_showing_brings_it_back(
    presenter: Presenter, answered: dict[str, Any]
) -> None:
    session_id, cloud = answered["session"]["id"], answered["cloud"]
    hidden = _moderate(presenter, session_id, cloud, verb="hide", word="school")
    assert hidden.status_code == 200, hidden.text
    body = hidden.json()
    assert (body["kind"], body["moderation"]["hidden"]) == ("wordcloud", ["school"])
    assert [word["key"] for word in body["results"]["hidden"]] == ["school"]
    assert [word for word, _ in presenter.tally(session_id, cloud)["results"]["cloud"]] == ["time"]
    shown = _moderate(presenter, session_id, cloud, verb="show", word="school").json()
    assert shown["moderation"]["hidden"] == []
    assert sorted(word for word, _ in shown["results"]["cloud"]) == ["school", "time"]


def test_approving_and_answering_a_question(presenter: Presenter, answered: dict[str, Any]) -> None:
    session_id, qa = answered["session"]["id"], answered["qa"]
    key = presenter.tally(session_id, qa)["results"]["questions"][0]["key"]
    approved = _moderate(presenter, session_id, qa, verb="approve", question=key).json()
    assert approved["results"]["questions"][0]["approved"] is True
    assert approved["results"]["questions"][0]["visible"] is True
    answered_now = _moderate(presenter, session_id, qa, verb="answer", question=key).json()
    assert answered_now["results"]["answered"] == 1


def test_a_verb_or_target_the_kind_does_not_take_is_refused_and_changes_nothing(
    presenter: Presenter, answered: dict[str, Any]
) -> None:
    session_id, cloud, qa = answered["session"]["id"], answered["cloud"], answered["qa"]
    refused = problem(_moderate(presenter, session_id, cloud, verb="approve", word="school"), 409)
    assert refused["detail"] == "Choose one word to hide or show."
    assert (
        "Choose one question to approve" in problem(_moderate(presenter, session_id, qa, verb="approve"), 409)["detail"]
    )
    problem(_moderate(presenter, session_id, cloud, verb="hide", word="school", colour="red"), 422)
    problem(_moderate(presenter, session_id, 999_999, verb="hide", word="school"), 409)
    assert presenter.tally(session_id, cloud)["results"]["hidden"] == []


def test_someone_else_cannot_moderate(other: Presenter, answered: dict[str, Any]) -> None:
    session_id, cloud = answered["session"]["id"], answered["cloud"]
    problem(_moderate(other, session_id, cloud, verb="hide", word="school"), 404)


def test_the_report_and_the_cloud_image(presenter: Presenter, answered: dict[str, Any]) -> None:
    session_id, cloud = answered["session"]["id"], answered["cloud"]
    report = presenter.client.get(f"/api/v1/sessions/{session_id}/report.html", headers=presenter.headers)
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert "Moderated" in report.text and "Three words" in report.text
    assert report.headers["content-security-policy"].startswith("default-src 'none'")
    image = presenter.client.get(
        f"/api/v1/sessions/{session_id}/activities/{cloud}/cloud.svg", headers=presenter.headers
    )
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg+xml")
    assert "school" in image.text
    problem(
        presenter.client.get(f"/api/v1/sessions/{session_id}/activities/{cloud}/nope.gif", headers=presenter.headers),
        404,
    )


def test_the_session_list_is_the_dashboard_s(presenter: Presenter, other: Presenter, answered: dict[str, Any]) -> None:
    ended = presenter.start(DECK)
    presenter.control(ended["id"], "end")
    listed = presenter.client.get("/api/v1/sessions", headers=presenter.headers).json()
    assert [(s["id"], s["state"]) for s in listed] == [(answered["session"]["id"], "live"), (ended["id"], "ended")]
    assert listed[1]["ended_at"] is not None
    assert other.client.get("/api/v1/sessions", headers=other.headers).json() == []
