"""The join gate: past what this worker can take, a new phone is asked to come back in a moment, never refused.

A room that scans the code at once arrives faster than one process can serve pages. The gate watches how late the
event loop runs (the queue every request waits in once accepted) and how many joins are under way; and, when
`join_accept_queue_limit` is set, how many connections wait at the door for the worker to accept them (Linux's
accept queue of the listening socket). Past the limit of joins under way or of the accept queue, or while a crowd of
joins is under way and the loop runs late, a phone that has not joined yet gets the light "the room is filling up"
page at once, with `Retry-After` and a refresh of its own. The delay is about the time the worker needs for the
phones ahead (at the rate it has been answering joins lately), drawn at random over half as long again, so they come
back spread out rather than all at once. Phones that have joined (their cookie is in the room) always pass: a reload
or a reconnect never waits behind the newcomers.

Short of those limits, the kernel's accept queue is the waiting room: it holds the phones in order, and measured on
two cores (docs/benchmarks.md, "The join path") that took 10,000 phones arriving at 1,000 a second in sooner than
deferring them at the door did; so the door's limit is off unless set.

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
RATE_WINDOW_S = 5.0  # the joins answered over this window say how fast the worker takes them in
FIRST_CAPACITY = 200.0  # joins per second assumed until the worker has answered enough to know its own
MEASURED_AFTER_S = 1.0  # seconds (and joins, below) a window needs before it says how fast joins go
MEASURED_AFTER_JOINS = 20
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
        self.answered_joins = 0  # since start
        # Joins this worker has been answering per second, lately: how fast the phones waiting will be taken in.
        self.capacity = FIRST_CAPACITY
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic, joins answered so far)
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
            if self.queue_limit is not None:
                self.queued = self.accept_queue()  # as it is now: a queue drained is a door open again at once
            self._measure()

    def _measure(self) -> None:
        """Joins answered per second over the window: the rate the phones waiting are taken in at."""
        now = time.monotonic()
        self._samples.append((now, self.answered_joins))
        while self._samples[0][0] < now - RATE_WINDOW_S:
            self._samples.popleft()
        then, joins_then = self._samples[0]
        if now - then >= MEASURED_AFTER_S and self.answered_joins - joins_then >= MEASURED_AFTER_JOINS:
            self.capacity = (self.answered_joins - joins_then) / (now - then)

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
        at_the_door = self.queue_limit is not None and self.queued >= self.queue_limit
        return not crowded and not at_the_door and self.in_flight < self.in_flight_limit

    def admitted(self) -> None:
        """A join was let in (call `answered` once its page is out)."""
        self.in_flight += 1

    def answered(self) -> None:
        self.in_flight -= 1
        self.answered_joins += 1

    def retry_after(self) -> int:
        """Seconds a deferred phone waits before it asks again: about the time the worker needs for the phones
        at its door now (at the rate it has been answering joins), drawn at random over half as long again, so the
        phones waiting come back spread out, into a queue that has room again."""
        self.deferred += 1
        ahead = (self.queued + self.in_flight) / self.capacity
        seconds = math.ceil(ahead * random.uniform(1.0, 1.5)) + random.randint(0, SHORTEST_RETRY_S)  # noqa: S311
        return min(LONGEST_RETRY_S, max(SHORTEST_RETRY_S, seconds))
