"""The room: tallies rebuilt from the database, overflow resynced, one push per change, idle only when empty."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.app import create_app
from server.backplane import session_channel
from server.config import Settings
from server.models import Participant, Response
from server.models import Session as SessionRow
from tests.factories import (
    Presenter,
    api_token,
    eventually,
    join,
    make_user,
    respond,
    run,
    services_of,
)
from tests.factories import stored as rows
from tests.server.live.test_hub import counts, on_poll

pytestmark = pytest.mark.postgresql  # each test here runs on SQLite and on PostgreSQL


def test_a_room_opened_after_the_votes_rebuilds_its_tally_from_the_database(
    client: TestClient, presenter: Presenter
) -> None:
    session, poll = on_poll(client, presenter)
    for choice in ("0", "2", "2"):
        assert respond(client, join(client, session["code"]), poll, choice=choice).status_code == 201
    eventually(lambda: counts(presenter, session, poll, [1, 0, 2]))
    hub = services_of(client).hub

    async def close_the_room() -> None:
        await hub.rooms.pop(session["id"]).close()

    run(client, close_the_room)
    assert session["id"] not in hub.rooms
    counts(presenter, session, poll, [1, 0, 2])
    room = hub.rooms[session["id"]]
    assert len(room.participants) == 3
    assert room.snapshot.current is not None and room.snapshot.current.id == poll


def test_a_room_that_fell_behind_on_the_backplane_resyncs_from_the_database(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"backplane_queue_limit": 1}))) as client:
        user = make_user(client)
        presenter = Presenter(client, user, api_token(client, user.email))
        session, poll = on_poll(client, presenter)
        token = join(client, session["code"])
        services = services_of(client)
        [participant] = rows(client, select(Participant.id).where(Participant.session_id == session["id"]))

        async def store_quietly_then_flood() -> None:
            """A row no event announces, then more events than the room's queue holds."""
            async with services.db() as db, db.begin():
                db.add(Response(activity_id=poll, participant_id=participant, version=1, payload={"choices": [1]}))
            for _ in range(3):
                await services.backplane.publish(session_channel(session["id"]), {"type": "joined", "participant": 0})

        run(client, store_quietly_then_flood)
        eventually(lambda: counts(presenter, session, poll, [0, 1, 0]))
        assert services.hub.stats.backplane_overflows == 1  # what /metrics reports as handsup_backplane_overflows_total
        assert respond(client, token, poll, choice="2").status_code == 201
        eventually(lambda: counts(presenter, session, poll, [0, 0, 1]))


def test_overlapping_reloads_of_one_change_push_the_views_once(
    client: TestClient, presenter: Presenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The presenter's request and the backplane event of the same action both reload the room's state; a
    second push would wipe what the presenter is choosing and what participants are typing."""
    session, _ = on_poll(client, presenter)
    services = services_of(client)
    room = services.hub.rooms[session["id"]]
    pushes: list[bool] = []
    mark_stage = room._mark_stage
    monkeypatch.setattr(
        room, "_mark_stage", lambda participants=True: (pushes.append(participants), mark_stage(participants))
    )

    async def change_then_reload_three_times_at_once() -> None:
        async with services.db() as db, db.begin():
            stored = await db.get(SessionRow, session["id"])
            assert stored is not None
            stored.reactions = False
            db.add(stored)
        await asyncio.gather(*(room.refresh_state() for _ in range(3)))

    run(client, change_then_reload_three_times_at_once)
    assert pushes == [True]
    assert room.snapshot.session.reactions is False


def test_a_backplane_message_of_an_unknown_type_is_logged_and_ignored(
    client: TestClient, presenter: Presenter, caplog: pytest.LogCaptureFixture
) -> None:
    session, poll = on_poll(client, presenter)
    services = services_of(client)
    room = services.hub.rooms[session["id"]]

    async def from_a_newer_worker() -> None:
        await services.backplane.publish(session_channel(session["id"]), {"type": "leaderboard", "scores": []})

    run(client, from_a_newer_worker)

    def logged() -> None:
        assert any("unknown type 'leaderboard'" in record.getMessage() for record in caplog.records)

    eventually(logged)
    assert services.hub.rooms[session["id"]] is room
    assert respond(client, join(client, session["code"]), poll, choice="1").status_code == 201
    eventually(lambda: counts(presenter, session, poll, [0, 1, 0]))
