"""The profanity filter as a room meets it: a rude word sent from a phone never reaches the projector, the presenter
sees it held back and may show it anyway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.factories import LAPTOP, PHONE, LiveDeck, PageErrors, live_deck, screenshot, sign_in
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
DECK = """\
title: Three words
activities:
  - kind: wordcloud
    title: Leadership is...
"""


@pytest.fixture(scope="module")
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_yaml": DECK}) as running:
        running.goto(0)
        yield running


def test_a_flagged_word_waits_for_the_presenter_while_a_clean_one_goes_up(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(str(live.session["projector_url"]))
    presenter = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter")
    sign_in(presenter, live_server, int(live.session["id"]))
    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{live.code}")
    expect(phone.get_by_role("heading", name="Leadership is...")).to_be_visible()

    boxes = phone.locator("input[name=word]")
    boxes.nth(0).fill("Trust")
    boxes.nth(1).fill("sh1t")
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status")).to_contain_text("Received")  # as for any answer: nothing says "filtered"

    words = projector.locator(".top-words .word-text")
    expect(words).to_have_text(["trust"])
    expect(projector.locator(".respondents")).to_have_text("1 person answered")
    expect(projector.locator(".cloud-src")).to_have_attribute("data-alt", "Word cloud: trust")

    held = presenter.locator(".filtered-words")
    expect(held.locator("summary")).to_have_text("1 word held back by the profanity filter")
    expect(presenter.locator(".top-words .word-text")).to_have_text(["trust"])
    held.locator("summary").click()
    screenshot(presenter, "presenter-profanity-held")
    held.locator("li", has_text="sh1t").get_by_role("button", name="Show").click()

    expect(words).to_have_text(["sh1t", "trust"])
    expect(presenter.locator(".filtered-words")).to_have_count(0)
    screenshot(projector, "projector-profanity-shown")
    assert page_errors.errors == []


def test_the_presenter_switches_the_filter_off_for_the_session(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(str(live.session["projector_url"]))
    presenter = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter")
    sign_in(presenter, live_server, int(live.session["id"]))
    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{live.code}")
    phone.locator("input[name=word]").nth(0).fill("mierda")
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status")).to_contain_text("Received")
    expect(presenter.locator(".filtered-words summary")).to_contain_text("1 word held back")
    expect(projector.locator(".top-words")).not_to_contain_text("mierda")

    presenter.get_by_role("button", name="Switch the profanity filter off").click()
    expect(projector.locator(".top-words")).to_contain_text("mierda")
    presenter.get_by_role("button", name="Switch the profanity filter on").click()
    expect(projector.locator(".top-words")).not_to_contain_text("mierda")
    expect(presenter.locator(".filtered-words summary")).to_contain_text("1 word held back")
    assert page_errors.errors == []
