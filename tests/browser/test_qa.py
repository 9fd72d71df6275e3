"""Q&A as people run it: phones open it beside a poll, ask and upvote; the presenter moderates; the projector shows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from activities.qa import question_key
from tests.browser.factories import LAPTOP, PHONE, LiveDeck, PageErrors, live_deck, screenshot, sign_in
from tests.factories import LiveServer
from tests.hostile import PAYLOADS

pytestmark = pytest.mark.browser
POLL = "How is the day going?"
QA = "Questions for the panel"
DECK = f"""\
title: Panel day
activities:
  - kind: poll
    title: {POLL}
    options: [Well, So-so]
  - kind: qa
    title: {QA}
    prompt: Ask the panel; upvote what you want answered first.
    moderated: true
"""
SCRIPT = PAYLOADS["script_tag"]
PHONE_WIDTH = 360
START = "How do we start?"
BUDGET = "Who decides the budget?"
SLIDES = "Will the slides be shared afterwards?"


@pytest.fixture(scope="module")
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_yaml": DECK}) as running:
        yield running


def new_page(browser: Browser, device: Mapping[str, object], **options: Any) -> Page:
    """A page in a fresh context (its own cookies: one participant) for a device of conftest."""
    settings: dict[str, Any] = {**device, **options}
    return browser.new_context(**settings).new_page()


def ask(phone: Page, text: str, name: str = "") -> None:
    phone.get_by_label("Your question").fill(text)
    phone.get_by_label("Your name (optional)").fill(name)
    phone.get_by_role("button", name="Ask", exact=True).click()


def status(phone: Page) -> Locator:
    """The status line of the answer form (the page has a reactions status line too)."""
    return phone.locator("form.answer").get_by_role("status")


def received(phone: Page) -> None:
    expect(status(phone)).to_have_text("✓ Sent.")


def test_qa_beside_a_poll_asked_moderated_upvoted_and_answered(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    dialogs: list[str] = []
    live.goto(0)
    projector = page_errors.watch(new_page(browser, LAPTOP), "projector")
    projector.goto(str(live.session["projector_url"]))
    presenter = page_errors.watch(new_page(browser, LAPTOP), "presenter")
    sign_in(presenter, live_server, int(live.session["id"]))
    phones = [page_errors.watch(new_page(browser, PHONE), f"phone {i}") for i in range(2)]
    for page in [projector, presenter, *phones]:
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))

    # While the presenter shows the poll, every phone has a way to the Q&A beside it.
    qa_id = live.session["activities"][1]["id"]
    for phone in phones:
        phone.goto(f"{live_server.url}/{live.code}")
        expect(phone.get_by_role("heading", name=POLL)).to_be_visible()
        link = phone.locator("nav.ambient-links").get_by_role("link", name=QA)
        expect(link).to_have_attribute("href", f"/{live.code}?at={qa_id}")
        link.click()
        expect(phone.get_by_role("heading", name=QA, exact=True)).to_be_visible()
        expect(phone.get_by_text("Questions appear here once the presenter approves them.")).to_be_visible()

    # Refusals say what to do; then one signed question, one anonymous, one that looks like a script.
    phones[0].get_by_role("button", name="Ask", exact=True).click()
    expect(status(phones[0])).to_have_text("Write a question before sending.")
    ask(phones[0], f"  How do we   {START[10:]}\n", name="Ana")
    received(phones[0])
    phones[0].get_by_role("button", name="Ask", exact=True).click()  # the text is still in the box
    expect(status(phones[0])).to_have_text("You have asked this already.")
    ask(phones[0], BUDGET)
    received(phones[0])
    ask(phones[1], SCRIPT)
    received(phones[1])
    mine = phones[0].locator(".qa-own li")
    expect(mine).to_have_count(2)
    expect(mine.locator(".answer-text")).to_have_text([START, BUDGET])  # tidied
    expect(mine.locator(".hint")).to_have_text(["As Ana · Waiting for approval", "Anonymous · Waiting for approval"])
    expect(phones[1].locator(".qa-own li .answer-text")).to_have_text(SCRIPT)  # as text, never run
    expect(phones[1].locator(".qa-list")).to_have_count(0)  # nothing approved: nobody else's question is shown
    expect(projector.get_by_role("heading", name=POLL)).to_be_visible()  # the projector still shows the poll

    # The presenter shows the Q&A (its view shows the current activity's questions) and approves two.
    live.goto(1)
    expect(projector.locator(".empty")).to_have_text("No questions shown yet.")
    cards = presenter.locator(".qa-card")
    expect(cards).to_have_count(3)
    expect(cards.filter(has_text=START)).to_contain_text("Ana")
    expect(cards.filter(has_text=START)).to_contain_text("1 vote (1 asked, 0 upvoted) · Waiting for approval")
    for text in (START, SCRIPT):
        cards.filter(has_text=text).get_by_role("button", name="Approve").click()
        expect(cards.filter(has_text=text)).to_contain_text("Shown")

    # The other phone sees the approved questions appear (pushed, no reload) and upvotes one.
    shared = phones[1].locator(".qa-list li")
    expect(shared).to_have_count(2)
    expect(shared.filter(has_text=SCRIPT)).to_have_count(1)  # as text; no dialog opens
    expect(phones[1].locator(".qa-list li.mine")).to_contain_text(SCRIPT)
    upvote = phones[1].get_by_role("button", name=f"Upvote: {START}")
    expect(upvote).to_have_attribute("aria-pressed", "false")
    upvote.click()
    received(phones[1])
    expect(upvote).to_have_attribute("aria-pressed", "true")
    expect(upvote).to_contain_text("▲ 2")  # the asker and one upvoter

    # The asker's phone is pushed the list with the new count, and marks its own question on it.
    theirs = phones[0].get_by_role("button", name=f"Upvote: {START}")
    expect(theirs).to_contain_text("▲ 2")
    expect(theirs).to_have_attribute("aria-pressed", "false")
    expect(phones[0].locator(".qa-list li.mine")).to_contain_text(START)
    expect(phones[0].locator(".qa-list li")).to_have_count(2)

    # Upvoting one's own question is refused; a second tap takes an upvote back, a third gives it again.
    phones[0].get_by_role("button", name=f"Upvote: {START}").click()
    expect(status(phones[0])).to_have_text("You cannot upvote your own question.")
    upvote.click()
    expect(upvote).to_contain_text("▲ 1")
    expect(upvote).to_have_attribute("aria-pressed", "false")
    upvote.click()
    expect(upvote).to_contain_text("▲ 2")
    expect(upvote).to_have_attribute("aria-pressed", "true")  # the phone's marks survive each push

    # The projector shows the approved questions by votes; the pending one stays off it.
    projected = projector.locator(".qa-cards li")
    expect(projected).to_have_count(2)
    expect(projected.first).to_contain_text(START)
    expect(projected.first).to_contain_text("▲ 2 · Ana")
    expect(projected.nth(1)).to_contain_text(SCRIPT)
    expect(projector.get_by_text(BUDGET)).to_have_count(0)
    expect(projector.locator(".respondents")).to_have_text("3 questions from 2 people")

    # Answered questions leave the projector's list; the highlighted one is shown large on top.
    cards.filter(has_text=SCRIPT).get_by_role("button", name="Answered").click()
    expect(projected).to_have_count(1)
    expect(projector.locator(".respondents")).to_have_text("3 questions from 2 people · 1 answered")
    cards.filter(has_text=START).get_by_role("button", name="Highlight").click()
    now = projector.locator(".qa-now")
    expect(now.locator(".kind-badge")).to_have_text("Answering now")
    expect(now.locator(".answer-text").first).to_have_text(START)
    expect(projected).to_have_count(0)
    expect(cards.filter(has_text=START)).to_contain_text("Answering now")

    # Two more approved, one upvoted: the projector lists them by votes under the one being answered.
    ask(phones[1], SLIDES, name="Ben")
    received(phones[1])
    for text in (BUDGET, SLIDES):
        cards.filter(has_text=text).get_by_role("button", name="Approve").click()
        expect(cards.filter(has_text=text)).to_contain_text("Shown")
    phones[1].get_by_role("button", name=f"Upvote: {BUDGET}").click()
    received(phones[1])
    expect(projected).to_have_count(2)
    expect(projected.first).to_contain_text(BUDGET)
    expect(projected.first).to_contain_text("▲ 2 · Anonymous")
    expect(projected.nth(1)).to_contain_text("▲ 1 · Ben")
    expect(projector.locator(".respondents")).to_have_text("4 questions from 2 people · 1 answered")
    expect(shared).to_have_count(4)
    expect(shared.first).to_contain_text("Being answered now")
    expect(shared.nth(3)).to_contain_text(SCRIPT)
    expect(shared.nth(3)).to_contain_text("Answered")  # answered ones go last
    screenshot(projector, "qa-projector")
    screenshot(phones[1], "qa-phone")
    screenshot(presenter, "qa-presenter")

    # The presenter goes back to the poll; the phone that opened the Q&A from its link stays on it, and finds
    # its way back to what the presenter shows.
    live.goto(0)
    expect(phones[0].get_by_role("heading", name=QA, exact=True)).to_be_visible()
    phones[0].get_by_role("link", name=f"← Back to “{POLL}”").click()
    expect(phones[0].get_by_role("heading", name=POLL)).to_be_visible()
    expect(phones[0].locator("nav.ambient-links").get_by_role("link", name=QA)).to_be_visible()

    assert dialogs == []
    assert page_errors.errors == []


def test_qa_an_approved_question_reaches_the_other_phones_without_a_reload(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    live.goto(1)
    presenter = page_errors.watch(new_page(browser, LAPTOP), "presenter")
    sign_in(presenter, live_server, int(live.session["id"]))
    phones = [page_errors.watch(new_page(browser, PHONE), f"phone {i}") for i in range(2)]
    for phone in phones:
        phone.goto(f"{live_server.url}/{live.code}")
        expect(phone.get_by_role("heading", name=QA, exact=True)).to_be_visible()
    ask(phones[0], "Is lunch provided?")
    received(phones[0])
    card = presenter.locator(".qa-card", has_text="Is lunch provided?")
    card.get_by_role("button", name="Approve").click()
    expect(card).to_contain_text("Shown")
    expect(phones[1].locator(".qa-list li", has_text="Is lunch provided?")).to_have_count(1)
    card.get_by_role("button", name="Answered").click()
    expect(phones[1].locator(".qa-list li", has_text="Is lunch provided?")).to_contain_text("Answered")
    assert page_errors.errors == []


def test_qa_asks_upvotes_and_withdraws_without_javascript(
    browser: Browser, live_server: LiveServer, live: LiveDeck
) -> None:
    qa_id = live.session["activities"][1]["id"]
    phone = new_page(browser, PHONE, java_script_enabled=False)
    phone.goto(f"{live_server.url}/{live.code}?at={qa_id}")
    expect(phone.get_by_role("heading", name=QA, exact=True)).to_be_visible()

    ask(phone, "Can we ask after the session?", name="Cy")
    received(phone)
    expect(phone.locator(".qa-own li .hint")).to_have_text("As Cy · Waiting for approval")
    expect(phone.get_by_label("Your name (optional)")).to_have_value("Cy")  # signed as last time

    upvote = phone.get_by_role("button", name=f"Upvote: {BUDGET}")
    expect(upvote).to_have_attribute("aria-pressed", "false")
    upvote.click()
    received(phone)
    expect(upvote).to_have_attribute("aria-pressed", "true")  # marked by the server on the page it sends back

    phone.get_by_role("button", name="Withdraw: Can we ask after the session?").click()
    received(phone)
    expect(phone.locator(".qa-own")).to_be_hidden()
    expect(upvote).to_have_attribute("aria-pressed", "true")


def test_qa_long_words_and_names_wrap_on_a_phone(browser: Browser, live_server: LiveServer, live: LiveDeck) -> None:
    qa_id = live.session["activities"][1]["id"]
    phone = new_page(browser, PHONE)
    phone.goto(f"{live_server.url}/{live.code}?at={qa_id}")
    word, name = "Supercalifragilistic" * 9, "N" * 40
    ask(phone, f"Why {word}?", name=name)
    received(phone)
    fields = {"verb": "approve", "question": question_key(f"Why {word}?")}
    approved = live.api.post(
        f"/api/v1/sessions/{live.session['id']}/control",
        json={"action": "moderate", "activity_id": qa_id, "fields": fields},
    )
    assert approved.status_code == 200, approved.text
    phone.reload()
    expect(phone.locator(".qa-list li", has_text=name)).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    screenshot(phone, "qa-phone-long")


OPEN_DECK = f"""\
title: Open floor
activities:
  - kind: poll
    title: {POLL}
    options: [Well, So-so]
  - kind: qa
    title: {QA}
    moderated: false
"""


@pytest.mark.parametrize("beside", [False, True], ids=["shown", "beside-a-poll"])
def test_qa_phones_see_others_questions_and_votes_arrive_without_a_reload(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors, beside: bool
) -> None:
    with live_deck(live_server, {"deck_yaml": OPEN_DECK}) as open_floor:
        qa_id = open_floor.session["activities"][1]["id"]
        open_floor.goto(0 if beside else 1)
        a, b = (page_errors.watch(new_page(browser, PHONE), f"phone {name}") for name in "AB")
        for phone in (a, b):
            phone.goto(f"{live_server.url}/{open_floor.code}" + (f"?at={qa_id}" if beside else ""))
            expect(phone.get_by_role("heading", name=QA, exact=True)).to_be_visible()
            expect(phone.get_by_text("No questions yet: be the first to ask.")).to_be_visible()

        ask(a, "Where are the slides?")
        received(a)
        upvote = b.get_by_role("button", name="Upvote: Where are the slides?")
        expect(upvote).to_contain_text("▲ 1")  # pushed to B: no reload
        expect(upvote).to_have_attribute("aria-pressed", "false")
        upvote.click()
        received(b)
        expect(upvote).to_have_attribute("aria-pressed", "true")
        theirs = a.get_by_role("button", name="Upvote: Where are the slides?")
        expect(theirs).to_contain_text("▲ 2")  # pushed to A: no reload
        expect(a.locator(".qa-list li.mine")).to_have_count(1)
        expect(b.locator(".qa-list li.mine")).to_have_count(0)

        ask(b, "Is there a break?")
        received(b)
        expect(a.locator(".qa-list li")).to_have_count(2)
        expect(upvote).to_have_attribute("aria-pressed", "true")  # B's own mark survives the push
        expect(a.get_by_role("button", name="Upvote: Is there a break?")).to_have_attribute("aria-pressed", "false")
        assert page_errors.errors == []
