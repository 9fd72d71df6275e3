"""A ranking in a real browser: phones put items in order with selects, the projector shows the average ranks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LAPTOP, PHONE, PageErrors, screenshot
from tests.factories import PASSWORD, LiveServer, cli

pytestmark = pytest.mark.browser

DECK = """
title: Theory of change
activities:
  - kind: ranking
    title: Essential elements
    prompt: Which elements of a theory of change matter most to your project?
    items:
      - Long-term outcome
      - Preconditions
      - Assumptions
      - Interventions
      - Indicators
      - Rationale
  - kind: ranking
    title: Which risk to manage first?
    partial: true
    top: 2
    items: [Funding, Staff turnover, Data loss, Reputation]
"""


@pytest.fixture(scope="module")
def session(live_server: LiveServer) -> Iterator[tuple[httpx.Client, dict[str, Any]]]:
    password_file = live_server.data_dir / "password"
    password_file.write_text(PASSWORD)
    cli(live_server, "user", "add", "presenter@example.org", "--password-file", str(password_file))
    token = cli(live_server, "token", "create", "presenter@example.org")
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        response = api.post("/api/v1/sessions", json={"deck_yaml": DECK})
        assert response.status_code == 201, response.text
        yield api, response.json()


def goto(api: httpx.Client, session: dict[str, Any], position: int) -> None:
    activity = session["activities"][position]
    response = api.post(
        f"/api/v1/sessions/{session['id']}/control", json={"action": "goto", "activity_id": activity["id"]}
    )
    assert response.status_code == 200, response.text


def rank(phone: Page, order: list[str]) -> None:
    """Give the items ranks 1, 2, 3… in this order, one select at a time, as a thumb would."""
    for place, item in enumerate(order, start=1):
        phone.get_by_label(item).select_option(str(place))


def send(phone: Page) -> None:
    phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()


def test_phones_rank_the_items_and_the_projector_orders_them_by_average_rank(
    browser: Browser, live_server: LiveServer, session: tuple[httpx.Client, dict[str, Any]], page_errors: PageErrors
) -> None:
    api, data = session
    goto(api, data, 0)
    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(data["projector_url"])
    expect(projector.get_by_role("heading", name="Essential elements")).to_be_visible()

    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{data['code']}")
    expect(phone.get_by_role("heading", name="Essential elements")).to_be_visible()
    rank(phone, ["Assumptions", "Long-term outcome", "Preconditions", "Interventions", "Rationale"])
    phone.get_by_label("Indicators").select_option("2")  # a slip of the thumb: 2 twice, 6 unused
    send(phone)
    expect(phone.get_by_role("status")).to_have_text("Rank 2 is used twice.")
    phone.get_by_label("Indicators").select_option("6")
    send(phone)
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()

    # A second phone without JavaScript posts the plain form.
    plain = browser.new_context(java_script_enabled=False, **PHONE).new_page()
    plain.goto(f"{live_server.url}/{data['code']}")
    rank(plain, ["Assumptions", "Preconditions", "Long-term outcome", "Indicators", "Interventions", "Rationale"])
    send(plain)
    expect(plain.get_by_role("status").filter(has_text="Received")).to_be_visible()
    expect(plain.get_by_label("Assumptions")).to_have_value("1")

    bars = projector.locator(".ranking .bar")
    expect(projector.locator(".respondents")).to_have_text("2 people ranked")
    expect(bars.first).to_contain_text("1. Assumptions")
    expect(bars.first).to_contain_text("1.00 avg rank · 2 first")
    expect(bars.nth(1)).to_contain_text("2. Long-term outcome")
    expect(bars.nth(1)).to_contain_text("2.50")
    expect(bars.first.locator("rect")).to_have_attribute("width", "100")
    expect(bars.last).to_contain_text("Rationale")
    screenshot(projector, "ranking-projector")
    screenshot(phone, "ranking-phone")
    assert page_errors.errors == []


def test_a_partial_ranking_takes_only_the_top_choices(
    browser: Browser, live_server: LiveServer, session: tuple[httpx.Client, dict[str, Any]], page_errors: PageErrors
) -> None:
    api, data = session
    goto(api, data, 1)
    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(data["projector_url"])
    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{data['code']}")
    expect(phone.get_by_role("heading", name="Which risk to manage first?")).to_be_visible()
    expect(phone.get_by_text("Rank your top 2")).to_be_visible()
    phone.get_by_label("Data loss").select_option("2")
    send(phone)
    expect(phone.get_by_role("status")).to_contain_text("Rank 1 is missing")
    phone.get_by_label("Staff turnover").select_option("1")
    send(phone)
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    bars = projector.locator(".ranking .bar")
    expect(bars.first).to_contain_text("1. Staff turnover")
    expect(bars.nth(1)).to_contain_text("2. Data loss")
    expect(bars.nth(2)).to_contain_text("3.50 avg rank · 0 first · ranked by 0")
    screenshot(projector, "ranking-projector-partial")
    screenshot(phone, "ranking-phone-partial")
    assert page_errors.errors == []
