"""The deck library (/present/decks) in a real browser: a presenter copies a template, renames it, deletes it and
undoes that, uploads a YAML file and downloads it byte for byte, and shares it with a colleague to view, who sees it
under "Shared with you" but cannot save it. The page is axe-clean, keyboard operable and reflows at 200% text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import Audit
from tests.browser.factories import PageErrors, screenshot
from tests.browser.test_text_size import LOST
from tests.factories import PASSWORD, LiveServer, cli

pytestmark = pytest.mark.browser

PRESENTER = "library@example.org"
COLLEAGUE = "colleague@example.org"
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# A deck as someone wrote it by hand (comments, flow lists, spaces, quotes): a rewrite would change its bytes.
UPLOAD = (
    b"# Day one of the Phoenix cohort\n"
    b"title:   'Roles: who decides?'   # quoted for the colon\n"
    b"language: en\n"
    b"activities:\n"
    b"  - kind: poll\n"
    b"    title: Who decides?\n"
    b'    options: [Yes, No, "It depends"]\n'
    b"    notes: |\n"
    b"      Ask for a show of hands first.\n"
    b"  - {kind: wordcloud, title: Three words}\n"
)


def account(server: LiveServer, email: str) -> None:
    password_file = server.data_dir / f"password-{email}"
    password_file.write_text(PASSWORD)
    cli(server, "user", "add", email, "--password-file", str(password_file))


def signed_in(browser: Browser, server: LiveServer, email: str, errors: PageErrors, **context: object) -> Page:
    page = errors.watch(browser.new_context(accept_downloads=True, **context).new_page(), email)  # type: ignore[arg-type]
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{server.url}/present/decks")
    return page


def card(page: Page, title: str) -> object:
    return page.locator("li.deck", has=page.get_by_role("heading", name=title, exact=True))


def back_from_editor(page: Page, server: LiveServer) -> int:
    """The library's actions open the new deck in the editor (another page): its id, then back to the library."""
    expect(page).to_have_url(re.compile(r"/present/decks/\d+/edit$"))
    match = re.search(r"/present/decks/(\d+)/edit$", page.url)
    assert match is not None
    page.goto(f"{server.url}/present/decks")
    return int(match.group(1))


def test_a_presenter_builds_a_library_and_shares_a_deck_to_view(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors, tmp_path: Path
) -> None:
    account(live_server, PRESENTER)
    account(live_server, COLLEAGUE)
    audit = Audit()
    page = signed_in(browser, live_server, PRESENTER, page_errors, viewport={"width": 1440, "height": 900})
    expect(page.get_by_role("heading", name="Your decks")).to_be_visible()
    expect(page.get_by_text("None yet: create one above")).to_be_visible()
    template = "Transforming Schools Through Distributed Leadership"
    templates = page.locator("section", has=page.get_by_role("heading", name="Templates"))
    expect(templates.get_by_role("heading", name=template)).to_be_visible()
    expect(templates.locator("li.deck").first).to_contain_text(re.compile(r"\d+ activities: \d+ "))
    audit.check(page, "library, empty")

    # A copy of the template is the presenter's own deck.
    templates.get_by_role("button", name=f"Copy {template}").click()
    back_from_editor(page, live_server)
    mine = page.locator("section", has=page.get_by_role("heading", name="Your decks"))
    copy = f"Copy of {template}"
    expect(mine.get_by_role("heading", name=copy)).to_be_visible()

    # Rename it, with the keyboard: the Rename disclosure opens with Enter.
    summary = mine.locator("summary", has_text="Rename")
    summary.focus()
    page.keyboard.press("Enter")
    title = mine.get_by_label("New title")
    expect(title).to_be_visible()
    title.fill("Spring institute, day one")
    title.press("Enter")
    expect(mine.get_by_role("heading", name="Spring institute, day one")).to_be_visible()

    # Delete it, then undo.
    page.get_by_role("button", name="Delete Spring institute, day one").click()
    expect(page.get_by_role("status")).to_contain_text("“Spring institute, day one” was deleted.")
    expect(mine.get_by_role("heading", name="Spring institute, day one")).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(mine.get_by_role("heading", name="Spring institute, day one")).to_be_visible()

    # Upload a hand-written file; its download is the same bytes.
    upload = tmp_path / "phoenix-day-one.yaml"
    upload.write_bytes(UPLOAD)
    page.get_by_label("YAML file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    uploaded = back_from_editor(page, live_server)
    expect(mine.get_by_role("heading", name="Roles: who decides?")).to_be_visible()
    expect(page.locator(f"#deck-{uploaded}")).to_contain_text("2 activities: 1 poll, 1 word cloud")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download YAML of Roles: who decides?").click()
    assert download.value.suggested_filename == "roles-who-decides.yaml"
    assert Path(download.value.path()).read_bytes() == UPLOAD

    # Share it with a colleague, to view.
    deck = page.locator(f"#deck-{uploaded}")
    deck.locator("summary", has_text="Share").click()
    deck.get_by_label("Email of their account").fill(COLLEAGUE)
    deck.get_by_label("They may").select_option("view")
    deck.get_by_role("button", name="Share", exact=True).click()
    expect(page.locator(f"#deck-{uploaded} .shares")).to_contain_text(f"{COLLEAGUE}: can view")
    audit.check(page, "library, with decks")
    screenshot(page, "deck-library-laptop")

    phone = signed_in(browser, live_server, PRESENTER, page_errors, **PHONE)
    expect(phone.get_by_role("heading", name="Roles: who decides?")).to_be_visible()
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the library scrolls sideways on a phone ({width} px)"
    audit.check(phone, "library, phone")
    screenshot(phone, "deck-library-phone")

    # The colleague sees it, shared, and may not save it.
    colleague = signed_in(browser, live_server, COLLEAGUE, page_errors, viewport={"width": 1440, "height": 900})
    shared = colleague.locator("section", has=colleague.get_by_role("heading", name="Shared with you"))
    expect(shared.get_by_role("heading", name="Roles: who decides?")).to_be_visible()
    expect(shared.locator("li.deck")).to_contain_text(f"by {PRESENTER}")
    expect(shared.locator("li.deck")).to_contain_text("view only")
    expect(shared.get_by_role("button", name=re.compile("^Delete"))).to_have_count(0)
    status = colleague.evaluate(
        """async (id) => {
          const csrf = document.querySelector('input[name="csrf_token"]').value;
          const read = await fetch(`/present/decks/${id}/source.json`);
          const found = await read.json();
          const put = await fetch(`/present/decks/${id}/source.json`, {
            method: "PUT", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
            body: JSON.stringify({version: found.version, document: {...found.document, title: "Mine now"}}),
          });
          return [read.status, found.can_edit, put.status, (await put.json()).detail];
        }""",
        uploaded,
    )
    assert status == [200, False, 403, "This deck is shared with you to view: make a copy to edit."]
    screenshot(colleague, "deck-library-shared")
    audit.check(colleague, "library, shared with a colleague")

    # A session from the uploaded deck, started from the library: its notes show in the presenter view only.
    page.get_by_role("button", name="Start session of Roles: who decides?").click()
    expect(page).to_have_url(re.compile(r"/present/\d+$"))
    page.get_by_role("button", name="Next").click()
    notes = page.get_by_role("complementary", name="Notes")
    expect(notes).to_have_text("Notes Ask for a show of hands first.")
    screenshot(page, "presenter-notes")
    audit.check(page, "presenter view with notes")
    audit.assert_clean()
    assert page_errors.errors == []


def test_the_library_reflows_at_200_percent_text(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    account(live_server, "large@example.org")
    page = signed_in(browser, live_server, "large@example.org", page_errors, **PHONE)
    context = page.context
    context.new_cdp_session(page).send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 32}})
    page.reload()
    expect(page.get_by_role("heading", name="Templates")).to_be_visible()
    screenshot(page, "deck-library-200-percent", full_page=False)
    lost = page.evaluate(LOST)
    assert lost == [], "\n".join(lost)
