"""The deck editor in a real browser: a facilitator builds a deck from nothing with the mouse, then with the keyboard
alone; sees the previews follow; meets a problem at its field and fixes it; finds it all saved after a reload. Two
editors on one deck get the conflict message and lose nothing; hostile text in every field stays text; axe finds
nothing serious in any state; the editor works at 200% text and in a narrow window."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.axe import Audit
from tests.browser.factories import PageErrors, screenshot
from tests.factories import PASSWORD, LiveServer, cli, start_server, stop_server
from tests.hostile import MARKER, RUNS

pytestmark = pytest.mark.browser
EDITOR = "editor@example.org"
LAPTOP = {"width": 1440, "height": 900}
SAVED = r"^Saved \d"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of this module's own, with a presenter whose decks the tests create."""
    running = start_server(tmp_path_factory.mktemp("editor"))
    password = running.data_dir / "password"
    password.write_text(PASSWORD)
    cli(running, "user", "add", EDITOR, "--role", "presenter", "--password-file", str(password))
    yield running
    stop_server(running)


def new_deck(page: Page, server: LiveServer, title: str) -> int:
    """A new deck from the library's New deck form, which opens it in the editor; its id."""
    page.goto(f"{server.url}/present/decks")
    page.locator("form[action='/present/decks']").get_by_label("Title").fill(title)
    page.locator("form[action='/present/decks']").get_by_role("button").click()
    page.wait_for_url(re.compile(r"/present/decks/\d+/edit$"))
    expect(page.locator("#save-status")).to_have_text("All changes saved")
    return int(page.url.rsplit("/", 2)[1])


def signed_in(browser: Browser, server: LiveServer, errors: PageErrors, name: str, **options: Any) -> Page:
    context: BrowserContext = browser.new_context(**{"viewport": LAPTOP, **options})
    page = errors.watch(context.new_page(), name)
    page.on("dialog", lambda dialog: errors.errors.append(f"{name}: a dialog opened: {dialog.message}"))
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(EDITOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def open_editor(page: Page, server: LiveServer, deck_id: int) -> None:
    page.goto(f"{server.url}/present/decks/{deck_id}/edit")
    expect(page.locator("#save-status")).to_have_text("All changes saved")


def saved(page: Page) -> None:
    expect(page.locator("#save-status")).to_have_text(re.compile(SAVED), timeout=10_000)


def add(page: Page, label: str) -> None:
    page.get_by_role("button", name="Add activity").click()
    page.locator("#palette").get_by_role("button", name=label).click()


def row_titles(page: Page) -> list[str]:
    return page.locator("#activity-list .row-title").all_inner_texts()


def phone_preview(page: Page) -> Any:
    return page.frame_locator("#phone-preview")


def test_a_facilitator_builds_a_deck_with_the_mouse(browser: Browser, server: LiveServer) -> None:
    errors, audit = PageErrors(), Audit()
    page = signed_in(browser, server, errors, "mouse")
    new_deck(page, server, "Leadership institute")
    audit.check(page, "empty deck")
    screenshot(page, "editor-empty")

    add(page, "Word cloud")
    page.get_by_label("Title", exact=True).nth(1).fill("Three words for leadership")
    expect(phone_preview(page).get_by_role("heading", name="Three words for leadership")).to_be_visible()

    page.get_by_role("button", name="Add activity").click()
    audit.check(page, "palette open")
    screenshot(page, "editor-palette")
    page.locator("#palette").get_by_role("button", name="Poll").click()
    page.get_by_label("Title", exact=True).nth(1).fill("Where does the week go?")
    page.get_by_label("Options: item 1").fill("Meetings")
    page.get_by_role("button", name="Add option").click()
    page.get_by_label("Options: item 3").fill("Email")
    saved(page)
    empty = page.get_by_label("Options: item 2")
    expect(empty).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#problems-summary")).to_contain_text("Where does the week go?")
    expect(page.get_by_role("button", name="Start session")).to_be_disabled()
    audit.check(page, "a problem shown")
    screenshot(page, "editor-problem")
    empty.fill("Teaching")
    saved(page)
    expect(page.locator("#problems-summary")).to_be_hidden()
    expect(phone_preview(page).get_by_text("Teaching")).to_be_visible()
    audit.check(page, "a poll selected")
    screenshot(page, "editor-poll")

    rows = page.locator("#activity-list .outline-row")
    rows.nth(1).drag_to(rows.nth(0))
    assert row_titles(page) == ["Where does the week go?", "Three words for leadership"]

    page.locator("#activity-list .row-main").nth(1).click()
    add(page, "Word cloud")
    page.get_by_label("Title", exact=True).nth(1).fill("Three words for what you will try")
    page.get_by_label("Countdown (seconds)").fill("45")
    page.get_by_label("Presenter notes").fill("Give them a minute; read out the top three.")
    saved(page)

    page.reload()
    expect(page.locator("#save-status")).to_have_text("All changes saved")
    assert row_titles(page) == [
        "Where does the week go?",
        "Three words for leadership",
        "Three words for what you will try",
    ]
    page.locator("#activity-list .row-main").nth(2).click()
    expect(page.get_by_label("Countdown (seconds)")).to_have_value("45")
    expect(page.get_by_label("Presenter notes")).to_have_value("Give them a minute; read out the top three.")
    expect(page.get_by_role("button", name="Start session")).to_be_enabled()
    for size, name in (
        ({"width": 1280, "height": 720}, "editor-1280"),
        ({"width": 390, "height": 844}, "editor-narrow"),
    ):
        page.set_viewport_size(size)
        screenshot(page, name)
    audit.check(page, "narrow window")
    assert errors.errors == []
    audit.assert_clean()


def test_a_facilitator_builds_a_deck_with_the_keyboard_alone(browser: Browser, server: LiveServer) -> None:
    errors = PageErrors()
    page = signed_in(browser, server, errors, "keyboard")
    new_deck(page, server, "Keyboard deck")
    add_button = page.get_by_role("button", name="Add activity")
    for title, kind in (("First", "Word cloud"), ("Second", "Open question"), ("Third", "Word cloud")):
        add_button.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#palette").get_by_role("button").first).to_be_focused()
        while (
            page.evaluate("() => document.activeElement.dataset.kind")
            != {"Word cloud": "wordcloud", "Open question": "open"}[kind]
        ):
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        expect(page.get_by_label("Title", exact=True).nth(1)).to_be_focused()
        page.keyboard.type(title)
    saved(page)
    third = page.locator("#activity-list .row-main").nth(2)
    third.focus()
    page.keyboard.press("Alt+ArrowUp")
    expect(page.locator("#announcer")).to_have_text("Moved ‘Third’ to position 2 of 3")
    assert row_titles(page) == ["First", "Third", "Second"]
    expect(page.locator("#activity-list .row-main").nth(1)).to_be_focused()

    page.get_by_role("button", name="Move ‘First’ down").focus()
    page.keyboard.press("Enter")
    assert row_titles(page) == ["Third", "First", "Second"]

    page.get_by_role("button", name="Delete ‘Second’").focus()
    page.keyboard.press("Enter")
    assert row_titles(page) == ["Third", "First"]
    expect(page.get_by_role("button", name="Undo")).to_be_focused()
    page.keyboard.press("Enter")
    assert row_titles(page) == ["Third", "First", "Second"]
    saved(page)
    page.reload()
    expect(page.locator("#save-status")).to_have_text("All changes saved")
    assert row_titles(page) == ["Third", "First", "Second"]
    assert errors.errors == []


def test_two_editors_on_one_deck_get_the_conflict_message_and_lose_nothing(
    browser: Browser, server: LiveServer
) -> None:
    errors, audit = PageErrors(), Audit()
    first = signed_in(browser, server, errors, "first")
    deck = new_deck(first, server, "Shared deck")
    add(first, "Word cloud")
    first.get_by_label("Title", exact=True).nth(1).fill("Before anyone else")
    saved(first)

    second = signed_in(browser, server, errors, "second")
    open_editor(second, server, deck)
    first.get_by_label("Title", exact=True).nth(1).fill("The first editor's title")
    saved(first)
    second.get_by_label("Title", exact=True).nth(1).fill("The second editor's title")
    dialog = second.get_by_role("dialog")
    expect(dialog).to_contain_text(re.compile(r"saved this deck at \d{1,2}:\d{2}"))  # when, in the browser's time
    expect(dialog).to_contain_text("Your version is kept here")
    expect(second.get_by_label("Title", exact=True).nth(1)).to_have_value("The second editor's title")
    audit.check(second, "conflict dialog")
    screenshot(second, "editor-conflict")

    second.get_by_role("button", name="Take theirs (discard mine)").click()
    expect(second.get_by_label("Your version, to copy before it is discarded:")).to_have_value(
        re.compile("The second editor's title")
    )
    second.get_by_role("button", name="Back").click()
    second.get_by_role("button", name="Keep mine (save over theirs)").click()
    saved(second)
    first.reload()
    expect(first.get_by_label("Title", exact=True).nth(1)).to_have_value("The second editor's title")
    assert errors.errors == []
    audit.assert_clean()


def test_hostile_text_in_every_editor_field_is_stored_and_shown_inert(browser: Browser, server: LiveServer) -> None:
    errors = PageErrors()
    page = signed_in(browser, server, errors, "hostile")
    new_deck(page, server, "Hostile deck")
    add(page, "Poll")
    for payload in RUNS:
        text = payload.text[:100]
        page.locator("#f-description").fill(text)
        page.get_by_label("Title", exact=True).nth(1).fill(text[:200])
        page.get_by_label("Prompt").fill(text)
        page.get_by_label("Presenter notes").fill(text)
        page.get_by_label("Options: item 1").fill(text[:120])
        page.get_by_label("Options: item 2").fill("Safe option")
        saved(page)
        expect(page.locator("#activity-list .row-title").first).to_have_text(text[:200].strip() or "(no title)")
        assert page.evaluate(f"() => window.{MARKER}") is None, payload.name
        assert phone_preview(page).locator("body").evaluate(f"() => window.{MARKER}") is None, payload.name
    page.reload()
    expect(page.locator("#save-status")).to_have_text("All changes saved")
    assert page.evaluate(f"() => window.{MARKER}") is None
    assert errors.errors == []


def test_a_template_opens_read_only_with_a_way_to_copy_it(browser: Browser, server: LiveServer) -> None:
    errors, audit = PageErrors(), Audit()
    page = signed_in(browser, server, errors, "template")
    [database] = Path(server.data_dir).glob("*.db")
    with sqlite3.connect(database) as db:
        (template,) = db.execute("SELECT id FROM deck WHERE template = 1 ORDER BY id").fetchone()
    page.goto(f"{server.url}/present/decks/{template}/edit")
    expect(page.get_by_role("button", name="Make a copy to edit")).to_be_visible()
    expect(page.locator("#save-status")).to_contain_text("Read only")
    expect(page.locator("#activity-list .outline-row").first).to_be_visible()
    expect(page.get_by_label("Title", exact=True).first).to_be_disabled()
    audit.check(page, "read-only template")
    screenshot(page, "editor-template")
    assert errors.errors == []
    audit.assert_clean()


def test_the_editor_works_at_200_percent_text(browser: Browser, server: LiveServer) -> None:
    errors = PageErrors()
    page = signed_in(browser, server, errors, "large", viewport={"width": 1280, "height": 720})
    page.context.new_cdp_session(page).send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 32}})
    new_deck(page, server, "Large text")
    add(page, "Poll")
    page.get_by_label("Title", exact=True).nth(1).fill("Large text poll")
    sideways = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert sideways <= 0, f"the editor scrolls sideways by {sideways} px at 200% text"
    overlapping = page.evaluate(
        """() => {
      const boxes = [...document.querySelectorAll('#editor button:not([hidden]), #editor input, #editor select')]
        .filter(e => e.offsetParent).map(e => [e, e.getBoundingClientRect()]);
      const found = [];
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const [a, r] = boxes[i], [b, s] = boxes[j];
        if (a.contains(b) || b.contains(a)) continue;
        if (r.left < s.right - 1 && s.left < r.right - 1 && r.top < s.bottom - 1 && s.top < r.bottom - 1)
          found.push((a.id || a.textContent) + ' / ' + (b.id || b.textContent));
      }
      return found;
    }"""
    )
    assert overlapping == [], overlapping
    screenshot(page, "editor-200-percent", full_page=False)
    assert errors.errors == []


def test_texts_in_another_language_are_edited_beside_the_deck_s_and_saved_by_language(
    browser: Browser, server: LiveServer
) -> None:
    """A bilingual deck: the Spanish texts typed in the editor reach the YAML as `{en: ..., es: ...}`, and the phone
    preview reads them in Spanish."""
    errors = PageErrors()
    page = signed_in(browser, server, errors, "languages", accept_downloads=True)
    deck = new_deck(page, server, "Bilingual")
    add(page, "Poll")
    page.get_by_label("Title", exact=True).nth(1).fill("Where does the week go?")
    page.get_by_label("Options: item 1").fill("Fires")
    page.get_by_label("Options: item 2").fill("Improvement")
    saved(page)
    page.get_by_label("Texts in other languages: show and edit the texts in").select_option("es")
    title = page.get_by_label("Title", exact=True).nth(1)
    expect(title).to_have_attribute("placeholder", "Where does the week go?")  # the deck's own text, to translate
    title.fill("¿En qué se va la semana?")
    page.get_by_label("Options: item 1").fill("Incendios")
    page.get_by_label("Options: item 2").fill("Mejora")
    saved(page)
    expect(phone_preview(page).get_by_role("heading", name="¿En qué se va la semana?")).to_be_visible()
    expect(phone_preview(page).get_by_text("Incendios")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download YAML").click()
    document = yaml.safe_load(Path(download.value.path()).read_text(encoding="utf-8"))
    poll = document["activities"][0]
    assert poll["title"] == {"en": "Where does the week go?", "es": "¿En qué se va la semana?"}
    assert poll["options"] == [{"en": "Fires", "es": "Incendios"}, {"en": "Improvement", "es": "Mejora"}]
    assert deck and not errors.errors, errors.errors
