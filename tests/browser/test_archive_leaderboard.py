"""An archive's leaderboard as an organizer reads it: they import a quiz session's archive (nicknames, teams, the
streak bonus), open its report, and find the top ten and the teams' standings at the end of the session."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.factories import PageErrors, organizer_api, screenshot, sign_in_organizer
from tests.factories import LiveServer

pytestmark = pytest.mark.browser

LAPTOP = {"viewport": {"width": 1440, "height": 900}}
ORGANIZER = "archivist@example.org"
QUESTIONS = [
    ("Which PSEL standard is about equity?", ["Mission and vision", "Ethics", "Equity", "Curriculum"], [3]),
    ("Which two are PSEL standards?", ["Professional community", "Fundraising", "School improvement"], [1, 3]),
    ("Who is accountable for the school's improvement plan?", ["The principal", "Everyone", "The district"], [2]),
]
TEAMS = ["Mesa", "Tempe", "Yuma"]
# Twelve people: nickname (or none), team, and for each question their option numbers (1-based) and seconds.
PEOPLE: list[tuple[str, str, list[tuple[list[int], float]]]] = [
    ("Ana", "Mesa", [([3], 2.1), ([1, 3], 4.0), ([2], 3.3)]),
    ("Luis", "Tempe", [([3], 1.4), ([1, 3], 6.5), ([1], 2.0)]),
    ("", "Yuma", [([3], 5.0), ([1, 3], 3.2), ([2], 9.1)]),
    ("Dee", "Mesa", [([2], 1.0), ([1, 3], 2.2), ([2], 1.9)]),
    ("Marisol", "Tempe", [([3], 7.7), ([1], 5.0), ([2], 4.4)]),
    ("", "Yuma", [([3], 12.0), ([1, 3], 14.0), ([2], 11.0)]),
    ("Kwame", "Mesa", [([1], 3.0), ([3], 3.0), ([2], 6.0)]),
    ("Priya", "Tempe", [([3], 3.9), ([1, 3], 9.8), ([3], 3.0)]),
    ("", "", [([3], 18.0), ([2], 4.0), ([2], 15.5)]),
    ("Jo", "Yuma", [([4], 2.5), ([1, 3], 19.0), ([1], 8.0)]),
    ("Sam", "Mesa", [([3], 9.0), ([2, 3], 6.0), ([2], 19.5)]),
    ("", "Tempe", [([1], 4.0), ([2], 8.0), ([3], 2.0)]),
]


def quiz_archive() -> bytes:
    """A session archive of a quiz that was played to the end: what another server's download would hold."""
    activities = [
        {
            "position": n,
            "kind": "quiz",
            "title": title,
            "prompt": "",
            "config": {"options": options, "correct": correct, "time_limit": 20},
            "results": "live",
            "voting_open": False,
            "revealed": True,
            "moderation": {},
            "epoch": 0,
            "countdown_seconds": None,
            "respondents": len(PEOPLE),
            "tally": {},
        }
        for n, (title, options, correct) in enumerate(QUESTIONS, start=1)
    ]
    responses = [
        {
            "activity": question,
            "participant": number,
            "epoch": 0,
            "version": 1_492_000_000_000_000 + 100 * question + number,
            "answered_at": f"2017-04-24T16:{10 + question:02d}:{number:02d}+00:00",
            "payload": {"choices": sorted(n - 1 for n in picked), "answer": "", "elapsed": seconds},
        }
        for number, (_, _, answers) in enumerate(PEOPLE, start=1)
        for question, (picked, seconds) in enumerate(answers, start=1)
    ]
    session = {
        "key": 1,
        "cohort": None,
        "code": "317204",
        "title": "Phoenix, day 2: the standards quiz",
        "state": "ended",
        "pace": "presenter",
        "created_at": "2017-04-24T16:00:00+00:00",
        "ended_at": "2017-04-24T17:00:00+00:00",
        "nicknames": True,
        "teams": TEAMS,
        "streak": True,
        "activities": activities,
        "participants": [
            {"number": n, "joined_at": f"2017-04-24T16:01:{n:02d}+00:00", "nickname": nick, "team": team}
            for n, (nick, team, _) in enumerate(PEOPLE, start=1)
        ],
        "responses": responses,
    }
    data = json.dumps({"format": "handsup-archive", "version": 2, "scope": "session", "sessions": [session]}).encode()
    manifest = {
        "format": "handsup-archive",
        "version": 2,
        "scope": "session",
        "files": [{"path": "data.json", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("data.json", data)
    return out.getvalue()


def test_an_organizer_reads_an_imported_quizs_leaderboard_in_its_report(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors, tmp_path: Path
) -> None:
    archive = tmp_path / "handsup-phoenix-day-2.zip"
    archive.write_bytes(quiz_archive())
    with organizer_api(live_server, ORGANIZER):  # the organizer's account, made on the box with the command line
        pass
    page = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "organizer")
    sign_in_organizer(page, live_server, ORGANIZER)
    page.goto(f"{live_server.url}/organize/import")
    page.get_by_label("Archive").set_input_files(str(archive))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_have_text(
        "Imported session “Phoenix, day 2: the standards quiz”: 12 participants, 36 responses."
    )
    href = page.get_by_role("link", name="Download its archive (ZIP)").get_attribute("href")
    assert href is not None
    page.goto(live_server.url + href.removesuffix("archive.zip"))  # the session's own page
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open the report").click()
    report = opened.value
    board = report.locator("article.leaderboard")
    expect(board.get_by_role("heading", name="Leaderboard")).to_be_visible()
    expect(board).to_contain_text("The top 10 of 12 ranked")
    rows = board.locator("table").first.locator("tbody tr")
    expect(rows).to_have_count(10)
    first = rows.nth(0).locator("td")
    expect(first.nth(0)).to_have_text("1")
    expect(first.nth(1)).to_have_text("Ana")  # right three times in a row, fast, and +300 streak bonus
    expect(board.get_by_role("heading", name="Teams")).to_be_visible()
    teams = board.locator("table").nth(1).locator("tbody tr")
    expect(teams).to_have_count(3)
    expect(teams.nth(0)).to_contain_text("Yuma")  # three members, mean 1,922
    report.evaluate("document.querySelector('article.leaderboard h3').scrollIntoView()")
    screenshot(report, "report-leaderboard", full_page=False)
    assert page_errors.errors == []
