"""The event stream, the socket's twin where websockets are blocked: the same stages, the same door, the same limits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.factories import (
    PASSWORD,
    TWO_QUESTIONS,
    LiveServer,
    Presenter,
    caught_up,
    cli,
    event_stream,
    eventually,
    join,
    limits,
    run,
    services_of,
    start_server,
    stop_server,
)


def cookie(token: str) -> dict[str, str]:
    return {"cookie": f"handsup_participant={token}"}


def stage_key(html: str) -> str:
    match = re.search(r'data-stage="([0-9a-f]+)"', html)
    assert match, "a stage names its key"
    return match.group(1)


def online(client: TestClient, session_id: int) -> int:
    async def count() -> int:
        return (await services_of(client).hub.room(session_id)).online

    return run(client, count)


def test_a_stream_sends_the_current_stage_first_named_by_its_key(client: TestClient, session: dict[str, Any]) -> None:
    token = join(client, session["code"])
    with event_stream(client, f"/{session['code']}/events", cookie(token)) as stream:
        assert stream.status == 200
        assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert stream.headers["cache-control"] == "no-cache, no-transform"  # no proxy may buffer or compress it
        assert stream.headers["x-accel-buffering"] == "no"
        event = stream.event()
    assert event["data"].startswith('<section id="stage"') and "You're in!" in event["data"]
    assert event["id"] == stage_key(event["data"])


def test_a_stream_follows_the_presenter_next_activity_closed_voting_and_the_end(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = session["activities"][0]["id"]
    token = join(client, session["code"])
    with event_stream(client, f"/{session['code']}/events", cookie(token)) as stream:
        assert "You're in!" in stream.event()["data"]
        presenter.control(session["id"], "next")
        moved = stream.event()
        assert f'id="form-{poll}"' in moved["data"] and moved["id"] == stage_key(moved["data"])
        presenter.control(session["id"], "close", poll)
        assert "Voting is closed." in stream.event()["data"]
        presenter.control(session["id"], "end")
        assert "This session has ended" in stream.event()["data"]


def test_a_phone_that_shows_the_stage_is_not_sent_it_again_and_a_reconnect_resyncs_by_last_event_id(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    """`?stage=` names what the page came with; EventSource's reconnect names the last event it got, which wins."""
    token = join(client, session["code"])
    lobby = client.get(f"/{session['code']}", headers=cookie(token)).text
    key = stage_key(lobby)
    with event_stream(client, f"/{session['code']}/events?stage={key}", cookie(token)) as stream:
        assert stream.raw() == b"retry: 3000\n\n"  # the opening, and no stage: the phone has it
        presenter.control(session["id"], "next")
        on_poll = stream.event()
    caught_up(client, session["id"])
    # The reconnect keeps the page's URL (?stage= of the lobby), but says it got the poll: nothing to send.
    headers = {**cookie(token), "last-event-id": on_poll["id"]}
    with event_stream(client, f"/{session['code']}/events?stage={key}", headers) as stream:
        assert stream.raw() == b"retry: 3000\n\n"
        presenter.control(session["id"], "close")
        assert "Voting is closed." in stream.event()["data"]
    # One that missed a change while away gets the current stage.
    with event_stream(client, f"/{session['code']}/events", {**cookie(token), "last-event-id": key}) as stream:
        assert "Voting is closed." in stream.event()["data"]


def test_a_stream_counts_as_a_connected_participant_and_is_detached_when_the_phone_goes(
    client: TestClient, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    with event_stream(client, f"/{session['code']}/events", cookie(token)) as stream:
        stream.event()
        assert online(client, session["id"]) == 1
    eventually(lambda: _none_online(client, session["id"]))

    async def leftovers() -> list[Any]:
        room = await services_of(client).hub.room(session["id"])
        return room.connections

    assert run(client, leftovers) == []  # and its sender task was cancelled and awaited by detach


def _none_online(client: TestClient, session_id: int) -> None:
    assert online(client, session_id) == 0


@limits(connections_per_address=1)
def test_streams_and_sockets_share_the_open_connections_of_an_address(
    client: TestClient, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    with event_stream(client, f"/{session['code']}/events", cookie(token)) as stream:
        stream.event()
        with event_stream(client, f"/{session['code']}/events", cookie(token)) as second:
            assert second.status == 503
            assert second.headers["retry-after"] == "3"
    with (
        client.websocket_connect(f"/ws/participant/{session['code']}", headers=cookie(token)) as socket,
        event_stream(client, f"/{session['code']}/events", cookie(token)) as refused,
    ):
        socket.receive_text()
        assert refused.status == 503


def test_a_stream_needs_the_pages_cookie_and_our_own_origin(client: TestClient, session: dict[str, Any]) -> None:
    path = f"/{session['code']}/events"
    assert client.get(path).status_code == 403
    assert client.get(path, headers=cookie("not a token")).status_code == 403
    foreign = {**cookie(join(client, session["code"])), "origin": "https://elsewhere.example"}
    assert client.get(path, headers=foreign).status_code == 403
    assert client.get("/999999/events", headers=cookie(join(client, session["code"]))).status_code == 404


@limits(event_stream_heartbeat_seconds=0.05)
def test_a_quiet_stream_sends_heartbeats(client: TestClient, session: dict[str, Any]) -> None:
    token = join(client, session["code"])
    with event_stream(client, f"/{session['code']}/events", cookie(token)) as stream:
        stream.event()
        assert stream.raw() == b": still here\n\n"


@limits(client_queue_limit=2)
def test_a_stream_that_falls_behind_is_ended_so_it_reconnects_and_resyncs(
    client: TestClient, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])

    async def flood() -> None:
        room = await services_of(client).hub.room(session["id"])
        for connection in room.connections:
            for n in range(5):
                connection.send(f"<p id='x'>{n}</p>")

    with event_stream(client, f"/{session['code']}/events", cookie(token)) as stream:
        stream.event()
        run(client, flood)
        with pytest.raises(EOFError):
            for _ in range(10):
                stream.raw()


def test_stopping_the_server_ends_open_streams_cleanly(tmp_path: Path) -> None:
    """uvicorn waits for every response to finish before it stops; an endless stream would hold it for its grace
    period and then be cut. The server ends streams first (browsers reconnect once it is back)."""
    server = start_server(tmp_path / "live", HANDSUP_SHUTDOWN_GRACE_SECONDS="60")
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            code, token = _a_live_session(server, http)
            with http.stream("GET", f"/{code}/events", headers={**cookie(token), "accept-encoding": "gzip"}) as got:
                assert got.headers["content-type"].startswith("text/event-stream")
                assert "content-encoding" not in got.headers  # never gzipped: that would buffer it
                chunks = got.iter_raw()
                assert b"retry:" in next(chunks)
                server.process.terminate()
                rest = b"".join(chunks)  # ends, rather than failing mid-body when the grace period cuts it
            assert b"This session has ended" not in rest
            server.process.wait(timeout=30)  # within the 60 s of grace: nothing was left running
            assert "timeout graceful shutdown exceeded" not in server.log.read_text()
    finally:
        stop_server(server)


def _a_live_session(server: LiveServer, http: httpx.Client) -> tuple[str, str]:
    password = server.data_dir / "password"
    password.write_text(PASSWORD)
    cli(server, "user", "add", "events@example.org", "--password-file", str(password))
    api_token = cli(server, "token", "create", "events@example.org")
    started = http.post(
        "/api/v1/sessions", json={"deck_yaml": TWO_QUESTIONS}, headers={"Authorization": f"Bearer {api_token}"}
    )
    assert started.status_code == 201, started.text
    code = str(started.json()["code"])
    joined = http.post("/api/v1/join", json={"code": code})
    assert joined.status_code == 201, joined.text
    return code, str(joined.json()["participant_token"])
