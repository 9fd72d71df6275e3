"""The client side of the benchmark, shared by every target: ramp, idle, vote burst, slide fan-out, figures.

A target (the Handsup server, or the bare baseline app) only says how to join, what to send and how to read what
comes back; the timing, pacing and statistics are this module's, so both targets are measured the same way.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import math
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from bench.procs import client_cpu_seconds, cpu_seconds, machine_busy_seconds, rss_kib
from bench.spy import recording

FAILURE_SAMPLE = 5  # distinct failure messages kept per kind
DISTRIBUTION_POINTS = 2000  # at most this many order statistics of a latency distribution go into the JSON
SEND_TIMEOUT_S = 10.0  # one vote's send (it only waits when the server stops reading)


class Kind(Enum):
    """What a message pushed to a participant is."""

    ACK = "ack"
    REFUSED = "refused"
    STAGE = "stage"
    OTHER = "other"


@dataclass(frozen=True)
class Profile:
    """How much load to offer and how long to wait for it."""

    name: str
    participants: int
    votes: int
    rate: float  # votes per second, offered (open loop)
    join_rate: float  # joins per second, offered
    join_concurrency: int  # joins in flight at most; 0: no cap, each phone starts on time (the surge, bench/surge.py)
    idle_s: float
    repeat: int = 1  # runs of each target (alternating); the figures are their medians
    settle_s: float = 1.0  # quiet time before the slide change, so it does not wait out the last push interval
    join_timeout_s: float = 30.0
    ack_timeout_s: float = 30.0
    presenter_timeout_s: float = 15.0
    fanout_timeout_s: float = 60.0


@dataclass(frozen=True)
class Joined:
    token: str  # the participant's cookie: the key the database check goes by


class Target(Protocol):
    """A server under test, as the driver sees it."""

    name: str
    profile_file: Path | None  # where to record the server's stacks during burst and fan-out (bench/spy.py)
    rounds_limit: int  # how many votes one participant may cast and still be traceable on the presenter view

    @property
    def server_pid(self) -> int: ...

    def launch(self) -> None: ...
    def stop(self) -> int | None: ...
    def check(self, answers: dict[str, int]) -> dict[str, Any]: ...
    async def prepare(self, http: httpx.AsyncClient) -> None: ...
    async def join(self, http: httpx.AsyncClient) -> Joined: ...
    def participant_socket(self, joined: Joined) -> tuple[str, dict[str, str]]: ...
    async def presenter_socket(self, http: httpx.AsyncClient) -> tuple[str, dict[str, str]]: ...
    def vote(self, round_: int) -> str: ...
    def classify(self, text: str) -> Kind: ...
    def folded(self, text: str) -> int | None: ...

    # The presenter's state changes, in order; the last is the slide change (the headline fan-out figure).
    stage_steps: tuple[str, ...]

    async def change_stage(self, step: str, http: httpx.AsyncClient) -> None: ...
    def is_new_stage(self, step: str, text: str) -> bool: ...


@dataclass
class Client:
    """One simulated participant."""

    index: int
    joined: Joined | None = None
    ws: ClientConnection | None = None
    join_s: float | None = None  # join request + socket open + first stage (deferrals included)
    join_http_s: float | None = None  # of which the join request (until the page, deferrals included)
    started: float | None = None  # when the first join request went out
    joined_at: float | None = None  # when the first stage arrived
    deferrals: int = 0  # 503 + Retry-After answers to the join request, each waited out and asked again
    deferrals_without_refresh: int = 0  # of which pages without the meta refresh or the "filling" element
    failure: str | None = None
    failure_kind: str | None = (
        None  # why the join failed: http_500, connection, socket_closed, timeout... (join_errors)
    )
    server_error: bool = False  # the failure was a status >= 500 that was not a deferral
    pending: deque[Vote] = field(default_factory=deque)
    last_acked_round: int | None = None
    stage_seen: dict[str, float] = field(default_factory=dict)  # state change -> when its new stage arrived
    stage_text: dict[str, str] = field(default_factory=dict)  # of the steps in Run.keep_text: that stage's HTML
    closed: str | None = None
    stray: int = 0
    other: int = 0
    reader: asyncio.Task[None] | None = None


@dataclass
class Vote:
    index: int
    client: Client
    round: int
    sent: float | None = None
    acked: float | None = None
    error: str | None = None


@dataclass
class Presenter:
    """The presenter's socket: (time, folded votes) as pushed to it."""

    ws: ClientConnection | None = None
    timeline: list[tuple[float, int]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None
    closed: str | None = None

    @property
    def level(self) -> int:
        return max((level for _, level in self.timeline), default=0)


@dataclass(frozen=True)
class Sample:
    """The meters at one moment."""

    wall: float
    server_cpu: float
    client_cpu: float
    machine_busy: float
    rss_kib: int
    services_cpu: dict[str, float] = field(default_factory=dict)  # the deployment's database, Redis, proxy


@dataclass
class Meters:
    """CPU of the server, of this client and of the whole machine, and the server's RSS, at phase boundaries."""

    server_pid: int
    marks: dict[str, Sample] = field(default_factory=dict)
    server_gone_at: str | None = None
    # A target of several processes (bench/deployments.py) reads its own: the workers' CPU seconds and RSS (KiB)
    # summed, and each service's CPU seconds (postgres, redis, nginx); OSError once the workers are gone.
    usage: Callable[[], tuple[float, int, dict[str, float]]] | None = None

    def mark(self, name: str) -> None:
        """Sample now; once the server process is gone its last figures stand (and the mark says when)."""
        services: dict[str, float] = {}
        try:
            if self.usage is not None:
                server_cpu, rss, services = self.usage()
            else:
                server_cpu, rss = cpu_seconds(self.server_pid), rss_kib(self.server_pid)
        except (OSError, RuntimeError):
            self.server_gone_at = self.server_gone_at or name
            last = list(self.marks.values())[-1] if self.marks else None
            server_cpu, rss = (last.server_cpu, last.rss_kib) if last else (0.0, 0)
            services = last.services_cpu if last else {}
        self.marks[name] = Sample(
            time.perf_counter(), server_cpu, client_cpu_seconds(), machine_busy_seconds(), rss, services
        )

    def between(self, start: str, end: str) -> dict[str, Any]:
        """Wall time and CPU between two marks; `other_cpu_s` is what the rest of the machine used meanwhile (the
        deployment's services, when it has them, are counted apart in `services_cpu_s`)."""
        first, last = self.marks[start], self.marks[end]
        server, client = last.server_cpu - first.server_cpu, last.client_cpu - first.client_cpu
        services = {name: last.services_cpu[name] - first.services_cpu.get(name, 0.0) for name in last.services_cpu}
        other = last.machine_busy - first.machine_busy - server - client - sum(services.values())
        figures: dict[str, Any] = {
            "wall_s": round(last.wall - first.wall, 3),
            "server_cpu_s": round(server, 3),
            "client_cpu_s": round(client, 3),
            "other_cpu_s": round(max(0.0, other), 2),
        }
        if services:
            figures["services_cpu_s"] = {name: round(seconds, 3) for name, seconds in services.items()}
        return figures

    def rss(self, name: str) -> int:
        return self.marks[name].rss_kib


@dataclass
class Run:
    """Everything one load run gathers."""

    target: Target
    profile: Profile
    clients: list[Client]
    presenter: Presenter
    meters: Meters
    votes: list[Vote] = field(default_factory=list)
    stage_step: str | None = None  # the state change under way
    keep_text: set[str] = field(default_factory=set)  # steps whose new stage each client keeps (what it says)
    stage_sent: dict[str, float] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def fail(self, kind: str, message: str) -> None:
        self.failures[kind] += 1
        seen = self.samples.setdefault(kind, [])
        if len(seen) < FAILURE_SAMPLE and message not in seen:
            seen.append(message)

    @property
    def connected(self) -> list[Client]:
        return [c for c in self.clients if c.ws is not None and c.closed is None]


# --- statistics ------------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of values in seconds, as milliseconds; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return round(ordered[rank - 1] * 1000, 1)


def spread(values: list[float], prefix: str) -> dict[str, float | None]:
    return {
        f"{prefix}_p50_ms": percentile(values, 50),
        f"{prefix}_p90_ms": percentile(values, 90),
        f"{prefix}_p99_ms": percentile(values, 99),
        f"{prefix}_max_ms": percentile(values, 100),
    }


def _short(text: str, limit: int = 160) -> str:
    return " ".join(text.split())[:limit]


def _error(error: BaseException) -> str:
    return _short(f"{type(error).__name__}: {error}")


async def wait_until(predicate: Callable[[], bool], timeout: float, poll: float = 0.02) -> bool:
    """Poll a condition until it holds or the time is up; whether it held."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() >= deadline:
            return False
        await asyncio.sleep(poll)
    return True


# --- the wire ------------------------------------------------------------------------------------------------


class HttpError(Exception):
    """A join (or other bulk request) answered with something other than the expected status."""

    kind = "protocol"


class StatusError(HttpError):
    """The page answered with a status other than 200 (and not a deferral)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = f"http_{status}"


class Deferred(HttpError):
    """503 with Retry-After: the server is filling up; the phone asks again after `seconds` (docs/benchmarks.md).
    `refreshes`: the page says so to a browser too, as the contract asks (a meta refresh after the same seconds and
    the `id="filling"` element), since a phone's browser follows the page, not the header."""

    kind = "deferred"

    def __init__(self, seconds: int, refreshes: bool = True) -> None:
        super().__init__(f"503, Retry-After {seconds}")
        self.seconds = seconds
        self.refreshes = refreshes


META = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
REFRESH = re.compile(rb"""http-equiv\s*=\s*["']?refresh["']?""", re.IGNORECASE)
CONTENT = re.compile(rb"""content\s*=\s*["']\s*(\d+)\s*(?:[;"'])""", re.IGNORECASE)
FILLING = re.compile(rb"""\bid\s*=\s*["']filling["']""", re.IGNORECASE)


def refreshes_after(body: bytes, seconds: int) -> bool:
    """Whether a deferral page refreshes itself after `seconds` (a meta refresh) and has the `filling` element."""
    for tag in META.findall(body):
        found = CONTENT.search(tag)
        if REFRESH.search(tag) and found is not None and int(found.group(1)) == seconds:
            return FILLING.search(body) is not None
    return False


async def http_request(
    host: str, port: int, method: str, path: str, body: bytes = b"", content_type: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP/1.1 request on a fresh connection (as a phone's first request would be): (status, headers, body).

    Plain asyncio streams, not httpx: measured here, httpx costs 1-2 ms of client CPU per request against about
    0.15 ms for this, and the client shares two cores with the server under test.
    """
    typed = f"Content-Type: {content_type}\r\n" if content_type else ""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{typed}"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head + body)
        data = await reader.read()
    finally:
        writer.close()
    if not data:
        raise ConnectionResetError("the connection closed with no response")
    header, _, content = data.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status_line = lines[0].split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise HttpError(f"not an HTTP response: {data[:80]!r}")
    headers = [(name.strip().lower(), value.strip()) for name, _, value in (line.partition(":") for line in lines[1:])]
    if ("transfer-encoding", "chunked") in headers:
        raise HttpError("chunked responses are not expected here")
    return int(status_line[1]), headers, content


async def fetch_page(host: str, port: int, path: str, cookie: str) -> str:
    """A phone opening the join link: GET the page, which joins and sets the participant cookie; the cookie's value.

    Under overload the server may answer 503 with `Retry-After: <seconds>` instead: raised as Deferred, for the
    caller to wait and ask again. Any other status is a StatusError."""
    status, headers, content = await http_request(host, port, "GET", path)
    if status == 503:
        retry = dict(headers).get("retry-after", "")
        if retry.isdigit():
            raise Deferred(int(retry), refreshes_after(content, int(retry)))
    if status != 200:
        raise StatusError(status, f"the page {path} answered {status}: {content[:120]!r}")
    for name, value in headers:
        if name == "set-cookie" and value.startswith(f"{cookie}="):
            return value.split(";", 1)[0].split("=", 1)[1]
    raise HttpError(f"the page {path} set no {cookie} cookie")


# --- sockets ---------------------------------------------------------------------------------------------------


async def open_socket(url: str, headers: dict[str, str]) -> ClientConnection:
    """A websocket as a phone's browser would hold it, minus compression (the server declines it anyway)."""
    return await websockets.connect(
        url,
        additional_headers=headers,
        compression=None,
        ping_interval=None,
        open_timeout=None,
        close_timeout=2,
        max_size=2**22,
        max_queue=None,
    )


async def read_client(run: Run, client: Client) -> None:
    """Timestamp what the server pushes to one participant: acks, refusals, the next stage."""
    assert client.ws is not None
    target = run.target
    try:
        async for message in client.ws:
            now = time.perf_counter()
            if isinstance(message, str):
                _take(run, client, target.classify(message), message, now)
    except ConnectionClosed:
        pass
    finally:
        code = client.ws.close_code
        client.closed = str(code) if code is not None else "no close frame"
        for vote in client.pending:
            vote.error = vote.error or f"socket closed ({client.closed}) before the ack"
        client.pending.clear()


def _take(run: Run, client: Client, kind: Kind, message: str, now: float) -> None:
    if kind in (Kind.ACK, Kind.REFUSED):
        if not client.pending:
            client.stray += 1
            return
        vote = client.pending.popleft()
        if kind is Kind.ACK:
            vote.acked = now
            client.last_acked_round = vote.round
        else:
            vote.error = _short(message)
    elif kind is Kind.STAGE:
        step = run.stage_step
        if step is not None and step not in client.stage_seen and run.target.is_new_stage(step, message):
            client.stage_seen[step] = now
            if step in run.keep_text:
                client.stage_text[step] = message
    else:
        client.other += 1


async def read_presenter(run: Run) -> None:
    """Timestamp every fragment pushed to the presenter that says how many votes are folded in."""
    presenter = run.presenter
    assert presenter.ws is not None
    try:
        async for message in presenter.ws:
            now = time.perf_counter()
            level = run.target.folded(message) if isinstance(message, str) else None
            if level is not None:
                presenter.timeline.append((now, level))
    except ConnectionClosed:
        pass
    finally:
        presenter.closed = str(presenter.ws.close_code)


# --- phases ----------------------------------------------------------------------------------------------------


async def join_one(run: Run, client: Client, http: httpx.AsyncClient) -> None:
    """Join over HTTP, open the participant socket, wait for the first stage; the whole of it is the join time.

    A deferral (503 + Retry-After) is waited out and the page asked for again, as a phone's browser does; the
    join time runs from the first request. Anything else that goes wrong ends this phone's join (`failure_kind`)."""
    started = client.started = time.perf_counter()
    ws: ClientConnection | None = None
    step = "page"
    try:
        async with asyncio.timeout(run.profile.join_timeout_s):
            client.joined = await _page(run, client, http)
            client.join_http_s = time.perf_counter() - started
            step = "socket"
            url, headers = run.target.participant_socket(client.joined)
            ws = await open_socket(url, headers)
            first = await ws.recv()
    except Exception as error:  # every failure is a data point: counted by kind, sampled, and the ramp goes on
        client.failure = _error(error)
        client.failure_kind, client.server_error = failure_kind(error, step)
        run.fail("join", client.failure)
        if ws is not None:
            ws.transport.abort()
        return
    if not isinstance(first, str) or run.target.classify(first) is not Kind.STAGE:
        client.failure, client.failure_kind = f"first message is not the stage: {_short(str(first))}", "protocol"
        run.fail("join", client.failure)
        ws.transport.abort()
        return
    client.joined_at = time.perf_counter()
    client.ws, client.join_s = ws, client.joined_at - started
    client.reader = asyncio.create_task(read_client(run, client))


async def _page(run: Run, client: Client, http: httpx.AsyncClient) -> Joined:
    """The join request, asked again after each deferral's Retry-After (bounded by the caller's timeout)."""
    while True:
        try:
            return await run.target.join(http)
        except Deferred as deferred:
            client.deferrals += 1
            client.deferrals_without_refresh += not deferred.refreshes
            await asyncio.sleep(deferred.seconds)


def failure_kind(error: BaseException, step: str) -> tuple[str, bool]:
    """What a failed join ran into, as a short kind, and whether it was a server error (a status >= 500)."""
    if isinstance(error, TimeoutError):
        return "timeout", False
    if isinstance(error, StatusError):
        return error.kind, error.status >= 500
    if isinstance(error, InvalidStatus):
        status = error.response.status_code
        return f"socket_http_{status}", status >= 500
    if isinstance(error, ConnectionClosed):
        return "socket_closed", False
    if isinstance(error, InvalidHandshake):
        return "socket_handshake", False
    if isinstance(error, OSError):
        return ("connection" if step == "page" else "socket_connection"), False
    if isinstance(error, HttpError):
        return error.kind, False
    return type(error).__name__, False


def _ramp_should_stop(run: Run, attempted: int) -> bool:
    failed = run.failures["join"]
    return failed > max(50, attempted // 10)


async def ramp(run: Run, http: httpx.AsyncClient) -> None:
    """Bring participants in at the offered join rate, with a cap on joins in flight; stop early on mass failure."""
    profile = run.profile
    slots = asyncio.Semaphore(profile.join_concurrency)
    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    for client in run.clients:
        delay = started + client.index / profile.join_rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await slots.acquire()
        if _ramp_should_stop(run, len(tasks)):
            slots.release()
            run.notes.append(f"ramp stopped after {len(tasks)} attempts: {run.failures['join']} joins failed")
            break
        task = asyncio.create_task(join_one(run, client, http))
        task.add_done_callback(lambda _: slots.release())
        tasks.append(task)
    await asyncio.gather(*tasks)


def plan_votes(run: Run) -> list[Vote]:
    """Vote i goes to connected participant i mod N, as that participant's round i div N."""
    clients = run.connected
    if not clients:
        return []
    rounds = math.ceil(run.profile.votes / len(clients))
    if rounds > run.target.rounds_limit:
        run.notes.append(
            f"{rounds} votes per participant exceed the traceable {run.target.rounds_limit}: "
            "vote-to-presenter latency only covers the first rounds"
        )
    return [Vote(i, clients[i % len(clients)], i // len(clients)) for i in range(run.profile.votes)]


async def burst(run: Run) -> None:
    """Send the votes at the offered rate (open loop: a slow server does not slow the sender down)."""
    rate = run.profile.rate
    started = time.perf_counter()
    for vote in run.votes:
        delay = started + vote.index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif vote.index % 16 == 0:
            await asyncio.sleep(0)  # behind schedule: still let the readers timestamp what arrives
        await _send_vote(run, vote)


async def _send_vote(run: Run, vote: Vote) -> None:
    client = vote.client
    if client.ws is None or client.closed is not None:
        vote.error = f"socket closed ({client.closed}) before sending"
        return
    vote.sent = time.perf_counter()
    client.pending.append(vote)
    try:
        await asyncio.wait_for(client.ws.send(run.target.vote(vote.round)), SEND_TIMEOUT_S)
    except (ConnectionClosed, TimeoutError) as error:  # a server that stops reading must not hang the sender
        vote.error = _error(error)


def _settled(votes: list[Vote]) -> bool:
    return all(v.acked is not None or v.error is not None or v.sent is None for v in votes)


async def await_acks(run: Run) -> None:
    if not await wait_until(lambda: _settled(run.votes), run.profile.ack_timeout_s):
        run.notes.append(f"acks still missing after {run.profile.ack_timeout_s:.0f} s")


async def await_presenter(run: Run, base: int) -> None:
    expected = base + sum(1 for v in run.votes if v.acked is not None and v.round < run.target.rounds_limit)
    if not await wait_until(lambda: run.presenter.level >= expected, run.profile.presenter_timeout_s):
        run.notes.append(f"presenter view reached {run.presenter.level - base} of {expected - base} folded votes")


async def fan_out(run: Run, http: httpx.AsyncClient) -> None:
    """Each presenter state change in turn; after each, wait until every connected participant has its new stage."""
    for step in run.target.stage_steps:
        await asyncio.sleep(run.profile.settle_s)
        await _state_change(run, step, http)


async def _state_change(run: Run, step: str, http: httpx.AsyncClient) -> None:
    clients = run.connected
    run.stage_step = step
    run.stage_sent[step] = time.perf_counter()
    await run.target.change_stage(step, http)
    if not await wait_until(
        lambda: all(step in c.stage_seen or c.closed for c in clients), run.profile.fanout_timeout_s
    ):
        missing = sum(1 for c in clients if step not in c.stage_seen)
        run.notes.append(f"{step}: {missing} participants had no new stage after {run.profile.fanout_timeout_s} s")


async def close_all(run: Run, timeout: float = 30.0) -> None:
    """Close every socket (bounded); what does not close in time is aborted."""
    sockets = [c.ws for c in run.clients if c.ws is not None] + ([run.presenter.ws] if run.presenter.ws else [])
    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    except TimeoutError:
        for ws in sockets:
            ws.transport.abort()
    readers = [c.reader for c in run.clients if c.reader] + ([run.presenter.reader] if run.presenter.reader else [])
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)


# --- figures ---------------------------------------------------------------------------------------------------


def presenter_latencies(run: Run, base: int) -> tuple[list[float], int]:
    """For the k-th vote acknowledged: time from its sending until the presenter showed at least k folded votes."""
    acked = sorted(
        (v for v in run.votes if v.acked is not None and v.round < run.target.rounds_limit),
        key=lambda v: v.acked or 0.0,
    )
    times: list[float] = []
    levels: list[int] = []
    for moment, level in run.presenter.timeline:
        if not levels or level > levels[-1]:
            times.append(moment)
            levels.append(level)
    latencies: list[float] = []
    missing = 0
    for rank, vote in enumerate(acked, start=1):
        found = bisect.bisect_left(levels, base + rank)
        if found < len(levels) and vote.sent is not None:
            latencies.append(times[found] - vote.sent)
        else:
            missing += 1
    return latencies, missing


def vote_figures(run: Run, base: int) -> dict[str, Any]:
    votes = run.votes
    sent = [v for v in votes if v.sent is not None]
    acked = [v for v in sent if v.acked is not None]
    for vote in votes:
        if vote.error is not None:
            run.fail("vote", vote.error)
    first_send = min((v.sent for v in sent if v.sent is not None), default=None)
    last_send = max((v.sent for v in sent if v.sent is not None), default=None)
    last_ack = max((v.acked for v in acked if v.acked is not None), default=None)
    presenter, missing = presenter_latencies(run, base)
    span = (last_ack - first_send) if first_send is not None and last_ack is not None else None
    send_span = (last_send - first_send) if first_send is not None and last_send is not None else None
    return {
        "votes_offered": len(votes),
        "votes_sent": len(sent),
        "votes_acked": len(acked),
        "votes_refused_or_lost": len(votes) - len(acked),
        "offered_rate_votes_per_s": run.profile.rate,
        "send_rate_votes_per_s": round(len(sent) / send_span, 1) if send_span else None,
        "throughput_votes_per_s": round(len(acked) / span, 1) if span else None,
        **spread([v.acked - v.sent for v in acked if v.acked is not None and v.sent is not None], "ack"),
        **spread(presenter, "presenter"),
        "presenter_untraced_votes": missing,
    }


def join_figures(run: Run) -> dict[str, Any]:
    times = [c.join_s for c in run.clients if c.join_s is not None]
    ramp = run.meters.between("ramp_start", "ramp_end")
    connected = len(times)
    idle_delta = run.meters.rss("idle_end") - run.meters.rss("ramp_start")
    return {
        "participants": run.profile.participants,
        "participants_connected": connected,
        "join_rate_offered_per_s": run.profile.join_rate,
        "join_rate_achieved_per_s": round(connected / ramp["wall_s"], 1) if ramp["wall_s"] else None,
        **spread(times, "join"),
        **spread(
            [c.join_http_s for c in run.clients if c.join_s is not None and c.join_http_s is not None], "join_http"
        ),
        **join_outcomes(run.clients),
        "rss_before_kib": run.meters.rss("ramp_start"),
        "rss_idle_kib": run.meters.rss("idle_end"),
        "rss_per_participant_kib": round(idle_delta / connected, 1) if connected else None,
    }


def join_outcomes(clients: list[Client]) -> dict[str, Any]:
    """Deferrals waited out, and the joins that failed: by kind, and how many of them were server errors."""
    deferred = [c.deferrals for c in clients if c.deferrals]
    return {
        "join_deferrals": sum(deferred),
        "phones_deferred": len(deferred),
        "join_deferrals_max_per_phone": max(deferred, default=0),
        "join_deferrals_without_refresh": sum(c.deferrals_without_refresh for c in clients),
        "join_server_errors": sum(1 for c in clients if c.server_error),
        "join_errors": dict(Counter(c.failure_kind for c in clients if c.failure_kind is not None)),
    }


def downsample(values: list[float], points: int = DISTRIBUTION_POINTS) -> list[float]:
    """The values sorted: all of them, or with more than `points`, that many evenly spaced order statistics (the
    smallest and the largest kept), so a distribution of 10,000 phones stays a small part of the JSON."""
    ordered = sorted(values)
    if len(ordered) <= points:
        return ordered
    last = len(ordered) - 1
    return [ordered[round(i * last / (points - 1))] for i in range(points)]


def distribution(seconds: list[float]) -> list[float]:
    """Durations in seconds as a sorted list of milliseconds (0.1 ms), downsampled: `distributions` in the JSON,
    which the charts are drawn from (bench/charts.py)."""
    return [round(value * 1000, 1) for value in downsample(seconds)]


def fanout_figures(run: Run, expected: int) -> dict[str, Any]:
    """Per state change: how long until each participant had the new stage; the last (the slide) is `fanout`."""
    figures: dict[str, Any] = {"fanout_expected": expected}
    steps = run.target.stage_steps
    for step in steps:
        prefix = "fanout" if step == steps[-1] else f"{step}_fanout"
        sent = run.stage_sent.get(step)
        times = [c.stage_seen[step] - sent for c in run.clients if sent is not None and step in c.stage_seen]
        figures.update({f"{prefix}_received": len(times), **spread(times, prefix)})
    return figures


def socket_figures(run: Run) -> dict[str, Any]:
    closed = Counter(c.closed for c in run.clients if c.ws is not None and c.closed is not None)
    return {
        "sockets_closed_during_run": dict(closed),
        "stray_messages": sum(c.stray for c in run.clients),
        "other_messages": sum(c.other for c in run.clients),
    }


PHASES = (
    ("ramp", "ramp_start", "ramp_end"),
    ("idle", "ramp_end", "idle_end"),
    ("burst", "idle_end", "burst_end"),
    ("fanout", "burst_end", "fanout_end"),
)


def cpu_figures(run: Run) -> dict[str, Any]:
    meters = run.meters
    phases = {name: meters.between(start, end) for name, start, end in PHASES}
    total = meters.between("ramp_start", "fanout_end")
    return {
        "server_cpu_s": total["server_cpu_s"],
        "client_cpu_s": total["client_cpu_s"],
        "other_processes_cpu_s": total["other_cpu_s"],
        "measured_wall_s": total["wall_s"],
        **({"services_cpu_s": total["services_cpu_s"]} if "services_cpu_s" in total else {}),
        "phases": phases,
        "rss_after_burst_kib": meters.rss("burst_end"),
    }


# --- the run ---------------------------------------------------------------------------------------------------


async def connect_presenter(run: Run, http: httpx.AsyncClient) -> None:
    url, headers = await run.target.presenter_socket(http)
    run.presenter.ws = await asyncio.wait_for(open_socket(url, headers), 30)
    run.presenter.reader = asyncio.create_task(read_presenter(run))


@dataclass
class LagProbe:
    """How late this client's own event loop wakes up: if it is late, its latency figures are inflated too."""

    interval: float = 0.01
    lags: list[float] = field(default_factory=list)

    async def watch(self) -> None:
        while True:
            due = time.perf_counter() + self.interval
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, time.perf_counter() - due))

    def figures(self) -> dict[str, float | None]:
        return {
            "client_loop_lag_p99_ms": percentile(self.lags, 99),
            "client_loop_lag_max_ms": percentile(self.lags, 100),
        }


@contextlib.contextmanager
def quiet_collector() -> Iterator[None]:
    """No garbage-collector pauses in the load generator while it timestamps: with 10,000 sockets a full
    collection stalls it for a noticeable time, which would show up as server latency. Freeze what exists, pause."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def _phase(run: Run, name: str, step: Callable[[], Awaitable[None]]) -> bool:
    """Run one phase; a failure is recorded (not raised) so the figures of what did run are still reported."""
    try:
        await step()
    except Exception as error:  # a phase that breaks is a finding: keep it and report the partial run
        run.fail("phase", f"{name}: {_error(error)}")
        return False
    return True


async def _burst_phase(run: Run, base: int) -> None:
    run.votes = plan_votes(run)
    await burst(run)
    await await_acks(run)
    await await_presenter(run, base)


async def measure(run: Run, http: httpx.AsyncClient) -> dict[str, Any]:
    """The phases in order, each bounded; after a failed phase the rest are skipped and partial figures returned."""
    meters = run.meters
    meters.mark("ramp_start")
    ok = await _phase(run, "ramp", lambda: ramp(run, http))
    meters.mark("ramp_end")
    ok = ok and await _phase(run, "idle", lambda: asyncio.sleep(run.profile.idle_s))
    meters.mark("idle_end")
    expected_stage = len(run.connected)
    base = run.presenter.level
    probe = LagProbe()
    watcher = asyncio.create_task(probe.watch())
    spy = run.target.profile_file
    with quiet_collector(), recording(run.target.server_pid, spy) if spy else contextlib.nullcontext():
        ok = ok and await _phase(run, "burst", lambda: _burst_phase(run, base))
        meters.mark("burst_end")
        ok = ok and await _phase(run, "fanout", lambda: fan_out(run, http))
        meters.mark("fanout_end")
    watcher.cancel()
    if run.presenter.closed is not None:
        run.notes.append(f"the presenter socket closed during the run ({run.presenter.closed})")
    if meters.server_gone_at is not None:
        run.notes.append(f"the server process was gone at the {meters.server_gone_at} mark")
    return {
        **join_figures(run),
        **vote_figures(run, base),
        **fanout_figures(run, expected_stage),
        **socket_figures(run),
        **cpu_figures(run),
        **probe.figures(),
        "distributions": poll_distributions(run, base),
        "completed": ok,
    }


def poll_distributions(run: Run, base: int) -> dict[str, list[float]]:
    """The per-phone join times, vote-to-presenter latencies and slide fan-out times, for the charts."""
    slide = run.target.stage_steps[-1]
    sent = run.stage_sent.get(slide)
    fanout = [c.stage_seen[slide] - sent for c in run.clients if sent is not None and slide in c.stage_seen]
    return {
        "join_ms": distribution([c.join_s for c in run.clients if c.join_s is not None]),
        "presenter_ms": distribution(presenter_latencies(run, base)[0]),
        "fanout_ms": distribution(fanout),
    }


async def drive(target: Target, profile: Profile) -> tuple[dict[str, Any], Run]:
    """Run one profile against a started target; the figures, and the run (for the target's own checks)."""
    limits = httpx.Limits(max_connections=profile.join_concurrency, max_keepalive_connections=profile.join_concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30.0)) as http:
        await target.prepare(http)
        run = Run(
            target,
            profile,
            [Client(i) for i in range(profile.participants)],
            Presenter(),
            Meters(target.server_pid, usage=getattr(target, "usage", None)),  # bench/deployments.py: several
        )
        await connect_presenter(run, http)
        try:
            figures = await measure(run, http)
        finally:
            await close_all(run)
    figures["failures"] = dict(run.failures)
    figures["failure_samples"] = run.samples
    figures["notes"] = run.notes
    return figures, run


def last_answers(run: Run) -> dict[str, int]:
    """Participant token -> round of their last acknowledged vote (what the database must hold)."""
    return {
        c.joined.token: c.last_acked_round
        for c in run.clients
        if c.joined is not None and c.last_acked_round is not None
    }


def gc_figures(pauses: list[list[float]], meters: Meters) -> dict[str, Any]:
    """The server's collector pauses ([end time, generation, seconds]) per phase: count, total, longest."""
    figures: dict[str, Any] = {}
    for name, start, end in PHASES:
        if start not in meters.marks or end not in meters.marks:
            continue
        first, last = meters.marks[start].wall, meters.marks[end].wall
        inside = [(int(gen), seconds) for moment, gen, seconds in pauses if first <= moment < last]
        figures[name] = {
            "collections": len(inside),
            "full_collections": sum(1 for gen, _ in inside if gen == 2),
            "total_s": round(sum(seconds for _, seconds in inside), 3),
            "longest_ms": round(max((seconds for _, seconds in inside), default=0.0) * 1000, 1),
        }
    return figures


async def run_target(target: Target, profile: Profile) -> dict[str, Any]:
    """Start the target's server, drive it, stop it, let the target check what it stored; the figures."""
    try:
        await asyncio.to_thread(target.launch)
        figures, run = await drive(target, profile)
    finally:
        exit_code = await asyncio.to_thread(target.stop)
    figures["server_exit_code"] = exit_code
    figures.update(await asyncio.to_thread(target.check, last_answers(run)))
    if "server_gc_pauses" in figures:
        figures["server_gc"] = gc_figures(figures.pop("server_gc_pauses"), run.meters)
    return figures
