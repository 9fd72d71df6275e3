"""A quiz question in a browser: phones answer with the keyboard, the room sees a count until the reveal, then the
distribution with the right option marked; each phone sees right or wrong, its points and its rank."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import Audit
from tests.browser.factories import PageErrors, screenshot
from tests.factories import PASSWORD, LiveServer, cli

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
DECK = """\
title: A quick check of the standards
activities:
  - kind: quiz
    title: Which PSEL standard is about equity?
    options:
      - Mission, vision and core values
      - Ethics and professional norms
      - Equity and cultural responsiveness
      - Curriculum, instruction and assessment
    correct: [3]
    time_limit: 30
"""


def start(live_server: LiveServer) -> tuple[dict[str, Any], httpx.Client]:
    password_file = live_server.data_dir / "password"
    password_file.write_text(PASSWORD)
    cli(live_server, "user", "add", "quiz@example.org", "--password-file", str(password_file))
    token = cli(live_server, "token", "create", "quiz@example.org")
    api = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"})
    session = api.post("/api/v1/sessions", json={"deck_yaml": DECK}).json()
    return session, api


def control(api: httpx.Client, session: dict[str, Any], action: str) -> None:
    activity = session["activities"][0]["id"]
    response = api.post(f"/api/v1/sessions/{session['id']}/control", json={"action": action, "activity_id": activity})
    assert response.status_code == 200, response.text


def fits(page: Page) -> bool:
    """Whether the page shows everything without scrolling."""
    return bool(page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 1"))


def test_a_quiz_question_is_answered_by_keyboard_revealed_and_scored(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    session, api = start(live_server)
    control(api, session, "goto")
    projector = page_errors.watch(browser.new_context(**PROJECTOR).new_page(), "projector")
    projector.goto(str(session["projector_url"]))
    expect(projector.get_by_role("heading", name="Which PSEL standard is about equity?")).to_be_visible()

    phones = [page_errors.watch(browser.new_context(**PHONE).new_page(), f"phone {n}") for n in range(2)]
    for phone in phones:
        phone.goto(f"{live_server.url}/{session['code']}")
        expect(phone.get_by_text("30 seconds: the faster a right answer, the more points.")).to_be_visible()
    right, wrong = phones
    audit = Audit()  # axe-core, until the example deck (which test_accessibility walks) has a quiz
    audit.check(right, "participant quiz")
    audit.check(projector, "projector quiz, before the reveal")
    # With the keyboard only: tab to the options, arrow to the one wanted, Enter sends.
    right.get_by_label("Equity and cultural responsiveness").focus()
    right.keyboard.press("Space")
    right.keyboard.press("Enter")
    expect(right.get_by_role("status").filter(has_text="Received")).to_be_visible()
    wrong.get_by_label("Ethics and professional norms").check()
    wrong.get_by_role("button", name="Send").click()
    expect(wrong.get_by_role("status").filter(has_text="Received")).to_be_visible()

    # Until the reveal the room sees how many answered, not what.
    expect(projector.locator(".quiz-count")).to_have_text("2 answers")
    expect(projector.locator(".bars")).to_have_count(0)
    assert fits(projector)

    control(api, session, "reveal")
    marked = projector.locator(".bars li.correct")
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("Equity and cultural responsiveness")
    expect(marked.locator(".value")).to_contain_text("50%")
    expect(projector.locator(".respondents")).to_contain_text("1 right")
    # Beside it, the standings: the deck's only question is revealed, so they are final, on the podium: the fast
    # right answer first, the wrong one second with no points.
    board = projector.get_by_role("region", name="Final standings")
    expect(board.locator("li")).to_have_count(2)
    earned = right.locator(".quiz-verdict strong")
    expect(earned).to_have_text(re.compile(r"^\+\d+ points$"))
    points = int(earned.inner_text().removeprefix("+").removesuffix(" points"))
    assert 500 <= points <= 1000  # right within the limit: 1000 falling to 500 (activities/scoring.py)
    # Anonymous phones are shown by their generated names (an adjective and an animal: server/names.py).
    expect(board.locator("li").first).to_have_text(
        re.compile(rf"^\s*1\s+[A-Z][a-z]+ [A-Z][a-z]+\s+{points} points\s*$")
    )
    expect(board.locator("li").nth(1)).to_have_text(re.compile(r"^\s*2\s+[A-Z][a-z]+ [A-Z][a-z]+\s+0 points\s*$"))
    assert fits(projector)
    projector.set_viewport_size({"width": 1024, "height": 768})
    assert fits(projector)
    projector.set_viewport_size(PROJECTOR["viewport"])
    screenshot(projector, "quiz-projector", full_page=False)
    audit.check(projector, "projector quiz, revealed with the leaderboard")

    expect(right.locator(".quiz-verdict")).to_contain_text("Right!")
    expect(right.locator(".quiz-rank")).to_contain_text(f"Final rank 1 of 2 · {points} points in all")
    expect(wrong.locator(".quiz-verdict")).to_contain_text("Not this time. +0 points")
    expect(wrong.locator(".quiz-rank")).to_contain_text("Final rank 2 of 2")
    expect(wrong.locator(".choice", has=wrong.locator(".quiz-mark"))).to_have_text(
        re.compile(r"Equity and cultural responsiveness ✓ \(right answer\)")
    )
    expect(right.get_by_label("Equity and cultural responsiveness")).to_be_disabled()  # voting closed
    screenshot(right, "quiz-phone")
    audit.check(right, "participant quiz, revealed")
    audit.check(wrong, "participant quiz, revealed, wrong")
    audit.assert_clean()
    api.close()
