"""An open question as people run it: phones write answers, the projector shows cards, the presenter moderates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LAPTOP, PHONE, PageErrors, screenshot
from tests.conftest import PASSWORD, LiveServer, cli

pytestmark = pytest.mark.browser
EMAIL = "open@example.org"
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
SCRIPT = "<script>alert(1)</script>"


@dataclass
class LiveOpen:
    api: httpx.Client
    session: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.session["code"])

    def goto(self, position: int) -> None:
        activity = self.session["activities"][position]
        response = self.api.post(
            f"/api/v1/sessions/{self.session['id']}/control", json={"action": "goto", "activity_id": activity["id"]}
        )
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def live(live_server: LiveServer) -> Iterator[LiveOpen]:
    password_file = live_server.data_dir / "password"
    password_file.write_text(PASSWORD)
    cli(live_server, "user", "add", EMAIL, "--password-file", str(password_file))
    token = cli(live_server, "token", "create", EMAIL)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        response = api.post("/api/v1/sessions", json={"deck_yaml": DECK})
        assert response.status_code == 201, response.text
        yield LiveOpen(api, response.json())


def sign_in(page: Page, server: LiveServer, session_id: int) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{server.url}/present/{session_id}")


def answer(phone: Page, text: str) -> None:
    phone.get_by_label("Your answer").fill(text)
    phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()


def test_open_answers_become_cards_the_presenter_moderates(
    browser: Browser, live_server: LiveServer, live: LiveOpen, page_errors: PageErrors
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
