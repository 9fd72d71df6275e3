"""The join gate: past what this worker can take, a new phone is asked to come back in a moment, never refused.

A room that scans the code at once arrives faster than one process can serve pages. Left alone, the joins queue
inside the server until each waits longer than any page should and the last ones time out. The gate watches how late
the event loop runs (the queue every request waits in), how many connections wait at the door for the worker to
accept them (Linux's accept queue of the listening socket), and how many joins are under way. Past the limit of the
accept queue or of joins under way, or while a crowd of joins is under way and the loop runs late, a phone that has
not joined yet gets the light "the room is filling up" page at once, with `Retry-After` and a refresh of its own.
The delay is drawn at random over a spread that grows with the phones already waiting, so they come back spread out
at about the rate the worker has been answering joins. Phones that have joined (their cookie is in the room) always
pass: a reload or a reconnect never waits behind the newcomers.

The presenter sees how many are waiting: each deferred phone carries its new participant cookie, so its return takes
it off the waiting list (server/live/room.py `waiting`)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import socket
import struct
import sys
import time
from collections import deque
from collections.abc import Iterable

from server.config import Settings

LAG_PROBE_S = 0.05  # how often the event loop's lateness is sampled
LAG_DECAY = 0.8  # a late wake-up counts fully, then fades over a few probes (so one busy moment is not a surge)
RATE_WINDOW_S = 5.0  # joins let in over this window give the rate the waiting phones are spread over
SLOWEST_RATE = 100.0  # joins per second assumed at least, so a cold worker does not send phones away for long
# A late event loop alone is not a surge (a collector pause, one heavy request): phones are asked to wait only
# while at least this many joins are under way too, so one phone arriving at a busy moment is never sent away.
CROWD = 16
SHORTEST_RETRY_S = 1
# Linux's tcp_info for a listening socket: `tcpi_unacked` holds the connections waiting to be accepted.
TCP_INFO_UNACKED = struct.Struct("=I")
TCP_INFO_UNACKED_OFFSET = 24  # eight one-byte fields, then rto, ato, snd_mss, rcv_mss (four bytes each)
TCP_INFO_SIZE = 104
LONGEST_RETRY_S = 30


class JoinGate:
    """Whether a new phone joins now, and if not, in how many seconds it should come back."""

    def __init__(self, settings: Settings) -> None:
        self.lag_limit = settings.join_lag_limit_ms / 1000
        self.in_flight_limit = settings.joins_in_flight_limit
        self.queue_limit = settings.join_accept_queue_limit
        self.lag = 0.0  # how late the event loop runs, in seconds (decaying maximum of the recent probes)
        # Connections the kernel holds for us, not accepted yet: a worker too busy to accept is not late at all by
        # its own clock, while the room waits at its door (the largest over the listening sockets, decaying).
        self.queued = 0
        self._listeners: list[socket.socket] = []
        self.in_flight = 0  # joins let in that have not been answered yet
        self.deferred = 0  # phones asked to come back (since start: /metrics)
        self._answered: deque[float] = deque()  # when recent joins were answered: the rate the worker takes them
        self._watcher: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._watcher = asyncio.create_task(self._watch())

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)

    def watch_listeners(self, listeners: Iterable[socket.socket]) -> None:
        """The server's listening sockets, whose queue of connections not accepted yet the gate reads (Linux)."""
        if sys.platform == "linux":
            self._listeners = [s for s in listeners if s.family in (socket.AF_INET, socket.AF_INET6)]

    async def _watch(self) -> None:
        while True:
            asked = time.monotonic()
            await asyncio.sleep(LAG_PROBE_S)
            late = time.monotonic() - asked - LAG_PROBE_S
            self.lag = max(late, self.lag * LAG_DECAY)
            self.queued = self.accept_queue()  # as it is now: a queue drained is a door open again at once

    def accept_queue(self) -> int:
        """Connections waiting to be accepted now (the most on any of the listening sockets)."""
        waiting = 0
        for listener in self._listeners:
            with contextlib.suppress(OSError):
                info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_SIZE)
                waiting = max(waiting, TCP_INFO_UNACKED.unpack_from(info, TCP_INFO_UNACKED_OFFSET)[0])
        return waiting

    @property
    def open(self) -> bool:
        """Whether a new phone may join now."""
        crowded = self.in_flight >= CROWD and self.lag >= self.lag_limit
        return not crowded and self.in_flight < self.in_flight_limit and self.queued < self.queue_limit

    def admitted(self) -> None:
        """A join was let in (call `answered` once its page is out)."""
        self.in_flight += 1

    def answered(self) -> None:
        self.in_flight -= 1
        now = time.monotonic()
        self._answered.append(now)
        while self._answered[0] < now - RATE_WINDOW_S:
            self._answered.popleft()

    def retry_after(self, waiting: int) -> int:
        """Seconds a deferred phone waits before it asks again: at random over a spread long enough for the phones
        waiting to come back at about the rate joins have been answered lately."""
        self.deferred += 1
        while self._answered and self._answered[0] < time.monotonic() - RATE_WINDOW_S:
            self._answered.popleft()
        rate = max(SLOWEST_RATE, len(self._answered) / RATE_WINDOW_S)
        spread = min(LONGEST_RETRY_S, max(2 * SHORTEST_RETRY_S, math.ceil(waiting / rate)))
        return random.randint(SHORTEST_RETRY_S, spread)  # noqa: S311 - jitter, not a secret
