"""Every kind answered from the keyboard alone (Tab, Shift+Tab, Space, Enter, arrow keys, typing; no clicks or taps),
controls found by the names a screen reader reads out, focus always visible, and "received" in a polite live region."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.factories import PHONE, LiveDeck, first_of_each_kind
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
TABS = 80  # more stops than any participant page has before the control a test is after

# The focus ring of the element with focus, or of the tap target around it (scale hides its radios in the label).
FOCUS_RING = """() => {
  const focused = document.activeElement;
  const ringed = focused.matches(".visually-hidden") ? focused.closest("label") : focused;
  const style = getComputedStyle(ringed);
  return {tag: focused.tagName, style: style.outlineStyle, width: parseFloat(style.outlineWidth)};
}"""


def focus(page: Page, target: Locator, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until the target has focus, checking that each stop shows where the focus is."""
    for _ in range(TABS):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press(key)
        ring = page.evaluate(FOCUS_RING)
        if ring["tag"] != "BODY":
            assert ring["style"] != "none" and ring["width"] >= 2, f"no visible focus on {ring}"
    pytest.fail(f"{key} never reached {target}")


def radio_group(page: Page, name: str, *keys: str) -> None:
    """Tab into a group of radio buttons (named by its legend) and choose with Space and the arrow keys."""
    group = page.get_by_role("group", name=name)
    focus(page, group.get_by_role("radio").first)
    for key in keys:
        page.keyboard.press(key)


def wordcloud(phone: Page) -> None:
    focus(phone, phone.get_by_role("textbox", name="Entry 1 of 3"))
    phone.keyboard.type("trsut")
    phone.keyboard.press("Tab")
    phone.keyboard.type("listening")
    focus(phone, phone.get_by_role("textbox", name="Entry 1 of 3"), "Shift+Tab")  # back to fix a typo
    phone.keyboard.press("Control+a")
    phone.keyboard.type("trust")
    phone.keyboard.press("Enter")


def poll(phone: Page) -> None:
    focus(phone, phone.get_by_role("radio", name="Putting out fires"))
    phone.keyboard.press("ArrowDown")  # moves the choice to the next option
    expect(phone.get_by_role("radio", name="Maintaining the organization")).to_be_checked()
    focus(phone, phone.get_by_role("button", name="Send"))
    phone.keyboard.press("Enter")


def sort(phone: Page) -> None:
    cards = phone.locator("ol.cards fieldset")
    for index in range(cards.count()):
        group = cards.nth(index)
        focus(phone, group.get_by_role("radio").first)
        phone.keyboard.press("Space" if index % 2 == 0 else "ArrowRight")
    expect(phone.get_by_role("radio", name="Authority").nth(1)).to_be_checked()
    focus(phone, phone.get_by_role("button", name="Send"))
    phone.keyboard.press("Space")


def scale(phone: Page) -> None:
    radio_group(phone, "Using influence rather than authority", "Space", "ArrowRight")  # 1, then 2
    radio_group(phone, "Listening in stereo", "Space")
    expect(phone.get_by_role("group", name="Using influence rather than authority").get_by_label("2")).to_be_checked()
    focus(phone, phone.get_by_role("button", name="Send"))
    phone.keyboard.press("Enter")


def points(phone: Page) -> None:
    for item, given in [("Putting out fires", "50"), ("Maintaining the organization", "30")]:
        focus(phone, phone.get_by_role("textbox", name=item))
        phone.keyboard.type(given)
    phone.keyboard.press("Tab")
    phone.keyboard.type("20")
    expect(phone.locator(".sum")).to_contain_text("100 of 100 points given · all given")
    phone.keyboard.press("Enter")


def ranking(phone: Page) -> None:
    items = ["Making sense of emotions", "Discomfort of public disagreement"]
    items += ["Navigating power differentials", "Challenge of addressing non-discussables"]
    for rank, item in enumerate(items, start=1):
        focus(phone, phone.get_by_role("combobox", name=item))
        phone.keyboard.type(str(rank))  # a closed list picks the option that starts with what is typed
    expect(phone.get_by_role("combobox", name="Making sense of emotions")).to_have_value("1")
    focus(phone, phone.get_by_role("button", name="Send"))
    phone.keyboard.press("Enter")


def resources(phone: Page) -> None:
    focus(phone, phone.get_by_role("combobox", name="Type"))
    phone.keyboard.press("ArrowDown")
    focus(phone, phone.get_by_role("textbox", name="Title"))
    phone.keyboard.type("Dare to Lead")
    focus(phone, phone.get_by_role("textbox", name="Link (optional)"))
    phone.keyboard.type("https://example.org/dare")
    phone.keyboard.press("Enter")


def open_answer(phone: Page) -> None:
    focus(phone, phone.get_by_role("textbox", name="Your answer"))
    phone.keyboard.type("How we decide the schedule.")
    focus(phone, phone.get_by_role("button", name="Send"))
    phone.keyboard.press("Enter")


def qa(phone: Page) -> None:
    focus(phone, phone.get_by_role("textbox", name="Your question"))
    phone.keyboard.type("How do we start?")
    focus(phone, phone.get_by_role("button", name="Ask"))
    phone.keyboard.press("Enter")


def grid(phone: Page) -> None:
    principal = phone.get_by_role("group", name="Principal (1 of 6)")
    focus(phone, principal.get_by_role("slider", name="Influence"))
    phone.keyboard.press("End")
    phone.keyboard.press("Tab")
    expect(principal.get_by_role("slider", name="Authority")).to_be_focused()
    phone.keyboard.press("Home")
    expect(principal.get_by_role("slider", name="Influence")).to_have_value("10")
    focus(phone, phone.get_by_role("button", name="Send"))
    phone.keyboard.press("Enter")


def number(phone: Page) -> None:
    focus(phone, phone.get_by_role("textbox", name="Your answer"))
    phone.keyboard.type("8")
    phone.keyboard.press("Enter")


def pin(phone: Page) -> None:
    picture = phone.locator("[role=group][aria-label^='Picture to pin on']")
    focus(phone, picture)
    phone.keyboard.press("ArrowRight")  # the first key shows the pin in the middle
    phone.keyboard.press("Shift+ArrowUp")
    expect(phone.locator(".pin-where")).to_have_text("50% across, 40% down")
    focus(phone, phone.get_by_role("button", name="Send"))
    phone.keyboard.press("Enter")


def quiz(phone: Page) -> None:
    focus(phone, phone.get_by_role("textbox", name="Your answer"))
    phone.keyboard.type("Ten")
    phone.keyboard.press("Enter")


ANSWER: dict[str, tuple[Callable[[Page], None], str]] = {
    "wordcloud": (wordcloud, "Received"),
    "poll": (poll, "Received"),
    "sort": (sort, "Received"),
    "scale": (scale, "Received"),
    "points": (points, "Received"),
    "ranking": (ranking, "Received"),
    "resources": (resources, "Received"),
    "open": (open_answer, "Received"),
    "qa": (qa, "Sent"),
    "grid": (grid, "Received"),
    "number": (number, "Received"),
    "pin": (pin, "Received"),
    "quiz": (quiz, "Received"),
}


@pytest.mark.parametrize("kind", list(ANSWER))
def test_a_participant_answers_each_kind_with_the_keyboard_alone(
    kind: str, browser: Browser, live_server: LiveServer, example_deck: LiveDeck
) -> None:
    activity = first_of_each_kind(example_deck.session)[kind]
    example_deck.goto(activity["position"])
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{live_server.url}/{example_deck.code}")
    expect(phone.get_by_role("heading", name=activity["title"])).to_be_visible()
    answer, said = ANSWER[kind]
    answer(phone)
    status = phone.get_by_role("status").filter(has_text=said)
    expect(status).to_be_visible()
    expect(status).to_have_attribute("aria-live", "polite")
    assert example_deck.respondents(activity) >= 1


# Every text the status line shows, in order, and whether it is still the node the page was served with.
WATCH_STATUS = """status => {
  window.statusTexts = [];
  window.statusNode = status;
  new MutationObserver(() => window.statusTexts.push(window.statusNode.textContent))
    .observe(status, {childList: true, characterData: true, subtree: true});
}"""


def test_received_is_announced_once_from_the_live_region_the_page_came_with(
    browser: Browser, live_server: LiveServer, example_deck: LiveDeck
) -> None:
    activity = first_of_each_kind(example_deck.session)["poll"]
    example_deck.goto(activity["position"])
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{live_server.url}/{example_deck.code}")
    status = phone.get_by_role("status").and_(phone.locator(".status"))
    status.evaluate(WATCH_STATUS)
    phone.get_by_role("radio", name="Engaging in improvement").press("Space")
    phone.get_by_role("button", name="Send").press("Enter")
    received = "✓ Received. You can change your answer while voting is open."
    expect(status).to_have_text(received)
    assert phone.evaluate("() => window.statusNode === document.querySelector('.status')"), "the region was replaced"
    assert phone.evaluate("() => window.statusTexts") == ["Sending…", received]
    # What a screen reader is given: the form's controls by name, the answer's state, the polite status.
    form = phone.get_by_role("article", name=activity["title"]).aria_snapshot()
    assert '- radio "Engaging in improvement" [checked]' in form, form
    assert '- button "Update my answer"' in form, form
    assert f"- status: {received}" in form, form
    assert phone.locator("#connection").get_attribute("role") == "status"
    assert phone.locator("#connection").get_attribute("aria-live") == "polite"


# Each change the connection banner goes through: ["text", words] or ["hidden", true/false].
WATCH_BANNER = """() => {
  const banner = document.getElementById("connection");
  window.bannerChanges = [];
  new MutationObserver(records => records.forEach(record => window.bannerChanges.push(
    record.type === "attributes" ? ["hidden", banner.hidden] : ["text", banner.textContent])))
    .observe(banner, {childList: true, characterData: true, subtree: true, attributes: true});
}"""
CLOSED = (
    """code => document.dispatchEvent(new CustomEvent("htmx:wsClose", {detail: {event: {code: code, reason: ""}}}))"""
)


def test_the_connection_banner_is_announced_once_however_often_the_socket_retries(
    browser: Browser, live_server: LiveServer, example_deck: LiveDeck
) -> None:
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{live_server.url}/{example_deck.code}")
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    # Two quick failures in a row would send this phone over to the event stream (tests/browser/test_three_ways_in.py):
    # without a stream to follow, as on the presenter's and projector's pages, it keeps retrying its socket.
    phone.evaluate("() => document.querySelectorAll('[data-events]').forEach(e => e.removeAttribute('data-events'))")
    phone.evaluate(WATCH_BANNER)
    for _ in range(3):  # htmx's extension retries: each failed attempt is another close event
        phone.evaluate(CLOSED, 1006)
    banner = phone.get_by_role("status").filter(has_text="Connection lost. Reconnecting…")
    expect(banner).to_be_visible()
    phone.evaluate(CLOSED, 1000)  # turned away for good: new words, once
    expect(phone.locator("#connection")).to_contain_text("no longer live")
    assert phone.evaluate("() => window.bannerChanges") == [
        ["hidden", False],
        ["text", "This page is no longer live. Reload it, or join again with the code."],
    ]
