"""An administrator gives a colleague an account; the colleague signs in, chooses their own password, and makes and
revokes an API token for a script."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LAPTOP, PageErrors, screenshot
from tests.factories import PASSWORD, LiveServer, cli

pytestmark = pytest.mark.browser
ADMIN = "admin@example.org"
COLLEAGUE = "pat@example.org"
OWN_PASSWORD = "pat's own long password"


def sign_in(page: Page, server: LiveServer, email: str, password: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_gives_a_presenter_an_account_who_sets_a_password_and_manages_a_token(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    password_file = live_server.data_dir / "admin-password"
    password_file.write_text(PASSWORD)
    cli(live_server, "user", "add", ADMIN, "--role", "admin", "--password-file", str(password_file))
    page = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "browser")

    # The admin creates the account from the people page; the server makes the one-time password.
    sign_in(page, live_server, ADMIN, PASSWORD)
    page.get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", name="People")).to_be_visible()
    new_account = page.locator("form[action='/admin/people']")
    new_account.get_by_label("Email").fill(COLLEAGUE)
    new_account.locator("select[name=role]").select_option("presenter")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_text(f"Account created for {COLLEAGUE} (presenter).")).to_be_visible()
    one_time = page.locator(".new-secret input").input_value()
    assert len(one_time) >= 16
    expect(page.locator("table.people tbody tr")).to_have_count(2)
    screenshot(page, "admin-people")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to present")).to_be_visible()

    # The colleague signs in with it and is asked for a password of their own before anything else.
    sign_in(page, live_server, COLLEAGUE, one_time)
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "You signed in with a one-time password. Choose your own to continue."
    )
    page.get_by_label("Current password").fill(one_time)
    page.get_by_label("New password", exact=True).fill(OWN_PASSWORD)
    page.get_by_label("New password, again").fill(OWN_PASSWORD)
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed.")

    # A token for a script: shown once, it works; revoked, it is refused at once.
    page.get_by_label("Name of a new token").fill("laptop script")
    page.get_by_role("button", name="Create a token").click()
    secret = page.locator(".new-secret input").input_value()
    assert secret.startswith("hsu_")
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}) as api:
        assert api.get("/api/v1/decks").status_code == 200
        page.goto(f"{live_server.url}/account")  # the list, as it is kept: last used just now, the secret not shown
        expect(page.locator(".new-secret")).to_have_count(0)
        expect(page.locator("table.tokens tbody tr")).to_contain_text("laptop script")
        expect(page.locator("table.tokens tbody tr td").nth(2)).not_to_have_text("never")
        screenshot(page, "account")
        page.get_by_role("button", name="Revoke laptop script").click()
        expect(page.get_by_role("status")).to_have_text("The token is revoked: it is refused from now on.")
        expect(page.locator("table.tokens tbody tr td").nth(3)).to_contain_text("revoked")
        assert api.get("/api/v1/decks").status_code == 401

    # The dashboard is open now, with the account link in its top bar.
    page.get_by_role("link", name="Present").click()
    expect(page.get_by_role("heading", name="Start a session")).to_be_visible()
    expect(page.get_by_role("link", name="Account")).to_be_visible()
    expect(page.get_by_role("link", name="People")).to_have_count(0)
    assert page_errors.errors == []
