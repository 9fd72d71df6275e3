"""A survey at the audience's pace on a phone, then reactions and two word clouds side by side on the projector."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LAPTOP, PHONE, LiveDeck, PageErrors, live_deck, screenshot, sign_in
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
DECK = """\
title: Influence and authority
pace: audience
activities:
  - kind: poll
    title: Have you led a change without a title?
    options: [Yes, No, Not yet]
  - kind: wordcloud
    title: Influence
    prompt: Three words that come to mind.
  - kind: wordcloud
    title: Authority
    prompt: Three words that come to mind.
"""
WORDS = {"Influence": ["trust", "listening", "example"], "Authority": ["budget", "hiring", "trust"]}


@pytest.fixture
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_yaml": DECK}) as running:
        yield running


def send_words(phone: Page, words: list[str]) -> None:
    for index, word in enumerate(words):
        phone.get_by_label(f"Entry {index + 1} of 3").fill(word)
    phone.get_by_role("button", name="Send").click()
    expect(phone.locator(".status.ok")).to_contain_text("Received")


def test_a_phone_steps_through_a_survey_while_the_presenter_watches_completion(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    presenter = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter")
    sign_in(presenter, live_server, int(live.session["id"]))
    expect(presenter.get_by_role("heading", name="Completion")).to_be_visible()
    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(str(live.session["projector_url"]))
    expect(projector.locator(".completion-count")).to_have_text("0 of 0 finished")

    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{live.code}")
    expect(phone.get_by_text("0 of 3 answered")).to_be_visible()
    phone.get_by_label("Yes").check()
    phone.get_by_role("button", name="Send").click()
    expect(phone.locator(".status.ok")).to_contain_text("Received")
    screenshot(phone, "pace-phone-first")
    phone.get_by_role("link", name="Next →").click()
    expect(phone.get_by_role("heading", name="Influence")).to_be_visible()
    expect(phone.get_by_text("1 of 3 answered")).to_be_visible()
    send_words(phone, WORDS["Influence"])
    phone.get_by_role("link", name="Next →").click()
    send_words(phone, WORDS["Authority"])
    phone.get_by_role("link", name="Finish").click()
    expect(phone.get_by_role("heading", name="All done, thank you!")).to_be_visible()
    expect(phone.get_by_text("3 of 3 answered")).to_be_visible()

    # Going back to change an answer is a tap on its step.
    phone.get_by_role("link", name="Have you led a change without a title? (answered)").click()
    expect(phone.get_by_label("Yes")).to_be_checked()

    # The presenter's table and the room's meter follow without a reload.
    expect(presenter.locator("#completion")).to_contain_text("1 of 1 have answered every open activity")
    expect(presenter.locator(".completion-table tbody tr").first).to_contain_text("1 / 1")
    expect(projector.locator(".completion-count")).to_have_text("1 of 1 finished")
    screenshot(presenter, "pace-presenter")
    assert page_errors.errors == []


def test_reactions_float_over_two_word_clouds_side_by_side(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    # Both clouds have words in them: a phone answers the survey at its own pace first.
    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{live.code}")
    phone.get_by_role("link", name="Next →").click()
    send_words(phone, WORDS["Influence"])
    phone.get_by_role("link", name="Next →").click()
    send_words(phone, WORDS["Authority"])

    presenter = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter")
    sign_in(presenter, live_server, int(live.session["id"]))
    presenter.get_by_role("button", name="Back to presenter pace").click()
    expect(presenter.get_by_role("button", name="Let the audience go at their own pace")).to_be_visible()
    presenter.locator(".outline").get_by_role("button", name="2. Influence").click()
    expect(presenter.get_by_role("heading", name="Influence", exact=True)).to_be_visible()
    presenter.get_by_label("Show beside it on the projector").select_option(label="3. Authority")
    presenter.get_by_role("button", name="Side by side").click()
    expect(presenter.get_by_text("Beside it on the projector: Authority")).to_be_visible()

    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(str(live.session["projector_url"]))
    expect(projector.locator(".side-by-side .projected")).to_have_count(2)
    expect(projector.locator(".side-by-side .cloud-image[src]")).to_have_count(2)

    # The presenter sets the pace again: the phone follows to the current activity.
    expect(phone.get_by_role("heading", name="Influence")).to_be_visible()
    phone.get_by_label("Entry 1 of 3").fill("modelling")
    phone.get_by_role("button", name="Update my answer").click()
    expect(phone.locator(".status.ok")).to_contain_text("Received")
    phone.get_by_role("button", name="Love it").click()
    expect(phone.locator("#reaction-status")).to_have_text("Sent ❤️")
    expect(projector.locator("#reactions .reaction").first).to_be_attached()
    phone.get_by_role("button", name="Applause").click()
    phone.get_by_role("button", name="Applause").click()
    phone.get_by_role("button", name="Applause").click()
    expect(phone.locator("#reaction-status")).to_have_text("Easy there: wait a moment, then react again.")
    screenshot(projector, "side-by-side-projector")
    screenshot(phone, "reactions-phone")
    # Floated reactions leave the page once they have floated.
    expect(projector.locator("#reactions .reaction")).to_have_count(0, timeout=10_000)
    expect(presenter.locator("#counts")).to_contain_text("❤️ 1")
    assert page_errors.errors == []
