"""GET /metrics on a real `handsup serve`: counters move with real requests and a real vote over a real socket, the
commit histograms observe the commit, and callers other than this machine (or the token's holder) are refused."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import connect

from server.metrics import Metrics, RequestMetrics
from tests.factories import (
    LiveServer,
    Presenter,
    eventually,
    free_port,
    join,
    limits,
    login,
    receive,
    respond,
    services_of,
    start_server,
    stop_server,
)
from tests.server.live.test_hub import on_poll
from tests.server.live.test_live_uvicorn import (
    Presenting,
    presenting,
    showing_the_poll,
    until,
    vote_from_phones,
    ws_url,
)

__all__ = ["presenting"]  # the module's fixture: an admin with a session on the example deck's poll

TOKEN = "metrics-" + "m" * 32


def scrape(server: LiveServer, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of one scrape, by name and labels."""
    response = httpx.get(f"{server.url}/metrics", headers=headers, timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_http_responses_are_counted_by_route_template_and_status_class(live_server: LiveServer) -> None:
    before = scrape(live_server)
    for path in ("/healthz", "/healthz", "/static/favicon.svg", "/999999", "/no/such/page/here"):
        httpx.get(live_server.url + path, timeout=5)
    after = scrape(live_server)

    def moved(route: str, status: str) -> float:
        name = "handsup_http_responses_total"
        return value(after, name, route=route, status=status) - value(before, name, route=route, status=status)

    assert moved("/healthz", "2xx") == 2
    assert moved("/static/{path}", "2xx") == 1
    assert moved("/{code}", "4xx") == 1  # a code that is not live: the template, never the code itself
    assert moved("unmatched", "4xx") == 1
    assert not [labels for name, labels in after if name == "handsup_http_responses_total" and "999999" in str(labels)]


def test_a_vote_over_a_real_socket_moves_connections_and_commit_metrics(
    live_server: LiveServer, presenting: Presenting
) -> None:
    joined = presenting.http.post("/api/v1/join", json={"code": presenting.session["code"]})
    token = joined.json()["participant_token"]
    eventually(lambda: showing_the_poll(presenting, token))
    before = scrape(live_server)

    async def while_a_phone_is_open() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        url = ws_url(live_server, f"/ws/participant/{presenting.session['code']}")
        async with connect(url, additional_headers={"Cookie": f"handsup_participant={token}"}) as phone:
            await until(phone, r'^\s*<section id="stage"')
            return await asyncio.to_thread(scrape, live_server)

    during = asyncio.run(while_a_phone_is_open())
    assert value(during, "handsup_connections", audience="participant") == 1
    assert value(during, "handsup_connections", audience="presenter") == 0
    assert value(during, "handsup_rooms") >= 1

    replies = asyncio.run(vote_from_phones(live_server, presenting, [token]))
    assert "Received" in replies[0]
    after = eventually(lambda: _committed_since(live_server, before))
    assert value(after, "handsup_commit_seconds_count") > value(before, "handsup_commit_seconds_count")
    assert value(after, "handsup_commit_seconds_sum") > value(before, "handsup_commit_seconds_sum")
    assert value(after, "handsup_commit_batch_size_sum") - value(before, "handsup_commit_batch_size_sum") >= 1
    assert value(after, "handsup_commit_wait_seconds_count") > value(before, "handsup_commit_wait_seconds_count")
    assert value(after, "handsup_writer_queue_depth") == 0
    assert value(after, "handsup_writer_queue_limit") == 20000
    assert value(after, "handsup_commit_failures_total") == value(after, "handsup_publish_failures_total") == 0
    assert value(after, "handsup_backplane_overflows_total") == value(after, "handsup_outbox_drops_total") == 0
    assert value(after, "process_resident_memory_bytes") > 0

    def closed() -> None:
        assert value(scrape(live_server), "handsup_connections", audience="participant") == 0

    eventually(closed)


def _committed_since(
    server: LiveServer, before: dict[tuple[str, tuple[tuple[str, str], ...]], float]
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    now = scrape(server)
    assert value(now, "handsup_responses_committed_total") == value(before, "handsup_responses_committed_total") + 1
    return now


def test_without_a_token_only_this_machine_may_read_metrics_not_a_proxy_forwarding_for_someone(
    live_server: LiveServer,
) -> None:
    # The proxy's own address is loopback when it runs on the box: a forwarded request is someone else's.
    for forwarded in ({"X-Forwarded-For": "203.0.113.9"}, {"X-Forwarded-For": "127.0.0.1"}, {"Forwarded": "for=::1"}):
        refused = httpx.get(f"{live_server.url}/metrics", headers=forwarded, timeout=5)
        assert refused.status_code == 403
        assert "HANDSUP_METRICS_TOKEN" in refused.json()["detail"]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("metrics"), HANDSUP_METRICS_TOKEN=TOKEN)
    yield server
    stop_server(server)


def test_with_a_token_set_metrics_need_it_even_on_loopback(guarded: LiveServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-token-of-some-length"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = httpx.get(f"{guarded.url}/metrics", headers=headers, timeout=5)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
    samples = scrape(guarded, Authorization=f"Bearer {TOKEN}")
    assert value(samples, "handsup_build_info", version="0.1.0") == 1


@limits(client_queue_limit=1)
def test_a_client_dropped_for_a_full_outbox_is_counted(client: TestClient, presenter: Presenter) -> None:
    session, poll = on_poll(client, presenter)
    login(client, presenter.user.email)
    services = services_of(client)
    with client.websocket_connect(f"/ws/presenter/{session['id']}") as ws:
        receive(ws)
        # One vote makes a round of two pushes to the presenter (results, counts): one more than its outbox holds.
        assert respond(client, join(client, session["code"]), poll, choice="1").status_code == 201
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                receive(ws)
        assert closed.value.code == 1013

    def counted() -> None:
        assert services.hub.stats.outbox_drops == 1

    eventually(counted)
    assert b"handsup_outbox_drops_total 1.0" in client.app.state.metrics.exposition()


ABANDONED = "handsup_http_requests_abandoned_total"
RESPONSES = "handsup_http_responses_total"


def leave_mid_body(port: int, path: str, content_type: str = "application/json") -> None:
    """What a phone closing its page mid-upload looks like to the server: a request announcing a body, half of it
    sent, then the connection closed (a raw socket: no client library finishes the body for us)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
        sock.sendall(f"{head}Content-Length: 1000\r\n\r\n".encode() + b"{" + b" " * 99)
        time.sleep(0.3)  # the app is reading the body when the client goes


def test_a_client_that_leaves_before_the_answer_is_counted_abandoned_not_500(live_server: LiveServer) -> None:
    """On a real `handsup serve`: the CSP report endpoint awaits the body; its client leaves mid-body. The server's
    5xx count does not move (no one was failed); the abandoned count does, and the access log says 499."""
    before = scrape(live_server)
    port = int(live_server.url.rsplit(":", 1)[1])
    leave_mid_body(port, "/csp-reports", "application/csp-report")

    def counted() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        after = scrape(live_server)
        assert value(after, ABANDONED, route="/csp-reports") == value(before, ABANDONED, route="/csp-reports") + 1
        return after

    after = eventually(counted)
    for status in ("2xx", "4xx", "5xx"):
        assert value(after, RESPONSES, route="/csp-reports", status=status) == value(
            before, RESPONSES, route="/csp-reports", status=status
        )
    assert '"POST /csp-reports" 499' in live_server.log.read_text()


def reset_right_after(port: int, path: str) -> None:
    """A browser closing the page while its icon was on the way: the request, then the connection reset at once."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST


def test_a_static_file_whose_browser_left_is_not_a_500(live_server: LiveServer) -> None:
    """The case seen in production: `GET /static/favicon.svg` counted 5xx when the browser closed the page."""
    before = scrape(live_server)
    port = int(live_server.url.rsplit(":", 1)[1])
    for _ in range(3):
        reset_right_after(port, "/static/favicon.svg")

    def counted() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        after = scrape(live_server)
        gone = value(after, ABANDONED, route="/static/{path}") - value(before, ABANDONED, route="/static/{path}")
        served = value(after, RESPONSES, route="/static/{path}", status="2xx") - value(
            before, RESPONSES, route="/static/{path}", status="2xx"
        )
        assert gone >= 1 and gone + served == 3  # any the server answered before it saw the reset are 200s
        return after

    after = eventually(counted)
    assert value(after, RESPONSES, route="/static/{path}", status="5xx") == value(
        before, RESPONSES, route="/static/{path}", status="5xx"
    )


async def awaits_the_body(request: Request) -> Response:
    return PlainTextResponse(f"{len(await request.body())} bytes")


async def fails(request: Request) -> Response:
    raise RuntimeError("a real failure, with the client still waiting")


@pytest.fixture
def small_app() -> Iterator[tuple[Metrics, int]]:
    """RequestMetrics around a two-route app, served by a real uvicorn on loopback in a thread."""
    metrics = Metrics()
    app = Starlette(routes=[Route("/body", awaits_the_body, methods=["POST"]), Route("/fails", fails)])
    app.add_middleware(RequestMetrics, metrics=metrics)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def started() -> None:
        assert server.started

    eventually(started)
    yield metrics, port
    server.should_exit = True
    thread.join(timeout=10)


def test_a_real_500_still_counts_as_500_and_an_abandoned_request_apart(small_app: tuple[Metrics, int]) -> None:
    metrics, port = small_app
    url = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{url}/fails", timeout=5).status_code == 500
    assert httpx.post(f"{url}/body", content=b"x" * 1000, timeout=5).text == "1000 bytes"
    leave_mid_body(port, "/body")

    def counted() -> None:
        assert metrics.http_abandoned == {"/body": 1}

    eventually(counted)
    assert metrics.http_responses == {("/fails", "5xx"): 1, ("/body", "2xx"): 1}
    exposed = metrics.exposition().decode()
    assert 'handsup_http_requests_abandoned_total{route="/body"} 1.0' in exposed
    assert 'handsup_http_responses_total{route="/fails",status="5xx"} 1.0' in exposed
