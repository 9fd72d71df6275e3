"""The JSON API under /api/v1: every route, its answers and its problem+json errors."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlmodel import select
from starlette.testclient import TestClient

from activities import registry
from server.decks import parse_deck
from server.models import Activity, ApiToken, Participant, Response, Role, Session, utcnow
from server.routes import account, api, archives, compare, imports, organizer
from tests.conftest import (
    DECK,
    TWO_QUESTIONS,
    Presenter,
    api_token,
    caught_up,
    eventually,
    join,
    make_user,
    respond,
    run,
    services_of,
    stored,
)

BROKEN_DECK = """\
title: Broken
activities:
  - kind: quiz
    title: A
  - kind: poll
    title: B
    options: [only one]
"""

KNOWN = ", ".join(registry.names())  # the unknown-kind message lists every kind there is


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of an error answer, checked for the fields every error has."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def other(client: TestClient) -> Presenter:
    user = make_user(client, "other@example.org")
    return Presenter(client, user, api_token(client, user.email))


@pytest.fixture
def running(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    """A session from the small deck, on its poll."""
    session = presenter.start(TWO_QUESTIONS)
    presenter.control(session["id"], "goto", session["activities"][0]["id"])
    caught_up(client, session["id"])
    return session


def poll_of(session: dict[str, Any]) -> int:
    return int(session["activities"][0]["id"])


def cloud_of(session: dict[str, Any]) -> int:
    return int(session["activities"][1]["id"])


# --- authentication -------------------------------------------------------------------------------------------------

PRESENTER_ROUTES = [
    ("GET", "/api/v1/decks"),
    ("POST", "/api/v1/sessions"),
    ("GET", "/api/v1/sessions/1"),
    ("POST", "/api/v1/sessions/1/control"),
    ("GET", "/api/v1/sessions/1/activities/1/tally"),
]


@pytest.mark.parametrize(("method", "path"), PRESENTER_ROUTES)
def test_presenter_routes_need_an_api_token(client: TestClient, method: str, path: str) -> None:
    body = problem(client.request(method, path, json={"action": "next"}), 401)
    assert body["detail"] == "Send an API token: Authorization: Bearer <token>."


@pytest.mark.parametrize(("method", "path"), PRESENTER_ROUTES)
def test_presenter_routes_refuse_an_unknown_token(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={"action": "next"}, headers={"Authorization": "Bearer hsu_nope"})
    assert problem(response, 401)["detail"] == "That API token is not valid or was revoked."
    assert response.headers["www-authenticate"] == "Bearer"


def test_missing_token_answer_says_how_to_authenticate(client: TestClient) -> None:
    assert client.get("/api/v1/decks").headers["www-authenticate"] == "Bearer"


def test_a_token_sent_with_another_scheme_is_refused(client: TestClient, presenter: Presenter) -> None:
    problem(client.get("/api/v1/decks", headers={"Authorization": f"Basic {presenter.token}"}), 401)
    problem(client.get("/api/v1/decks", headers={"Authorization": presenter.token}), 401)


def test_a_revoked_token_is_refused(client: TestClient, presenter: Presenter) -> None:
    async def revoke() -> None:
        async with services_of(client).db() as db, db.begin():
            for row in (await db.exec(select(ApiToken))).all():
                row.revoked_at = utcnow()
                db.add(row)

    assert client.get("/api/v1/decks", headers=presenter.headers).status_code == 200
    run(client, revoke)
    problem(client.get("/api/v1/decks", headers=presenter.headers), 401)


def test_using_a_token_records_when_it_was_last_used(client: TestClient, presenter: Presenter) -> None:
    [before] = stored(client, select(ApiToken))
    assert before.last_used_at is None
    client.get("/api/v1/decks", headers=presenter.headers)
    [after] = stored(client, select(ApiToken))
    assert after.last_used_at is not None


# --- decks and sessions ---------------------------------------------------------------------------------------------


def test_list_decks_gives_the_decks_of_the_decks_folder(client: TestClient, presenter: Presenter) -> None:
    decks = client.get("/api/v1/decks", headers=presenter.headers).json()
    assert [(d["slug"], d["title"]) for d in decks] == [
        ("distributed-leadership", "Transforming Schools Through Distributed Leadership")
    ]


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
    [deck] = client.get("/api/v1/decks", headers=presenter.headers).json()
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
        {"line": 3, "path": "activities[0].kind", "message": f"unknown kind 'quiz' ({KNOWN})"},
        {
            "line": 7,
            "path": "activities[1].options",
            "message": "List should have at least 2 items after validation, not 1",
        },
    ]
    assert body["detail"].splitlines()[0] == f"line 3: activities[0].kind: unknown kind 'quiz' ({KNOWN})"


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


# --- errors and the OpenAPI description -----------------------------------------------------------------------------


def test_an_unknown_api_path_is_a_problem_even_for_a_browser(client: TestClient) -> None:
    problem(client.get("/api/v1/nothing-here", headers={"Accept": "text/html"}), 404)


def test_a_wrong_method_is_a_problem(client: TestClient) -> None:
    problem(client.delete("/api/v1/decks"), 405)


API_ROUTES = 29
"""Every route of the JSON API, across its routers: a new one must be added here and to docs/api.md."""


def test_openapi_lists_every_api_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    routers = [
        api.router,
        organizer.api_router,
        archives.api_router,
        compare.router,
        imports.router,
        account.api_router,
    ]
    routes = {
        (method.lower(), route.path)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/api/")
        for method in route.methods
    }
    assert len(routes) == API_ROUTES
    listed = {(method, path) for path, item in spec["paths"].items() for method in item if path.startswith("/api/")}
    assert listed == routes


def test_openapi_describes_the_yaml_body_and_problem_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    create = spec["paths"]["/api/v1/sessions"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json", "application/yaml"}
    assert "application/problem+json" in create["responses"]["422"]["content"]
    assert "application/problem+json" in spec["paths"]["/api/v1/responses"]["post"]["responses"]["409"]["content"]
