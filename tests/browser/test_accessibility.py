"""axe-core on every page people use: a phone, the presenter and the projector through a whole session of the example
deck (every kind), then the organizer's and the account pages. A serious or critical violation fails the test."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from activities import registry
from tests.browser.axe import Audit, violations
from tests.browser.factories import LAPTOP, PHONE, LiveDeck, first_of_each_kind, screenshot, sign_in
from tests.browser.test_keyboard import ANSWER
from tests.factories import PASSWORD, LiveServer, cli

pytestmark = pytest.mark.browser


def test_axe_runs_under_the_strict_policy_and_names_what_it_finds(browser: Browser, live_server: LiveServer) -> None:
    page = browser.new_context(**PHONE).new_page()
    response = page.goto(live_server.url + "/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    page.evaluate("() => document.querySelector('main').append(document.createElement('button'))")
    found = {v["id"]: v for v in violations(page)}
    assert found["button-name"]["impact"] == "critical"
    assert found["button-name"]["targets"][0].startswith("main > button (")


# What shows that a kind's results are drawn, for the pictures of the projector in high contrast.
DRAWN = {"poll": ".bars .track rect:not([width='0'])", "sort": ".bars .track path", "scale": ".mean strong"}


def test_participant_presenter_and_projector_pages_pass_axe(
    browser: Browser, live_server: LiveServer, example_deck: LiveDeck
) -> None:
    audit = Audit()
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(live_server.url + "/")
    audit.check(phone, "join page")
    phone.goto(f"{live_server.url}/{example_deck.code}")
    expect(phone.get_by_role("heading", name="You're in!")).to_be_visible()
    audit.check(phone, "participant lobby")

    presenter = browser.new_context(**LAPTOP).new_page()
    sign_in(presenter, live_server, int(example_deck.session["id"]))
    audit.check(presenter, "presenter live page, lobby")
    projector = browser.new_context(**LAPTOP).new_page()
    projector.goto(str(example_deck.session["projector_url"]))
    expect(projector.locator(".lobby .code")).to_be_visible()
    audit.check(projector, "projector lobby")
    high_contrast = browser.new_context(**LAPTOP).new_page()
    high_contrast.goto(f"{example_deck.session['projector_url']}?contrast=high")

    kinds = list(first_of_each_kind(example_deck.session).values())
    assert {activity["kind"] for activity in kinds} == set(registry.names())  # the example deck shows every kind
    for activity in kinds:
        example_deck.goto(activity["position"])
        for page in (phone, presenter, projector, high_contrast):
            expect(page.get_by_role("heading", name=activity["title"]).first).to_be_visible()
        audit.check(phone, f"participant {activity['kind']}")
        if registry[activity["kind"]].takes_answers:
            # Answered (from the keyboard, as test_keyboard does): the phone says so, the screens draw the results.
            answer, said = ANSWER[activity["kind"]]
            answer(phone)
            expect(phone.get_by_role("status").filter(has_text=said)).to_be_visible()
            audit.check(phone, f"participant {activity['kind']}, answered")
        if activity["kind"] in DRAWN:
            expect(high_contrast.locator(DRAWN[activity["kind"]]).first).to_be_visible()
            screenshot(high_contrast, f"projector-high-contrast-{activity['kind']}")
        audit.check(presenter, f"presenter {activity['kind']}")
        audit.check(projector, f"projector {activity['kind']}")
        audit.check(high_contrast, f"projector in high contrast, {activity['kind']}")

    answered = [activity for activity in kinds if registry[activity["kind"]].takes_answers]
    example_deck.goto(answered[-1]["position"])
    example_deck.control("close", answered[-1])
    expect(phone.get_by_role("status").first).to_contain_text("Voting is closed")
    audit.check(phone, "participant, voting closed")
    example_deck.control("end", answered[-1])
    expect(phone.get_by_role("heading", name="This session has ended")).to_be_visible()
    audit.check(phone, "participant, session ended")
    audit.check(projector, "projector, session ended")
    presenter.goto(f"{live_server.url}/present")
    audit.check(presenter, "presenter dashboard")
    audit.assert_clean()


ORGANIZER = "a11y-organizer@example.org"


def test_organizer_and_account_pages_pass_axe(browser: Browser, live_server: LiveServer) -> None:
    password_file = live_server.data_dir / "organizer-password"
    password_file.write_text(PASSWORD)
    cli(live_server, "user", "add", ORGANIZER, "--role", "admin", "--password-file", str(password_file))
    token = cli(live_server, "token", "create", ORGANIZER)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        institute = api.post("/api/v1/institutes", json={"title": "2017 Spring Institute"}).json()
        cohort = api.post(
            f"/api/v1/institutes/{institute['id']}/cohorts",
            json={"name": "Phoenix, April", "site": "Phoenix, AZ", "starts_on": "2017-04-24"},
        ).json()
        started = api.post("/api/v1/sessions", json={"deck_slug": "distributed-leadership", "cohort_id": cohort["id"]})
        assert started.status_code == 201, started.text

    audit = Audit()
    page: Page = browser.new_context(**LAPTOP).new_page()
    page.goto(f"{live_server.url}/login")
    audit.check(page, "sign-in page")
    page.get_by_label("Email").fill(ORGANIZER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    institute_pages = f"/organize/institutes/{institute['id']}"
    for name, path in [
        ("institutes", "/organize"),
        ("institute", institute_pages),
        ("cohort", f"/organize/cohorts/{cohort['id']}"),
        ("compare", f"{institute_pages}/compare"),
        ("library", f"{institute_pages}/pools/resources"),
        ("import", "/organize/import"),
        ("account", "/account"),
        ("people", "/admin/people"),
    ]:
        response = page.goto(live_server.url + path)
        assert response is not None and response.ok, (path, response and response.status)
        audit.check(page, f"organizer {name}")
    audit.assert_clean()
