"""A presenter connects their school's tool: adds a webhook on the account page, copies its secret, sees an ended
session delivered to it, and pauses it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from server.webhooks import verify
from tests.browser.axe import Audit
from tests.browser.factories import LAPTOP, PHONE, PRESENTER, PageErrors, live_deck, screenshot
from tests.factories import PASSWORD, LiveServer, start_server, stop_server
from tests.server.webhooks.receiver import receiving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that may post to this machine's loopback (where the test's receiver listens)."""
    server = start_server(Path(tmp_path_factory.mktemp("hooks")), HANDSUP_WEBHOOKS_ALLOW_LOCAL="true")
    yield server
    stop_server(server)


def sign_in(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/login?next=/account")
    page.get_by_label("Email").fill(PRESENTER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()


def test_a_presenter_adds_a_webhook_sees_its_deliveries_and_pauses_it(
    browser: Browser, local_server: LiveServer, page_errors: PageErrors
) -> None:
    audit = Audit()
    with receiving() as receiver, live_deck(local_server, {"deck_slug": "distributed-leadership"}) as running:
        page = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "browser")
        sign_in(page, local_server)
        section = page.locator("#webhooks")
        expect(section.get_by_role("heading", name="Webhooks")).to_be_visible()
        expect(section).to_contain_text("No webhooks yet.")

        section.get_by_label("URL the events are posted to").fill(receiver.url)
        section.get_by_label("session.ended").check()
        section.get_by_label("archive.ready").check()
        section.get_by_role("button", name="Add a webhook").click()
        expect(page.get_by_text(f"Your webhook to {receiver.url} is added.")).to_be_visible()
        secret = page.get_by_label("Signing secret").input_value()
        assert secret.startswith("whsec_")
        screenshot(page, "webhook-added")
        audit.check(page, "webhook added")

        # The presenter ends a session; the receiver gets it, signed with that secret, and the page says so.
        running.api.post(f"/api/v1/sessions/{running.session['id']}/control", json={"action": "end"})
        page.get_by_role("link", name="Back to your account").click()
        row = page.locator("#webhooks table.deliveries tbody tr").first
        for _ in range(100):  # the delivery is recorded, then finished, a moment after: the person reloads the page
            if row.count() and "being sent" not in (row.text_content() or ""):
                break
            page.wait_for_timeout(100)
            page.reload()
        page.locator("#webhooks summary").click()
        expect(row).to_contain_text("session.ended")
        expect(row).to_contain_text("delivered (200)")
        [request] = receiver.of_type("session.ended")
        assert verify(secret, request.headers["Handsup-Signature"], request.body)
        expect(page.locator("#webhooks")).not_to_contain_text(secret)
        screenshot(page, "account-webhooks")
        audit.check(page, "account webhooks")

        page.get_by_role("button", name="Pause").click()
        expect(page.locator("#webhooks .webhook-state")).to_contain_text("Paused")
        expect(page.get_by_role("button", name="Resume")).to_be_visible()

        phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
        sign_in(phone, local_server)
        phone.locator("#webhooks summary").click()
        phone.locator("#webhooks").scroll_into_view_if_needed()
        screenshot(phone, "account-webhooks-phone")
        audit.check(phone, "account webhooks on a phone")

        page.get_by_role("button", name=f"Delete the webhook to {receiver.url}").click()
        expect(page.locator("#webhooks")).to_contain_text("No webhooks yet.")
    audit.assert_clean()
