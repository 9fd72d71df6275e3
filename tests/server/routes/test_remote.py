"""The presenter's remote (GET /present/{id}/remote and its socket, /ws/presenter/{id}?view=remote), and what the
presenter page and the remote offer once a session has ended: archive, report, results, start again."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.live.connections import GONE
from server.live.fragments import qr_svg
from server.models import Role, Session, SessionState
from server.routes.presenter import REPORT_POLICY
from tests.factories import (
    TWO_QUESTIONS,
    Presenter,
    caught_up,
    csrf_from,
    join,
    login,
    make_user,
    receive,
    receive_until,
    respond,
    root_id,
    stored,
)
from tests.server.live.test_websocket import closed_with

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
NOTES_DECK = """\
title: Two questions
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
    countdown: 45
    results: hidden
    notes: Ask two tables to say why before revealing.
  - kind: wordcloud
    title: Three words
"""


@pytest.fixture
def session(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    """A session of the small deck with notes, on its poll, its presenter signed in."""
    started = presenter.start(NOTES_DECK)
    presenter.control(started["id"], "goto", started["activities"][0]["id"])
    caught_up(client, started["id"])
    login(client, presenter.user.email)
    return started


def text_of_page(page: str) -> str:
    return html.unescape(page)


# --- finding the remote -----------------------------------------------------------------------------------------


def test_the_presenter_page_links_the_remote_and_its_qr_code_holds_only_its_address(
    client: TestClient, session: dict[str, Any]
) -> None:
    page = client.get(f"/present/{session['id']}").text
    remote_url = f"http://testserver/present/{session['id']}/remote"
    assert f'href="{remote_url}"' in page
    assert "Remote on your phone" in page
    assert qr_svg(remote_url) in page  # the code of that address, which carries no secret: the phone must sign in
    projector_secret = session["projector_url"].rsplit("/", 1)[1]
    assert projector_secret not in remote_url


# --- the remote's page ------------------------------------------------------------------------------------------


def test_the_remote_shows_the_current_activity_its_notes_controls_and_counts(
    client: TestClient, session: dict[str, Any]
) -> None:
    respond(client, join(client, session["code"]), session["activities"][0]["id"], choice="1")
    response = client.get(f"/present/{session['id']}/remote")
    assert response.status_code == 200
    page = text_of_page(response.text)
    assert "css/remote.css" in page
    assert 'ws-connect="/ws/presenter/' + str(session["id"]) + '?view=remote"' in page
    assert "Where does the week go?</h1>" in page
    assert "Poll · 1 of 2" in page
    assert "Ask two tables to say why before revealing." in page
    for label in ("Start 45 s countdown", "Close voting", "Reveal results", "◀ Previous", "Next ▶"):
        assert f">{label}</button>" in page
    assert "Up next: Three words" in page
    assert "<strong>1</strong> joined" in page and "<strong>1</strong> answered" in page
    assert "Reset responses" not in page  # a slip of the thumb deletes nothing
    assert "css/handsup.css" in page
    assert "Fires" not in page  # no results on the remote: the room's screen shows them


def test_the_remote_of_an_activity_without_notes_says_so(client: TestClient, session: dict[str, Any]) -> None:
    client.post(
        f"/present/{session['id']}/control",
        data={"action": "next", "csrf_token": csrf_from(client.get(f"/present/{session['id']}/remote").text)},
    )
    caught_up(client, session["id"])
    page = text_of_page(client.get(f"/present/{session['id']}/remote").text)
    assert "Three words</h1>" in page and "No notes for this activity." in page
    assert "This is the last activity." in page
    assert "Reveal results" not in page  # its results are live: nothing to reveal


def test_the_lobby_on_the_remote_offers_next(client: TestClient, presenter: Presenter) -> None:
    started = presenter.start(NOTES_DECK)
    login(client, presenter.user.email)
    page = text_of_page(client.get(f"/present/{started['id']}/remote").text)
    assert "Waiting screen</h1>" in page and "Up next: Where does the week go?" in page
    assert "Open voting" not in page and "Notes" not in page


def test_the_remote_is_for_the_people_who_run_the_session(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    path = f"/present/{session['id']}/remote"
    client.cookies.clear()
    signed_out = client.get(path, headers=BROWSER, follow_redirects=False)
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, f"/login?next={path}")
    make_user(client, "other@example.org")
    login(client, "other@example.org")
    assert client.get(path, headers=BROWSER).status_code == 404
    make_user(client, "helper@example.org")
    facilitators = f"/api/v1/sessions/{session['id']}/facilitators"
    added = client.post(facilitators, json={"email": "helper@example.org"}, headers=presenter.headers)
    assert added.status_code == 201
    login(client, "helper@example.org")
    assert client.get(path).status_code == 200
    make_user(client, "admin@example.org", Role.admin)
    login(client, "admin@example.org")
    assert client.get(path).status_code == 200


def test_a_remote_control_needs_the_csrf_token(client: TestClient, session: dict[str, Any]) -> None:
    response = client.post(f"/present/{session['id']}/control", data={"action": "next"}, headers={"HX-Request": "true"})
    assert response.status_code == 403
    [stored_session] = stored(client, select(Session).where(Session.id == session["id"]))
    assert stored_session.current_activity_id == session["activities"][0]["id"]


# --- the remote's socket ----------------------------------------------------------------------------------------


def test_the_remote_socket_pushes_its_view_on_changes_and_the_counts_as_people_answer(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = session["activities"][0]["id"]
    with client.websocket_connect(f"/ws/presenter/{session['id']}?view=remote") as ws:
        first = receive(ws, 5)
        assert root_id(first) == "remote-live" and "Where does the week go?</h1>" in first
        respond(client, join(client, session["code"]), poll, choice="2")
        counts = receive_until(ws, lambda frame: root_id(frame) == "counts" and "<strong>1</strong> answered" in frame)
        assert "<strong>1</strong> joined" in counts
        presenter.control(session["id"], "reveal", poll)
        revealed = receive_until(ws, lambda frame: root_id(frame) == "remote-live" and "Hide results" in frame)
        assert "Results are showing on the projector." in revealed
        presenter.control(session["id"], "next")
        moved = receive_until(ws, lambda frame: root_id(frame) == "remote-live" and "Three words</h1>" in frame)
        assert "Poll" not in moved and "Word cloud · 2 of 2" in html.unescape(moved)


def test_the_remote_socket_is_sent_no_results(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = session["activities"][0]["id"]
    with (
        client.websocket_connect(f"/ws/presenter/{session['id']}") as presenter_ws,
        client.websocket_connect(f"/ws/presenter/{session['id']}?view=remote") as remote_ws,
    ):
        receive(presenter_ws, 5)
        receive(remote_ws, 5)
        respond(client, join(client, session["code"]), poll, choice="0")
        receive_until(presenter_ws, lambda frame: root_id(frame) == f"results-{poll}")
        # The remote's frames up to the count of that answer: counts only, never the results.
        seen: list[str] = []
        receive_until(
            remote_ws,
            lambda frame: seen.append(root_id(frame)) is None and "<strong>1</strong> answered" in frame,
        )
        assert set(seen) == {"counts"}


def test_the_presenter_socket_refuses_a_view_it_does_not_have(client: TestClient, session: dict[str, Any]) -> None:
    with client.websocket_connect(f"/ws/presenter/{session['id']}?view=everything") as ws:
        assert closed_with(ws) == GONE


def test_the_remote_socket_needs_someone_who_runs_the_session(client: TestClient, session: dict[str, Any]) -> None:
    make_user(client, "other@example.org")
    login(client, "other@example.org")
    with client.websocket_connect(f"/ws/presenter/{session['id']}?view=remote") as ws:
        assert closed_with(ws) == GONE


# --- after the end ----------------------------------------------------------------------------------------------

GONE_CONTROLS = (">◀ Previous<", ">Next ▶<", ">End session<", ">Open voting<", ">Close voting<", 'value="goto"')


def test_ending_switches_open_presenter_and_remote_views_to_the_ended_state(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    with (
        client.websocket_connect(f"/ws/presenter/{session['id']}") as presenter_ws,
        client.websocket_connect(f"/ws/presenter/{session['id']}?view=remote") as remote_ws,
    ):
        assert ">End session<" in receive(presenter_ws, 5)
        assert ">Next ▶<" in receive(remote_ws, 5)
        presenter.control(session["id"], "end")
        for ws, root in ((presenter_ws, "presenter-live"), (remote_ws, "remote-live")):
            ended = html.unescape(receive_until(ws, lambda frame, r=root: root_id(frame) == r and "has ended" in frame))
            assert f'href="/present/{session["id"]}/archive.zip"' in ended
            assert f'href="/present/{session["id"]}/report.html"' in ended
            assert "Start again: a new session of this deck" in ended or "cannot be started again" in ended
            assert "1. Where does the week go?" in ended and "2. Three words" in ended
            assert not [control for control in GONE_CONTROLS if control in ended]


def test_an_ended_sessions_page_shows_the_results_read_only(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll, cloud = (a["id"] for a in session["activities"])
    for choice in ("0", "0", "2"):
        respond(client, join(client, session["code"]), poll, choice=choice)
    presenter.control(session["id"], "goto", cloud)
    respond(client, join(client, session["code"]), cloud, word=["trust", "time", "voice"])
    presenter.control(session["id"], "end")
    caught_up(client, session["id"])
    page = html.unescape(client.get(f"/present/{session['id']}").text)
    assert "This session has ended." in page
    assert "3 people answered" in page and "67%" in page  # the hidden poll's results, final, for the presenter
    assert 'class="word-text">trust<' in page
    assert ">Hide<" not in page and 'value="moderate"' not in page  # read-only: no moderation
    assert not [control for control in GONE_CONTROLS if control in page]
    assert f'href="#ended-{poll}"' in page  # the outline leads to each activity's results


def test_the_dashboard_links_an_ended_session_to_its_page(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    presenter.control(session["id"], "end")
    assert f'href="/present/{session["id"]}"' in client.get("/present").text


def test_the_report_opens_in_the_browser_under_its_own_policy(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    respond(client, join(client, session["code"]), session["activities"][0]["id"], choice="1")
    presenter.control(session["id"], "end")
    response = client.get(f"/present/{session['id']}/report.html")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == REPORT_POLICY
    assert "Where does the week go?" in response.text and "Handsup report" in response.text
    make_user(client, "other@example.org")
    login(client, "other@example.org")
    assert client.get(f"/present/{session['id']}/report.html", headers=BROWSER).status_code == 404


def test_start_again_opens_a_new_live_session_of_the_same_deck(client: TestClient, presenter: Presenter) -> None:
    started = presenter.start()  # the example deck, a stored deck
    presenter.control(started["id"], "end")
    login(client, presenter.user.email)
    page = client.get(f"/present/{started['id']}").text
    assert "Start again: a new session of this deck" in page
    [old] = stored(client, select(Session).where(Session.id == started["id"]))
    response = client.post(
        "/present/sessions",
        data={"deck_id": str(old.deck_id), "title": old.title},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_from(page)},
    )
    assert response.status_code == 204
    new_path = response.headers["hx-redirect"]
    [again] = stored(client, select(Session).where(Session.id == int(new_path.rsplit("/", 1)[1])))
    assert again.id != old.id and again.deck_id == old.deck_id and again.title == old.title
    assert again.state == SessionState.live and again.code != old.code
    assert ">Next ▶<" in client.get(new_path).text


def test_a_session_not_started_from_a_stored_deck_cannot_be_started_again(
    client: TestClient, presenter: Presenter
) -> None:
    started = presenter.start(TWO_QUESTIONS)
    presenter.control(started["id"], "end")
    login(client, presenter.user.email)
    page = client.get(f"/present/{started['id']}").text
    assert "cannot be started again from here" in page and 'hx-post="/present/sessions"' not in page


def test_start_again_from_the_remote_opens_the_new_sessions_remote(client: TestClient, presenter: Presenter) -> None:
    started = presenter.start()
    presenter.control(started["id"], "end")
    login(client, presenter.user.email)
    remote = client.get(f"/present/{started['id']}/remote").text
    assert 'name="then" value="remote"' in remote
    [old] = stored(client, select(Session).where(Session.id == started["id"]))
    form = {"deck_id": str(old.deck_id), "title": old.title, "then": "remote"}
    response = client.post(
        "/present/sessions", data=form, headers={"X-CSRF-Token": csrf_from(remote)}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"].endswith("/remote")
    assert ">Next ▶<" in client.get(response.headers["location"]).text
    refused = client.post(
        "/present/sessions", data={**form, "then": "elsewhere"}, headers={"X-CSRF-Token": csrf_from(remote)}
    )
    assert refused.status_code == 422
    assert len(stored(client, select(Session).where(Session.deck_id == old.deck_id))) == 2  # the refused one: none
