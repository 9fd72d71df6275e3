"""The reply to an answer over the socket: the "Received" status is rendered once per activity, session state and
language, and shared by every phone, without ever showing one phone another state's or language's reply."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from server.live.fragments import Views
from tests.factories import join, receive, receive_until, root_id, run, services_of

REPLY = "participant/reply.html"


@pytest.fixture
def replies_rendered(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reply templates the app renders from now on (its Views counted, not replaced)."""
    views = services_of(client).views
    rendered: list[str] = []
    render = Views.render

    def counting(name: str, **context: Any) -> str:
        if name == REPLY:
            rendered.append(name)
        return render(views, name, **context)

    monkeypatch.setattr(views, "render", counting)
    return rendered


def vote(client: TestClient, code: str, activity: int, choice: str, **headers: str) -> str:
    """One phone joins, answers, and gets its reply (the status fragment)."""
    headers["cookie"] = f"handsup_participant={join(client, code)}"
    with client.websocket_connect(f"/ws/participant/{code}", headers=headers) as ws:
        receive(ws, 5)
        ws.send_json({"activity": str(activity), "choice": choice})
        return receive_until(ws, lambda frame: root_id(frame) == f"status-{activity}")


def test_every_phone_gets_the_same_received_rendered_once(
    client: TestClient, session: dict[str, Any], on_poll: int, replies_rendered: list[str]
) -> None:
    first = vote(client, session["code"], on_poll, "0")
    second = vote(client, session["code"], on_poll, "2")
    assert first == second and "Received. You can change your answer" in first and 'class="status ok"' in first
    assert replies_rendered == [REPLY]


def test_a_phone_in_another_language_gets_its_own_reply(
    client: TestClient, session: dict[str, Any], on_poll: int, replies_rendered: list[str]
) -> None:
    english = vote(client, session["code"], on_poll, "0")
    spanish = vote(client, session["code"], on_poll, "1", **{"accept-language": "es"})
    again = vote(client, session["code"], on_poll, "1", **{"accept-language": "es"})
    assert "Received." in english and "Recibida. Puedes cambiar tu respuesta" in spanish and again == spanish
    assert replies_rendered == [REPLY, REPLY]


def test_a_reply_follows_the_activity_it_was_given(client: TestClient, session: dict[str, Any], on_poll: int) -> None:
    """An answer committed as voting closes is acknowledged with the activity it was taken for: a reply kept for
    the open poll is not shown for the closed one, nor the other way round, even in one state of the session."""
    views = services_of(client).views
    room = run(client, services_of(client).hub.room, session["id"])
    poll = room.snapshot.activity(on_poll)
    assert poll is not None
    closed = poll.model_copy(update={"voting_open": False})
    open_reply = views.participant_status(room, poll, error=None)
    closed_reply = views.participant_status(room, closed, error=None)
    assert "Received." in open_reply and 'id="submit-' in open_reply
    assert "Voting is closed. Your answer was counted." in closed_reply and 'id="submit-' not in closed_reply
    assert views.participant_status(room, poll, error=None) == open_reply


def test_a_refusal_is_never_shared(
    client: TestClient, session: dict[str, Any], on_poll: int, replies_rendered: list[str]
) -> None:
    refused = vote(client, session["code"], on_poll, "9")
    accepted = vote(client, session["code"], on_poll, "1")
    assert 'class="status error"' in refused and "That option is not part of this poll." in refused
    assert 'class="status ok"' in accepted and "Received." in accepted
    assert replies_rendered == [REPLY, REPLY]
