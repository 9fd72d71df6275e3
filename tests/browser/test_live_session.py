"""A live session as people run it: a presenter, a projector and three phones on the example deck."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LAPTOP, PHONE, PageErrors, screenshot
from tests.factories import PASSWORD, LiveServer

pytestmark = pytest.mark.browser
WORDS = [("Trust", "listening", "Shared vision"), ("trust", "Listening!", "courage"), ("TRUST", "equity", "")]


def sign_up_first_admin(page: Page, server: LiveServer) -> None:
    """The console's one-time setup link creates the first account and signs it in."""
    page.goto(server.setup_link())
    page.get_by_label("Email").fill("facilitator@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/present$"))


def join_by_typing(phone: Page, server: LiveServer, code: str) -> None:
    phone.goto(server.url + "/")
    phone.get_by_label("Enter the code on the screen").fill(f"{code[:3]} {code[3:]}")
    phone.get_by_role("button", name="Join").click()
    expect(phone.get_by_role("heading", name="You're in!")).to_be_visible()


def presenter_click(presenter: Page, name: str) -> None:
    presenter.get_by_role("button", name=name, exact=True).first.click()


def test_a_session_runs_from_the_example_deck(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    presenter = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter")
    sign_up_first_admin(presenter, live_server)
    screenshot(presenter, "presenter-dashboard")
    institute = presenter.locator(".card").filter(has_text="Transforming Schools Through Distributed Leadership")
    institute.get_by_role("button", name="Start a live session").click()  # not the closing quiz beside it
    expect(presenter).to_have_url(re.compile(r"/present/\d+$"))
    code = presenter.locator("header .code").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{6}", code)

    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(live_server.url + str(presenter.locator("#projector-link").get_attribute("href")))
    expect(projector.locator(".lobby .code")).to_have_text(f"{code[:3]} {code[3:]}")
    expect(projector.locator(".join-banner svg")).to_be_visible()
    screenshot(projector, "projector-lobby")

    phones = [page_errors.watch(browser.new_context(**PHONE).new_page(), f"phone {i}") for i in range(3)]
    join_by_typing(phones[0], live_server, code)
    join_by_typing(phones[1], live_server, code)
    phones[2].goto(f"{live_server.url}/{code}")  # the QR code's link
    expect(phones[2].get_by_role("heading", name="You're in!")).to_be_visible()
    screenshot(phones[0], "phone-waiting")
    expect(presenter.locator("#counts")).to_contain_text("3 joined")

    # Activity 1: three words for "leadership practice"; the phones follow without a reload.
    presenter_click(presenter, "Next ▶")
    for phone, words in zip(phones, WORDS, strict=True):
        expect(phone.get_by_role("heading", name="Understanding leadership practice")).to_be_visible()
        boxes = phone.locator("input[name=word]")
        for index, word in enumerate(words):
            boxes.nth(index).fill(word)
        phone.get_by_role("button", name="Send").click()
        expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
        expect(phone.get_by_role("button", name="Update my answer")).to_be_visible()  # from the reply
    screenshot(phones[0], "phone-wordcloud")
    top = projector.locator(".top-words li").first
    expect(top).to_contain_text("trust")
    expect(top.locator(".word-count")).to_have_text("3")  # three people, however they wrote it
    expect(projector.locator("img.cloud-image")).to_have_attribute("src", re.compile(r"/cloud\.png\?v="))
    screenshot(projector, "projector-wordcloud")
    screenshot(presenter, "presenter-wordcloud")

    # The presenter hides a word: it leaves the projector, and what a phone is typing stays put.
    phones[2].locator("input[name=word]").nth(2).fill("half-typed")
    presenter.locator(".top-words li", has_text="courage").get_by_role("button", name="Hide").click()
    expect(projector.locator(".top-words")).not_to_contain_text("courage")
    expect(presenter.locator(".hidden-words summary")).to_contain_text("1 hidden word")
    expect(phones[2].locator("input[name=word]").nth(2)).to_have_value("half-typed")

    # Activity 2: a poll; bars move on the projector; a refreshed phone keeps its answer.
    presenter_click(presenter, "Next ▶")
    choices = ["Putting out fires", "Putting out fires", "Engaging in improvement"]
    for phone, choice in zip(phones, choices, strict=True):
        expect(phone.get_by_role("heading", name="How do school leaders spend their time?")).to_be_visible()
        phone.get_by_text(choice).click()
        phone.get_by_role("button", name="Send").click()
        expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    expect(projector.locator(".respondents")).to_have_text("3 people answered")
    expect(projector.locator(".bars li", has_text="Putting out fires").locator(".value")).to_contain_text("67%")
    screenshot(projector, "projector-poll")
    screenshot(phones[2], "phone-poll")

    phones[2].reload()
    expect(phones[2].get_by_label("Engaging in improvement")).to_be_checked()
    expect(phones[2].get_by_role("status").filter(has_text="Received")).to_be_visible()

    # The participant changes their mind while voting is open; the count stays three people.
    phones[2].get_by_text("Maintaining the organization").click()
    phones[2].get_by_role("button", name="Update my answer").click()
    maintaining = projector.locator(".bars li", has_text="Maintaining the organization")
    expect(maintaining.locator(".value")).to_contain_text("33%")
    expect(projector.locator(".respondents")).to_have_text("3 people answered")

    # Closing voting is shown plainly on the phones, and answers are refused.
    presenter_click(presenter, "Close voting")
    expect(phones[0].get_by_role("status")).to_contain_text("Voting is closed")
    expect(phones[0].get_by_role("button", name="Update my answer")).to_have_count(0)
    screenshot(phones[0], "phone-closed")

    # An activity whose results stay hidden until the presenter reveals them.
    presenter.get_by_role("button", name=re.compile(r"^7\. Managing the risks")).click()
    phones[0].get_by_text("Navigating power differentials").click()
    phones[0].get_by_role("button", name="Send").click()
    expect(projector.locator(".waiting-count")).to_contain_text("1 answer so far")
    expect(projector.locator(".bars")).to_have_count(0)
    presenter_click(presenter, "Reveal results")
    expect(projector.locator(".bars li", has_text="Navigating power differentials")).to_contain_text("100%")
    screenshot(presenter, "presenter-poll")

    # Ending the session thanks everyone.
    presenter.once("dialog", lambda dialog: dialog.accept())
    presenter_click(presenter, "End session")
    for phone in phones:
        expect(phone.get_by_role("heading", name="This session has ended")).to_be_visible()
    assert page_errors.errors == []
