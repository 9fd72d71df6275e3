"""A card sort as a room runs it: phones place every card, the projector shows each split, the presenter reorders."""

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
EMAIL = "facilitator@example.org"
DECK = """\
title: Influence and authority
activities:
  - kind: sort
    title: Influence or authority?
    prompt: Where does each leadership practice belong?
    cards:
      - Listening in stereo
      - Setting the budget
      - Using influence rather than authority
      - Building trust across teams
"""


@pytest.fixture(scope="module")
def session(live_server: LiveServer) -> Iterator[dict[str, Any]]:
    """A live session of the one-activity deck above, on its card sort."""
    password_file = live_server.data_dir / "password"
    password_file.write_text(PASSWORD)
    cli(live_server, "user", "add", EMAIL, "--password-file", str(password_file))
    token = cli(live_server, "token", "create", EMAIL)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        response = api.post("/api/v1/sessions", json={"deck_yaml": DECK})
        assert response.status_code == 201, response.text
        started = response.json()
        sort = started["activities"][0]
        control = {"action": "goto", "activity_id": sort["id"]}
        assert api.post(f"/api/v1/sessions/{started['id']}/control", json=control).status_code == 200
        yield dict(started)


def place(phone: Page, card: str, bin: str) -> None:
    phone.get_by_role("group", name=card).get_by_text(bin, exact=True).click()


def send(phone: Page) -> None:
    phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()


def test_phones_sort_every_card_and_the_projector_shows_each_split(
    browser: Browser, live_server: LiveServer, session: dict[str, Any], page_errors: PageErrors
) -> None:
    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(session["projector_url"])
    expect(projector.get_by_role("heading", name="Influence or authority?")).to_be_visible()

    first = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone 1")
    first.goto(f"{live_server.url}/{session['code']}")
    expect(first.get_by_role("heading", name="Influence or authority?")).to_be_visible()

    # Two cards placed, two left: the phone says so and nothing is counted.
    place(first, "Listening in stereo", "Influence")
    place(first, "Setting the budget", "Authority")
    send(first)
    expect(first.get_by_role("status")).to_have_text(
        "Place every card before sending: 2 are left, starting with “Using influence rather than authority”."
    )
    expect(projector.locator(".respondents")).to_have_text("0 people answered")

    place(first, "Using influence rather than authority", "Influence")
    place(first, "Building trust across teams", "Unsure")
    send(first)
    expect(first.get_by_role("status").filter(has_text="Received")).to_be_visible()

    second = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone 2")
    second.goto(f"{live_server.url}/{session['code']}")
    for card, bin in [
        ("Listening in stereo", "Authority"),
        ("Setting the budget", "Authority"),
        ("Using influence rather than authority", "Influence"),
        ("Building trust across teams", "Influence"),
    ]:
        place(second, card, bin)
    send(second)
    expect(second.get_by_role("status").filter(has_text="Received")).to_be_visible()

    expect(projector.locator(".respondents")).to_have_text("2 people answered")
    budget = projector.locator(".bars li", has_text="Setting the budget")
    expect(budget.locator(".value")).to_have_text("100% Authority")
    listening = projector.locator(".bars li", has_text="Listening in stereo")
    expect(listening.locator(".value")).to_have_text("Even split")
    expect(listening).to_contain_text("Influence 50% (1) · Authority 50% (1)")
    trust = projector.locator(".bars li", has_text="Building trust")
    expect(trust).to_contain_text("Influence 100% (1) · Authority 0% (0) · 1 unsure")
    expect(projector.locator(".legend")).to_contain_text("Influence")
    expect(projector.locator(".bars li").first).to_contain_text("Listening in stereo")  # deck order at first

    # A refreshed phone keeps its placements, Unsure included.
    first.reload()
    expect(first.get_by_role("group", name="Building trust across teams").get_by_label("Unsure")).to_be_checked()
    expect(first.get_by_role("group", name="Setting the budget").get_by_label("Authority")).to_be_checked()
    screenshot(first, "sort-phone")

    # The presenter orders the cards from most contested to most agreed: the projector follows.
    presenter = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter")
    presenter.goto(live_server.url + "/login")
    presenter.get_by_label("Email").fill(EMAIL)
    presenter.get_by_label("Password").fill(PASSWORD)
    presenter.get_by_role("button", name="Sign in").click()
    presenter.goto(f"{live_server.url}/present/{session['id']}")
    presenter.get_by_role("button", name="Most contested first").click()
    expect(projector.locator(".bars li").first).to_contain_text("Listening in stereo")
    expect(projector.locator(".bars li").last).to_contain_text("Building trust across teams")
    expect(projector.locator(".legend")).to_contain_text("Most contested first")
    presenter.get_by_role("button", name="Most agreed first").click()
    expect(projector.locator(".bars li").first).to_contain_text("Setting the budget")
    expect(presenter.locator(".bars li").first).to_contain_text("Setting the budget")
    screenshot(presenter, "sort-presenter")
    screenshot(projector, "sort-projector")
    assert page_errors.errors == []
