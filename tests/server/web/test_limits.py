"""Named limits, each a setting, each refused with a message people understand: over real (TestClient) sockets."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from activities.qa import question_key
from server.config import Settings
from server.live.connections import TOO_MANY_CONNECTIONS, TRY_AGAIN
from server.models import Response
from tests.factories import (
    PASSWORD,
    Presenter,
    csrf_from,
    join,
    limits,
    make_user,
    receive,
    receive_until,
    respond,
    root_id,
    stored,
)

DECK = """\
title: Limits
pace: audience
activities:
  - kind: open
    title: One step
    max_length: 280
  - kind: wordcloud
    title: Three words
    entries: 3
  - kind: resources
    title: Resources
    moderated: false
  - kind: qa
    title: Questions
    moderated: false
    max_questions: 5
"""
OPEN, WORDCLOUD, RESOURCES, QA = range(4)


@pytest.fixture
def session(presenter: Presenter) -> dict[str, Any]:
    return presenter.start(DECK)


def activity(session: dict[str, Any], position: int) -> int:
    return int(session["activities"][position]["id"])


def phone(client: TestClient, session: dict[str, Any], token: str, position: int) -> Any:
    """A participant's socket showing one activity (the deck goes at the audience's pace)."""
    path = f"/ws/participant/{session['code']}?at={activity(session, position)}"
    return client.websocket_connect(path, headers={"cookie": f"handsup_participant={token}"})


def send(ws: WebSocketTestSession, activity_id: int, **fields: Any) -> str:
    """Send an answer as htmx does and return the phone's reply: the answer's status line, or the notice at the
    top of the page for a message refused before it is read as an answer."""
    ws.send_text(json.dumps({"activity": str(activity_id), **fields, "HEADERS": {}}))
    return receive_until(ws, rooted(f"status-{activity_id}", "connection"))


def rooted(*fragment_ids: str) -> Callable[[str], bool]:
    return lambda frame: root_id(frame) in fragment_ids


def answers(client: TestClient) -> list[dict[str, Any]]:
    return [row.payload for row in stored(client, select(Response).order_by(Response.id))]


def refused_with(ws: WebSocketTestSession) -> tuple[int, str]:
    with pytest.raises(WebSocketDisconnect) as closed:
        receive(ws)
    return closed.value.code, closed.value.reason


# --- websocket message size ---------------------------------------------------------------------------------------


def test_a_websocket_message_over_the_limit_gets_a_notice_and_the_socket_stays(
    client: TestClient, session: dict[str, Any]
) -> None:
    limit = Settings.model_fields["websocket_message_limit"].default
    open_id = activity(session, OPEN)
    with phone(client, session, join(client, session["code"]), OPEN) as ws:
        receive(ws)
        ws.send_text(json.dumps({"activity": str(open_id), "text": "x" * limit}))
        notice = receive_until(ws, rooted("connection"))
        assert f"That answer is too long (at most {limit // 1024} KiB)." in notice
        assert "Received" in send(ws, open_id, text="Still here")
    assert answers(client) == [{"text": "Still here"}]


# --- text length: the smaller of the kind's own limit and form_field_limit -------------------------------------


TOO_LONG = "That is too long: keep what you write to 50 characters."


@limits(form_field_limit=50)
@pytest.mark.parametrize(
    ("position", "fields"),
    [
        (OPEN, {"text": "x" * 51}),
        (WORDCLOUD, {"word": ["fine", "y" * 51]}),
        (RESOURCES, {"type": "tool", "title": "t" * 51}),
        (RESOURCES, {"type": "tool", "title": "A tool", "note": "n" * 51}),
        (RESOURCES, {"type": "tool", "title": "A tool", "link": "https://example.org/" + "p" * 40}),
        (QA, {"question": "q" * 51}),
        (QA, {"question": "Why?", "name": "n" * 51}),
    ],
    ids=["open", "wordcloud", "resource title", "resource note", "resource link", "question", "asker's name"],
)
def test_every_kinds_free_text_is_held_to_the_form_field_limit_when_it_is_smaller(
    client: TestClient, session: dict[str, Any], position: int, fields: dict[str, Any]
) -> None:
    with phone(client, session, join(client, session["code"]), position) as ws:
        receive(ws)
        status = send(ws, activity(session, position), **fields)
    assert "error" in status and TOO_LONG in status
    assert answers(client) == []


@pytest.mark.parametrize(
    ("position", "fields", "message"),
    [
        (OPEN, {"text": "x" * 281}, "Keep your answer to 280 characters; it has 281."),
        (QA, {"question": "q" * 201}, "Keep your question to 200 characters; it has 201."),
        (RESOURCES, {"type": "tool", "title": "t" * 121}, "Keep the title to 120 characters; it has 121."),
    ],
    ids=["open", "question", "resource title"],
)
def test_a_kinds_own_smaller_limit_gives_the_kinds_message(
    client: TestClient, session: dict[str, Any], position: int, fields: dict[str, Any], message: str
) -> None:
    with phone(client, session, join(client, session["code"]), position) as ws:
        receive(ws)
        assert message in send(ws, activity(session, position), **fields)
    assert answers(client) == []


def test_text_over_the_form_field_limit_is_refused_not_cut_by_the_json_api(
    client: TestClient, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    response = respond(client, token, activity(session, OPEN), text="x" * 2001)
    assert response.status_code == 422
    assert response.json()["detail"] == "That is too long: keep what you write to 2000 characters."


# --- entries per participant -------------------------------------------------------------------------------------


ENTRIES = "One person can add at most 2 entries here; remove one of yours to add another."


@limits(entries_per_participant=2)
def test_entries_per_participant_caps_a_word_cloud_over_its_own_limit(
    client: TestClient, session: dict[str, Any]
) -> None:
    cloud = activity(session, WORDCLOUD)
    with phone(client, session, join(client, session["code"]), WORDCLOUD) as ws:
        receive(ws)
        assert ENTRIES in send(ws, cloud, word=["trust", "time", "teams"])  # the deck allows three
        assert "Received" in send(ws, cloud, word=["trust", "time"])
    assert [len(payload["words"]) for payload in answers(client)] == [2]


@limits(entries_per_participant=2)
def test_entries_per_participant_caps_questions_and_withdrawing_still_works(
    client: TestClient, session: dict[str, Any]
) -> None:
    qa = activity(session, QA)
    with phone(client, session, join(client, session["code"]), QA) as ws:
        receive(ws)
        assert "Sent" in send(ws, qa, question="Who decides?")
        assert "Sent" in send(ws, qa, question="How long does it take?")
        assert ENTRIES in send(ws, qa, question="One more?")
        asked = answers(client)[-1]["questions"]
        assert [q["text"] for q in asked] == ["Who decides?", "How long does it take?"]
        assert "Sent" in send(ws, qa, withdraw=question_key("Who decides?"))
        assert "Sent" in send(ws, qa, question="One more?")
    assert [q["text"] for q in answers(client)[-1]["questions"]] == ["How long does it take?", "One more?"]


# --- submissions per minute ------------------------------------------------------------------------------------------


@limits(submissions_per_minute=3)
def test_answers_past_the_rate_are_refused_over_the_socket_and_the_api(
    client: TestClient, session: dict[str, Any]
) -> None:
    open_id = activity(session, OPEN)
    token = join(client, session["code"])
    with phone(client, session, token, OPEN) as ws:
        receive(ws)
        for n in range(3):
            assert "Received" in send(ws, open_id, text=f"Answer {n}")
        status = send(ws, open_id, text="One too many")
        assert "That is more than 3 answers a minute; wait a moment, then send it again." in status
    refused = respond(client, token, open_id, text="By the API")
    assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
    assert respond(client, join(client, session["code"]), open_id, text="Someone else").status_code == 201
    assert [payload["text"] for payload in answers(client)] == ["Answer 2", "Someone else"]  # each one's latest


# --- reactions per minute -------------------------------------------------------------------------------------------


@limits(reaction_burst=2, reactions_per_minute=10)
def test_reactions_past_the_burst_are_refused_with_a_reason(client: TestClient, session: dict[str, Any]) -> None:
    with phone(client, session, join(client, session["code"]), OPEN) as ws:
        receive(ws)
        replies = []
        for _ in range(3):
            ws.send_text(json.dumps({"reaction": "applause", "HEADERS": {}}))
            replies.append(receive_until(ws, rooted("reaction-status")))
    assert ["Sent 👏" in reply for reply in replies] == [True, True, False]
    assert "Easy there: wait a moment, then react again." in replies[2]


# --- connections per address --------------------------------------------------------------------------------------


@limits(connections_per_address=2)
def test_sockets_past_the_address_limit_are_closed_with_try_again_later(
    client: TestClient, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    secret = session["projector_url"].rsplit("/", 1)[1]
    with phone(client, session, token, OPEN) as first, phone(client, session, token, QA) as second:
        receive(first), receive(second)
        with phone(client, session, join(client, session["code"]), OPEN) as third:
            assert refused_with(third) == (TRY_AGAIN, TOO_MANY_CONNECTIONS)
        with client.websocket_connect(f"/ws/projector/{secret}") as projector:  # every socket counts
            assert refused_with(projector) == (TRY_AGAIN, TOO_MANY_CONNECTIONS)
    with phone(client, session, token, OPEN) as again:  # closed ones free their place
        assert root_id(receive(again)) == "stage"


# --- sign-in ------------------------------------------------------------------------------------------------------


def sign_in(client: TestClient, email: str, password: str) -> httpx.Response:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"csrf_token": csrf_from(page.text), "email": email, "password": password, "next": "/present"},
        follow_redirects=False,
    )


@limits(login_attempts_per_account=3, login_window_seconds=900)
def test_sign_in_is_refused_after_an_accounts_failures_without_checking_the_password(client: TestClient) -> None:
    make_user(client, "ada@example.org")
    make_user(client, "bob@example.org")
    assert [sign_in(client, "ada@example.org", "wrong").status_code for _ in range(3)] == [401, 401, 401]
    refused = sign_in(client, " ADA@example.org", PASSWORD)  # the right password, the same account
    assert refused.status_code == 429 and refused.headers["retry-after"] == "300"
    assert "Too many sign-in attempts; try again in 5 minutes." in refused.text
    assert sign_in(client, "bob@example.org", PASSWORD).status_code == 303


@limits(login_attempts_per_account=3)
def test_a_successful_sign_in_resets_the_accounts_failures(client: TestClient) -> None:
    make_user(client, "ada@example.org")
    statuses = [sign_in(client, "ada@example.org", password).status_code for password in ("no", "no", PASSWORD)]
    statuses += [sign_in(client, "ada@example.org", "no").status_code for _ in range(3)]
    assert statuses == [401, 401, 303, 401, 401, 401]
    assert sign_in(client, "ada@example.org", "no").status_code == 429


@limits(login_attempts_per_address=3)
def test_sign_in_is_refused_after_an_addresss_failures_across_accounts(client: TestClient) -> None:
    make_user(client, "ada@example.org")
    statuses = [sign_in(client, f"guess{n}@example.org", "password").status_code for n in range(3)]
    assert statuses == [401, 401, 401]
    assert sign_in(client, "ada@example.org", PASSWORD).status_code == 429


@limits(login_attempts_per_address=2)
def test_setup_links_that_are_not_valid_count_against_the_address(client: TestClient) -> None:
    page = client.get("/login")
    form = {"csrf_token": csrf_from(page.text), "email": "admin@example.org", "password": PASSWORD}
    statuses = [client.post(f"/setup/not-the-link-{n}", data=form).status_code for n in range(3)]
    assert statuses == [404, 404, 429]
