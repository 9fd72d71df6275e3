"""The deck editor builds a quiz question from the kind's schema: options, the right one, a time limit; the phone
preview shows it, nothing is a problem, and it is saved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.factories import PageErrors, screenshot
from tests.browser.test_editor import EDITOR, add, new_deck, phone_preview, saved, signed_in
from tests.factories import PASSWORD, LiveServer, cli, start_server, stop_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    running = start_server(tmp_path_factory.mktemp("quiz-editor"))
    password = running.data_dir / "password"
    password.write_text(PASSWORD)
    cli(running, "user", "add", EDITOR, "--role", "presenter", "--password-file", str(password))
    yield running
    stop_server(running)


def test_a_facilitator_adds_a_quiz_question_in_the_editor(browser: Browser, server: LiveServer) -> None:
    errors = PageErrors()
    page = signed_in(browser, server, errors, "quiz editor")
    new_deck(page, server, "A quick check")
    add(page, "Quiz question")
    page.get_by_label("Title", exact=True).nth(1).fill("Which standard is about equity?")
    page.get_by_role("button", name="Add option").click()
    page.get_by_label("Options: item 1").fill("Ethics")
    page.get_by_role("button", name="Add option").click()
    page.get_by_label("Options: item 2").fill("Equity")
    page.get_by_role("button", name="Add correct").click()
    page.get_by_label("Correct: item 1").fill("2")
    page.get_by_label("Time limit").fill("15")
    saved(page)
    expect(page.locator("#problems-summary")).to_be_hidden()
    expect(phone_preview(page).get_by_text("Equity", exact=True)).to_be_visible()
    expect(phone_preview(page).get_by_text("15 seconds: the faster a right answer, the more points.")).to_be_visible()
    expect(page.get_by_role("button", name="Start session")).to_be_enabled()
    expect(page.get_by_text("Upload image")).to_have_count(2)  # a picture by each option, none by a number
    screenshot(page, "quiz-editor")
    page.reload()
    expect(page.get_by_label("Correct: item 1")).to_have_value("2")
    assert errors.errors == []
