"""The three websockets over real (TestClient) sockets: pushes to each audience, answers and their replies."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from server.live.connections import GONE
from server.models import Response
from server.routes.participant import is_phone_socket
from tests.factories import (
    TWO_QUESTIONS,
    Presenter,
    api_token,
    caught_up,
    eventually,
    join,
    login,
    make_user,
    receive,
    receive_until,
    respond,
    root_id,
    stored,
)

HTMX_HEADERS = {"HX-Request": "true", "HX-Trigger": None, "HX-Target": "main", "HX-Current-URL": "http://testserver/"}


def rooted(fragment_id: str) -> Callable[[str], bool]:
    return lambda frame: root_id(frame) == fragment_id


def closed_with(ws: WebSocketTestSession) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        receive(ws, 5)
    return closed.value.code


def participant_socket(client: TestClient, code: str, token: str | None, **headers: str) -> Any:
    if token is not None:
        headers["cookie"] = f"handsup_participant={token}"
    return client.websocket_connect(f"/ws/participant/{code}", headers=headers)


def answer(activity: int, **fields: Any) -> dict[str, Any]:
    """What htmx's ws extension sends on submit: the form's fields plus its HEADERS object."""
    return {"activity": str(activity), **fields, "HEADERS": {**HTMX_HEADERS, "HX-Trigger": f"form-{activity}"}}


# --- the participant socket -----------------------------------------------------------------------------------------


def test_participant_socket_first_sends_the_lobby(client: TestClient, session: dict[str, Any]) -> None:
    with participant_socket(client, session["code"], join(client, session["code"])) as ws:
        stage = receive(ws, 5)
    assert root_id(stage) == "stage"
    assert "You're in!" in stage


def test_participant_socket_first_sends_the_current_activity(
    client: TestClient, session: dict[str, Any], on_poll: int
) -> None:
    with participant_socket(client, session["code"], join(client, session["code"])) as ws:
        stage = receive(ws, 5)
    assert root_id(stage) == "stage"
    assert f'id="form-{on_poll}"' in stage and "ws-send" in stage
    assert "Maintenance" in stage


def test_an_answer_is_acknowledged_only_once_it_is_stored(
    client: TestClient, session: dict[str, Any], on_poll: int
) -> None:
    token = join(client, session["code"])
    with participant_socket(client, session["code"], token) as ws:
        receive(ws, 5)
        ws.send_json(answer(on_poll, choice="1"))
        status = receive_until(ws, rooted(f"status-{on_poll}"))
        rows = stored(client, select(Response))
    assert "Received" in status and 'class="status ok"' in status
    assert [row.payload for row in rows] == [{"choices": [1]}]


def test_an_answer_may_give_numbers_for_its_fields(client: TestClient, session: dict[str, Any], on_poll: int) -> None:
    with participant_socket(client, session["code"], join(client, session["code"])) as ws:
        receive(ws, 5)
        ws.send_json({"activity": on_poll, "choice": [2]})
        assert "Received" in receive_until(ws, rooted(f"status-{on_poll}"))
    assert [row.payload for row in stored(client, select(Response))] == [{"choices": [2]}]


def test_an_invalid_answer_gets_the_kinds_message_and_stores_nothing(
    client: TestClient, session: dict[str, Any], on_poll: int
) -> None:
    with participant_socket(client, session["code"], join(client, session["code"])) as ws:
        receive(ws, 5)
        ws.send_json(answer(on_poll, choice=["0", "2"]))
        status = receive_until(ws, rooted(f"status-{on_poll}"))
    assert 'class="status error"' in status and "Pick one option." in status
    assert stored(client, select(Response)) == []


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("this is not json", "That message was not understood."),
        ("[1, 2]", "That message was not understood."),
        ('{"choice": "1"}', "does not say which activity it answers."),
        ('{"activity": "1", "choice": true}', "The field &#39;choice&#39; must be text."),
        ('{"activity": "999", "choice": "1"}', "That activity is not part of this session."),
    ],
)
def test_a_malformed_message_gets_a_clear_notice_and_the_socket_stays_open(
    client: TestClient, session: dict[str, Any], on_poll: int, frame: str, message: str
) -> None:
    with participant_socket(client, session["code"], join(client, session["code"])) as ws:
        receive(ws, 5)
        ws.send_text(frame)
        notice = receive_until(ws, rooted("connection"))
        assert message in notice and 'role="alert"' in notice
        ws.send_json(answer(on_poll, choice="0"))
        assert "Received" in receive_until(ws, rooted(f"status-{on_poll}"))
    assert len(stored(client, select(Response))) == 1


def test_a_binary_frame_is_ignored(client: TestClient, session: dict[str, Any], on_poll: int) -> None:
    with participant_socket(client, session["code"], join(client, session["code"])) as ws:
        receive(ws, 5)
        ws.send_bytes(json.dumps(answer(on_poll, choice="0")).encode())
        ws.send_json(answer(on_poll, choice="2"))
        assert "Received" in receive_until(ws, rooted(f"status-{on_poll}"))
    assert [row.payload for row in stored(client, select(Response))] == [{"choices": [2]}]


def test_an_answer_to_an_activity_that_is_not_current_says_the_presenter_moved_on(
    client: TestClient, session: dict[str, Any], on_poll: int
) -> None:
    cloud = session["activities"][1]["id"]
    with participant_socket(client, session["code"], join(client, session["code"])) as ws:
        receive(ws, 5)
        ws.send_json(answer(cloud, word=["trust"]))
        notice = receive_until(ws, lambda frame: root_id(frame) in {"connection", f"status-{cloud}"})
    assert "The presenter has moved on" in notice
    assert stored(client, select(Response)) == []


def test_reconnecting_after_answering_shows_the_answer_filled_in(
    client: TestClient, session: dict[str, Any], on_poll: int
) -> None:
    token = join(client, session["code"])
    assert respond(client, token, on_poll, choice="2").status_code == 201
    caught_up(client, session["id"])

    def filled_in() -> None:
        with participant_socket(client, session["code"], token) as ws:
            stage = receive(ws, 5)
        assert "Received" in stage and "Update my answer" in stage

    eventually(filled_in)


def test_the_presenter_moving_on_pushes_the_new_stage_to_every_participant(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = session["activities"][0]["id"]
    with ExitStack() as stack:
        phones = [
            stack.enter_context(participant_socket(client, session["code"], join(client, session["code"])))
            for _ in range(3)
        ]
        for phone in phones:
            assert "You're in!" in receive(phone, 5)
        presenter.control(session["id"], "next")
        for phone in phones:
            stage = receive_until(phone, rooted("stage"))
            assert f'id="form-{poll}"' in stage


def stage_key_of(page: str) -> str:
    match = re.search(r'ws-connect="/ws/participant/\d+\?stage=([0-9a-f]+)"', page)
    assert match, "the page names the stage it shows in its socket URL"
    return match.group(1)


def test_a_phone_that_has_the_stage_from_its_page_is_not_sent_it_again(
    client: TestClient, presenter: Presenter, session: dict[str, Any], on_poll: int
) -> None:
    """A second copy would wipe what the participant started typing before the socket connected."""
    token = join(client, session["code"])
    page = client.get(f"/{session['code']}", headers={"cookie": f"handsup_participant={token}"}).text
    url = f"/ws/participant/{session['code']}?stage={stage_key_of(page)}"
    with client.websocket_connect(url, headers={"cookie": f"handsup_participant={token}"}) as phone:
        phone.send_text(json.dumps(answer(on_poll, choice="1")))
        assert root_id(receive(phone, 5)) == f"status-{on_poll}"  # the reply comes first: no stage was sent
        presenter.control(session["id"], "close", on_poll)
        assert "Voting is closed" in receive_until(phone, rooted("stage"))


def test_a_phone_whose_page_is_out_of_date_gets_the_current_stage(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    lobby = client.get(f"/{session['code']}", headers={"cookie": f"handsup_participant={token}"}).text
    presenter.control(session["id"], "next")
    caught_up(client, session["id"])
    url = f"/ws/participant/{session['code']}?stage={stage_key_of(lobby)}"
    with client.websocket_connect(url, headers={"cookie": f"handsup_participant={token}"}) as phone:
        assert f'id="form-{session["activities"][0]["id"]}"' in receive_until(phone, rooted("stage"))


def test_closing_voting_pushes_a_stage_that_says_so(
    client: TestClient, presenter: Presenter, session: dict[str, Any], on_poll: int
) -> None:
    with participant_socket(client, session["code"], join(client, session["code"])) as ws:
        receive(ws, 5)
        presenter.control(session["id"], "close")
        stage = receive_until(ws, rooted("stage"))
    assert "Voting is closed." in stage and "<fieldset disabled>" in stage


def test_ending_the_session_tells_the_participants(
    client: TestClient, presenter: Presenter, session: dict[str, Any], on_poll: int
) -> None:
    with participant_socket(client, session["code"], join(client, session["code"])) as ws:
        receive(ws, 5)
        presenter.control(session["id"], "end")
        assert "This session has ended" in receive_until(ws, rooted("stage"))


def test_revealing_results_or_hiding_a_word_sends_phones_nothing(client: TestClient, presenter: Presenter) -> None:
    hidden = TWO_QUESTIONS.replace(
        "options: [Fires, Maintenance, Improvement]", "options: [Fires, Maintenance, Improvement]\n    results: hidden"
    )
    session = presenter.start(hidden)
    poll = session["activities"][0]["id"]
    presenter.control(session["id"], "goto", poll)
    caught_up(client, session["id"])
    secret = session["projector_url"].rsplit("/", 1)[1]
    token = join(client, session["code"])
    with (
        participant_socket(client, session["code"], token) as phone,
        client.websocket_connect(f"/ws/projector/{secret}") as projector,
    ):
        receive(phone)
        receive(projector)
        presenter.control(session["id"], "reveal", poll)
        # A round's phone stages are queued before its projector view: once the projector has the revealed
        # results, any stage the reveal caused would already be waiting on the phone.
        receive_until(projector, lambda frame: root_id(frame) == "projector-stage" and "(0)</small>" in frame)
        presenter.control(session["id"], "moderate", session["activities"][1]["id"], verb="hide", word="rude")
        receive_until(projector, rooted("projector-stage"))
        presenter.control(session["id"], "close")
        stage = receive(phone)
    assert root_id(stage) == "stage" and "Voting is closed." in stage


def test_a_participant_socket_without_the_cookie_is_closed_with_4404(
    client: TestClient, session: dict[str, Any]
) -> None:
    with participant_socket(client, session["code"], None) as ws:
        assert closed_with(ws) == GONE == 4404


def test_a_participant_socket_with_a_made_up_cookie_is_closed(client: TestClient, session: dict[str, Any]) -> None:
    with participant_socket(client, session["code"], "me") as ws:
        assert closed_with(ws) == GONE


def test_a_participant_socket_for_an_unknown_code_is_closed(client: TestClient, session: dict[str, Any]) -> None:
    code = "000000" if session["code"] != "000000" else "000001"
    with participant_socket(client, code, join(client, session["code"])) as ws:
        assert closed_with(ws) == GONE


def test_a_participant_socket_from_another_origin_is_closed(client: TestClient, session: dict[str, Any]) -> None:
    token = join(client, session["code"])
    with participant_socket(client, session["code"], token, origin="http://evil.example") as ws:
        assert closed_with(ws) == GONE
    with participant_socket(client, session["code"], token, origin="http://testserver") as ws:
        assert root_id(receive(ws, 5)) == "stage"


# --- the presenter and projector sockets ----------------------------------------------------------------------------


def test_the_presenter_socket_gets_results_and_counts_as_votes_arrive(
    client: TestClient, presenter: Presenter, session: dict[str, Any], on_poll: int
) -> None:
    login(client, presenter.user.email)
    with client.websocket_connect(f"/ws/presenter/{session['id']}") as ws:
        assert root_id(receive(ws, 5)) == "presenter-live"
        for choice in ("0", "0", "2"):
            assert respond(client, join(client, session["code"]), on_poll, choice=choice).status_code == 201

        def three_answered(frame: str) -> bool:
            return root_id(frame) == f"results-{on_poll}" and "3 people answered" in frame

        results = receive_until(ws, three_answered)
        assert "67%<small> (2)</small>" in results and "33%<small> (1)</small>" in results
        counts = receive_until(ws, lambda frame: root_id(frame) == "counts" and "<strong>3</strong> answered" in frame)
        assert "<strong>3</strong> joined" in counts


def test_the_presenter_socket_gets_the_whole_view_when_the_session_moves(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    login(client, presenter.user.email)
    with client.websocket_connect(f"/ws/presenter/{session['id']}") as ws:
        assert "Lobby" in receive(ws, 5)
        presenter.control(session["id"], "next")
        view = receive_until(ws, lambda frame: root_id(frame) == "presenter-live" and "Lobby</h1>" not in frame)
        assert "Where does the week go?</h1>" in view


def test_the_presenter_socket_needs_a_signed_in_presenter(client: TestClient, session: dict[str, Any]) -> None:
    with client.websocket_connect(f"/ws/presenter/{session['id']}") as ws:
        assert closed_with(ws) == GONE


def test_the_presenter_socket_refuses_another_presenter(client: TestClient, session: dict[str, Any]) -> None:
    make_user(client, "other@example.org")
    login(client, "other@example.org")
    with client.websocket_connect(f"/ws/presenter/{session['id']}") as ws:
        assert closed_with(ws) == GONE


def test_an_api_token_opens_the_presenter_socket_and_a_made_up_one_does_not(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    """Issue 17: a script opens the presenter's socket with its API token (docs/protocol.md)."""
    token = api_token(client, presenter.user.email)
    with client.websocket_connect(f"/ws/presenter/{session['id']}", headers={"Authorization": f"Bearer {token}"}) as ws:
        assert root_id(receive(ws, 5)) == "presenter-live"
    made_up = {"Authorization": "Bearer hsu_" + "x" * 43}
    with client.websocket_connect(f"/ws/presenter/{session['id']}", headers=made_up) as ws:
        assert closed_with(ws) == GONE


def test_the_projector_socket_shows_live_results(client: TestClient, session: dict[str, Any], on_poll: int) -> None:
    secret = session["projector_url"].rsplit("/", 1)[1]
    with client.websocket_connect(f"/ws/projector/{secret}") as ws:
        stage = receive(ws, 5)
        assert root_id(stage) == "projector-stage" and "Where does the week go?" in stage
        assert respond(client, join(client, session["code"]), on_poll, choice="1").status_code == 201
        results = receive_until(ws, lambda frame: root_id(frame) == f"results-{on_poll}" and "1 person" in frame)
    assert "100%<small> (1)</small>" in results


def test_the_projector_socket_shows_only_a_count_until_hidden_results_are_revealed(
    client: TestClient, presenter: Presenter
) -> None:
    session = presenter.start(
        TWO_QUESTIONS.replace(
            "options: [Fires, Maintenance, Improvement]",
            "options: [Fires, Maintenance, Improvement]\n    results: hidden",
        )
    )
    poll = session["activities"][0]["id"]
    presenter.control(session["id"], "goto", poll)
    caught_up(client, session["id"])
    secret = session["projector_url"].rsplit("/", 1)[1]
    with client.websocket_connect(f"/ws/projector/{secret}") as ws:
        receive(ws, 5)
        assert respond(client, join(client, session["code"]), poll, choice="1").status_code == 201
        hidden = receive_until(ws, lambda frame: root_id(frame) == f"results-{poll}")
        assert "1</strong> answer so far" in hidden and "(1)" not in hidden
        presenter.control(session["id"], "reveal", poll)
        stage = receive_until(ws, rooted("projector-stage"))
        assert "100%<small> (1)</small>" in stage


def test_the_projector_lobby_counts_phones_as_they_join_without_a_new_stage(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    secret = session["projector_url"].rsplit("/", 1)[1]
    with client.websocket_connect(f"/ws/projector/{secret}") as ws:
        lobby = receive(ws, 5)
        assert root_id(lobby) == "projector-stage" and "0 people joined" in lobby
        for _ in range(3):
            join(client, session["code"])
        seen: list[str] = []
        count = receive_until(ws, lambda frame: seen.append(root_id(frame)) or "3 people joined" in frame)
        # The count alone, coalesced: a phone joining never costs the projectors a whole new stage.
        assert root_id(count) == "joined-count" and set(seen) == {"joined-count"}
        poll = session["activities"][0]["id"]
        presenter.control(session["id"], "goto", poll)
        receive_until(ws, rooted("projector-stage"))
        # On an activity the lobby is gone: a phone joining, then answering, brings the results and no count.
        assert respond(client, join(client, session["code"]), poll, choice="1").status_code == 201
        seen.clear()
        receive_until(ws, lambda frame: seen.append(root_id(frame)) or root_id(frame) == f"results-{poll}")
        presenter.control(session["id"], "close", poll)  # a last push, after any the join could have caused
        receive_until(ws, lambda frame: seen.append(root_id(frame)) or root_id(frame) == "projector-stage")
        assert "joined-count" not in seen


def test_a_projector_socket_with_a_bad_secret_is_closed(client: TestClient, session: dict[str, Any]) -> None:
    for secret in ("x" * 32, "short"):
        with client.websocket_connect(f"/ws/projector/{secret}") as ws:
            assert closed_with(ws) == GONE


@pytest.mark.parametrize(
    ("kind", "path", "direct"),
    [
        ("websocket", "/ws/participant/123456", True),
        ("websocket", "/ws/participant/123456/more", False),
        ("websocket", "/ws/participant/", True),  # no code: the endpoint refuses it, as the route would
        ("websocket", "/ws/presenter/1", False),
        ("http", "/ws/participant/123456", False),
        ("lifespan", "", False),
    ],
)
def test_only_a_phones_socket_is_served_directly(kind: str, path: str, direct: bool) -> None:
    scope: dict[str, Any] = {"type": kind} | ({"path": path} if path else {})
    assert is_phone_socket(scope) is direct


def test_a_socket_past_a_phones_path_is_the_frameworks_and_is_not_found(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/participant/123456/more") as socket:
        socket.receive_text()


def test_a_phones_socket_speaks_the_language_of_its_cookie_as_its_route_would(
    client: TestClient, presenter: Presenter
) -> None:
    session = presenter.start(TWO_QUESTIONS)
    presenter.control(session["id"], "goto", int(session["activities"][0]["id"]))
    caught_up(client, session["id"])
    token = join(client, session["code"])
    headers = {"cookie": f"handsup_participant={token}; handsup_language=es"}
    with client.websocket_connect(f"/ws/participant/{session['code']}", headers=headers) as socket:
        stage = receive(socket)
    assert ">Enviar</button>" in stage and 'aria-label="Me gusta"' in stage
