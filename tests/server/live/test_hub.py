"""The hub: rooms opened once however many ask, closed once idle (only when their last socket closes), reopened."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.live.room import Room
from tests.factories import (
    Presenter,
    api_token,
    caught_up,
    eventually,
    join,
    make_user,
    receive,
    receive_until,
    respond,
    root_id,
    run,
    services_of,
)

pytestmark = pytest.mark.postgresql  # each test here runs on SQLite and on PostgreSQL

DECK = """\
title: Hub
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
"""


def on_poll(client: TestClient, presenter: Presenter) -> tuple[dict[str, Any], int]:
    session = presenter.start(DECK)
    poll = int(session["activities"][0]["id"])
    presenter.control(session["id"], "goto", poll)
    caught_up(client, session["id"])
    return session, poll


def counts(presenter: Presenter, session: dict[str, Any], poll: int, expected: list[int]) -> None:
    options = presenter.tally(session["id"], poll)["results"]["options"]
    assert [option["count"] for option in options] == expected


def test_rooms_are_opened_once_however_many_ask_at_the_same_time(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(DECK)
    hub = services_of(client).hub

    async def ask_five_times() -> list[Room]:
        return list(await asyncio.gather(*(hub.room(session["id"]) for _ in range(5))))

    first, *others = run(client, ask_five_times)
    assert all(room is first for room in others)
    assert hub.rooms[session["id"]] is first


@pytest.fixture
def quickly_idle(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"room_idle_seconds": 0.01}))) as client:
        yield client


def test_an_idle_room_is_closed_and_reopened_when_needed(quickly_idle: TestClient) -> None:
    client = quickly_idle
    user = make_user(client)
    presenter = Presenter(client, user, api_token(client, user.email))
    session, poll = on_poll(client, presenter)
    assert respond(client, join(client, session["code"]), poll, choice="1").status_code == 201
    eventually(lambda: counts(presenter, session, poll, [0, 1, 0]))
    hub = services_of(client).hub

    def closed() -> None:
        assert session["id"] not in hub.rooms

    eventually(closed)
    counts(presenter, session, poll, [0, 1, 0])


def test_a_room_turns_idle_only_when_its_last_socket_closes(quickly_idle: TestClient) -> None:
    client = quickly_idle
    user = make_user(client)
    presenter = Presenter(client, user, api_token(client, user.email))
    session, _ = on_poll(client, presenter)
    hub = services_of(client).hub
    token = join(client, session["code"])
    headers = {"cookie": f"handsup_participant={token}"}
    with client.websocket_connect(f"/ws/participant/{session['code']}", headers=headers) as ws:
        receive(ws)
        room = hub.rooms[session["id"]]
        assert (room.idle_since, room.online) == (None, 1)
        presenter.control(session["id"], "close")
        assert "Voting is closed." in receive_until(ws, lambda frame: root_id(frame) == "stage")
        assert hub.rooms[session["id"]] is room

    def closed() -> None:
        assert session["id"] not in hub.rooms

    eventually(closed)


def test_a_crowd_behind_one_address_joins_a_worker_that_has_not_served_the_session_yet(
    client: TestClient, presenter: Presenter, settings: Settings
) -> None:
    """A worker new to a session looks its code up once for everyone asking at the same moment: a room behind one
    venue's address is not taken for a guesser because its phones arrived before the first lookup came back."""
    session = presenter.start(DECK)
    hub = services_of(client).hub
    crowd = 3 * settings.join_misses_per_address

    async def cold_worker_crowd() -> list[Room]:
        await hub.forget(session["id"])
        hub._codes.clear()  # a worker that has never served it (or has just restarted)
        return list(await asyncio.gather(*(hub.admit(session["code"], "203.0.113.9") for _ in range(crowd))))

    rooms = run(client, cold_worker_crowd)
    assert len(rooms) == crowd and all(room is rooms[0] for room in rooms)
    assert rooms[0].session_id == session["id"]
