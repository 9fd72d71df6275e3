"""A browser's WebSocket cannot set an Authorization header: in Debian's Chromium, the API token offered as the
subprotocol `handsup.bearer.<token>` beside `handsup` opens the presenter's socket, and a refusal reaches the page
with its code and reason (docs/protocol.md, "API tokens on the presenter's and projector's sockets")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.browser.factories import SHARED_BROWSER
from tests.factories import PASSWORD, TWO_QUESTIONS, LiveServer, cli

pytestmark = pytest.mark.browser

# What a script on a page does: open the socket with the token as a subprotocol, report the first frame or the close.
OPEN = """([url, protocols]) => new Promise(resolve => {
  const socket = new WebSocket(url, protocols);
  let first = null;
  socket.onmessage = event => { first = event.data; socket.close(1000); };
  socket.onclose = event => resolve({protocol: socket.protocol, first, code: event.code, reason: event.reason});
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """The browser tests' shared Chromium (tests/browser/factories.py), which runs before this module."""
    instance = SHARED_BROWSER.browser()
    yield instance
    for context in list(instance.contexts):
        context.close()


@pytest.fixture(scope="module")
def tokens(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    password: Path = tmp_path_factory.mktemp("password") / "password"
    password.write_text(f"{PASSWORD}\n")
    for email in ("speaker@example.org", "stranger@example.org"):
        cli(live_server, "user", "add", email, "--password-file", str(password))
    mine = cli(live_server, "token", "create", "speaker@example.org")
    theirs = cli(live_server, "token", "create", "stranger@example.org")
    started = httpx.post(
        f"{live_server.url}/api/v1/sessions",
        json={"deck_yaml": TWO_QUESTIONS},
        headers={"Authorization": f"Bearer {mine}"},
        timeout=10,
    )
    assert started.status_code == 201, started.text
    return {"mine": mine, "theirs": theirs, "session_id": started.json()["id"]}


def _open(browser: Browser, server: LiveServer, protocols: list[str], session_id: int) -> dict[str, Any]:
    page = browser.new_page()
    try:
        page.goto(f"{server.url}/login")  # a page of the server's own origin, as a script of an integrator's would run
        url = f"{server.url.replace('http://', 'ws://')}/ws/presenter/{session_id}"
        result: dict[str, Any] = page.evaluate(OPEN, [url, protocols])
        return result
    finally:
        page.close()


def test_a_browser_opens_the_presenter_socket_with_its_token_as_a_subprotocol(
    browser: Browser, live_server: LiveServer, tokens: dict[str, Any]
) -> None:
    opened = _open(browser, live_server, ["handsup", f"handsup.bearer.{tokens['mine']}"], tokens["session_id"])
    assert opened["protocol"] == "handsup"
    assert 'id="presenter-live"' in opened["first"] and "Where does the week go?" in opened["first"]


def test_a_browser_sees_why_another_presenter_s_token_is_refused(
    browser: Browser, live_server: LiveServer, tokens: dict[str, Any]
) -> None:
    refused = _open(browser, live_server, ["handsup", f"handsup.bearer.{tokens['theirs']}"], tokens["session_id"])
    assert (refused["first"], refused["code"], refused["reason"]) == (None, 4404, "sign in as this session's presenter")


def test_a_browser_that_offers_only_the_token_fails_the_handshake(
    browser: Browser, live_server: LiveServer, tokens: dict[str, Any]
) -> None:
    """The server never selects the token's subprotocol (its answer would echo the secret), and a browser that offered
    subprotocols gives up on an answer that selects none: offer `handsup` too, as documented."""
    failed = _open(browser, live_server, [f"handsup.bearer.{tokens['mine']}"], tokens["session_id"])
    assert (failed["first"], failed["code"]) == (None, 1006)
