"""A whole quiz as a room plays it: the shipped closing quiz, twenty phones in two teams with nicknames and the streak
bonus, five timed questions answered by tapping and typing, each revealed. Every phone's final rank and points, its
team's place, and the projector's podium and team standings are checked against standings computed here, from the
answers the archive holds and the rules docs/kinds.md states (not from the server's code)."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import PageErrors, live_deck, screenshot
from tests.factories import LiveServer

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
PHONES = 20
TEAMS = ("Phoenix", "Oakland")
SEVERAL = (
    "Unpack how distributed leadership teams build capacity",
    "Develop a site-based plan",
    "Join a network linking leadership and equity",
)


def plan(n: int) -> list[tuple[str, bool]]:
    """What phone `n` does on each of the five questions (how, and whether it is right), varied so ranks spread."""
    return [
        ("Professional Standards for Educational Leaders" if n % 4 != 3 else "Common Core State Standards", n % 4 != 3),
        ("several" if n % 3 != 0 else "several and one wrong", n % 3 != 0),
        ("distributed leadrship" if n % 5 != 0 else "no idea", n % 5 != 0),  # a typo is forgiven (5+ letters)
        ("4" if n % 2 == 0 else "5", n % 2 == 0),
        ("Teachers" if n < 15 else "Employers", n < 15),
    ]


def answer(phone: Page, question: int, how: str) -> None:
    """Answer as a person does: tap the options or type, then Send, and wait until the phone says it was received."""
    if question in (0, 4):
        phone.get_by_label(how).check()
    elif question == 1:
        for option in SEVERAL:
            phone.get_by_label(option).check()
        if how.endswith("wrong"):
            phone.get_by_label("Write new state standards").check()
    else:
        phone.get_by_role("textbox", name="Your answer").fill(how)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()


def expected_standings(data: dict[str, Any], rights: dict[str, list[bool]]) -> dict[str, Any]:
    """The standings by the stated rules: a right answer after t <= limit seconds scores round(1000 * (1 - t / (2 *
    limit))); the n-th scoring answer in a row earns min(100 * (n - 1), 500) more; equal totals share a rank; a team
    scores the mean of its members' totals, rounded half up."""
    [session] = data["sessions"]
    nickname = {p["number"]: p["nickname"] for p in session["participants"]}
    team = {p["number"]: p["team"] for p in session["participants"]}
    questions = [a for a in session["activities"] if a["kind"] in ("quiz", "number")]
    assert [q["position"] for q in questions] == [2, 3, 4, 5, 6] and all(q["revealed"] for q in questions)
    elapsed = {(r["activity"], r["participant"]): r["payload"]["elapsed"] for r in session["responses"]}
    totals: Counter[str] = Counter()
    runs: Counter[str] = Counter()
    for index, question in enumerate(questions):
        limit = question["config"]["time_limit"]
        for number, name in nickname.items():
            t = elapsed.get((question["position"], number))
            scored = t is not None and rights[name][index] and t <= limit
            totals[name] += round(1000 * (1 - t / (2 * limit))) if scored and t is not None else 0
            runs[name] = runs[name] + 1 if scored else 0
            totals[name] += min(100 * (runs[name] - 1), 500) if runs[name] > 1 else 0
    number_of = {name: number for number, name in nickname.items()}
    order = sorted(totals, key=lambda name: (-totals[name], number_of[name]))
    ranks = {name: 1 + sum(totals[other] > totals[name] for other in totals) for name in totals}
    members = {one: [totals[n] for n in totals if team[number_of[n]] == one] for one in TEAMS}
    means = {one: (2 * sum(points) + len(points)) // (2 * len(points)) for one, points in members.items()}
    team_ranks = {one: 1 + sum(means[other] > means[one] for other in TEAMS) for one in TEAMS}
    return {"totals": totals, "ranks": ranks, "order": order, "means": means, "team_ranks": team_ranks, "team": team,
            "number_of": number_of}  # fmt: skip


def test_twenty_phones_in_two_teams_play_the_closing_quiz_to_the_podium(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    start = {"deck_slug": "closing-quiz", "nicknames": True, "teams": list(TEAMS), "streak": True}
    with live_deck(live_server, start) as deck:
        assert deck.session["nicknames"] and deck.session["streak"] and deck.session["teams"] == list(TEAMS)
        phones: list[Page] = []
        names: list[str] = []
        for n in range(PHONES):
            phone = page_errors.watch(browser.new_context(**PHONE).new_page(), f"phone {n}")  # its own cookie
            phone.goto(f"{live_server.url}/{deck.code}")
            name = f"Player {n + 1:02d}"
            phone.get_by_label("Your nickname").fill(name)
            phone.get_by_role("radio", name=TEAMS[n % 2]).check()
            phone.get_by_role("button", name="Let's go").click()
            expect(phone.locator("#me")).to_contain_text(f"{name} · Team {TEAMS[n % 2]}")
            phones.append(phone)
            names.append(name)
        projector = page_errors.watch(browser.new_context(**PROJECTOR).new_page(), "projector")
        projector.goto(str(deck.session["projector_url"]))

        plans = {name: plan(n) for n, name in enumerate(names)}
        questions = [a for a in deck.session["activities"] if a["kind"] in ("quiz", "number")]
        for index, question in enumerate(questions):
            deck.control("goto", question)
            for phone, name in zip(phones, names, strict=True):
                expect(phone.get_by_role("heading", name=question["title"])).to_be_visible()
                answer(phone, index, plans[name][index][0])
            deck.control("reveal", question)
            if index == 0:  # after the first reveal: the leaderboard, not yet the podium
                expect(projector.get_by_role("region", name="Leaderboard")).to_be_visible()
                expect(phones[0].locator(".quiz-rank").first).to_contain_text("Rank ")

        archive = deck.api.get(f"/api/v1/sessions/{deck.session['id']}/archive.zip")
        assert archive.status_code == 200, archive.text
        data = json.loads(zipfile.ZipFile(io.BytesIO(archive.content)).read("data.json"))
        rights = {name: [right for _, right in steps] for name, steps in plans.items()}
        want = expected_standings(data, rights)
        assert len(want["totals"]) == PHONES

        # Every phone: its final rank of twenty and its points in all, then its team's place and mean.
        for phone, name in zip(phones, names, strict=True):
            own = f"Final rank {want['ranks'][name]} of {PHONES} · {want['totals'][name]} points in all"
            expect(phone.locator(".quiz-rank").first).to_contain_text(own)
            one = want["team"][want["number_of"][name]]
            place = f"Team {one}: place {want['team_ranks'][one]} of 2 · {want['means'][one]} points"
            expect(phone.locator(".quiz-team-rank")).to_contain_text(place)
        screenshot(phones[0], "quiz-game-phone-final", full_page=False)

        # The projector: the final standings, the first three on the podium, and both teams.
        board = projector.get_by_role("region", name="Final standings")
        expect(board).to_be_visible()
        for position, name in enumerate(want["order"][:3], start=1):
            step = board.locator(f".podium .step-{position}")
            expect(step.locator(".quiz-name")).to_contain_text(name)
            expect(step.locator(".quiz-points")).to_have_text(f"{want['totals'][name]} points")
        teams = projector.get_by_role("region", name="Teams")
        for one in TEAMS:
            row = teams.locator("li").filter(has_text=one)
            expect(row.locator(".quiz-place")).to_have_text(str(want["team_ranks"][one]))
            expect(row.locator(".quiz-points")).to_have_text(f"{want['means'][one]} points")
        assert projector.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 1")
        screenshot(projector, "quiz-game-podium", full_page=False)
        assert page_errors.errors == []
