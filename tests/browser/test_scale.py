"""A rating scale in a real browser: a phone rates statements by tapping numbers, the projector draws them."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LAPTOP, PHONE, PageErrors, screenshot
from tests.factories import PASSWORD, LiveServer, cli

pytestmark = pytest.mark.browser
DECK = """\
title: Skills of inquiry
activities:
  - kind: scale
    title: Where are you now?
    prompt: Rate each skill as you practise it today.
    statements:
      - Listening in stereo
      - Maintaining inquiry, deferring advocacy
      - Being curious in the face of criticism
    labels: [Not yet, Routinely]
  - kind: scale
    title: How likely are you to try it this week?
    statements: [Trying one inquiry question in a meeting]
    min: 0
    max: 10
    labels: [Not at all likely, Certain]
    allow_skip: false
"""


def start_session(server: LiveServer) -> tuple[httpx.Client, dict[str, Any]]:
    password_file = server.data_dir / "password"
    password_file.write_text(PASSWORD)
    cli(server, "user", "add", "presenter@example.org", "--password-file", str(password_file))
    token = cli(server, "token", "create", "presenter@example.org")
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})
    response = api.post("/api/v1/sessions", json={"deck_yaml": DECK})
    assert response.status_code == 201, response.text
    session = response.json()
    goto(api, session, 0)
    return api, session


def goto(api: httpx.Client, session: dict[str, Any], position: int) -> None:
    control = {"action": "goto", "activity_id": session["activities"][position]["id"]}
    moved = api.post(f"/api/v1/sessions/{session['id']}/control", json=control)
    assert moved.status_code == 200, moved.text


def rate(phone: Page, statement: str, choice: str) -> None:
    phone.get_by_role("group", name=statement).get_by_text(choice, exact=True).click()


def test_a_participant_rates_statements_and_the_projector_shows_each_distribution(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    api, session = start_session(live_server)
    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(str(session["projector_url"]))
    expect(projector.get_by_role("heading", name="Where are you now?")).to_be_visible()

    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{session['code']}")
    expect(phone.get_by_role("heading", name="Where are you now?")).to_be_visible()

    # Sending before rating anything is refused with a message saying what to do.
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status")).to_have_text("Rate at least one statement before sending.")

    rate(phone, "Listening in stereo", "4")
    rate(phone, "Maintaining inquiry, deferring advocacy", "2")
    rate(phone, "Being curious in the face of criticism", "Skip")
    expect(phone.get_by_role("group", name="Listening in stereo").get_by_label("4", exact=True)).to_be_checked()
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    screenshot(phone, "scale-phone")

    results = projector.locator(".results.scale .statement")
    expect(results.nth(0).locator(".mean")).to_contain_text("Mean 4.00")
    expect(results.nth(1).locator(".mean")).to_contain_text("Mean 2.00")
    expect(results.nth(2).locator(".mean")).to_contain_text("No ratings yet")
    expect(results.nth(2).locator(".mean")).to_contain_text("1 skipped")
    expect(projector.locator(".results.scale svg").first.get_by_text("Not yet")).to_be_visible()
    expect(projector.locator(".respondents")).to_have_text("1 person answered")

    # The phone changes its mind; the projector follows, still counting one person.
    rate(phone, "Listening in stereo", "5")
    phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()
    expect(results.nth(0).locator(".mean")).to_contain_text("Mean 5.00")
    expect(projector.locator(".respondents")).to_have_text("1 person answered")
    screenshot(projector, "scale-projector")

    # Eleven points, no skipping: the phone cannot send until it rates; the projector spreads the chart wide.
    goto(api, session, 1)
    api.close()
    statement = "Trying one inquiry question in a meeting"
    expect(phone.get_by_role("heading", name="How likely are you to try it this week?")).to_be_visible()
    expect(phone.get_by_role("group", name=statement).get_by_text("Skip")).to_have_count(0)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status")).not_to_contain_text("Received")
    rate(phone, statement, "10")
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    screenshot(phone, "scale-phone-eleven")
    expect(projector.locator(".results.scale .mean")).to_contain_text("Mean 10.00")
    screenshot(projector, "scale-projector-eleven")
    assert page_errors.errors == []
