"""The Content Security Policy in a real browser: what it blocks, that the server hears of it, and that the browser
tests' watch (tests/browser/conftest.py) catches it."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from server.web.headers import POLICY
from tests.browser.factories import LAPTOP, PHONE, CspWatch
from tests.factories import PASSWORD, LiveServer, cli, eventually

pytestmark = pytest.mark.browser

INJECT = """() => document.body.insertAdjacentHTML("beforeend",
  '<p id="injected" style="color: rgb(255, 0, 0)">injected</p>' +
  '<img id="handler" src="/static/nothing-here.png" onerror="window.ran = true" alt="">')"""


def test_an_inline_style_or_handler_is_blocked_reported_and_caught(
    browser: Browser, live_server: LiveServer, csp: CspWatch
) -> None:
    page = browser.new_context(**LAPTOP).new_page()
    response = page.goto(live_server.url + "/")
    assert response is not None and response.headers["content-security-policy"] == POLICY
    assert csp.violations == []

    page.evaluate(INJECT)  # as an injection would: markup with a style attribute and an event handler
    page.wait_for_function("() => (window.handsupCspViolations || []).length >= 2")
    expect(page.locator("#injected")).not_to_have_css("color", "rgb(255, 0, 0)")
    assert page.evaluate("() => window.ran") is None
    assert any(v.startswith("style-src-attr blocked 'inline' ('color: rgb(255, 0, 0)')") for v in csp.violations)
    assert any(v.startswith("script-src-attr blocked 'inline'") for v in csp.violations)

    def reported() -> list[str]:
        lines = csp.reported()
        assert any("'style-src-attr' blocked 'inline'" in line for line in lines), lines
        return lines

    assert any(f"on '{live_server.url}/'" in line for line in eventually(reported, seconds=15))
    csp.forget()  # caught on purpose: this test passes only because the watch saw it


def test_the_pages_own_script_and_styles_load_under_the_policy(
    browser: Browser, live_server: LiveServer, csp: CspWatch
) -> None:
    page = browser.new_context(**LAPTOP).new_page()
    page.goto(live_server.url + "/login")
    assert page.evaluate("() => typeof htmx") == "object"  # our scripts ran: they come from 'self'
    assert page.evaluate("() => document.styleSheets.length") >= 1
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


ADMIN = "csp-admin@example.org"
MISSING = ("/no-such-page", "/000000")  # the 404 pages


def every_page(server: LiveServer) -> list[str]:
    """One page of every kind an admin can open, with things in them: an institute, a cohort, a session of it."""
    password_file = server.data_dir / "csp-password"
    password_file.write_text(PASSWORD)
    cli(server, "user", "add", ADMIN, "--role", "admin", "--password-file", str(password_file))
    token = cli(server, "token", "create", ADMIN)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        institute = api.post("/api/v1/institutes", json={"title": "Spring Institute"}).json()["id"]
        cohort = api.post(f"/api/v1/institutes/{institute}/cohorts", json={"name": "Phoenix"}).json()["id"]
        started = api.post("/api/v1/sessions", json={"deck_slug": "distributed-leadership", "cohort_id": cohort})
        session = started.json()
        first = session["activities"][0]["id"]
        api.post(f"/api/v1/sessions/{session['id']}/control", json={"action": "goto", "activity_id": first})
        keys = [item["key"] for item in api.get(f"/api/v1/institutes/{institute}/compare").json()]
    return [
        "/",
        "/login",
        f"/{session['code']}",
        "/projector/" + session["projector_url"].rsplit("/", 1)[1],
        "/present",
        f"/present/{session['id']}",
        "/organize",
        f"/organize/institutes/{institute}",
        f"/organize/cohorts/{cohort}",
        f"/organize/institutes/{institute}/compare",
        *[f"/organize/institutes/{institute}/compare/{key}" for key in keys[:3]],
        f"/organize/institutes/{institute}/pools/resources",
        "/organize/import",
        "/account",
        "/admin/people",
        *MISSING,
    ]


def sign_in(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/present")


def test_every_kind_of_page_obeys_the_policy(browser: Browser, live_server: LiveServer, csp: CspWatch) -> None:
    """The watch fails this test at teardown if any of these pages has something inline."""
    pages = every_page(live_server)
    laptop = browser.new_context(**LAPTOP).new_page()
    sign_in(laptop, live_server)
    for path in pages:
        response = laptop.goto(live_server.url + path)
        assert response is not None and response.headers["content-security-policy"] == POLICY, path
        assert response.ok or path in MISSING, f"{path}: {response.status}"
        laptop.wait_for_load_state("load")
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(live_server.url + pages[2])
    expect(phone.locator("#stage form.answer")).to_be_visible()


def test_a_page_that_expired_says_so_under_the_policy_too(
    browser: Browser, live_server: LiveServer, csp: CspWatch
) -> None:
    context = browser.new_context(**PHONE)
    phone = context.new_page()
    phone.goto(live_server.url + "/")
    context.clear_cookies()  # the session cookie ran out while the page stayed open
    phone.get_by_label("Enter the code on the screen").fill("123456")
    phone.get_by_role("button", name="Join").click()
    expect(phone.get_by_role("heading", name="This page has expired")).to_be_visible()
    phone.get_by_role("link", name="Reload the page").click()
    expect(phone.get_by_label("Enter the code on the screen")).to_be_visible()
