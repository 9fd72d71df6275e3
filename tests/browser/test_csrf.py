"""CSRF in a real browser: a form the socket pushed carries no token, yet posts with the page's when the socket is
down; a page left open past its session cookie says it has expired."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, WebSocketRoute, expect

from tests.browser.factories import PHONE, LiveDeck, PageErrors, live_deck
from tests.factories import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_slug": "distributed-leadership"}) as running:
        yield running


def test_a_pushed_form_posts_with_the_pages_token_once_the_socket_is_gone(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    live.goto(0)
    sockets: list[WebSocketRoute] = []

    def relay_the_first_then_refuse(socket: WebSocketRoute) -> None:
        if sockets:  # reconnects: as a venue network that started dropping websockets
            socket.close(code=1011, reason="blocked")
            return
        sockets.append(socket)
        socket.connect_to_server()

    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.route_web_socket(re.compile(r"/ws/participant/"), relay_the_first_then_refuse)
    phone.goto(f"{live_server.url}/{live.code}")
    poll = live.goto(1)
    before = live.respondents(poll)
    expect(phone.get_by_role("heading", name="How do school leaders spend their time?")).to_be_visible()
    form = phone.locator("form.answer")
    expect(form.locator('input[name="csrf_token"]')).to_have_count(0)  # pushed: one rendering for every phone

    sockets[0].close(code=1011, reason="blocked")
    expect(phone.locator("#connection")).to_be_visible()
    phone.get_by_text("Putting out fires").click()
    form.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    assert live.respondents(poll) == before + 1
    assert page_errors.errors == []


def test_a_form_left_open_past_its_session_says_the_page_expired(
    browser: Browser, live_server: LiveServer, live: LiveDeck
) -> None:
    poll = live.goto(1)
    before = live.respondents(poll)
    context = browser.new_context(java_script_enabled=False, **PHONE)
    phone = context.new_page()
    phone.goto(f"{live_server.url}/{live.code}")
    context.clear_cookies()  # the cookies ran out while the page stayed open
    phone.get_by_text("Putting out fires").click()
    phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()
    expect(phone.get_by_role("heading", name="This page has expired")).to_be_visible()
    assert live.respondents(poll) == before
    phone.get_by_role("link", name="Reload the page").click()
    expect(phone.get_by_role("heading", name="How do school leaders spend their time?")).to_be_visible()
