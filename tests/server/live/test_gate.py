"""The join gate: past what the worker can take, a new phone gets the light "the room is filling up" page and comes
back by itself; phones that have joined always pass; the presenter sees how many are waiting."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import httpx
from sqlmodel import select
from starlette.testclient import TestClient

from server.config import Settings
from server.live.gate import CROWD, LONGEST_RETRY_S, SHORTEST_RETRY_S, JoinGate
from server.models import Participant
from tests.factories import (
    Presenter,
    eventually,
    login,
    receive_until,
    root_id,
    run,
    services_of,
    stored,
)

COOKIE = "handsup_participant"


def phone(client: TestClient, code: str, token: str | None = None, **headers: str) -> httpx.Response:
    """What a phone's browser sends for the join link (its cookie, if it has one)."""
    cookies = {COOKIE: token} if token is not None else {}
    client.cookies.clear()
    return client.get(f"/{code}", headers={"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), **headers})


def participants(client: TestClient, session: dict[str, Any]) -> int:
    return len(stored(client, select(Participant).where(Participant.session_id == session["id"])))


def busy(client: TestClient, seconds_late: float) -> None:
    """The gate as a surge leaves it: the event loop runs this late, with a crowd of joins under way (none if 0)."""
    gate = services_of(client).hub.gate
    gate.lag, gate.in_flight = seconds_late, CROWD if seconds_late else 0


def test_past_its_limit_a_new_phone_is_asked_to_come_back_and_then_joins(
    client: TestClient, session: dict[str, Any]
) -> None:
    code = session["code"]
    busy(client, 5.0)
    deferred = phone(client, code)
    assert deferred.status_code == 503
    seconds = int(deferred.headers["retry-after"])
    assert SHORTEST_RETRY_S <= seconds <= LONGEST_RETRY_S
    assert f'<meta http-equiv="refresh" content="{seconds}">' in deferred.text  # it asks again by itself
    assert 'id="filling"' in deferred.text and "The room is filling up" in deferred.text
    assert "<script" not in deferred.text  # light: nothing to run, nothing but the (cached) stylesheet to fetch
    assert deferred.headers["cache-control"] == "no-store"
    token = deferred.cookies[COOKIE]  # its participant cookie already: its return is recognised
    assert participants(client, session) == 0  # nothing stored for a phone that is not in yet

    busy(client, 5.0)
    assert phone(client, code, token).status_code == 503  # still busy: asked again
    busy(client, 0.0)
    joined = phone(client, code, token)
    assert joined.status_code == 200 and 'id="filling"' not in joined.text
    assert participants(client, session) == 1
    busy(client, 5.0)
    assert phone(client, code, token).status_code == 200  # joined: a reload never waits behind the newcomers


def test_the_filling_page_speaks_the_phones_language(client: TestClient, session: dict[str, Any]) -> None:
    busy(client, 5.0)
    deferred = phone(client, session["code"], **{"accept-language": "es"})
    assert deferred.status_code == 503 and '<html lang="es">' in deferred.text
    assert "The room is filling up" not in deferred.text


def test_the_presenter_sees_how_many_phones_are_waiting_to_join(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    login(client, presenter.user.email)
    cookies = dict(client.cookies)
    with client.websocket_connect(f"/ws/presenter/{session['id']}") as ws:
        busy(client, 5.0)
        tokens = [phone(client, session["code"]).cookies[COOKIE] for _ in range(3)]
        receive_until(ws, lambda frame: root_id(frame) == "counts" and "<strong>3</strong> waiting to join" in frame)
        scraped = client.app.state.metrics.exposition().decode()  # type: ignore[attr-defined]
        assert "handsup_joins_deferred_total 3.0" in scraped and "handsup_joins_waiting 3.0" in scraped
        busy(client, 0.0)
        for token in tokens:
            assert phone(client, session["code"], token).status_code == 200
        client.cookies.update(cookies)
        counts = receive_until(ws, lambda frame: root_id(frame) == "counts" and "<strong>3</strong> joined" in frame)
        assert "waiting to join" not in counts
        scraped = client.app.state.metrics.exposition().decode()  # type: ignore[attr-defined]
        assert "handsup_joins_waiting 0.0" in scraped and "handsup_participants_joined_total 3.0" in scraped


def test_the_gate_closes_while_the_event_loop_runs_late_and_opens_again(client: TestClient) -> None:
    gate = services_of(client).hub.gate

    async def hold_the_loop() -> None:
        time.sleep(2 * gate.lag_limit)  # noqa: ASYNC251 - the point: a loop too busy to serve anyone in time
        await asyncio.sleep(0.1)  # the probe wakes, late

    assert gate.open
    run(client, hold_the_loop)
    assert gate.lag >= gate.lag_limit and gate.open  # late, but no crowd: one phone at a busy moment is let in
    gate.in_flight = CROWD
    run(client, hold_the_loop)
    assert not gate.open
    eventually(lambda: gate.open or None, seconds=5)  # the lateness fades once the loop keeps time again
    gate.in_flight = 0


def test_the_gate_closes_past_its_joins_in_flight_and_spreads_returns_over_the_waiting(settings: Settings) -> None:
    gate = JoinGate(settings.model_copy(update={"joins_in_flight_limit": 2}))
    gate.admitted()
    assert gate.open
    gate.admitted()
    assert not gate.open
    gate.answered()
    assert gate.open
    gate.capacity = 100.0  # joins a second, as the worker measured itself
    few = [gate.retry_after() for _ in range(200)]  # one join under way
    assert set(few) <= {1, 2}  # a short wait when few are ahead
    gate.queued = 1_000  # 10 s of joins at the door ahead of them
    many = [gate.retry_after() for _ in range(200)]
    assert min(many) >= 10 and max(many) <= 17 and len(set(many)) > 3  # after those ahead, spread out
    gate.queued = 100_000
    assert {gate.retry_after() for _ in range(20)} == {LONGEST_RETRY_S}
    assert gate.deferred == 420


def test_the_gate_measures_how_many_joins_the_worker_answers_per_second(client: TestClient) -> None:
    gate = services_of(client).hub.gate

    async def answer_joins() -> None:
        for _ in range(60):  # 60 joins over about 1.2 s
            gate.admitted()
            await asyncio.sleep(0.02)
            gate.answered()
        await asyncio.sleep(0.1)  # the probe measures

    run(client, answer_joins)
    assert 20 < gate.capacity < 60  # about 50 a second (the probe's window starts a little before the first)


def test_the_gate_reads_how_many_connections_wait_to_be_accepted(settings: Settings) -> None:
    """A worker too busy to accept is not late by its own clock: the room waits in the kernel's accept queue."""
    gate = JoinGate(settings.model_copy(update={"join_accept_queue_limit": 3}))
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        gate.watch_listeners([listener])
        assert gate.accept_queue() == 0
        waiting = [socket.create_connection(listener.getsockname()) for _ in range(5)]
        try:
            assert gate.accept_queue() == 5
            gate.queued = gate.accept_queue()
            assert not gate.open
            listener.accept()[0].close()
            assert gate.accept_queue() == 4
        finally:
            for connection in waiting:
                connection.close()
