"""Keeping CPython's full garbage collections out of a live room.

A full collection walks every tracked object in the process. With 10,000 phones connected that is millions of
objects and, measured on the benchmark (docs/benchmarks.md), pauses of one to two seconds: every vote, push and
slide change waits them out. Nearly all of those objects live as long as their socket, so walking them again and
again finds nothing. The schedule here moves them out of the collector's way and collects fully only when the
server is quiet:

- every `gc_freeze_seconds`, the young generations are collected (cheap: only recent objects) and every survivor is
  moved to the permanent generation (`gc.freeze()`), which automatic collections never walk;
- objects that die by reference count are still freed at once, frozen or not; what freezing keeps is cyclic garbage
  that became unreachable after it was frozen. A sweep (`gc.unfreeze()`, a full collection, `gc.freeze()`) returns
  that memory once the server has been quiet (no answer committed, no socket opened or closed) for
  `gc_sweep_quiet_seconds`, and at most once per `gc_sweep_seconds`;
- at shutdown everything is unfrozen, so a process that goes on (the test suite) collects as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class SweepPolicy:
    """When a full sweep may run: after a quiet spell, and not too often (pure, so it is tested on numbers)."""

    quiet_s: float
    every_s: float

    def due(self, now: float, last_activity: float, last_sweep: float) -> bool:
        """Whether to sweep now, given when the server was last busy and when it last swept."""
        return now - last_activity >= self.quiet_s and now - last_sweep >= self.every_s


class CollectorSchedule:
    """Freezes long-lived objects on a timer and sweeps when quiet; `activity()` grows whenever the server works."""

    def __init__(self, activity: Callable[[], int], freeze_s: float, policy: SweepPolicy) -> None:
        self._activity = activity
        self._freeze_s = freeze_s
        self._policy = policy
        self._task: asyncio.Task[None] | None = None
        self.freezes = 0
        self.sweeps = 0
        self.last_sweep_s = 0.0

    def start(self) -> None:
        """Freeze what start-up made (modules, templates, the registry) and begin the schedule."""
        self.freeze()
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop the schedule and give every frozen object back to the collector."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        gc.unfreeze()

    def freeze(self) -> None:
        """Collect the young generations, then move every survivor out of automatic collections' way."""
        gc.collect(1)
        gc.freeze()
        self.freezes += 1

    def sweep(self) -> int:
        """One full collection over everything, frozen objects included; how many unreachable objects it found."""
        started = time.perf_counter()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        self.last_sweep_s = time.perf_counter() - started
        self.sweeps += 1
        log.info("garbage sweep: %d unreachable objects in %.0f ms", found, self.last_sweep_s * 1000)
        return found

    async def _run(self) -> None:
        seen, last_activity = self._activity(), time.monotonic()
        last_sweep = last_activity
        while True:
            await asyncio.sleep(self._freeze_s)
            now, current = time.monotonic(), self._activity()
            if current != seen:
                seen, last_activity = current, now
            if self._policy.due(now, last_activity, last_sweep):
                self.sweep()
                last_sweep = now
            else:
                self.freeze()
