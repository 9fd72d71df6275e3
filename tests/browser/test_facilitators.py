"""A presenter adds a colleague as co-facilitator from the presenter view; the colleague runs the session too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.factories import LAPTOP, PageErrors, live_deck, screenshot, sign_in
from tests.factories import PASSWORD, TWO_QUESTIONS, LiveServer, cli

pytestmark = pytest.mark.browser
COLLEAGUE = "ana@example.org"


def test_a_co_facilitator_added_from_the_presenter_view_moves_the_session_on(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    with live_deck(live_server, {"deck_yaml": TWO_QUESTIONS}) as deck:
        password_file = live_server.data_dir / "colleague-password"
        password_file.write_text(PASSWORD)
        cli(live_server, "user", "add", COLLEAGUE, "--password-file", str(password_file))
        session_id = deck.session["id"]

        presenter = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter")
        sign_in(presenter, live_server, session_id)
        presenter.get_by_text("Co-facilitators").click()
        expect(presenter.get_by_text("Nobody else runs this session yet.")).to_be_visible()
        presenter.get_by_label("Add by the email of their account").fill(COLLEAGUE)
        presenter.get_by_role("button", name="Add", exact=True).click()
        presenter.get_by_text("Co-facilitators (1)").click()
        expect(presenter.locator(".facilitators-panel li")).to_have_text([f"{COLLEAGUE} Remove"])
        screenshot(presenter, "presenter-cofacilitators")

        colleague = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "colleague")
        colleague.goto(f"{live_server.url}/login")
        colleague.get_by_label("Email").fill(COLLEAGUE)
        colleague.get_by_label("Password").fill(PASSWORD)
        colleague.get_by_role("button", name="Sign in").click()
        colleague.get_by_role("link", name=deck.session["title"]).first.click()
        expect(colleague.locator(".facilitators summary")).to_have_text("Co-facilitators (1)")
        expect(colleague.get_by_label("Add by the email of their account")).to_have_count(0)  # the presenter's call
        colleague.get_by_role("button", name="Next").click()
        # The presenter's own view follows the colleague's move, live.
        expect(presenter.get_by_role("heading", name="Where does the week go?")).to_be_visible()
