"""Guess the number in a real browser: phones type numbers (a comma for decimals too), wrong ones are refused in the
page, the projector shows the distribution and the median, and the right answer once results are revealed or voting
closes; the stage fits the window."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import Audit
from tests.browser.factories import PHONE, LiveDeck, PageErrors, live_deck, screenshot, sign_in
from tests.browser.test_editor import EDITOR, add, new_deck, phone_preview, saved, signed_in
from tests.browser.test_projector_stage import MEASURE
from tests.browser.test_text_size import LOST, large_text_phone
from tests.factories import PASSWORD, LiveServer, cli

pytestmark = pytest.mark.browser
DECK = """\
title: Guess the number
activities:
  - kind: number
    title: How many hours a week does a principal spend on instruction?
    prompt: Your best guess, in hours.
    min: 0
    max: 80
    unit: hours
    correct: 12
    tolerance: 2
    results: hidden
  - kind: number
    title: What share of decisions are made in the front office?
    min: 0
    max: 100
    decimals: 1
    unit: "%"
    correct: 37.5
"""
PHONE_390 = {**PHONE, "viewport": {"width": 390, "height": 844}}
PROJECTOR_SIZES = [(1280, 720), (1024, 768)]


def join(browser: Browser, server: LiveServer, deck: LiveDeck, page_errors: PageErrors, name: str) -> Page:
    phone = page_errors.watch(browser.new_context(**PHONE_390).new_page(), name)
    phone.goto(f"{server.url}/{deck.code}")
    return phone


def send(phone: Page, typed: str) -> None:
    """Types the answer and sends it with the keyboard's Enter, as a phone's "send" key does."""
    box = phone.get_by_role("textbox", name="Your answer")
    box.fill(typed)
    box.press("Enter")


def fits(page: Page, where: str) -> None:
    """The projector's stage at this window: nothing scrolls, nothing is cut or overlaps, no text under the floor."""
    for width, height in PROJECTOR_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        found = page.evaluate(MEASURE, [".results.number svg", ".number-summary", ".respondents"])
        assert found["problems"] == [], f"{where} at {width}x{height}: {found['problems']}"
    page.set_viewport_size({"width": 1280, "height": 720})


def test_phones_guess_and_the_projector_shows_the_median_then_the_right_answer(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    with live_deck(live_server, {"deck_yaml": DECK}) as deck:
        hours = deck.goto(0)
        projector = page_errors.watch(
            browser.new_context(viewport={"width": 1280, "height": 720}).new_page(), "projector"
        )
        projector.goto(str(deck.session["projector_url"]))
        expect(projector.get_by_role("heading", name=hours["title"])).to_be_visible()

        first = join(browser, live_server, deck, page_errors, "first")
        expect(first.get_by_role("heading", name=hours["title"])).to_be_visible()
        expect(first.get_by_text("A whole number from 0 to 80.")).to_be_visible()
        # What is not a number, or is out of bounds however it is written, is refused in the page, saying why.
        for typed, message in [
            ("twelve", "“twelve” is not a number: type one like 42 or 3.5."),
            ("1e309", "Give a number from 0 to 80."),
            ("NaN", "“NaN” is not a number: type one like 42 or 3.5."),
            ("12,5", "Give a whole number (no decimals)."),
            ("<img src=x onerror=alert(1)>", "“<img src=x onerror=alert” is not a number"),  # cut short, inert
        ]:
            send(first, typed)
            expect(first.get_by_role("status")).to_contain_text(message)
        assert first.locator("img[src=x]").count() == 0
        send(first, "12")
        expect(first.get_by_role("status").filter(has_text="Received")).to_be_visible()
        screenshot(first, "number-phone")
        audit = Audit()
        audit.check(first, "phone answered")

        for name, typed in [("second", "10"), ("third", "30")]:
            phone = join(browser, live_server, deck, page_errors, name)
            send(phone, typed)
            expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()

        # Hidden results: the room sees only the count until the presenter reveals them, then the median, the
        # distribution and the right answer with how many were close enough.
        expect(projector.locator(".waiting-count")).to_contain_text("3 answers so far")
        expect(projector.locator(".results.number")).to_have_count(0)
        deck.control("reveal", hours)
        summary = projector.locator(".number-summary")
        expect(summary.locator(".median")).to_have_text("Median 12 hours")
        expect(summary.locator(".correct")).to_have_text("Correct 12 hours (± 2)")
        expect(projector.locator(".number-closest .within")).to_have_text("2 answers within ± 2 (67%)")
        expect(projector.locator(".number-closest .closest")).to_contain_text("12 hours, 10 hours, 30 hours")
        expect(projector.get_by_role("img", name="Answers from 0 hours to 80 hours")).to_have_attribute(
            "aria-label",
            "Answers from 0 hours to 80 hours: 0–9: 0, 10–19: 2, 20–29: 0, 30–39: 1, 40–49: 0, "
            "50–59: 0, 60–69: 0, 70–80: 0",
        )
        expect(projector.locator(".correct-mark")).to_have_count(1)
        fits(projector, "revealed")
        screenshot(projector, "number-projector", full_page=False)
        audit.check(projector, "projector revealed")
        audit.assert_clean()

        # Live results with decimals: a Spanish keyboard's comma is read; the right answer waits for voting to close.
        share = deck.goto(1)
        expect(first.get_by_role("heading", name=share["title"])).to_be_visible()
        send(first, "37,5")
        expect(first.get_by_role("status").filter(has_text="Received")).to_be_visible()
        first.reload()  # the form comes back with the answer as it counts
        expect(first.get_by_role("textbox", name="Your answer")).to_have_value("37.5")
        expect(projector.locator(".number-summary .median")).to_have_text("Median 37.5 %")
        expect(projector.locator(".number-summary .correct")).to_have_count(0)
        expect(projector.locator(".correct-mark")).to_have_count(0)
        # The presenter sees the right answer all along, told the room does not yet.
        presenter = page_errors.watch(
            browser.new_context(viewport={"width": 1440, "height": 900}).new_page(), "presenter"
        )
        sign_in(presenter, live_server, deck.session["id"])
        expect(presenter.locator(".number-summary .correct")).to_have_text("Correct 37.5 %")
        expect(presenter.get_by_text("The room sees the correct answer once voting closes")).to_be_visible()
        screenshot(presenter, "number-presenter")
        deck.control("close", share)
        expect(projector.locator(".number-summary .correct")).to_have_text("Correct 37.5 %")
        expect(projector.locator(".number-closest .within")).to_have_text("1 answer exactly right (100%)")
        fits(projector, "closed")
        assert page_errors.errors == []


def test_without_javascript_a_phone_answers_with_the_plain_form(browser: Browser, live_server: LiveServer) -> None:
    with live_deck(live_server, {"deck_yaml": DECK}) as deck:
        hours = deck.goto(0)
        phone = browser.new_context(java_script_enabled=False, **PHONE_390).new_page()
        phone.goto(f"{live_server.url}/{deck.code}")
        expect(phone.get_by_role("heading", name=hours["title"])).to_be_visible()
        box = phone.get_by_role("textbox", name="Your answer")
        box.fill("81")
        phone.get_by_role("button", name="Send").click()
        expect(phone.get_by_text("Give a number from 0 to 80.")).to_be_visible()
        phone.get_by_role("textbox", name="Your answer").fill("14")
        phone.get_by_role("button", name="Send").click()
        expect(phone.get_by_text("Received")).to_be_visible()
        assert deck.respondents(hours) == 1


def test_a_facilitator_adds_a_guess_the_number_in_the_editor_and_the_phone_preview_shows_it(
    browser: Browser, live_server: LiveServer
) -> None:
    server = live_server
    password = server.data_dir / "editor-password"
    password.write_text(PASSWORD)
    cli(server, "user", "add", EDITOR, "--role", "presenter", "--password-file", str(password))
    errors = PageErrors()
    page = signed_in(browser, server, errors, "editor")
    new_deck(page, server, "Numbers")
    add(page, "Guess the number")
    page.get_by_label("Title", exact=True).nth(1).fill("How many hours on instruction?")
    page.get_by_label("Min", exact=True).fill("0")
    page.get_by_label("Max", exact=True).fill("0")
    saved(page)
    expect(page.locator("#problems-summary")).to_contain_text("min (0) must be smaller than max (0)")
    page.get_by_label("Max", exact=True).fill("80")
    page.get_by_label("Unit").fill("hours")
    page.get_by_label("Correct").fill("12")
    page.get_by_label("Tolerance").fill("2")
    saved(page)
    expect(page.locator("#problems-summary")).to_be_hidden()
    preview = phone_preview(page)
    expect(preview.get_by_role("heading", name="How many hours on instruction?")).to_be_visible()
    expect(preview.get_by_text("A whole number from 0 to 80.")).to_be_visible()
    expect(preview.get_by_text("hours", exact=True)).to_be_visible()
    screenshot(page, "number-editor")
    page.reload()
    expect(page.locator("#save-status")).to_have_text("All changes saved")
    expect(page.get_by_label("Correct")).to_have_value("12")
    expect(page.get_by_role("button", name="Start session")).to_be_enabled()
    assert errors.errors == []


def test_on_a_360_px_phone_at_200_percent_text_in_spanish_the_answer_box_fits(
    browser: Browser, live_server: LiveServer
) -> None:
    with live_deck(live_server, {"deck_yaml": DECK}) as deck:
        share = deck.goto(1)
        phone = large_text_phone(browser, 2)
        phone.goto(f"{live_server.url}/{deck.code}")
        expect(phone.get_by_role("heading", name=share["title"])).to_be_visible()
        phone.get_by_role("link", name="Español").click()
        expect(phone.get_by_text("Un número del 0 al 100, con 1 decimal como máximo")).to_be_visible()
        assert phone.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        box = phone.get_by_role("textbox", name="Tu respuesta")
        box.fill("1e309")
        box.press("Enter")
        expect(phone.get_by_role("status")).to_have_text("Da un número del 0 al 100.")
        box.fill("37,5")
        box.press("Enter")
        expect(phone.get_by_role("status")).to_contain_text("Recibid")
        expect(box).to_be_in_viewport()
        screenshot(phone, "number-phone-200-percent-es", full_page=False)
        # Last: LOST leaves empty style attributes behind, which a later swap would copy (a CSP report).
        assert phone.evaluate(LOST) == []


def test_a_projector_in_spanish_shows_the_numbers_with_a_decimal_comma(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    with live_deck(live_server, {"deck_yaml": DECK}) as deck:
        share = deck.goto(1)
        phone = join(browser, live_server, deck, page_errors, "phone")
        send(phone, "37.5")
        expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
        projector = page_errors.watch(
            browser.new_context(viewport={"width": 1280, "height": 720}).new_page(), "projector"
        )
        projector.goto(str(deck.session["projector_url"]))
        projector.get_by_role("link", name="Español").click()
        expect(projector.locator(".number-summary .median")).to_have_text("Mediana 37,5 %")
        phone.get_by_role("link", name="Español").click()  # the phone's own answer, as its language writes it
        expect(phone.get_by_role("textbox", name="Tu respuesta")).to_have_value("37,5")
        deck.control("close", share)
        expect(projector.locator(".number-summary .correct")).to_have_text("Correcto: 37,5 %")
        expect(projector.locator(".number-closest .closest")).to_contain_text("37,5 %")
        expect(projector.locator(".results.number svg text").filter(has_text="37,5")).to_have_count(1)
        fits(projector, "in Spanish")
        screenshot(projector, "number-projector-spanish", full_page=False)
        assert page_errors.errors == []
