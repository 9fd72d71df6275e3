"""The pushes' pacer: a room pushes every push interval, further apart (boundedly) while the worker's rooms together
spend more than their share of its time pushing."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from server.live.room import PUSH_SHARE, PUSH_STRETCH_MAX, PushPacer
from tests.factories import Presenter, eventually, join, respond, services_of
from tests.server.live.test_hub import counts, on_poll


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_worker_that_pushes_little_pushes_every_interval() -> None:
    clock = Clock()
    pacer = PushPacer(clock=clock)
    assert pacer.interval(0.1) == pytest.approx(0.1)
    for _ in range(10):  # one room, ten pushes a second of a millisecond each: 1 % of the worker
        pacer.spent(0.001)
        clock.now += 0.1
    assert pacer.share < PUSH_SHARE
    assert pacer.interval(0.1) == pytest.approx(0.1)


def test_pushes_past_their_share_stretch_the_interval_in_proportion_up_to_the_bound() -> None:
    clock = Clock()
    pacer = PushPacer(clock=clock)
    pacer.spent(2 * PUSH_SHARE)  # twice the share of the last second
    assert pacer.share == pytest.approx(2 * PUSH_SHARE)
    assert pacer.interval(0.1) == pytest.approx(0.2)
    pacer.spent(1.0)  # the worker did little else
    assert pacer.interval(0.1) == pytest.approx(0.1 * PUSH_STRETCH_MAX)


def test_the_stretch_fades_once_the_pushes_quieten() -> None:
    clock = Clock()
    pacer = PushPacer(clock=clock)
    pacer.spent(1.0)
    clock.now += 0.5
    assert 0.1 < pacer.interval(0.1) <= 0.1 * PUSH_STRETCH_MAX
    clock.now += 5
    assert pacer.interval(0.1) == pytest.approx(0.1)


def test_the_rooms_of_a_worker_share_one_pacer_and_report_their_pushes_to_it(
    client: TestClient, presenter: Presenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = services_of(client).hub
    pacer = hub.deps.pacer
    asked: list[float] = []
    interval = pacer.interval
    monkeypatch.setattr(pacer, "interval", lambda base: (asked.append(base), interval(base))[1])
    spent: list[float] = []
    report = pacer.spent
    monkeypatch.setattr(pacer, "spent", lambda seconds: (spent.append(seconds), report(seconds))[0])
    first, poll = on_poll(client, presenter)
    second, _ = on_poll(client, presenter)
    rooms = [hub.rooms[first["id"]], hub.rooms[second["id"]]]
    assert all(room.deps.pacer is pacer for room in rooms)
    spent.clear()
    assert respond(client, join(client, first["code"]), poll, choice="2").status_code == 201
    eventually(lambda: counts(presenter, first, poll, [0, 0, 1]))

    def paced() -> None:
        assert spent and asked

    eventually(paced)
    assert all(seconds > 0 for seconds in spent)
    assert set(asked) == {hub.deps.settings.push_interval_ms / 1000}  # the push interval, for the pacer to stretch
