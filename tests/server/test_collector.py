"""The garbage-collection schedule: long-lived objects frozen out of the way, cycles swept when quiet."""

from __future__ import annotations

import asyncio
import gc
import weakref

from fastapi.testclient import TestClient

from server.app import create_app
from server.collector import CollectorSchedule, SweepPolicy
from server.config import Settings


class Node:
    """An object that can be part of a reference cycle and be watched by a weak reference."""

    def __init__(self) -> None:
        self.other: Node | None = None


def test_sweep_policy_waits_for_quiet_and_spaces_sweeps() -> None:
    policy = SweepPolicy(quiet_s=60, every_s=900)
    assert not policy.due(now=1000, last_activity=990, last_sweep=0)  # busy ten seconds ago
    assert policy.due(now=1000, last_activity=900, last_sweep=0)
    assert not policy.due(now=1000, last_activity=900, last_sweep=500)  # swept less than 900 s ago


def test_freezing_moves_survivors_out_of_automatic_collections() -> None:
    collector = CollectorSchedule(lambda: 0, 10.0, SweepPolicy(quiet_s=60, every_s=900))
    kept = [Node() for _ in range(100)]
    try:
        collector.freeze()
        assert gc.get_freeze_count() >= len(kept)
        assert not any(tracked is kept[0] for generation in range(3) for tracked in gc.get_objects(generation))
    finally:
        gc.unfreeze()


def test_a_cycle_frozen_before_it_died_is_freed_by_the_sweep() -> None:
    collector = CollectorSchedule(lambda: 0, 10.0, SweepPolicy(quiet_s=60, every_s=900))
    first, second = Node(), Node()
    first.other, second.other = second, first
    watched = weakref.ref(first)
    try:
        collector.freeze()
        del first, second
        gc.collect()  # an ordinary full collection leaves frozen objects alone
        assert watched() is not None
        assert collector.sweep() >= 2
        assert watched() is None
    finally:
        gc.unfreeze()


def test_objects_freed_by_reference_count_are_freed_though_frozen() -> None:
    collector = CollectorSchedule(lambda: 0, 10.0, SweepPolicy(quiet_s=60, every_s=900))
    node = Node()
    watched = weakref.ref(node)
    try:
        collector.freeze()
        del node
        assert watched() is None
    finally:
        gc.unfreeze()


def test_the_schedule_sweeps_once_the_server_is_quiet() -> None:
    async def scenario() -> tuple[int, int]:
        collector = CollectorSchedule(lambda: 0, 0.01, SweepPolicy(quiet_s=0.05, every_s=0.05))
        collector.start()
        try:
            while collector.sweeps == 0:
                await asyncio.sleep(0.01)
            return collector.freezes, collector.sweeps
        finally:
            await collector.close()

    freezes, sweeps = asyncio.run(scenario())
    assert freezes >= 1 and sweeps >= 1
    assert gc.get_freeze_count() == 0  # closed: everything given back


def test_a_busy_server_is_frozen_not_swept() -> None:
    async def scenario() -> tuple[int, int]:
        work = iter(range(10**9))
        collector = CollectorSchedule(lambda: next(work), 0.01, SweepPolicy(quiet_s=0.05, every_s=0.05))
        collector.start()
        try:
            while collector.freezes < 10:
                await asyncio.sleep(0.01)
            return collector.freezes, collector.sweeps
        finally:
            await collector.close()

    freezes, sweeps = asyncio.run(scenario())
    assert freezes >= 10 and sweeps == 0


def test_the_app_runs_the_schedule_and_unfreezes_at_shutdown(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_the_schedule_can_be_turned_off(settings: Settings) -> None:
    off = settings.model_copy(update={"gc_freeze_seconds": 0})
    with TestClient(create_app(off)) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0
