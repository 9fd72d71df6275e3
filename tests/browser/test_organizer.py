"""An organizer after two workshops: sets up the institute and its cohorts, compares them side by side, browses the
resource library, and takes the comparison and a cohort's archive home."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LAPTOP, PHONE, PageErrors, organizer_api, screenshot, sign_in_organizer
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
ORGANIZER = "organizer@example.org"
INSTITUTE = "2017 Spring Institute"
WORDS = "Understanding leadership practice"
POLL = "How do school leaders spend their time?"
DECK = f"""\
title: Distributed leadership, day one
activities:
  - kind: wordcloud
    title: {WORDS}
    prompt: Enter three words that capture the meaning of "leadership practice".
  - kind: poll
    title: {POLL}
    options: [Putting out fires, Maintaining the organization, Engaging in improvement]
  - kind: resources
    title: Call for resources
    moderated: false
"""
CHANGE = "https://example.org/leading-change"
# Per cohort (name, site, first and last day): each phone's three words, poll choice and suggestion (None: it upvotes
# the others' suggestions instead).
COHORTS: list[tuple[str, str, str, str, list[tuple[tuple[str, ...], str, tuple[str, str, str] | None]]]] = [
    (
        "Phoenix, April",
        "Phoenix, AZ",
        "2017-04-24",
        "2017-04-25",
        [
            (("Trust", "listening", "shared vision"), "Putting out fires", ("video", "Leading change", CHANGE)),
            (("trust", "equity"), "Engaging in improvement", ("reading", "Dare to Lead", "")),
        ],
    ),
    (
        "Oakland, April",
        "Oakland, CA",
        "2017-04-27",
        "2017-04-28",
        [
            (("Trust", "courage"), "Putting out fires", ("video", "Leading change (talk)", CHANGE)),
            (("voice", "listening"), "Putting out fires", None),
        ],
    ),
]


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with organizer_api(live_server, ORGANIZER) as client:
        yield client


def sign_in(page: Page, server: LiveServer) -> None:
    sign_in_organizer(page, server, ORGANIZER)


def add_cohort(page: Page, name: str, site: str, first: str, last: str) -> int:
    """Fill the institute page's New cohort form; returns the new cohort's id (its page opens)."""
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Site", exact=True).fill(site)
    page.get_by_label("First day").fill(first)
    page.get_by_label("Last day").fill(last)
    page.get_by_role("button", name="Add the cohort").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    match = re.search(r"/organize/cohorts/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def goto(api: httpx.Client, session: dict[str, Any], position: int) -> None:
    activity = session["activities"][position]["id"]
    response = api.post(f"/api/v1/sessions/{session['id']}/control", json={"action": "goto", "activity_id": activity})
    assert response.status_code == 200, response.text


def send(phone: Page) -> None:
    phone.get_by_role("button", name="Send").click()
    expect(phone.locator("form.answer").get_by_role("status")).to_contain_text("Received")


def run_workshop(
    browser: Browser,
    server: LiveServer,
    api: httpx.Client,
    session: dict[str, Any],
    people: list[Any],
    errors: PageErrors,
) -> None:
    """The phones of one cohort's session answer the word cloud, the poll and the call for resources."""
    phones = [errors.watch(browser.new_context(**PHONE).new_page(), f"phone {n}") for n in range(len(people))]
    for phone in phones:
        phone.goto(f"{server.url}/{session['code']}")
        expect(phone.get_by_role("heading", name="You're in!")).to_be_visible()
    goto(api, session, 0)
    for phone, (words, _, _) in zip(phones, people, strict=True):
        expect(phone.get_by_role("heading", name=WORDS)).to_be_visible()
        for index, word in enumerate(words):
            phone.locator("input[name=word]").nth(index).fill(word)
        send(phone)
    goto(api, session, 1)
    for phone, (_, choice, _) in zip(phones, people, strict=True):
        expect(phone.get_by_role("heading", name=POLL)).to_be_visible()
        phone.get_by_text(choice).click()
        send(phone)
    goto(api, session, 2)
    for phone, (_, _, suggestion) in zip(phones, people, strict=True):
        expect(phone.get_by_role("heading", name="Call for resources")).to_be_visible()
        if suggestion is not None:
            kind, title, link = suggestion
            phone.get_by_label("Type").select_option(kind)
            phone.get_by_label("Title").fill(title)
            phone.get_by_label("Link (optional)").fill(link)
            send(phone)
        else:  # someone with nothing to suggest upvotes what the others shared (listed once the page reloads)
            phone.reload()
            boxes = phone.get_by_role("checkbox")
            expect(boxes).not_to_have_count(0)
            for index in range(boxes.count()):
                boxes.nth(index).check()
            send(phone)
    for phone in phones:
        phone.context.close()


def downloaded(page: Page, link_name: str) -> Path:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    return Path(info.value.path())


def column(page: Page, name: str) -> Any:
    return page.locator("section.compare-column").filter(has=page.get_by_role("heading", name=name, exact=True))


def test_an_organizer_compares_two_cohorts_and_downloads_their_results(
    browser: Browser, live_server: LiveServer, api: httpx.Client, page_errors: PageErrors
) -> None:
    dialogs: list[str] = []
    page = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "organizer")
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    sign_in(page, live_server)

    # The institute and its two cohorts, set up on the organizer's pages.
    page.get_by_label("Title").fill(INSTITUTE)
    page.get_by_role("button", name="Create the institute").click()
    expect(page.get_by_role("heading", name=INSTITUTE)).to_be_visible()
    institute_url = page.url
    cohort_ids = []
    for name, site, first, last, _ in COHORTS:
        cohort_ids.append(add_cohort(page, name, site, first, last))
        page.goto(institute_url)

    # Each cohort runs the deck with its own phones.
    for cohort_id, (_, _, _, _, people) in zip(cohort_ids, COHORTS, strict=True):
        started = api.post("/api/v1/sessions", json={"deck_yaml": DECK, "cohort_id": cohort_id})
        assert started.status_code == 201, started.text
        run_workshop(browser, live_server, api, started.json(), people, page_errors)

    # The word cloud, side by side: each cohort's picture and all cohorts' together.
    page.reload()
    expect(page.locator("table.cohorts tbody tr")).to_have_count(2)
    screenshot(page, "organizer-institute")
    page.get_by_role("link", name="Compare cohorts").click()
    expect(page.get_by_role("heading", name="Compare cohorts")).to_be_visible()
    page.get_by_role("link", name=WORDS).click()
    expect(page.get_by_role("heading", name=WORDS)).to_be_visible()
    headings = page.locator("section.compare-column h2")
    expect(headings).to_have_text(["Phoenix, April", "Oakland, April", "All cohorts"])
    clouds = page.locator("img.cloud-image")
    expect(clouds).to_have_count(3)
    for index in range(3):
        expect(clouds.nth(index)).to_have_attribute(
            "src", re.compile(r"/compare/[0-9a-f]{16}/(c\d+|all)/cloud\.png\?v=")
        )
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.cloud-image')].every(img => img.complete && img.naturalWidth > 0)"
    )
    everyone = column(page, "All cohorts")
    expect(everyone.locator(".top-words li").first).to_contain_text("trust")
    expect(everyone.locator(".top-words li").first.locator(".word-count")).to_have_text("3")
    expect(everyone.locator(".compare-meta")).to_contain_text("2 sessions · 4 respondents")
    expect(column(page, "Phoenix, April").locator(".compare-meta")).to_contain_text(
        "Phoenix, AZ · 1 session · 2 respondents"
    )
    screenshot(page, "organizer-compare")

    # The poll: each cohort's counts, and all four people together; then the comparison as CSV.
    page.get_by_role("link", name="Other activities").click()
    page.get_by_role("link", name=POLL).click()
    fires = "Putting out fires"
    expect(column(page, "Phoenix, April").locator(".bar", has_text=fires).locator(".value")).to_have_text("50% (1)")
    expect(column(page, "Oakland, April").locator(".bar", has_text=fires).locator(".value")).to_have_text("100% (2)")
    expect(everyone.locator(".bar", has_text=fires).locator(".value")).to_have_text("75% (3)")
    rows = list(csv.DictReader(io.StringIO(downloaded(page, "Download as CSV").read_text(encoding="utf-8"))))
    counts = {(row["cohort"], row["label"]): (row["count"], row["respondents"]) for row in rows}
    assert counts[("Phoenix, April", fires)] == ("1", "2")
    assert counts[("Oakland, April", fires)] == ("2", "2")
    assert counts[("All cohorts", fires)] == ("3", "4")
    assert counts[("All cohorts", "Engaging in improvement")] == ("1", "4")
    assert {row["site"] for row in rows if row["cohort"] == "Oakland, April"} == {"Oakland, CA"}

    # The resource library: the same link suggested in both cohorts is one resource.
    page.goto(institute_url)
    page.get_by_role("link", name="Resource library").click()
    expect(page.get_by_role("heading", name="Resource library")).to_be_visible()
    resources = page.locator("table.library tbody tr")
    expect(resources).to_have_count(2)
    change = resources.first
    expect(change.get_by_role("link", name="Leading change")).to_have_attribute("href", CHANGE)
    expect(change.locator("td").nth(2)).to_have_text("1 suggested · 0 upvoted")  # Phoenix
    expect(change.locator("td").nth(3)).to_have_text("1 suggested · 1 upvoted")  # Oakland
    expect(change.locator("td").last).to_have_text("3")
    screenshot(page, "organizer-library")
    page.get_by_label("Type").select_option("reading")
    page.get_by_role("button", name="Show").click()
    expect(resources).to_have_count(1)
    expect(resources.first).to_contain_text("Dare to Lead")
    markdown = downloaded(page, "Download as Markdown").read_text(encoding="utf-8")
    assert "Dare to Lead" in markdown and "Leading change" not in markdown

    # A cohort's archive, from its page: its one session, every answer given in it.
    page.goto(f"{live_server.url}/organize/cohorts/{cohort_ids[0]}")
    expect(page.get_by_role("heading", name="Phoenix, April")).to_be_visible()
    screenshot(page, "organizer-cohort")
    archive = zipfile.ZipFile(downloaded(page, "Download the cohort's archive (ZIP)"))
    assert {"manifest.json", "data.json"} <= set(archive.namelist())
    data = json.loads(archive.read("data.json"))
    assert (data["scope"], [cohort["name"] for cohort in data["cohorts"]]) == ("cohort", ["Phoenix, April"])
    assert len(data["sessions"]) == 1 and len(data["sessions"][0]["responses"]) == 6
    assert dialogs == [] and page_errors.errors == []
