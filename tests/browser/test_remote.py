"""The presenter's remote on a phone: the presenter finds it on the presenter view (a link and its QR code), signs in
on the phone, and runs the example deck from the phone alone (next, voting, countdown, reveal, notes) while a
participant's phone answers and the projector follows; then the end, live, on the remote and the presenter view,
with the archive, the report, the results and "start again". The remote also reflows at 360 px with 200% text,
passes axe and works from the keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import Audit
from tests.browser.factories import LAPTOP, PHONE, PRESENTER, LiveDeck, PageErrors, live_deck, screenshot, sign_in
from tests.browser.test_keyboard import focus
from tests.browser.test_text_size import LOST, large_text_phone
from tests.factories import PASSWORD, LiveServer

pytestmark = pytest.mark.browser
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "decks" / "distributed-leadership.yaml"
REMOTE_PHONE = {**PHONE, "viewport": {"width": 390, "height": 844}}
SMALL_PHONE = {**PHONE, "viewport": {"width": 360, "height": 640}}
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
FIRST_NOTES = "Ask for three words each, then read a few aloud."
RISK_NOTES = "Reveal only once two tables have said why."
COUNTDOWN = 30


def noted_example() -> str:
    """The example deck with the presenter's notes on two activities and a countdown on the first poll."""
    deck: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    activities = deck["activities"]
    activities[0]["notes"] = FIRST_NOTES
    activities[1]["countdown"] = COUNTDOWN
    activities[6]["notes"] = RISK_NOTES
    assert activities[6]["results"] == "hidden"
    return str(yaml.safe_dump(deck, allow_unicode=True, sort_keys=False))


@pytest.fixture(scope="module")
def running(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_source": noted_example()}) as deck:
        yield deck


def sign_in_on_the_phone(phone: Page, remote_url: str) -> None:
    """What the QR code leads to: the remote's address, which asks a phone that is not signed in to sign in."""
    phone.goto(remote_url)
    expect(phone).to_have_url(re.compile(r"/login\?next="))
    phone.get_by_label("Email").fill(PRESENTER)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    expect(phone).to_have_url(remote_url)


def tap(remote: Page, name: str) -> None:
    remote.get_by_role("button", name=name, exact=True).click()


def heading(page: Page, title: str) -> None:
    expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible()


def test_a_presenter_runs_the_example_deck_from_the_remote(
    browser: Browser, live_server: LiveServer, running: LiveDeck, page_errors: PageErrors
) -> None:
    audit = Audit()
    activities = running.session["activities"]
    titles = [str(activity["title"]) for activity in activities]

    # The presenter view, on the laptop, shows where the remote is: a link and its QR code.
    laptop = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter view")
    sign_in(laptop, live_server, int(running.session["id"]))
    laptop.get_by_text("Remote on your phone").click()
    expect(laptop.locator(".remote-qr svg")).to_be_visible()
    remote_url = str(laptop.locator("#remote-url").get_attribute("href"))
    assert remote_url == f"{live_server.url}/present/{running.session['id']}/remote"
    screenshot(laptop, "presenter-remote-link", full_page=False)

    remote = page_errors.watch(browser.new_context(**REMOTE_PHONE).new_page(), "remote")
    sign_in_on_the_phone(remote, remote_url)
    heading(remote, "Waiting screen")
    expect(remote.get_by_text(f"Up next: {titles[0]}")).to_be_visible()
    audit.check(remote, "remote, lobby")

    projector = page_errors.watch(browser.new_context(**PROJECTOR).new_page(), "projector")
    projector.goto(str(running.session["projector_url"]))
    expect(projector.locator(".lobby .code")).to_be_visible()
    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "participant")
    phone.goto(f"{live_server.url}/{running.code}")
    heading(phone, "You're in!")
    expect(remote.locator("#counts")).to_contain_text("1 joined")  # pushed as the phone joins

    # Next: the word cloud, with its notes on the remote; the phone and the projector follow.
    tap(remote, "Next ▶")
    heading(remote, titles[0])
    expect(remote.locator(".remote-notes")).to_contain_text(FIRST_NOTES)
    expect(remote.get_by_text(f"Word cloud · 1 of {len(activities)}")).to_be_visible()
    heading(phone, titles[0])
    expect(projector.locator(".projector-title")).to_have_text(titles[0])
    for index, word in enumerate(("trust", "listening", "vision")):
        phone.locator("input[name=word]").nth(index).fill(word)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    expect(remote.locator("#counts")).to_contain_text("1 answered")  # live, without a reload
    expect(projector.locator(".top-words")).to_contain_text("trust")

    # Close voting, then open it again: the phone is told both ways.
    tap(remote, "Close voting")
    expect(phone.get_by_role("status").first).to_contain_text("Voting is closed")
    expect(remote.locator(".remote-state")).to_contain_text("Voting is closed.")
    tap(remote, "Open voting")
    expect(phone.get_by_role("button", name="Update my answer")).to_be_visible()
    expect(remote.locator(".remote-state")).to_contain_text("Voting is open.")

    # The poll's countdown, started from the remote, runs on all three screens.
    tap(remote, "Next ▶")
    heading(remote, titles[1])
    expect(remote.get_by_text("No notes for this activity.")).to_be_visible()
    expect(remote.locator("#counts")).to_contain_text("0 answered")
    tap(remote, f"Start {COUNTDOWN} s countdown")
    for page in (remote, phone, projector):
        expect(page.locator(".countdown")).to_contain_text("Voting closes in")
    audit.check(remote, "remote, a countdown running")
    phone.get_by_text("Putting out fires").click()
    phone.get_by_role("button", name="Send").click()
    expect(remote.locator("#counts")).to_contain_text("1 answered")

    # On through the deck to the poll whose results stay hidden; once from the keyboard alone.
    for position in range(2, 7):
        if position == 3:
            focus(remote, remote.get_by_role("button", name="Next ▶", exact=True))
            remote.keyboard.press("Enter")
        else:
            tap(remote, "Next ▶")
        heading(remote, titles[position])
        heading(phone, titles[position])
    expect(remote.locator(".remote-notes")).to_contain_text(RISK_NOTES)
    phone.get_by_text("Navigating power differentials").click()
    phone.get_by_role("button", name="Send").click()
    expect(projector.locator(".waiting-count")).to_contain_text("1 answer so far")
    expect(remote.locator(".remote-state")).to_contain_text("Results are hidden from the room.")
    screenshot(remote, "presenter-remote", full_page=False)
    audit.check(remote, "remote, hidden results")
    tap(remote, "Reveal results")
    expect(projector.locator(".bars li", has_text="Navigating power differentials")).to_contain_text("100%")
    expect(remote.locator(".remote-state")).to_contain_text("Results are showing on the projector.")
    tap(remote, "Hide results")
    expect(projector.locator(".bars")).to_have_count(0)
    tap(remote, "Reveal results")
    expect(projector.locator(".bars li", has_text="Navigating power differentials")).to_contain_text("100%")

    # The end, from the presenter view: the remote and the presenter view change to the ended state live.
    laptop.once("dialog", lambda dialog: dialog.accept())
    laptop.get_by_role("button", name="End session").click()
    heading(phone, "This session has ended")
    for page in (remote, laptop):
        heading(page, "This session has ended.")
        for gone in ("Next ▶", "◀ Previous", "End session", "Open voting", "Close voting"):
            expect(page.get_by_role("button", name=gone, exact=True)).to_have_count(0)
        expect(page.get_by_role("link", name="Download the archive (ZIP)")).to_be_visible()
        expect(page.get_by_role("link", name="Open the report")).to_be_visible()
        expect(page.get_by_role("button", name="Start again: a new session of this deck")).to_be_visible()
    expect(
        laptop.locator(f"#ended-{activities[6]['id']} .bars li", has_text="Navigating power differentials")
    ).to_contain_text("100%")
    expect(laptop.locator(f"#ended-{activities[0]['id']} .top-words")).to_contain_text("trust")
    screenshot(laptop, "presenter-ended")

    # The remote folds each activity's results under its title.
    screenshot(remote, "presenter-remote-ended", full_page=False)
    risks = remote.locator(f"#ended-{activities[6]['id']}")
    expect(risks.locator("summary")).to_contain_text("1 answered")
    expect(risks.locator(".bars")).to_be_hidden()
    risks.locator("summary").click()
    expect(risks.locator(".bars li", has_text="Navigating power differentials")).to_contain_text("100%")
    screenshot(remote, "presenter-remote-ended-results", full_page=False)
    audit.check(remote, "remote, ended")
    audit.check(laptop, "presenter view, ended")

    with remote.context.expect_page() as opened:
        remote.get_by_role("link", name="Open the report").click()
    report = opened.value
    expect(report.get_by_role("heading", level=1)).to_contain_text(str(running.session["title"]))
    expect(report.get_by_role("heading", name="Managing the risks · Poll")).to_be_visible()
    expect(report.locator("body")).to_contain_text("Navigating power differentials")

    tap(remote, "Start again: a new session of this deck")
    remote.wait_for_url(lambda url: url != remote_url and re.search(r"/present/\d+/remote$", url) is not None)
    heading(remote, "Waiting screen")
    new_code = remote.locator(".remote-bar .code").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{6}", new_code) and new_code != running.code
    audit.assert_clean()
    assert page_errors.errors == []


def test_the_remote_reflows_on_a_small_phone_and_at_200_percent_text(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    with live_deck(live_server, {"deck_source": noted_example()}) as deck:
        remote_url = f"{live_server.url}/present/{deck.session['id']}/remote"
        small = page_errors.watch(browser.new_context(**SMALL_PHONE).new_page(), "remote at 360 px")
        sign_in_on_the_phone(small, remote_url)
        large = page_errors.watch(large_text_phone(browser, 2), "remote at 200% text")
        sign_in_on_the_phone(large, remote_url)
        assert large.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "32px"
        lost: list[str] = []
        for position, state in ((0, "notes"), (6, "hidden results")):
            deck.goto(position)
            for name, page in (("360 px", small), ("200% text", large)):
                heading(page, str(deck.session["activities"][position]["title"]))
                lost += [f"{name}, {state}: {found}" for found in page.evaluate(LOST)]
                next_button = page.get_by_role("button", name="Next ▶", exact=True)
                next_button.scroll_into_view_if_needed()
                expect(next_button).to_be_in_viewport()
                page.reload()  # LOST leaves empty style attributes, which the next push's swap would copy (CSP)
        screenshot(large, "presenter-remote-200-percent", full_page=False)
        deck.control("end", deck.session["activities"][6])
        for name, page in (("360 px", small), ("200% text", large)):
            heading(page, "This session has ended.")
            page.locator(f"#ended-{deck.session['activities'][6]['id']} summary").click()
            lost += [f"{name}, ended: {found}" for found in page.evaluate(LOST)]
        assert lost == [], "content lost on the remote:\n" + "\n".join(lost)
    assert page_errors.errors == []
