"""An organizer sets a cohort's time zone on its form and reads the cohort's session times in the site's local time,
the zone named; a made-up zone typed into a forged form is refused with a message and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LAPTOP, PageErrors, organizer_api, screenshot, sign_in_organizer
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
ORGANIZER = "zones@example.org"
DECK = """\
title: Day one
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Improvement]
"""


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with organizer_api(live_server, ORGANIZER) as client:
        yield client


def sign_in(page: Page, server: LiveServer) -> None:
    sign_in_organizer(page, server, ORGANIZER)


def started_cell(page: Page) -> str:
    return str(page.locator("table.sessions tbody tr td").nth(3).inner_text())


def local_now(zone: str, started: str) -> datetime:
    """The moment a "2026-12-07 07:12 MST" cell shows, read back in its zone."""
    return datetime.strptime(started[:16], "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))


def test_an_organizer_sets_the_cohorts_time_zone_and_reads_local_times(
    browser: Browser, live_server: LiveServer, api: httpx.Client, page_errors: PageErrors
) -> None:
    page = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "organizer")
    sign_in(page, live_server)
    page.get_by_label("Title").fill("2017 Summer Institute")
    page.get_by_role("button", name="Create the institute").click()
    page.get_by_label("Name", exact=True).fill("Los Alamitos, June")
    page.get_by_label("Site", exact=True).fill("Los Alamitos, CA")
    zone = page.get_by_label("Time zone of the site")
    expect(zone).to_have_value("UTC")  # the server's default, until the organizer picks the site's
    zone.select_option("America/Phoenix")
    page.get_by_role("button", name="Add the cohort").click()
    expect(page.get_by_role("heading", name="Los Alamitos, June")).to_be_visible()
    expect(page.get_by_text("Times are shown in America/Phoenix")).to_be_visible()
    match = re.search(r"/organize/cohorts/(\d+)$", page.url)
    assert match, page.url
    cohort_id = int(match.group(1))

    started = api.post("/api/v1/sessions", json={"deck_yaml": DECK, "cohort_id": cohort_id})
    assert started.status_code == 201, started.text
    before = datetime.now(UTC)
    page.reload()
    phoenix = started_cell(page)
    assert phoenix.endswith(" MST"), phoenix  # Arizona: Mountain Standard Time all year
    assert abs((local_now("America/Phoenix", phoenix) - before).total_seconds()) < 3600

    # The site is in California after all: the organizer changes the zone, and the same session reads differently.
    page.get_by_text("Edit this cohort").click()
    page.get_by_label("Time zone of the site").select_option("America/Los_Angeles")
    screenshot(page, "organizer-cohort-form-time-zone")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Times are shown in America/Los_Angeles")).to_be_visible()
    california = started_cell(page)
    assert california.endswith((" PST", " PDT")), california
    assert local_now("America/Los_Angeles", california) == local_now("America/Phoenix", phoenix)  # one moment
    screenshot(page, "organizer-cohort-time-zone")
    assert page_errors.errors == []
