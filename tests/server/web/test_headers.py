"""Security headers on every kind of response, and the CSP violation reports endpoint."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from server.app import create_app
from server.config import Settings
from server.models import Role
from server.web.critical import CRITICAL_CSS_FILE
from server.web.headers import CSP_REPORTS, HEADERS, HSTS, POLICY, POLICY_HTTPS, REPORT_GROUP, SecurityHeaders
from tests.factories import TWO_QUESTIONS, LiveServer, Presenter, login, make_user, start_server, stop_server

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
ADMIN = "admin@example.org"


@pytest.fixture
def signed_in(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    """An admin signed in (the browser cookie) and a live session of the presenter's, on its poll."""
    make_user(client, ADMIN, Role.admin)
    login(client, ADMIN)
    session = presenter.start(TWO_QUESTIONS)
    presenter.control(session["id"], "goto", session["activities"][0]["id"])
    return session


def assert_secured(response: httpx.Response, *, https: bool = False) -> None:
    """Every header, once; over HTTPS also HSTS and the Reporting API's endpoint (which browsers honour only there)."""
    for name, value in HEADERS:
        assert response.headers.get_list(name) == [value], f"{name} on {response.request.url}"
    assert response.headers.get_list("content-security-policy") == [POLICY_HTTPS if https else POLICY]
    assert response.headers.get("strict-transport-security") == (HSTS if https else None)
    assert response.headers.get("reporting-endpoints") == (f'{REPORT_GROUP}="{CSP_REPORTS}"' if https else None)


PAGES = {
    "join page": lambda s: "/",
    "sign-in page": lambda s: "/login",
    "participant page": lambda s: f"/{s['code']}",
    "presenter dashboard": lambda s: "/present",
    "presenter view": lambda s: f"/present/{s['id']}",
    "projector view": lambda s: s["projector_url"],
    "organizer home": lambda s: "/organize",
    "a missing page": lambda s: "/not-a-page",
    "a participant page for no session": lambda s: "/000000" if s["code"] != "000000" else "/000001",
}


@pytest.mark.parametrize("kind", list(PAGES))
def test_every_kind_of_page_carries_the_headers(client: TestClient, signed_in: dict[str, Any], kind: str) -> None:
    response = client.get(PAGES[kind](signed_in), headers=BROWSER)
    assert response.headers["content-type"].startswith("text/html")
    assert_secured(response)


def test_files_json_problems_and_downloads_carry_the_headers(
    client: TestClient, presenter: Presenter, signed_in: dict[str, Any]
) -> None:
    responses = {
        "a static file": client.get("/static/js/handsup.js"),
        "an API answer": client.get("/api/v1/decks", headers=presenter.headers),
        "a problem": client.get("/api/v1/decks"),
        "a 404 problem": client.get("/api/v1/sessions/999999", headers=presenter.headers),
        "a QR code": client.get(f"/{signed_in['code']}/qr.svg"),
        "a streamed archive": client.get(f"/present/{signed_in['id']}/archive.zip"),
        "a CSP report's answer": client.post(CSP_REPORTS, json={"csp-report": {}}),
    }
    assert responses["a problem"].status_code == 401
    assert responses["a 404 problem"].headers["content-type"] == "application/problem+json"
    assert responses["a streamed archive"].content.startswith(b"PK")
    for what, response in responses.items():
        assert response.status_code < 500, what
        assert_secured(response)


def test_the_policy_allows_nothing_inline_but_the_critical_stylesheet_by_its_hash() -> None:
    directives = dict(part.strip().split(" ", 1) for part in POLICY.split(";"))
    assert directives["script-src"] == "'self' 'report-sample'"
    digest = base64.b64encode(hashlib.sha256(CRITICAL_CSS_FILE.read_bytes()).digest()).decode()
    assert directives["style-src"] == f"'self' 'sha256-{digest}' 'report-sample'"
    assert directives["object-src"] == directives["base-uri"] == directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in POLICY and "nonce" not in POLICY and "*" not in POLICY
    assert directives["report-uri"] == CSP_REPORTS
    assert POLICY_HTTPS == f"{POLICY}; report-to {REPORT_GROUP}"


def test_hsts_and_the_reporting_api_only_over_https(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url="https://testserver") as https:
        assert_secured(https.get("/"), https=True)
    with TestClient(create_app(settings), base_url="http://testserver") as plain:
        assert_secured(plain.get("/"), https=False)


def test_hsts_when_the_public_url_is_https_whatever_the_proxy_says(settings: Settings) -> None:
    public = settings.model_copy(update={"public_url": "https://handsup.example.org"})
    with TestClient(create_app(public), base_url="http://testserver") as client:
        assert_secured(client.get("/healthz"), https=True)


@pytest.fixture(scope="module")
def distrusting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real uvicorn that trusts no proxy: loopback's X-Forwarded-Proto is not believed."""
    server = start_server(tmp_path_factory.mktemp("distrusting"), HANDSUP_FORWARDED_ALLOW_IPS="192.0.2.1")
    yield server
    stop_server(server)


def test_hsts_behind_a_trusted_proxy_that_says_https(live_server: LiveServer) -> None:
    assert_secured(httpx.get(live_server.url + "/", headers={"X-Forwarded-Proto": "https"}), https=True)
    assert_secured(httpx.get(live_server.url + "/"), https=False)


def test_no_hsts_when_an_untrusted_peer_says_https(distrusting_server: LiveServer) -> None:
    assert_secured(httpx.get(distrusting_server.url + "/", headers={"X-Forwarded-Proto": "https"}), https=False)


# --- the middleware on its own: tiny apps -----------------------------------------------------------------------


def test_a_response_with_its_own_policy_keeps_it() -> None:
    own = "default-src 'none'; style-src 'unsafe-inline'"

    async def report(request: Any) -> PlainTextResponse:
        return PlainTextResponse("<style>", headers={"Content-Security-Policy": own})

    app = SecurityHeaders(Starlette(routes=[Route("/report", report)]))
    with TestClient(app) as client:
        response = client.get("/report")
    assert response.headers.get_list("content-security-policy") == [own]
    assert response.headers["x-frame-options"] == "DENY"


def test_a_streamed_body_passes_through_chunk_by_chunk() -> None:
    """The first chunk reaches the client while the app still holds the rest: nothing is buffered."""
    first_chunk_out = anyio.Event()
    sent: list[Message] = []

    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/zip")]})
        await send({"type": "http.response.body", "body": b"PK..", "more_body": True})
        await first_chunk_out.wait()  # a buffering middleware would never let this happen
        await send({"type": "http.response.body", "body": b"rest", "more_body": False})

    async def send(message: Message) -> None:
        sent.append(message)
        if message.get("body") == b"PK..":
            first_chunk_out.set()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def main() -> None:
        with anyio.fail_after(5):
            await SecurityHeaders(streaming)({"type": "http", "scheme": "http", "headers": []}, receive, send)

    anyio.run(main)
    assert [m.get("body") for m in sent] == [None, b"PK..", b"rest"]
    assert (b"x-content-type-options", b"nosniff") in sent[0]["headers"]


def test_websockets_are_not_touched() -> None:
    seen: list[Any] = []

    async def socket_app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(send)
        await send({"type": "websocket.accept"})

    async def send(message: Message) -> None:
        seen.append(message)

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    anyio.run(SecurityHeaders(socket_app, always_https=True), {"type": "websocket", "headers": []}, receive, send)
    assert seen == [send, {"type": "websocket.accept"}]


# --- CSP violation reports ------------------------------------------------------------------------------------------

OLD_SHAPE = {
    "csp-report": {
        "document-uri": "http://testserver/123456",
        "blocked-uri": "inline",
        "effective-directive": "style-src-attr",
        "violated-directive": "style-src-attr",
        "original-policy": POLICY,
        "source-file": "http://testserver/static/js/handsup.js",
        "line-number": 12,
        "script-sample": "color: red",
    }
}
REPORTING_API = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "http://testserver/present/1",
        "user_agent": "Chromium",
        "body": {
            "documentURL": "http://testserver/present/1",
            "blockedURL": "https://evil.example/x.js",
            "effectiveDirective": "script-src-elem",
            "disposition": "enforce",
            "statusCode": 200,
        },
    },
    {"type": "deprecation", "url": "http://testserver/", "body": {"id": "something-old"}},
]


def counted(client: TestClient) -> int:
    return int(client.app.state.csp_reports.received)  # type: ignore[attr-defined]


def post_report(client: TestClient, body: Any, content_type: str) -> httpx.Response:
    return client.post(CSP_REPORTS, content=json.dumps(body).encode(), headers={"Content-Type": content_type})


def test_a_report_uri_report_is_counted_and_logged_in_one_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="server.web.headers"):
        response = post_report(client, OLD_SHAPE, "application/csp-report")
    assert response.status_code == 204 and response.content == b""
    assert counted(client) == 1
    [line] = [r.getMessage() for r in caplog.records if r.name == "server.web.headers"]
    assert "'style-src-attr' blocked 'inline'" in line
    assert "'color: red'" in line
    assert "on 'http://testserver/123456' at http://testserver/static/js/handsup.js:12" in line


def test_reporting_api_batches_count_their_csp_violations_only(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="server.web.headers"):
        assert post_report(client, REPORTING_API, "application/reports+json").status_code == 204
    assert counted(client) == 1
    [line] = [r.getMessage() for r in caplog.records if r.name == "server.web.headers"]
    assert "'script-src-elem' blocked 'https://evil.example/x.js' on 'http://testserver/present/1'" in line


def test_a_report_is_anyones_to_send(client: TestClient) -> None:
    """No cookie, no token, no CSRF field: a browser sends reports on its own."""
    client.cookies.clear()
    assert post_report(client, OLD_SHAPE, "application/csp-report").status_code == 204


def test_a_report_over_the_limit_is_refused_unread(client: TestClient) -> None:
    big = {"csp-report": {"blocked-uri": "x" * (16 * 1024)}}
    response = post_report(client, big, "application/csp-report")
    assert response.status_code == 413
    assert response.json()["detail"] == "A CSP report is at most 16 KiB."

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"csp-report": {"blocked-uri": "'
        for _ in range(20):
            yield b"y" * 1024
        yield b'"}}'

    streamed = client.post(CSP_REPORTS, content=chunks(), headers={"Content-Type": "application/csp-report"})
    assert streamed.status_code == 413
    assert counted(client) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"csp-report=1", "application/x-www-form-urlencoded", 415),
        (b"not json", "application/csp-report", 400),
        (b"[" * 8000 + b"]" * 8000, "application/reports+json", 400),
        (b'{"something": "else"}', "application/json", 204),
        (b'[1, "two", {"type": "csp-violation", "body": 3}]', "application/reports+json", 204),
    ],
)
def test_what_is_not_a_report_counts_nothing(client: TestClient, body: bytes, content_type: str, status: int) -> None:
    response = client.post(CSP_REPORTS, content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert counted(client) == 0


def test_a_flood_of_reports_is_counted_but_logged_within_the_budget(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(create_app(settings.model_copy(update={"csp_reports_logged_per_minute": 2}))) as client:
        with caplog.at_level(logging.WARNING, logger="server.web.headers"):
            for _ in range(5):
                assert post_report(client, OLD_SHAPE, "application/csp-report").status_code == 204
        assert counted(client) == 5
    assert len([r for r in caplog.records if r.name == "server.web.headers"]) == 2


def test_the_report_endpoint_is_not_in_the_api_description(client: TestClient) -> None:
    assert CSP_REPORTS not in client.get("/openapi.json").json()["paths"]
