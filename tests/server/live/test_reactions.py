"""Reactions float on the projector, a few a second per participant at most; and two activities side by side."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from starlette.testclient import TestClient

from server.config import Settings
from server.live.reactions import REACTIONS
from server.routes.participant import ReactionCreate
from tests.factories import TWO_QUESTIONS, Presenter, caught_up, home_csrf, join, login, receive_until, root_id


@pytest.fixture
def session(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    session = presenter.start(TWO_QUESTIONS)
    presenter.control(session["id"], "goto", session["activities"][0]["id"])
    caught_up(client, session["id"])
    return session


def react(client: TestClient, session: dict[str, Any], token: str, reaction: str) -> Any:
    return client.post(
        f"/api/v1/sessions/{session['id']}/reactions",
        json={"reaction": reaction},
        headers={"X-Participant-Token": token},
    )


def test_the_api_knows_the_same_reactions_as_the_server() -> None:
    assert set(get_args(ReactionCreate.model_fields["reaction"].annotation)) == set(REACTIONS)


def test_a_reaction_floats_on_the_projector_and_counts_for_the_presenter(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    secret = session["projector_url"].rsplit("/", 1)[1]
    phone_headers = {"cookie": f"handsup_participant={token}"}
    with (
        client.websocket_connect(f"/ws/projector/{secret}") as projector,
        client.websocket_connect(f"/ws/participant/{session['code']}", headers=phone_headers) as phone,
    ):
        receive_until(projector, lambda frame: root_id(frame) == "projector-stage")
        phone.send_text(json.dumps({"reaction": "heart", "HEADERS": {}}))
        sent = receive_until(phone, lambda frame: root_id(frame) == "reaction-status")
        assert "Sent ❤️" in sent
        floated = receive_until(projector, lambda frame: "beforeend:#reactions" in frame)
        assert floated.count('class="reaction lane-') == 1 and "❤️" in floated
    login(client, presenter.user.email)
    assert 'title="Love it">❤️ <strong>1</strong>' in client.get(f"/present/{session['id']}").text


def test_too_many_reactions_are_refused_with_a_reason(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    burst = Settings.model_fields["reaction_burst"].default
    statuses = [react(client, session, token, "applause").status_code for _ in range(burst + 1)]
    assert statuses == [202] * burst + [429]
    refused = react(client, session, token, "applause")
    assert refused.json()["detail"] == "Easy there: wait a moment, then react again."
    assert react(client, session, join(client, session["code"]), "applause").status_code == 202  # each their own


def test_unknown_reactions_and_strangers_are_refused(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    assert react(client, session, token, "<script>").status_code == 422
    assert react(client, session, "x" * 43, "like").status_code == 403
    phone_headers = {"cookie": f"handsup_participant={token}"}
    with client.websocket_connect(f"/ws/participant/{session['code']}", headers=phone_headers) as phone:
        phone.send_text(json.dumps({"reaction": "<img src=x onerror=alert(1)>"}))
        refused = receive_until(phone, lambda frame: root_id(frame) == "reaction-status")
        assert "Choose one of the reactions on the screen." in refused and "<img" not in refused


def test_the_presenter_can_switch_reactions_off(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    assert presenter.control(session["id"], "reactions", reactions="off")["reactions"] is False
    caught_up(client, session["id"])
    refused = react(client, session, token, "like")
    assert refused.status_code == 409 and refused.json()["detail"] == "Reactions are switched off right now."
    client.cookies.set("handsup_participant", token)
    assert 'class="reactions"' not in client.get(f"/{session['code']}").text
    presenter.control(session["id"], "reactions", reactions="on")
    caught_up(client, session["id"])
    assert react(client, session, token, "like").status_code == 202
    assert 'class="reactions"' in client.get(f"/{session['code']}").text


def test_without_javascript_a_reaction_is_a_form_post_back_to_the_page(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    client.cookies.set("handsup_participant", token)
    posted = client.post(
        f"/{session['code']}/react", data={"reaction": "like", "csrf_token": home_csrf(client)}, follow_redirects=False
    )
    assert posted.status_code == 303 and posted.headers["location"] == f"/{session['code']}"


def test_two_activities_side_by_side_on_the_projector(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll, cloud = (a["id"] for a in session["activities"])
    assert presenter.control(session["id"], "beside", cloud)["beside_activity_id"] == cloud
    caught_up(client, session["id"])
    projector = client.get(session["projector_url"]).text
    assert "projector-stage side-by-side" in projector
    assert "Where does the week go?" in projector and "Three words" in projector
    presenter.control(session["id"], "beside")
    caught_up(client, session["id"])
    assert "side-by-side" not in client.get(session["projector_url"]).text


def test_side_by_side_takes_only_an_activity_of_the_session(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    response = client.post(
        f"/api/v1/sessions/{session['id']}/control",
        headers=presenter.headers,
        json={"action": "beside", "activity_id": 999_999},
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "That activity is not part of this session."
