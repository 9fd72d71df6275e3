"""Everyone can take part: every kind's participant form, answered over a websocket, over server-sent events where
the venue's network blocks websockets, and with JavaScript off (plain forms that post and redirect)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from activities import registry
from tests.browser.factories import PHONE, LiveDeck, PageErrors, live_deck, screenshot
from tests.factories import LiveServer, start_server, stop_server

pytestmark = pytest.mark.browser
REFRESH_SECONDS = 2  # the no-JavaScript lobby reloads itself this often (HANDSUP_NO_SCRIPT_REFRESH_SECONDS)
DECK = """\
title: Every kind
activities:
  - kind: wordcloud
    title: Three words for leadership
    entries: 3
  - kind: poll
    title: Where does the week go?
    options: [Putting out fires, Maintaining the organization, Engaging in improvement]
  - kind: sort
    title: Influence or authority?
    bins: [Influence, Authority]
    cards: [Setting the budget, Building trust]
  - kind: points
    title: Spread the points
    total: 10
    items: [Fires, Improvement]
  - kind: scale
    title: How often do you practise it?
    statements: [Listening in stereo]
    labels: [Not yet, Routinely]
  - kind: ranking
    title: Which risk first?
    items: [Funding, Turnover]
  - kind: resources
    title: Call for resources
    moderated: false
  - kind: open
    title: A first step
    max_length: 280
  - kind: number
    title: Hours a week on instruction
    min: 0
    max: 80
    decimals: 1
  - kind: pin
    title: Where are decisions made?
    image: {media: 0000000000000000000000000000000000000000000000000000000000000000.png, alt: A school floor plan}
  - kind: quiz
    title: Which standard is about equity?
    accepted: [Equity and cultural responsiveness, Equity]
  - kind: slide
    title: Before the questions
    body: Leadership is **a practice**, not a position.
  - kind: qa
    title: Questions for the panel
    moderated: false
  - kind: grid
    title: Who decides?
    items: [Principal, Teacher leader]
"""


def send(phone: Page) -> None:
    phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()


@dataclass(frozen=True)
class HowToAnswer:
    """One kind's participant form, as a thumb fills it in, and what the phone says once it is stored."""

    kind: str
    title: str
    fill: Callable[[Page], None]
    received: str = "Received"
    answered: bool = True  # False: a kind that takes no answers (a content slide), only shown

    def answer(self, phone: Page) -> None:
        expect(phone.get_by_role("heading", name=self.title)).to_be_visible()
        self.fill(phone)
        if self.answered:
            expect(phone.locator("form.answer").get_by_role("status")).to_contain_text(self.received)


def _wordcloud(phone: Page) -> None:
    phone.locator("input[name=word]").first.fill("Trust")
    send(phone)


def _poll(phone: Page) -> None:
    phone.get_by_text("Engaging in improvement").click()
    send(phone)


def _sort(phone: Page) -> None:
    phone.get_by_role("group", name="Setting the budget").get_by_text("Authority", exact=True).click()
    phone.get_by_role("group", name="Building trust").get_by_text("Influence", exact=True).click()
    send(phone)


def _points(phone: Page) -> None:
    phone.get_by_label("Fires").fill("3")
    phone.get_by_label("Improvement").fill("7")
    send(phone)


def _scale(phone: Page) -> None:
    phone.get_by_role("group", name="Listening in stereo").get_by_text("4", exact=True).click()
    send(phone)


def _ranking(phone: Page) -> None:
    phone.get_by_label("Funding").select_option("2")
    phone.get_by_label("Turnover").select_option("1")
    send(phone)


def _resources(phone: Page) -> None:
    phone.get_by_label("Title").fill("Distributed leadership toolkit")
    send(phone)


def _open(phone: Page) -> None:
    phone.get_by_label("Your answer").fill("Put the master schedule on the table")
    send(phone)


def _number(phone: Page) -> None:
    phone.get_by_role("textbox", name="Your answer").fill("12,5")
    send(phone)


def _pin(phone: Page) -> None:
    # The typed position is the form's own fields, so it is the same way in over a socket, an event stream or a post.
    phone.get_by_label("Across (% from the left)").fill("30")
    phone.get_by_label("Down (% from the top)").fill("40")
    send(phone)


def _quiz(phone: Page) -> None:
    phone.get_by_label("Your answer").fill("equity")
    send(phone)


def _slide(phone: Page) -> None:
    expect(phone.locator(".slide-body")).to_have_text("Leadership is a practice, not a position.")
    expect(phone.locator("form.answer button[type=submit]")).to_have_count(0)  # nothing to send


def _grid(phone: Page) -> None:
    # The sliders answer to the keyboard with or without JavaScript; the teacher leader is skipped.
    phone.get_by_role("group", name="Principal").get_by_role("slider", name="Influence").focus()
    phone.keyboard.press("End")
    phone.get_by_role("group", name="Teacher leader").get_by_label("Skip this item").check()
    send(phone)


def _qa(phone: Page) -> None:
    phone.get_by_label("Your question").fill("Who decides the budget?")
    phone.get_by_role("button", name="Ask", exact=True).click()


# One entry per kind the server knows (a test below checks the table covers them all), in the deck's order.
KINDS = [
    HowToAnswer("wordcloud", "Three words for leadership", _wordcloud),
    HowToAnswer("poll", "Where does the week go?", _poll),
    HowToAnswer("sort", "Influence or authority?", _sort),
    HowToAnswer("points", "Spread the points", _points),
    HowToAnswer("scale", "How often do you practise it?", _scale),
    HowToAnswer("ranking", "Which risk first?", _ranking),
    HowToAnswer("resources", "Call for resources", _resources),
    HowToAnswer("open", "A first step", _open),
    HowToAnswer("number", "Hours a week on instruction", _number),
    HowToAnswer("pin", "Where are decisions made?", _pin),
    HowToAnswer("quiz", "Which standard is about equity?", _quiz),
    HowToAnswer("slide", "Before the questions", _slide, answered=False),
    HowToAnswer("qa", "Questions for the panel", _qa, received="Sent"),
    HowToAnswer("grid", "Who decides?", _grid),
]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """This module's own server: its no-JavaScript lobby reloads every REFRESH_SECONDS, so a test sees it do so."""
    server = start_server(
        Path(tmp_path_factory.mktemp("three-ways")), HANDSUP_NO_SCRIPT_REFRESH_SECONDS=str(REFRESH_SECONDS)
    )
    yield server
    stop_server(server)


@pytest.fixture
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    """A fresh session of the every-kind deck per test, in its lobby."""
    with live_deck(live_server, {"deck_yaml": DECK}) as running:
        yield running


def block_websockets(phone: Page) -> list[str]:
    """As a venue proxy that lets no websocket upgrade through: every socket closes at once. Returns the URLs tried."""
    tried: list[str] = []

    def refuse(socket: WebSocketRoute) -> None:
        tried.append(socket.url)
        socket.close(code=1011, reason="blocked")

    phone.route_web_socket(re.compile(r"/ws/"), refuse)
    return tried


def take_part(phone: Page, live: LiveDeck, *, follows: bool) -> None:
    """The presenter moves through the deck; the phone answers each kind's form, and each answer is stored.

    `follows`: the phone reaches each activity by itself, without reloading; otherwise by the page's plain link."""
    activities = live.session["activities"]
    assert [a["kind"] for a in activities] == [how.kind for how in KINDS]
    for position, how in enumerate(KINDS):
        activity = activities[position]
        if follows:
            phone.evaluate("window.handsupSamePage = true")
        live.goto(position)
        if follows:
            expect(phone.get_by_role("heading", name=how.title)).to_be_visible()
            assert phone.evaluate("window.handsupSamePage === true"), f"the phone reloaded to reach {how.kind}"
        else:
            phone.get_by_role("link", name="Show the current activity").click()
        how.answer(phone)
        if how.answered:
            assert live.respondents(activity) == 1, f"the {how.kind} answer was stored"


def test_the_table_covers_every_kind() -> None:
    assert sorted(how.kind for how in KINDS) == sorted(registry.names())


def test_with_websockets_a_phone_follows_and_answers_every_kind(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{live.code}")
    expect(phone.get_by_role("heading", name="You're in!")).to_be_visible()
    take_part(phone, live, follows=True)
    assert phone.evaluate("document.body.dataset.transport") is None  # it never needed the fallback
    assert page_errors.errors == []


def test_with_websockets_blocked_a_phone_follows_by_server_sent_events_and_answers_every_kind(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    tried = block_websockets(phone)
    streams: list[str] = []
    phone.on("request", lambda request: streams.append(request.url) if "/events" in request.url else None)
    phone.goto(f"{live_server.url}/{live.code}")
    expect(phone.locator("body[data-transport=events]")).to_have_count(1)
    expect(phone.locator("#connection")).to_be_hidden()  # following again: no "Connection lost"
    assert len(tried) == 2  # two sockets failed, then it stopped trying

    take_part(phone, live, follows=True)
    assert len(tried) == 2  # each answer's page went straight to the event stream (the tab remembers)

    # It keeps following the presenter: voting closed, results revealed (nothing changes on the phone), the end.
    live.control("close", live.session["activities"][-1])
    expect(phone.locator("form.answer").get_by_role("status")).to_contain_text("Voting is closed")
    screenshot(phone, "phone-events-closed")
    live.control("end", live.session["activities"][-1])
    expect(phone.get_by_role("heading", name="This session has ended")).to_be_visible()
    assert streams and all(re.search(rf"/{live.code}/events(\?|$)", url) for url in streams)

    # The tab remembers the fallback for participant pages only: a projector opened in it still tries its socket.
    phone.goto(str(live.session["projector_url"]))
    for _ in range(50):  # Playwright delivers the route's calls while the page is being waited on
        if len(tried) > 2:
            break
        phone.wait_for_timeout(100)
    assert len(tried) > 2 and "/ws/projector/" in tried[-1]
    assert page_errors.errors == []


def test_with_javascript_off_a_phone_answers_every_kind_by_plain_forms(
    browser: Browser, live_server: LiveServer, live: LiveDeck
) -> None:
    phone = browser.new_context(java_script_enabled=False, **PHONE).new_page()
    phone.goto(live_server.url + "/")
    phone.get_by_label("Enter the code on the screen").fill(live.code)
    phone.get_by_role("button", name="Join").click()
    expect(phone.get_by_role("heading", name="You're in!")).to_be_visible()

    # In the lobby the page reloads itself, so it reaches the first activity on its own.
    live.goto(0)
    expect(phone.get_by_role("heading", name=KINDS[0].title)).to_be_visible(timeout=(REFRESH_SECONDS + 8) * 1000)
    screenshot(phone, "phone-no-javascript")
    take_part(phone, live, follows=False)

    # While someone could be typing the page never reloads; once voting is closed it does again.
    assert phone.locator("meta[http-equiv=refresh]").count() == 0
    live.control("close", live.session["activities"][-1])
    phone.reload()
    expect(phone.locator("meta[http-equiv=refresh]")).to_have_count(1)
