"""CSRF: every state-changing form and htmx call needs the browser session's token; every websocket refuses another
site's page (cross-site websocket hijacking). The JSON API (bearer and participant tokens, no cookies) needs none."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from server.accounts.security import setup_token
from server.app import create_app
from server.config import Settings
from server.live.connections import GONE
from server.models import ApiToken, Response, Role
from server.sessions import hash_token
from server.web.headers import CSP_REPORTS
from server.web.routing import Served, app_routes
from tests.factories import (
    PASSWORD,
    SECRET,
    TWO_QUESTIONS,
    LiveServer,
    api_token,
    caught_up,
    cli,
    csrf_from,
    home_csrf,
    join,
    login,
    make_user,
    receive,
    root_id,
    stored,
)

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
ADMIN = "admin@example.org"
EXPIRED = "This form has expired. Reload the page and try again."
SAFE = frozenset({"GET", "HEAD", "OPTIONS", "WEBSOCKET"})


def _state_changing() -> list[tuple[Served, str]]:
    """Every (route, method) that changes something and is reached with cookies: all but GETs, sockets, the JSON API
    (tokens in headers, which no other site's page can send) and the CSP reports (browsers send those unasked)."""
    app = create_app(Settings(env="test", secret_key=SECRET))
    return [
        (served, method)
        for served in sorted(app_routes(app), key=lambda served: served.path)
        for method in sorted(served.methods - SAFE)
        if not served.path.startswith("/api/") and served.path != CSP_REPORTS
    ]


STATE_CHANGING = _state_changing()


@dataclass
class World:
    """One app, an admin with an API token, a live session of the admin's on its poll, an institute and cohort."""

    client: TestClient
    values: dict[str, str]
    session: dict[str, Any]
    headers: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = Settings(env="test", data_dir=tmp_path_factory.mktemp("csrf"), secret_key=SECRET, push_interval_ms=20)
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        make_user(client, ADMIN, Role.admin)
        bystander = make_user(client, "bystander@example.org")
        headers = {"Authorization": f"Bearer {api_token(client, ADMIN)}"}
        spare = hash_token(api_token(client, ADMIN))  # revoked with a token: not the one this file uses
        [spare_id] = [row.id for row in stored(client, select(ApiToken)) if row.token_hash == spare]
        session = client.post("/api/v1/sessions", json={"deck_yaml": TWO_QUESTIONS}, headers=headers).json()
        poll = session["activities"][0]["id"]
        client.post(
            f"/api/v1/sessions/{session['id']}/control", json={"action": "goto", "activity_id": poll}, headers=headers
        )
        institute = client.post("/api/v1/institutes", json={"title": "Spring Institute"}, headers=headers).json()
        cohort = client.post(
            f"/api/v1/institutes/{institute['id']}/cohorts", json={"name": "Phoenix"}, headers=headers
        ).json()
        deck = client.post("/api/v1/decks", json={"title": "Day one"}, headers=headers).json()
        webhook = client.post(
            "/api/v1/webhooks",
            json={"url": "https://webhooks.invalid/in", "events": ["archive.ready"]},
            headers=headers,
        ).json()
        values = {
            "deck_id": str(deck["id"]),
            "code": session["code"],
            "session_id": str(session["id"]),
            "activity_id": str(poll),
            "institute_id": str(institute["id"]),
            "cohort_id": str(cohort["id"]),
            "secret": session["projector_url"].rsplit("/", 1)[1],
            "token": setup_token(SECRET),
            "user_id": str(bystander.id),
            "token_id": str(spare_id),  # the admin pages change someone who is not the admin signed in
            "identity_id": "1",  # refused for its missing token before any sign-in is looked up
            "webhook_id": str(webhook["id"]),
        }
        yield World(client, values, session, headers)


def _path(served: Served, values: dict[str, str]) -> str:
    names = re.findall(r"{(\w+)}", served.path)
    missing = [name for name in names if name not in values]
    assert not missing, f"tests/server/accounts/test_csrf.py needs a value for {missing} (route {served.path})"
    return re.sub(r"{(\w+)}", lambda match: values[match.group(1)], served.path)


def _signed_in_admin(client: TestClient) -> str:
    """A fresh browser signed in as the admin; its CSRF token."""
    client.cookies.clear()
    login(client, ADMIN)
    return csrf_from(client.get("/present").text)


def _refused_for_csrf(response: httpx.Response) -> bool:
    return response.status_code == 403 and EXPIRED in response.text


def test_every_state_changing_route_is_checked() -> None:
    checked = {f"{method} {served.path}" for served, method in STATE_CHANGING}
    assert {"POST /join", "POST /{code}/respond", "POST /{code}/react", "POST /logout"} <= checked
    assert {"POST /present/{session_id}/control", "POST /organize/import"} <= checked
    assert not any("/api/" in case for case in checked)


@pytest.mark.parametrize(
    ("served", "method"), STATE_CHANGING, ids=[f"{method} {served.path}" for served, method in STATE_CHANGING]
)
def test_a_state_changing_route_needs_the_csrf_token(world: World, served: Served, method: str) -> None:
    client = world.client
    path = _path(served, world.values)
    token = _signed_in_admin(client)
    without = client.request(method, path, data={"anything": "1"}, headers=BROWSER, follow_redirects=False)
    assert _refused_for_csrf(without), f"{method} {path} without a CSRF token: {without.status_code}"
    forged = client.request(method, path, data={"csrf_token": "x" * 43}, headers=BROWSER, follow_redirects=False)
    assert _refused_for_csrf(forged), f"{method} {path} with another token: {forged.status_code}"
    sent = client.request(method, path, data={"csrf_token": token}, headers=BROWSER, follow_redirects=False)
    assert not _refused_for_csrf(sent), f"{method} {path} with the token was refused for CSRF"


def test_the_token_may_come_as_htmxs_header(world: World) -> None:
    client = world.client
    token = _signed_in_admin(client)
    path = f"/present/{world.session['id']}/control"
    sent = client.post(path, data={"action": "open"}, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert sent.status_code == 204


# --- what a person sees -----------------------------------------------------------------------------------------


def test_a_stale_form_gets_a_page_that_says_so_with_a_way_back(world: World) -> None:
    client = world.client
    client.cookies.clear()
    code, poll = world.values["code"], world.values["activity_id"]
    page = client.get(f"/{code}?at={poll}", headers=BROWSER)
    stale = csrf_from(page.text)
    # A phone's token is its participant cookie's (server/accounts/csrf.py): that cookie ran out while the page
    # stayed open.
    client.cookies.delete("handsup_participant")
    response = client.post(
        f"/{code}/respond",
        data={"activity": poll, "choice": "1", "csrf_token": stale},
        headers={**BROWSER, "Referer": f"http://testserver/{code}?at={poll}"},
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>This page has expired</h1>" in response.text
    assert f'<a class="button" href="/{code}?at={poll}">Reload the page</a>' in response.text
    assert stored(client, select(Response)) == []


def test_the_way_back_never_leads_to_another_site(world: World) -> None:
    client = world.client
    client.cookies.clear()
    response = client.post(
        "/join", data={"code": world.values["code"]}, headers={**BROWSER, "Referer": "https://evil.example/x"}
    )
    assert response.status_code == 403
    assert '<a class="button" href="/">Reload the page</a>' in response.text


def test_an_htmx_call_without_the_token_gets_a_problem_its_toast_shows(world: World) -> None:
    client = world.client
    _signed_in_admin(client)
    response = client.post(
        f"/present/{world.session['id']}/control", data={"action": "open"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == EXPIRED


def test_the_join_page_and_the_participant_page_carry_the_token(world: World) -> None:
    client = world.client
    client.cookies.clear()
    home = client.get("/", headers=BROWSER).text
    token = csrf_from(home)
    assert re.search(r'<form method="post" action="/join"[^>]*>\s*<input type="hidden" name="csrf_token"', home)
    page = client.get(f"/{world.values['code']}", headers=BROWSER).text
    # The phone's own token (its participant cookie's): in every form (the answer, the reactions), on <body> for
    # handsup.js, and the same on every load.
    token = csrf_from(page)
    assert csrf_from(client.get(f"/{world.values['code']}", headers=BROWSER).text) == token
    assert page.count(f'name="csrf_token" value="{token}"') == page.count('method="post"') >= 2
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page


def test_pushed_stages_are_shared_so_they_carry_no_token(world: World) -> None:
    client = world.client
    client.cookies.clear()
    token = join(client, world.values["code"])
    with client.websocket_connect(
        f"/ws/participant/{world.values['code']}", headers={"cookie": f"handsup_participant={token}"}
    ) as socket:
        stage = receive(socket)
    assert root_id(stage) == "stage" and 'action="/' in stage
    assert "csrf_token" not in stage


def test_a_participant_posts_with_the_token_of_their_page(world: World) -> None:
    client = world.client
    client.cookies.clear()
    code, poll = world.values["code"], world.values["activity_id"]
    caught_up(client, int(world.values["session_id"]))
    response = client.post(
        f"/{code}/respond",
        data={"activity": poll, "choice": "2", "csrf_token": home_csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert any(row.payload == {"choices": [2]} for row in stored(client, select(Response)))


def test_the_json_api_needs_no_csrf_token(world: World) -> None:
    """Bearer and participant tokens travel in headers another site's page cannot set: no cookie, no CSRF."""
    client = world.client
    client.cookies.clear()
    control = client.post(
        f"/api/v1/sessions/{world.session['id']}/control", json={"action": "open"}, headers=world.headers
    )
    assert control.status_code == 200, control.text
    assert client.post("/api/v1/join", json={"code": world.values["code"]}).status_code == 201


# --- websockets refuse other sites' pages -----------------------------------------------------------------------


def _sockets(world: World, client: TestClient) -> dict[str, tuple[str, dict[str, str]]]:
    """Each socket's path and the credentials a page of ours would have (the presenter's are the signed-in client's)."""
    code = world.values["code"]
    participant = join(client, code)
    return {
        "participant": (f"/ws/participant/{code}", {"cookie": f"handsup_participant={participant}"}),
        "presenter": (f"/ws/presenter/{world.session['id']}", {}),
        "projector": (f"/ws/projector/{world.values['secret']}", {}),
    }


def _first_frame_or_close(client: TestClient, path: str, headers: dict[str, str]) -> str | int:
    """The root id of the first frame the socket sends, or the code it was closed with."""
    try:
        with client.websocket_connect(path, headers=headers) as socket:
            return root_id(receive(socket))
    except WebSocketDisconnect as closed:
        return closed.code


@pytest.mark.parametrize("audience", ["participant", "presenter", "projector"])
@pytest.mark.parametrize(
    ("origin", "opens"),
    [
        (None, True),  # not a browser: scripts hold their own credentials
        ("http://testserver", True),
        ("http://evil.example", False),
        ("http://testserver.evil.example", False),
        ("null", False),  # a sandboxed frame or a file
    ],
)
def test_a_socket_opens_only_for_pages_of_this_server(
    world: World, audience: str, origin: str | None, opens: bool
) -> None:
    client = world.client
    _signed_in_admin(client)
    path, headers = _sockets(world, client)[audience]
    if origin is not None:
        headers = {**headers, "origin": origin}
    got = _first_frame_or_close(client, path, headers)
    assert (got != GONE) == opens, f"{audience} socket from {origin}: {got}"


def test_behind_a_proxy_the_public_urls_origin_is_ours(settings: Settings) -> None:
    """A proxy may pass its own Host on; the public URL says which origin is this server's."""
    public = settings.model_copy(update={"public_url": "https://handsup.example.org"})
    with TestClient(create_app(public), base_url="http://127.0.0.1:8000") as client:
        user = make_user(client, ADMIN, Role.admin)
        headers = {"Authorization": f"Bearer {api_token(client, user.email)}"}
        secret = (
            client.post("/api/v1/sessions", json={"deck_yaml": TWO_QUESTIONS}, headers=headers)
            .json()["projector_url"]
            .rsplit("/", 1)[1]
        )
        path = f"/ws/projector/{secret}"
        assert _first_frame_or_close(client, path, {"origin": "https://handsup.example.org"}) != GONE
        assert _first_frame_or_close(client, path, {"origin": "http://handsup.example.org"}) == GONE
        assert _first_frame_or_close(client, path, {"origin": "https://evil.example"}) == GONE


def test_every_socket_of_a_real_server_refuses_another_sites_page(live_server: LiveServer) -> None:
    """The same, over real sockets to a real uvicorn: the browser's Origin header as a browser sends it."""
    password_file = live_server.data_dir / "csrf-password"
    password_file.write_text(PASSWORD)
    cli(live_server, "user", "add", "csrf@example.org", "--role", "admin", "--password-file", str(password_file))
    token = cli(live_server, "token", "create", "csrf@example.org")
    with httpx.Client(base_url=live_server.url) as browser:
        session = browser.post(
            "/api/v1/sessions", json={"deck_yaml": TWO_QUESTIONS}, headers={"Authorization": f"Bearer {token}"}
        ).json()
        participant = browser.post("/api/v1/join", json={"code": session["code"]}).json()["participant_token"]
        signed = browser.post(
            "/login",
            data={
                "csrf_token": csrf_from(browser.get("/login").text),
                "email": "csrf@example.org",
                "password": PASSWORD,
            },
        )
        assert signed.status_code in (200, 303), signed.text
        cookies = f"handsup_session={browser.cookies['handsup_session']}; handsup_participant={participant}"
    ws = live_server.url.replace("http://", "ws://")
    paths = [
        f"/ws/participant/{session['code']}",
        f"/ws/presenter/{session['id']}",
        f"/ws/projector/{session['projector_url'].rsplit('/', 1)[1]}",
    ]

    async def first(path: str, origin: str) -> str | int:
        async with connect(ws + path, origin=Origin(origin), additional_headers={"Cookie": cookies}) as socket:
            try:
                return str(await asyncio.wait_for(socket.recv(), 5))[:40]
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else -1

    async def every(origin: str) -> list[str | int]:
        return [await first(path, origin) for path in paths]

    assert asyncio.run(every("http://evil.example")) == [GONE] * 3
    opened = asyncio.run(every(live_server.url))
    assert all(isinstance(frame, str) for frame in opened), opened
