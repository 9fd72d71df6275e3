"""An open question as people run it: phones write answers, the projector shows cards, the presenter moderates."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LAPTOP, PHONE, LiveDeck, PageErrors, live_deck, screenshot, sign_in
from tests.factories import LiveServer
from tests.hostile import PAYLOADS

pytestmark = pytest.mark.browser
DECK = """\
title: Open questions
activities:
  - kind: open
    title: What would help your team most?
    prompt: One idea, in a sentence.
    max_length: 60
  - kind: open
    title: What worries you?
    moderated: true
"""
SCRIPT = PAYLOADS["script_tag"]


@pytest.fixture(scope="module")
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_yaml": DECK}) as running:
        yield running


def answer(phone: Page, text: str) -> None:
    phone.get_by_label("Your answer").fill(text)
    phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()


def test_open_answers_become_cards_the_presenter_moderates(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    dialogs: list[str] = []
    live.goto(0)
    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.on("dialog", lambda dialog: dialogs.append(dialog.message))
    projector.goto(str(live.session["projector_url"]))
    presenter = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter")
    presenter.on("dialog", lambda dialog: dialogs.append(dialog.message))
    sign_in(presenter, live_server, int(live.session["id"]))
    phones = [page_errors.watch(browser.new_context(**PHONE).new_page(), f"phone {i}") for i in range(2)]
    for phone in phones:
        phone.on("dialog", lambda dialog: dialogs.append(dialog.message))
        phone.goto(f"{live_server.url}/{live.code}")
        expect(phone.get_by_role("heading", name="What would help your team most?")).to_be_visible()

    # Only spaces pass the browser's "required" check; the server's message says what to do.
    answer(phones[0], "   ")
    expect(phones[0].get_by_role("status")).to_have_text("Write an answer before sending.")

    answer(phones[0], SCRIPT)
    expect(phones[0].get_by_role("status").filter(has_text="Received")).to_be_visible()
    answer(phones[1], "  More   time to talk\n together ")
    expect(phones[1].get_by_role("status").filter(has_text="Received")).to_be_visible()
    cards = projector.locator(".open-cards .card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_have_text("More time to talk together")  # newest first, spaces tidied
    expect(cards.nth(1)).to_have_text(SCRIPT)  # shown as text, never run
    expect(projector.locator(".respondents")).to_have_text("2 answers")

    # The presenter highlights the older answer (it moves first), then hides the other.
    presenter.locator(".open-card", has_text=SCRIPT).get_by_role("button", name="Highlight").click()
    expect(cards.first.locator("mark")).to_have_text(f"★ {SCRIPT}")
    presenter.locator(".open-card", has_text="More time").get_by_role("button", name="Hide").click()
    expect(cards).to_have_count(1)
    expect(presenter.locator(".open-card", has_text="More time")).to_contain_text("Hidden")
    presenter.locator(".open-card", has_text="More time").get_by_role("button", name="Show").click()
    expect(cards).to_have_count(2)
    screenshot(projector, "open-projector")
    screenshot(phones[1], "open-phone")
    screenshot(presenter, "open-presenter")

    # A moderated question: answers wait for approval; an edited answer waits again.
    live.goto(1)
    expect(phones[0].get_by_role("heading", name="What worries you?")).to_be_visible()
    expect(phones[0].get_by_text("The presenter reviews answers before they are shown.")).to_be_visible()
    answer(phones[0], "Too many meetings")
    expect(phones[0].get_by_role("status").filter(has_text="Received")).to_be_visible()
    expect(projector.locator(".empty")).to_have_text("No answers shown yet.")
    pending = presenter.locator(".open-card", has_text="Too many meetings")
    expect(pending).to_contain_text("Waiting for approval")
    pending.get_by_role("button", name="Approve").click()
    expect(projector.locator(".open-cards .card")).to_have_text(["Too many meetings"])
    answer(phones[0], "Too many meetings, too little time")
    expect(phones[0].get_by_role("status").filter(has_text="Received")).to_be_visible()
    expect(projector.locator(".open-cards")).to_have_count(0)
    expect(presenter.locator(".open-card", has_text="too little time")).to_contain_text("Waiting for approval")
    screenshot(presenter, "open-presenter-moderated")

    assert dialogs == []
    assert page_errors.errors == []


TWO_LINES_DECK = """\
title: Two lines
activities:
  - kind: open
    title: What did you notice?
"""


def test_open_an_answer_typed_on_two_lines_is_shown_on_two_lines(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    with live_deck(live_server, {"deck_yaml": TWO_LINES_DECK}) as two_lines:
        two_lines.goto(0)
        projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
        projector.goto(str(two_lines.session["projector_url"]))
        phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
        phone.goto(f"{live_server.url}/{two_lines.code}")
        box = phone.get_by_label("Your answer")
        box.click()
        box.press_sequentially("Trust first")
        box.press("Enter")  # in a textarea, Enter starts a new line
        box.press_sequentially("then the plan")
        box.press("Shift+Enter")
        box.press("Shift+Enter")
        box.press_sequentially("and tea")
        phone.get_by_role("button", name="Send").click()
        expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()

        text = projector.locator(".open-cards .card .answer-text")
        expect(text).to_have_count(1)
        assert text.evaluate("element => element.innerText") == "Trust first\nthen the plan\n\nand tea"
        line_height = float(text.evaluate("element => getComputedStyle(element).lineHeight").removesuffix("px"))
        box_of_text = text.bounding_box()
        assert box_of_text is not None and box_of_text["height"] >= 3.5 * line_height  # 3 lines and a blank one
        phone.reload()  # the phone's own answer comes back with its lines
        expect(phone.get_by_label("Your answer")).to_have_value("Trust first\nthen the plan\n\nand tea")
        screenshot(projector, "open-projector-two-lines")
        screenshot(phone, "open-phone-two-lines")
        assert page_errors.errors == []
