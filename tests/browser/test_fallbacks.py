"""A phone whose socket drops and comes back, and a countdown it watches (every kind over each transport, and with
JavaScript off: test_three_ways_in.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, WebSocketRoute, expect

from tests.browser.factories import PHONE, LiveDeck, PageErrors, live_deck, screenshot
from tests.factories import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_slug": "distributed-leadership"}) as running:
        yield running


def test_a_phone_that_reconnects_gets_what_changed_while_it_was_away(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    """The reconnect names the stage the phone shows now, not the one its page came with."""
    poll = live.goto(1)
    sockets: list[WebSocketRoute] = []
    urls: list[str] = []

    def relay(socket: WebSocketRoute) -> None:
        urls.append(socket.url)
        if len(sockets) == 1:  # the reconnect: voting reopens while the phone was away, then it gets through
            live.control("open", poll)
        sockets.append(socket)
        socket.connect_to_server()

    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.route_web_socket(re.compile(r"/ws/participant/"), relay)
    phone.goto(f"{live_server.url}/{live.code}")  # the page comes with voting open
    expect(phone.get_by_role("button", name="Send")).to_be_visible()
    live.control("close", poll)
    expect(phone.get_by_role("status")).to_contain_text("Voting is closed")

    sockets[0].close(code=1012, reason="server restarting")  # htmx reconnects after a short, jittered pause
    expect(phone.get_by_role("button", name="Send")).to_be_visible(timeout=10_000)
    assert len(urls) == 2 and urls[0] != urls[1]  # the second connect named the "closed" stage it showed
    assert page_errors.errors == []


def test_a_phone_watches_the_countdown_and_voting_closes_at_zero(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    poll = live.goto(1)
    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{live.code}")
    expect(phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$"))).to_be_visible()
    response = live.api.post(
        f"/api/v1/sessions/{live.session['id']}/control",
        json={"action": "countdown", "activity_id": poll["id"], "fields": {"seconds": "5"}},
    )
    assert response.status_code == 200, response.text
    timer = phone.get_by_role("timer")
    expect(timer).to_contain_text("Voting closes in")
    expect(timer.locator(".countdown-value")).to_have_text(re.compile(r"^[0-4]$"), timeout=5_000)  # it ticks
    screenshot(phone, "phone-countdown")
    expect(phone.get_by_role("status")).to_contain_text("Voting is closed", timeout=15_000)
    expect(phone.get_by_role("timer")).to_have_count(0)
    live.control("open", poll)  # leave the poll open for the other tests of this module
    assert page_errors.errors == []
