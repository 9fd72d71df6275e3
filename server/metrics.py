"""What one server process is doing, for Prometheus: `GET /metrics` in its text format, and the request log.

Each worker process answers for itself (Prometheus scrapes every worker as its own target). Almost everything is
read at scrape time from what the hub, writer and backplane keep anyway (open sockets, queue depths, plain
counters), so the websocket path pays nothing. HTTP requests pass one middleware that counts each response by its
route template (never the raw path: a label per join code would grow without end) and writes the access log line.
A request whose client went away before its answer started (a phone closed the page) answered no one: it is counted
apart as abandoned, logged with nginx's status 499, and never as a 5xx, so an alert on 5xx means the server failed
someone who was waiting.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import __version__
from server.accounts.access import metrics_reader
from server.live.connections import Audience
from server.services import Services

access_log = logging.getLogger("handsup.access")

UNMATCHED = "unmatched"  # requests no route took (their paths are not labels)
ABANDONED = 499  # the access log's status for a request whose client left before the answer started (as nginx logs)
# Path parameters that are keys: the access log shows the route's placeholder instead of their value.
SECRET_PARAMETERS = frozenset({"secret", "token"})
COMMIT_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
WAIT_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


class Metrics:
    """One app's registry: the request counts, the commit histograms, and a collector reading the services."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_responses: Counter[tuple[str, str]] = Counter()  # (route template, status class) -> responses
        self.http_abandoned: Counter[str] = Counter()  # route template -> requests whose client left unanswered
        self.services: Services | None = None
        self.commit_seconds = Histogram(
            "handsup_commit_seconds",
            "Duration of one group commit's transaction",
            buckets=COMMIT_SECONDS,
            registry=self.registry,
        )
        self.commit_wait_seconds = Histogram(
            "handsup_commit_wait_seconds",
            "Per group commit: the longest time one of its responses waited from submit to committed",
            buckets=WAIT_SECONDS,
            registry=self.registry,
        )
        self.commit_batch_size = Histogram(
            "handsup_commit_batch_size",
            "Responses in one group commit",
            buckets=BATCH_SIZES,
            registry=self.registry,
        )
        self.registry.register(_ServicesCollector(self))
        ProcessCollector(registry=self.registry)

    def attach(self, services: Services) -> None:
        """Start reading a running app's services (at start-up)."""
        self.services = services
        services.writer.on_commit = self._observe_commit

    def _observe_commit(self, size: int, seconds: float, waited: float) -> None:
        self.commit_seconds.observe(seconds)
        self.commit_wait_seconds.observe(waited)
        self.commit_batch_size.observe(size)

    def exposition(self) -> bytes:
        """Every metric, in Prometheus's text format."""
        return generate_latest(self.registry)


class _ServicesCollector(Collector):
    """Gauges and counters read from the hub, the writer and the rooms' subscriptions when scraped."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> Iterable[Metric]:
        return list(self._families(None))

    def collect(self) -> Iterable[Metric]:
        return list(self._families(self.metrics.services))

    def _families(self, services: Services | None) -> Iterator[Metric]:
        info = GaugeMetricFamily("handsup_build_info", "The running version", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        responses = CounterMetricFamily(
            "handsup_http_responses", "HTTP responses by route template and status class", labels=["route", "status"]
        )
        for (route, status), count in sorted(self.metrics.http_responses.items()):
            responses.add_metric([route, status], count)
        yield responses
        abandoned = CounterMetricFamily(
            "handsup_http_requests_abandoned",
            "HTTP requests whose client went away before the answer started, by route template (not responses)",
            labels=["route"],
        )
        for route, count in sorted(self.metrics.http_abandoned.items()):
            abandoned.add_metric([route], count)
        yield abandoned
        connections = GaugeMetricFamily(
            "handsup_connections", "Open websockets and event streams by audience", labels=["audience"]
        )
        rooms = GaugeMetricFamily("handsup_rooms", "Sessions with a room open in this process")
        committed = CounterMetricFamily("handsup_responses_committed", "Responses committed to the database")
        failed = CounterMetricFamily("handsup_commit_failures", "Group commits the database refused")
        published = CounterMetricFamily(
            "handsup_publish_failures", "Backplane messages that could not be sent (their subscribers resync)"
        )
        writer_depth = GaugeMetricFamily("handsup_writer_queue_depth", "Responses waiting for a commit")
        writer_limit = GaugeMetricFamily("handsup_writer_queue_limit", "HANDSUP_WRITE_QUEUE_LIMIT")
        backplane_depth = GaugeMetricFamily(
            "handsup_backplane_queue_depth", "Backplane events delivered to this process's rooms, not yet folded"
        )
        overflows = CounterMetricFamily(
            "handsup_backplane_overflows", "Times a room's backplane queue overflowed and it reloaded from the database"
        )
        drops = CounterMetricFamily(
            "handsup_outbox_drops", "Websocket clients disconnected because their outbox was full (they resync)"
        )
        deferred = CounterMetricFamily(
            "handsup_joins_deferred", "New phones the join gate asked to come back in a moment (503 'filling up')"
        )
        waiting = GaugeMetricFamily("handsup_joins_waiting", "Deferred phones not back yet, over this process's rooms")
        joined = CounterMetricFamily("handsup_participants_joined", "Participants inserted by the group-commit writer")
        families = (
            connections,
            rooms,
            committed,
            failed,
            published,
            writer_depth,
            writer_limit,
            backplane_depth,
            overflows,
            drops,
            deferred,
            waiting,
            joined,
        )
        if services is not None:
            hub, writer, settings = services.hub, services.writer, services.settings
            open_rooms = list(hub.rooms.values())
            by_audience = Counter(c.audience for room in open_rooms for c in room.connections)
            for audience in Audience:
                connections.add_metric([audience.value], by_audience[audience])
            rooms.add_metric([], len(open_rooms))
            committed.add_metric([], writer.committed)
            failed.add_metric([], writer.failed_commits)
            published.add_metric([], services.backplane.publish_failures)
            writer_depth.add_metric([], writer.depth)
            writer_limit.add_metric([], settings.write_queue_limit)
            backplane_depth.add_metric([], sum(r.subscription.depth for r in open_rooms if r.subscription is not None))
            overflows.add_metric([], hub.stats.backplane_overflows)
            drops.add_metric([], hub.stats.outbox_drops)
            deferred.add_metric([], hub.gate.deferred)
            waiting.add_metric([], sum(room.waiting for room in open_rooms))
            joined.add_metric([], writer.joined)
        yield from families


router = APIRouter()


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(metrics_reader)])
async def metrics(request: Request) -> Response:
    """This process's metrics in Prometheus's text format (scrape every worker: each answers for itself)."""
    registry: Metrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Counts every HTTP response by route template and status class, and logs it (method, path, status,
    duration, client) on `handsup.access`. Websockets are logged when they end and not wrapped: their messages
    pass untouched.

    A request whose client went away before the response started is abandoned, not a response: the server says so
    when the app asks it for the body (`http.disconnect`, which Starlette turns into ClientDisconnect, or a streamed
    response into a quiet end), or sending to the client fails (OSError). Whatever status the app then tries to send
    (Starlette's error middleware answers a ClientDisconnect with a 500 no one receives), or none, it is counted in
    `handsup_http_requests_abandoned_total` and logged as 499. A client that leaves while nothing reads from it is
    not noticed: its request is counted by the status its answer had.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._mounts: dict[int, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            started = time.monotonic()
            try:
                await self.app(scope, receive, send)
            finally:
                log_access(scope, "WEBSOCKET", None, started)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.monotonic(), 500
        gone = False  # the client went away
        answered = False  # the response started while the client was still there

        async def watched() -> Message:
            nonlocal gone
            message = await receive()
            if message["type"] == "http.disconnect":
                gone = True
            return message

        async def counted(message: Message) -> None:
            nonlocal status, gone, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = not gone
            try:
                await send(message)
            except OSError:
                gone = True
                raise

        try:
            await self.app(scope, watched, counted)
        finally:
            if gone and not answered:
                self.metrics.http_abandoned[self._template(scope)] += 1
                log_access(scope, scope["method"], ABANDONED, started)
            else:
                self.metrics.http_responses[self._template(scope), f"{status // 100}xx"] += 1
                log_access(scope, scope["method"], status, started)

    def _template(self, scope: Scope) -> str:
        """The route that served the request, as written in the app (`/api/v1/sessions/{session_id}`)."""
        route = scope.get("route")
        template = getattr(route, "path_format", None)
        if isinstance(template, str):
            return template
        if self._mounts is None:  # the static files: a mount leaves its app as the endpoint, not a route
            app = scope["app"]
            self._mounts = {id(r.app): f"{r.path}/{{path}}" for r in app.routes if isinstance(r, Mount)}
        return self._mounts.get(id(scope.get("endpoint")), UNMATCHED)


def log_access(scope: Scope, method: str, status: int | None, started: float) -> None:
    """The access log line of a request (or of a socket, when it ends: `status` None)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    fields: dict[str, Any] = {
        "method": method,
        "path": _loggable_path(scope),
        "status": status,
        "duration_ms": round((time.monotonic() - started) * 1000, 2),
        "client": client[0] if client else None,
    }
    session_id = (scope.get("path_params") or {}).get("session_id")
    if session_id is not None:
        fields["session_id"] = int(session_id) if str(session_id).isdigit() else session_id
    shown = f"{status}" if status is not None else "closed"
    access_log.info(
        '%s - "%s %s" %s %.1f ms',
        fields["client"],
        method,
        fields["path"],
        shown,
        fields["duration_ms"],
        extra=fields,
    )


def _loggable_path(scope: Scope) -> str:
    """The request's path, with the values of secret path parameters (projector links, setup links) left out."""
    params = scope.get("path_params") or {}
    template = getattr(scope.get("route"), "path_format", None)
    if not isinstance(template, str) or not SECRET_PARAMETERS & params.keys():
        return str(scope["path"])
    return re.sub(
        r"{(\w+)}", lambda m: m.group(0) if m.group(1) in SECRET_PARAMETERS else str(params[m.group(1)]), template
    )
