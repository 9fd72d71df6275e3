"""Spreading points on a phone: type a number per item, be told plainly when the sum is off, see the bars move."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.factories import LAPTOP, PHONE, PageErrors, screenshot
from tests.factories import PASSWORD, LiveServer, cli

pytestmark = pytest.mark.browser

DECK = """\
title: Where the time goes
activities:
  - kind: points
    title: How do school leaders spend their time?
    prompt: Spread 100 points to show where a typical week goes.
    items: [Putting out fires, Maintaining the organization, Engaging in improvement]
"""


def start_session(live_server: LiveServer) -> dict[str, object]:
    password_file = live_server.data_dir / "password"
    password_file.write_text(PASSWORD)
    cli(live_server, "user", "add", "points@example.org", "--password-file", str(password_file))
    token = cli(live_server, "token", "create", "points@example.org")
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        response = api.post("/api/v1/sessions", json={"deck_yaml": DECK})
        assert response.status_code == 201, response.text
        session = response.json()
        activity = session["activities"][0]
        response = api.post(
            f"/api/v1/sessions/{session['id']}/control", json={"action": "goto", "activity_id": activity["id"]}
        )
        assert response.status_code == 200, response.text
    return dict(session)


def test_a_participant_spreads_points_and_the_projector_shows_mean_shares(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    session = start_session(live_server)
    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(str(session["projector_url"]))
    expect(projector.get_by_role("heading", name="How do school leaders spend their time?")).to_be_visible()

    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{session['code']}")
    expect(phone.get_by_role("heading", name="How do school leaders spend their time?")).to_be_visible()
    expect(phone.get_by_text("Spread exactly 100 points")).to_be_visible()

    # Ninety points: the server says by how much the sum is off, and nothing is counted.
    phone.get_by_label("Putting out fires").fill("60")
    phone.get_by_label("Maintaining the organization").fill("30")
    # The running total says so while typing; the server still checks.
    expect(phone.locator(".sum")).to_have_text(re.compile(r"^\s*90 of 100 points given · 10 left\s*$"))
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status")).to_have_text("Your points add up to 90; add 10 more to make 100.")
    expect(projector.locator(".respondents")).to_have_text("0 people spread 100 points each")

    phone.get_by_label("Engaging in improvement").fill("10")
    expect(phone.locator(".sum")).to_have_text(re.compile(r"^\s*100 of 100 points given · all given\s*$"))
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    expect(phone.get_by_label("Putting out fires")).to_have_value("60")

    expect(projector.locator(".respondents")).to_have_text("1 person spread 100 points each")
    fires = projector.locator(".bars li", has_text="Putting out fires")
    expect(fires.locator(".value")).to_contain_text("60.0")
    expect(fires.locator("rect")).to_have_attribute("width", "60.0")
    expect(projector.locator(".bars li", has_text="Engaging in improvement").locator(".value")).to_contain_text("10.0")
    screenshot(projector, "points-projector")
    screenshot(phone, "points-phone")

    # Changing one's mind to 110 points is refused with how many to take away; the counted answer stays.
    phone.get_by_label("Engaging in improvement").fill("20")
    expect(phone.locator(".sum")).to_have_text(re.compile(r"^\s*110 of 100 points given · 10 too many\s*$"))
    phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()
    expect(phone.get_by_role("status")).to_have_text("Your points add up to 110; take 10 away to make 100.")
    screenshot(phone, "points-phone-refused")
    expect(fires.locator(".value")).to_contain_text("60.0")
    assert page_errors.errors == []
