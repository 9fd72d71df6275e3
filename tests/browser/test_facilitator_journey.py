"""Issue 14's facilitator, end to end, once with the mouse and once with the keyboard alone: a deck built from nothing
in the editor (two content slides, one with an uploaded picture, two word clouds, the "how do school leaders spend
their time?" poll, a call for resources), a small PDF deck imported and a poll placed between its pages, the
previews looked at, a session started from the editor, three phones answering everything, the projector showing the
slides and the results, and the session's archive holding the results and not the slides."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.axe import Audit
from tests.browser.factories import LAPTOP, PHONE, PageErrors, screenshot
from tests.factories import PASSWORD, LiveServer, cli, start_server, stop_server

pytestmark = pytest.mark.browser
FACILITATOR = "facilitator@example.org"
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
WORDS = [("trust", "listening", "vision"), ("Trust", "courage", "equity"), ("TRUST", "voice", "time")]
WELCOME_BODY = "Two days on **distributed leadership**:\n\n- build capacity\n- share *accountability*"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    running = start_server(tmp_path_factory.mktemp("journey"))
    password = running.data_dir / "password"
    password.write_text(PASSWORD)
    cli(running, "user", "add", FACILITATOR, "--role", "presenter", "--password-file", str(password))
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A photo for the influence slide, and the facilitator's three-page PDF deck (what PowerPoint exports)."""
    folder = tmp_path_factory.mktemp("journey-files")
    photo = Image.new("RGB", (800, 450), "#2a6f97")
    ImageDraw.Draw(photo).ellipse((250, 75, 550, 375), fill="#f4a261")
    photo.save(folder / "circles.png")
    pages = []
    for number, colour in enumerate(("#264653", "#2a9d8f", "#e76f51"), start=1):
        page = Image.new("RGB", (1280, 720), colour)
        ImageDraw.Draw(page).rectangle((100 * number, 200, 100 * number + 300, 500), fill="white")
        pages.append(page)
    pages[0].save(folder / "institute.pdf", "PDF", save_all=True, append_images=pages[1:], resolution=96)
    return {"photo": folder / "circles.png", "pdf": folder / "institute.pdf"}


class Hands:
    """How the facilitator works the editor: with the mouse (clicks, drags) or with the keyboard alone (focus moves to
    a control, Enter or Space works it, text is typed key by key, rows move with Alt+Arrow)."""

    def __init__(self, page: Page, keyboard: bool) -> None:
        self.page, self.keyboard = page, keyboard

    def press(self, control: Locator) -> None:
        if self.keyboard:
            control.focus()
            self.page.keyboard.press("Enter")
        else:
            control.click()

    def type(self, field: Locator, text: str) -> None:
        if self.keyboard:
            field.focus()
            self.page.keyboard.press("Control+A")
            self.page.keyboard.press("Delete")
            self.page.keyboard.type(text)
        else:
            field.click()
            field.fill(text)

    def choose(self, select: Locator, label: str) -> None:
        if self.keyboard:
            select.focus()
            select.select_option(label=label)  # a focused select follows the keys; Playwright picks by label
        else:
            select.select_option(label=label)

    def add(self, kind: str) -> None:
        self.press(self.page.get_by_role("button", name="Add activity"))
        self.press(self.page.locator("#palette").get_by_role("button", name=kind))

    def select_row(self, index: int) -> None:
        self.press(self.page.locator("#activity-list .row-main").nth(index))

    def upload(self, opener: Locator, path: Path) -> None:
        with self.page.expect_file_chooser() as chooser:
            self.press(opener)
        chooser.value.set_files(path)


def saved(page: Page) -> None:
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Saved \d"), timeout=15_000)


def activity_title(page: Page) -> Locator:
    return page.get_by_label("Title", exact=True).nth(1)  # the first is the deck's own


def build_deck(page: Page, hands: Hands, files: dict[str, Path], audit: Audit, label: str) -> int:
    page.goto(page.url.split("/present")[0] + "/present/decks")
    hands.type(page.locator("form[action='/present/decks']").get_by_label("Title"), f"Day one ({label})")
    hands.press(page.locator("form[action='/present/decks']").get_by_role("button"))
    page.wait_for_url(re.compile(r"/present/decks/\d+/edit$"))
    deck_id = int(page.url.rsplit("/", 2)[1])

    hands.add("Content slide")
    hands.type(activity_title(page), "Welcome to the institute")
    hands.type(page.get_by_label("Body"), WELCOME_BODY)
    phone, projector = page.frame_locator("#phone-preview"), page.frame_locator("#projector-preview")
    expect(projector.get_by_role("heading", name="Welcome to the institute")).to_be_visible()
    expect(projector.locator("strong", has_text="distributed leadership")).to_be_visible()

    hands.add("Word cloud")
    hands.type(activity_title(page), "Understanding leadership practice")
    hands.type(page.get_by_label("Prompt"), 'Three words for "leadership practice".')

    hands.add("Content slide")
    hands.type(activity_title(page), "Influence and authority")
    hands.choose(page.get_by_label("Layout"), "Picture on the right")
    hands.upload(page.get_by_text("Upload image"), files["photo"])
    alt = page.get_by_label("Alt text: what the image shows (required)")
    hands.type(alt, "An orange circle inside a blue square")
    hands.type(page.get_by_label("Body"), "Influence is earned; authority is given.")
    expect(projector.get_by_role("img", name="An orange circle inside a blue square")).to_be_visible()
    audit.check(page, f"{label}: a slide with its picture")
    screenshot(page, f"journey-{label}-slide")

    hands.add("Poll")
    hands.type(activity_title(page), "How do school leaders spend their time?")
    hands.type(page.get_by_label("Options: item 1"), "Putting out fires")
    hands.type(page.get_by_label("Options: item 2"), "Maintaining the organization")
    hands.press(page.get_by_role("button", name="Add option"))
    hands.type(page.get_by_label("Options: item 3"), "Engaging in improvement")
    expect(phone.get_by_text("Engaging in improvement")).to_be_visible()

    hands.add("Word cloud")
    hands.type(activity_title(page), "Understanding influence")
    hands.add("Resources")
    hands.type(activity_title(page), "Call for resources")
    hands.type(page.get_by_label("Presenter notes"), "Approve the links as they come in.")
    saved(page)

    # The facilitator's own PDF: its three pages become slides after the call for resources.
    hands.upload(page.get_by_role("button", name="Import slides (PDF, PowerPoint)"), files["pdf"])
    expect(page.locator("#import-label")).to_have_text(re.compile(r"^Imported 3 slides"), timeout=60_000)
    audit.check(page, f"{label}: slides imported")
    titles = page.locator("#activity-list .row-title")
    expect(titles).to_have_count(9)
    # A poll between the PDF's first and second pages.
    hands.select_row(6)
    hands.add("Poll")
    hands.type(activity_title(page), "Which page matters most?")
    hands.type(page.get_by_label("Options: item 1"), "The first")
    hands.type(page.get_by_label("Options: item 2"), "The others")
    saved(page)
    expect(page.locator("#problems-summary")).to_be_hidden()
    row_titles = titles.all_inner_texts()
    assert row_titles[:6] == [
        "Welcome to the institute",
        "Understanding leadership practice",
        "Influence and authority",
        "How do school leaders spend their time?",
        "Understanding influence",
        "Call for resources",
    ]
    assert row_titles[7] == "Which page matters most?"
    assert len(row_titles) == 10
    hands.select_row(8)  # the PDF's second page, as phones and the projector will show it
    expect(projector.locator("img[src^='/media/']")).to_be_visible()
    screenshot(page, f"journey-{label}-editor")
    return deck_id


def join(phone: Page, server: LiveServer, code: str) -> None:
    phone.goto(f"{server.url}/{code}")
    expect(phone.get_by_role("heading", name="You're in!")).to_be_visible()


def send(phone: Page) -> None:
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()


def next_activity(presenter: Page, phones: list[Page], heading: str) -> None:
    presenter.get_by_role("button", name="Next ▶", exact=True).first.click()
    for phone in phones:
        expect(phone.get_by_role("heading", name=heading)).to_be_visible()


def archived_files(presenter: Page) -> dict[str, bytes]:
    with presenter.expect_download() as download:
        presenter.get_by_role("link", name="Download archive").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize("keyboard", [False, True], ids=["mouse", "keyboard"])
def test_a_facilitator_builds_their_deck_and_runs_it(
    browser: Browser, server: LiveServer, files: dict[str, Path], keyboard: bool
) -> None:
    label = "keyboard" if keyboard else "mouse"
    errors, audit = PageErrors(), Audit()
    context = browser.new_context(accept_downloads=True, **LAPTOP)  # type: ignore[arg-type]
    page = errors.watch(context.new_page(), "facilitator")
    page.on("dialog", lambda dialog: errors.errors.append(f"a dialog opened: {dialog.message}"))
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(FACILITATOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/present$"))
    hands = Hands(page, keyboard)
    build_deck(page, hands, files, audit, label)

    start = page.get_by_role("button", name="Start session")
    expect(start).to_be_enabled()
    hands.press(start)
    expect(page).to_have_url(re.compile(r"/present/\d+$"))
    presenter = page
    code = presenter.locator("header .code").inner_text().replace(" ", "")
    projector = errors.watch(browser.new_context(**PROJECTOR).new_page(), "projector")  # type: ignore[arg-type]
    projector.goto(server.url + str(presenter.locator("#projector-link").get_attribute("href")))
    phones = [errors.watch(browser.new_context(**PHONE).new_page(), f"phone {i}") for i in range(3)]
    for phone in phones:
        join(phone, server, code)
    expect(presenter.locator("#counts")).to_contain_text("3 joined")

    # The welcome slide: phones read it, the projector shows it large, nobody is asked anything.
    next_activity(presenter, phones, "Welcome to the institute")
    expect(phones[0].locator("strong", has_text="distributed leadership")).to_be_visible()
    expect(phones[0].get_by_role("button", name="Send")).to_have_count(0)
    expect(projector.get_by_role("heading", name="Welcome to the institute")).to_be_visible()
    screenshot(projector, f"journey-{label}-projector-welcome")

    next_activity(presenter, phones, "Understanding leadership practice")
    for phone, words in zip(phones, WORDS, strict=True):
        boxes = phone.locator("input[name=word]")
        for index, word in enumerate(words):
            boxes.nth(index).fill(word)
        send(phone)
    expect(projector.locator(".top-words li").first).to_contain_text("trust")

    next_activity(presenter, phones, "Influence and authority")
    picture = projector.get_by_role("img", name="An orange circle inside a blue square")
    expect(picture).to_be_visible()
    # Visible is laid out, not yet loaded: decode() waits for the picture itself (served from the upload, whole).
    assert picture.evaluate("img => img.decode().then(() => img.naturalWidth)") == 800
    screenshot(projector, f"journey-{label}-projector-picture")

    next_activity(presenter, phones, "How do school leaders spend their time?")
    choices = ["Putting out fires", "Putting out fires", "Engaging in improvement"]
    for phone, choice in zip(phones, choices, strict=True):
        phone.get_by_text(choice).click()
        send(phone)
    expect(projector.locator(".bars li", has_text="Putting out fires").locator(".value")).to_contain_text("67%")

    next_activity(presenter, phones, "Understanding influence")
    for phone, words in zip(phones, WORDS, strict=True):
        boxes = phone.locator("input[name=word]")
        for index, word in enumerate(words):
            boxes.nth(index).fill(word)
        send(phone)

    next_activity(presenter, phones, "Call for resources")
    for number, phone in enumerate(phones, start=1):
        phone.get_by_label("Title").fill(f"Toolkit {number}")
        phone.get_by_label("Link (optional)").fill(f"https://example.org/toolkit-{number}")
        send(phone)
    expect(presenter.get_by_text("Approve the links as they come in.")).to_be_visible()  # the notes, here only
    for phone in phones:
        expect(phone.get_by_text("Approve the links as they come in.")).to_have_count(0)
    expect(projector.get_by_text("Approve the links as they come in.")).to_have_count(0)

    # The imported first page fills the projector; phones are sent to look at it.
    presenter.get_by_role("button", name="Next ▶", exact=True).first.click()
    expect(projector.locator(".slide img[src^='/media/']")).to_be_visible()
    expect(phones[0].get_by_text("Look at the screen.")).to_be_visible()
    screenshot(projector, f"journey-{label}-projector-page")

    next_activity(presenter, phones, "Which page matters most?")
    for phone, choice in zip(phones, ["The first", "The others", "The first"], strict=True):
        phone.get_by_text(choice).click()
        send(phone)
    expect(projector.locator(".respondents")).to_have_text("3 people answered")
    screenshot(projector, f"journey-{label}-projector-poll")

    # The archive: every answered activity's results, no file and no row for any slide.
    archive = archived_files(presenter)
    responses = sorted(name for name in archive if name.startswith("responses/"))
    assert responses == [
        "responses/02-understanding-leadership-practice.csv",
        "responses/04-how-do-school-leaders-spend-their-time.csv",
        "responses/05-understanding-influence.csv",
        "responses/06-call-for-resources.csv",
        "responses/08-which-page-matters-most.csv",
    ], responses
    for name in responses:
        rows = list(csv.DictReader(io.StringIO(archive[name].decode("utf-8-sig"))))
        assert len({row["participant"] for row in rows}) == 3, name
    for part in ("summary.csv", "report.html"):
        text = archive[part].decode("utf-8-sig")
        assert "How do school leaders spend their time?" in text, part
        assert "Welcome to the institute" not in text and "Influence and authority" not in text, part
    assert not errors.errors, errors.errors
    audit.assert_clean()
