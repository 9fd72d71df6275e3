"""Nicknames and teams in a browser: three phones join a quiz that asks for them, choose (one tries a name already
taken), answer a question; after the reveal the projector shows their names beside the team scores."""

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
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
DECK = """\
title: Standards quiz
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
  - kind: quiz
    title: A leadership shared among many is called...
    accepted: [Distributed leadership]
"""


def start(live_server: LiveServer) -> tuple[dict[str, Any], httpx.Client]:
    password_file = live_server.data_dir / "password"
    password_file.write_text(PASSWORD)
    cli(live_server, "user", "add", "teams@example.org", "--password-file", str(password_file))
    token = cli(live_server, "token", "create", "teams@example.org")
    api = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"})
    body = {"deck_yaml": DECK, "nicknames": True, "teams": ["Phoenix", "Dragon"]}
    session = api.post("/api/v1/sessions", json=body).json()
    return session, api


def control(api: httpx.Client, session: dict[str, Any], action: str) -> None:
    activity = session["activities"][0]["id"]
    response = api.post(f"/api/v1/sessions/{session['id']}/control", json={"action": action, "activity_id": activity})
    assert response.status_code == 200, response.text


def choose(phone: Page, nickname: str, team: str) -> None:
    phone.get_by_label("Your nickname").fill(nickname)
    phone.get_by_role("radio", name=team).check()
    phone.get_by_role("button", name="Let's go").click()


def test_phones_pick_names_and_teams_and_the_projector_shows_them_after_the_reveal(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    session, api = start(live_server)
    phones = [page_errors.watch(browser.new_context(**PHONE).new_page(), f"phone {n}") for n in range(3)]
    for phone in phones:
        phone.goto(f"{live_server.url}/{session['code']}")
        expect(phone.get_by_role("heading", name="Your name and team")).to_be_visible()
    ana, ben, cai = phones
    audit = Audit()
    audit.check(ana, "participant name form")

    choose(ana, "Ana Sofía", "Phoenix")
    expect(ana.get_by_role("heading", name="You're in!")).to_be_visible()
    expect(ana.locator("#me")).to_contain_text("Ana Sofía · Team Phoenix")
    expect(ana.get_by_role("link", name="Change your name or team")).to_be_visible()

    choose(ben, "ana sofia", "Phoenix")  # the same name, case and accents aside
    expect(ben.get_by_text("That name is taken: choose another.")).to_be_visible()
    expect(ben.get_by_label("Your nickname")).to_have_value("ana sofia")  # what was typed stays to correct
    screenshot(ben, "quiz-nickname-phone")
    audit.check(ben, "participant name form, a name refused")
    ben.get_by_label("Your nickname").fill("Ben")
    ben.get_by_role("button", name="Let's go").click()
    expect(ben.locator("#me")).to_contain_text("Ben · Team Phoenix")

    choose(cai, "Cai", "Dragon")
    expect(cai.locator("#me")).to_contain_text("Cai · Team Dragon")

    presenter = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter")
    presenter.goto(f"{live_server.url}/login")
    presenter.get_by_label("Email").fill("teams@example.org")
    presenter.get_by_label("Password").fill(PASSWORD)
    presenter.get_by_role("button", name="Sign in").click()
    presenter.goto(f"{live_server.url}/present")
    card = presenter.locator(".card").filter(has=presenter.locator("form.start-session")).first
    card.get_by_text("Names, teams and scoring").click()
    expect(card.get_by_label("Ask for nicknames", exact=False)).to_be_visible()
    expect(card.get_by_label("Teams", exact=False)).to_be_visible()
    screenshot(presenter, "quiz-names-start-form", full_page=False)
    presenter.goto(f"{live_server.url}/present/{session['id']}")
    expect(presenter.locator("#counts .names-count")).to_have_text(
        re.compile(r"^\s*3 named · teams: Phoenix 2, Dragon 1\s*$")
    )
    screenshot(presenter, "quiz-names-presenter", full_page=False)

    projector = page_errors.watch(browser.new_context(**PROJECTOR).new_page(), "projector")
    projector.goto(str(session["projector_url"]))
    control(api, session, "goto")
    for phone in phones:
        expect(phone.get_by_text("30 seconds: the faster a right answer, the more points.")).to_be_visible()
    for phone, option in ((cai, "Equity and cultural responsiveness"), (ana, "Equity and cultural responsiveness")):
        phone.get_by_label(option).check()
        phone.get_by_role("button", name="Send").click()
        expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    ben.get_by_label("Ethics and professional norms").check()
    ben.get_by_role("button", name="Send").click()
    expect(ben.get_by_role("status").filter(has_text="Received")).to_be_visible()

    control(api, session, "reveal")
    board = projector.get_by_role("region", name="Leaderboard")
    expect(board.locator("li")).to_have_count(3)
    expect(board.locator("li").first).to_have_text(re.compile(r"^\s*1\s+Cai\s+Dragon\s+(9[0-9]{2}|1000) points\s*$"))
    expect(board.locator("li").nth(1)).to_have_text(re.compile(r"^\s*2\s+Ana Sofía\s+Phoenix\s+\d+ points\s*$"))
    expect(board.locator("li").nth(2)).to_have_text(re.compile(r"^\s*3\s+Ben\s+Phoenix\s+0 points\s*$"))
    teams = projector.get_by_role("region", name="Teams")
    expect(teams.locator("li").first).to_have_text(re.compile(r"^\s*1\s+Dragon\s+1 player\s+(9[0-9]{2}|1000) points"))
    expect(teams.locator("li").nth(1)).to_have_text(re.compile(r"^\s*2\s+Phoenix\s+2 players\s+\d+ points"))
    expect(teams).to_contain_text("A team's score is the mean of its players' points.")
    assert projector.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 1")
    screenshot(projector, "quiz-teams-projector", full_page=False)
    audit.check(projector, "projector quiz, revealed with names and teams")

    expect(cai.locator(".quiz-team-rank")).to_contain_text("Team Dragon: place 1 of 2")
    expect(ben.locator(".quiz-team-rank")).to_contain_text("Team Phoenix: place 2 of 2")
    expect(ben.locator("#me")).to_contain_text("Ben · Team Phoenix")
    expect(ben.get_by_role("link", name="Change your name or team")).to_have_count(0)  # fixed once the quiz began
    screenshot(cai, "quiz-teams-phone")
    audit.check(cai, "participant quiz, revealed, with the team's place")
    audit.assert_clean()
    api.close()


def full_board(browser: Browser, live_server: LiveServer, page_errors: PageErrors, teams: list[str]) -> Page:
    """A revealed question answered by 14 phones (named through the JSON API, in `teams` when given), on a projector."""
    password_file = live_server.data_dir / "password"
    password_file.write_text(PASSWORD)
    email = f"many-{len(teams)}@example.org"  # one presenter per board: the server lives for the module
    cli(live_server, "user", "add", email, "--password-file", str(password_file))
    token = cli(live_server, "token", "create", email)
    api = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"})
    session = api.post("/api/v1/sessions", json={"deck_yaml": DECK, "nicknames": True, "teams": teams}).json()
    phones = []
    for n in range(14):  # more than the ten shown, in every team
        joined = httpx.post(f"{live_server.url}/api/v1/join", json={"code": session["code"]}).json()
        phone = {"X-Participant-Token": joined["participant_token"]}
        body = {"nickname": f"Player {n:02d}", "team": teams[n % len(teams)] if teams else ""}
        assert httpx.put(f"{live_server.url}/api/v1/sessions/{session['id']}/name", json=body, headers=phone).is_success
        phones.append(phone)
    control(api, session, "goto")
    question = session["activities"][0]["id"]
    for n, phone in enumerate(phones):
        answer = {"activity_id": question, "answer": {"choice": ["2" if n % 3 else "1"]}}
        assert httpx.post(f"{live_server.url}/api/v1/responses", json=answer, headers=phone).status_code == 201
    control(api, session, "reveal")
    api.close()
    projector = page_errors.watch(browser.new_context(**PROJECTOR).new_page(), "projector")
    projector.goto(str(session["projector_url"]))
    return projector


def test_twelve_teams_show_their_top_three_on_the_projector(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    projector = full_board(browser, live_server, page_errors, [f"Team {n}" for n in range(1, 13)])
    teams_shown = projector.get_by_role("region", name="Teams")
    expect(teams_shown.locator("li")).to_have_count(3)  # the first three; every phone shows its own team's place
    expect(teams_shown).to_contain_text("and 9 more teams")
    for size in (PROJECTOR["viewport"], {"width": 1024, "height": 768}):
        projector.set_viewport_size(size)
        projector.wait_for_timeout(300)
        assert projector.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 1"), size
        expect(teams_shown.locator("li").last).to_be_in_viewport(ratio=1)
    projector.set_viewport_size(PROJECTOR["viewport"])
    screenshot(projector, "quiz-teams-projector-full", full_page=False)


def test_a_long_leaderboard_shows_its_top_rows_on_the_projector(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    projector = full_board(browser, live_server, page_errors, [])
    board = projector.get_by_role("region", name="Leaderboard").locator("li:not([data-fit-hidden])")
    projector.wait_for_timeout(300)
    assert board.count() >= 3  # the bars beside it are too tall at full size: the stage shrinks, the top stays
    assert projector.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 1")
    expect(board.last).to_be_in_viewport(ratio=1)
    expect(projector.locator(".quiz-board .fit-more")).to_have_count(1)  # one "and 6 more", however many tries
    screenshot(projector, "quiz-long-leaderboard", full_page=False)
