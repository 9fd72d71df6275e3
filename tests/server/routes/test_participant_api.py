"""The participant's JSON API (server/routes/participant.py api_router): join, live, responses."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.models import Participant, Response
from tests.factories import TWO_QUESTIONS, Presenter, caught_up, eventually, join, respond, stored
from tests.server.routes.factories import cloud_of, poll_of, problem

# --- taking part ----------------------------------------------------------------------------------------------------


def test_join_by_code_gives_a_participant_token_and_what_the_screen_shows(
    client: TestClient, running: dict[str, Any]
) -> None:
    response = client.post("/api/v1/join", json={"code": running["code"]})
    assert response.status_code == 201
    joined = response.json()
    assert len(joined["participant_token"]) >= 32
    assert joined["live"]["session_id"] == running["id"]
    assert joined["live"]["activity"]["id"] == poll_of(running)


def test_join_accepts_a_code_typed_with_a_space(client: TestClient, running: dict[str, Any]) -> None:
    code = running["code"]
    assert client.post("/api/v1/join", json={"code": f"{code[:3]} {code[3:]}"}).status_code == 201


def test_each_join_is_a_new_participant(client: TestClient, running: dict[str, Any]) -> None:
    ids = {client.post("/api/v1/join", json={"code": running["code"]}).json()["participant_id"] for _ in range(3)}
    assert len(ids) == 3
    assert len(stored(client, select(Participant))) == 3


@pytest.mark.parametrize("code", ["unused", "12345", "not a code", ""])
def test_join_with_an_unknown_code_is_404(client: TestClient, running: dict[str, Any], code: str) -> None:
    if code == "unused":
        code = "000000" if running["code"] != "000000" else "000001"
    body = problem(client.post("/api/v1/join", json={"code": code}), 404)
    assert body["detail"] == "No session is running with that code."


def test_join_an_ended_session_is_404(client: TestClient, presenter: Presenter, running: dict[str, Any]) -> None:
    presenter.control(running["id"], "end")
    problem(client.post("/api/v1/join", json={"code": running["code"]}), 404)


def test_live_shows_the_current_activity_to_a_participant(
    client: TestClient, presenter: Presenter, running: dict[str, Any]
) -> None:
    token = join(client, running["code"])
    live = client.get("/api/v1/live", params={"session_id": running["id"]}, headers={"X-Participant-Token": token})
    assert live.json()["activity"]["id"] == poll_of(running)
    presenter.control(running["id"], "previous")
    caught_up(client, running["id"])
    live = client.get("/api/v1/live", params={"session_id": running["id"]}, headers={"X-Participant-Token": token})
    assert live.json()["activity"] is None


def test_live_refuses_someone_who_has_not_joined(client: TestClient, running: dict[str, Any]) -> None:
    response = client.get("/api/v1/live", params={"session_id": running["id"]}, headers={"X-Participant-Token": "x"})
    assert problem(response, 403)["title"] == "Not joined"
    problem(client.get("/api/v1/live", params={"session_id": running["id"]}), 422)


def test_respond_stores_the_answer_and_gives_its_version(client: TestClient, running: dict[str, Any]) -> None:
    token = join(client, running["code"])
    response = respond(client, token, poll_of(running), choice="1")
    assert response.status_code == 201
    received = response.json()
    assert received["received"] is True and received["activity_id"] == poll_of(running)
    [row] = stored(client, select(Response))
    assert (row.version, row.payload) == (received["version"], {"choices": [1]})


def test_respond_again_replaces_the_answer(client: TestClient, presenter: Presenter, running: dict[str, Any]) -> None:
    token = join(client, running["code"])
    first = respond(client, token, poll_of(running), choice="1").json()
    second = respond(client, token, poll_of(running), choice=["2"]).json()
    assert second["version"] > first["version"]
    [row] = stored(client, select(Response))
    assert row.payload == {"choices": [2]}

    def counted() -> None:
        options = presenter.tally(running["id"], poll_of(running))["results"]["options"]
        assert [o["count"] for o in options] == [0, 0, 1]

    eventually(counted)


def test_respond_when_voting_is_closed_is_409(
    client: TestClient, presenter: Presenter, running: dict[str, Any]
) -> None:
    token = join(client, running["code"])
    presenter.control(running["id"], "close")
    caught_up(client, running["id"])
    body = problem(respond(client, token, poll_of(running), choice="1"), 409)
    assert body["detail"] == "Voting is closed for this activity."
    assert stored(client, select(Response)) == []


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({}, "Pick an option first."),
        ({"choice": ["0", "1"]}, "Pick one option."),
        ({"choice": "7"}, "That option is not part of this poll."),
        ({"choice": "one"}, "That option is not part of this poll."),
    ],
)
def test_respond_with_an_invalid_answer_is_422_with_the_kinds_message(
    client: TestClient, running: dict[str, Any], answer: dict[str, Any], message: str
) -> None:
    token = join(client, running["code"])
    body = problem(respond(client, token, poll_of(running), **answer), 422)
    assert (body["title"], body["detail"]) == ("Not accepted", message)
    assert stored(client, select(Response)) == []


def test_respond_takes_a_whole_number_as_an_option_index(client: TestClient, running: dict[str, Any]) -> None:
    token = join(client, running["code"])
    assert respond(client, token, poll_of(running), choice=[2]).status_code == 201
    [row] = stored(client, select(Response))
    assert row.payload == {"choices": [2]}


@pytest.mark.parametrize("value", [True, False, [True], 1.5, None, {"a": "1"}])
def test_respond_with_something_other_than_text_or_a_number_is_422(
    client: TestClient, running: dict[str, Any], value: Any
) -> None:
    token = join(client, running["code"])
    body = problem(respond(client, token, poll_of(running), choice=value), 422)
    assert body["title"] == "The request is not valid"
    assert stored(client, select(Response)) == []


def test_respond_with_a_wrong_token_is_403(client: TestClient, running: dict[str, Any]) -> None:
    body = problem(respond(client, "not-a-participant", poll_of(running), choice="1"), 403)
    assert body["detail"] == "Join the session first (POST /api/v1/join) and send its token."


def test_respond_with_the_token_of_another_session_is_403(
    client: TestClient, presenter: Presenter, running: dict[str, Any]
) -> None:
    elsewhere = presenter.start(TWO_QUESTIONS)
    token = join(client, elsewhere["code"])
    problem(respond(client, token, poll_of(running), choice="1"), 403)


def test_respond_without_a_token_is_422(client: TestClient, running: dict[str, Any]) -> None:
    response = client.post("/api/v1/responses", json={"activity_id": poll_of(running), "answer": {"choice": "1"}})
    assert "x-participant-token" in problem(response, 422)["detail"]


def test_respond_to_an_activity_that_is_not_current_is_409(client: TestClient, running: dict[str, Any]) -> None:
    token = join(client, running["code"])
    body = problem(respond(client, token, cloud_of(running), word="trust"), 409)
    assert body["detail"] == "The presenter has moved on; your screen now shows the current activity."
    assert stored(client, select(Response)) == []


def test_respond_in_the_lobby_is_409(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    token = join(client, session["code"])
    problem(respond(client, token, poll_of(session), choice="1"), 409)


def test_respond_after_the_session_ended_is_409(
    client: TestClient, presenter: Presenter, running: dict[str, Any]
) -> None:
    token = join(client, running["code"])
    presenter.control(running["id"], "end")
    caught_up(client, running["id"])
    body = problem(respond(client, token, poll_of(running), choice="1"), 409)
    assert body["detail"] == "This session has ended. Thank you for taking part!"


def test_respond_to_an_activity_that_does_not_exist_is_404(client: TestClient, running: dict[str, Any]) -> None:
    token = join(client, running["code"])
    assert problem(respond(client, token, 999, choice="1"), 404)["detail"] == "No such activity."
