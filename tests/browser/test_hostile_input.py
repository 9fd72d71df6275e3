"""Hostile text in a real Chromium: phones type the corpus's running payloads into every kind with free text, the
deck's own titles and options carry them, and every page (participant, presenter, projector, the archive's report
opened from a file) shows them as plain text. No dialog opens, `window.__pwned` stays unset, no page navigates, bidi
overrides reach no page, and a 500-character word wraps inside its card on a phone."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, Locator, Page, expect

from activities.text import tidy
from activities.wordcloud.normalise import surface_form
from tests.browser.factories import LAPTOP, PHONE, LiveDeck, live_deck, screenshot, sign_in
from tests.factories import LiveServer
from tests.hostile import BIDI_CONTROLS, MARKER, PAYLOADS, is_text

pytestmark = pytest.mark.browser
# The phone the brief for this suite names: a 390 x 844 viewport.
PHONE_WIDTH = 390
PHONE_390 = {**PHONE, "viewport": {"width": PHONE_WIDTH, "height": 844}}
LONG_WORD = PAYLOADS["very_long_word"]
WORD_120 = LONG_WORD[:120]
POLL_OPTIONS = ["script_tag", "img_onerror", "attribute_breakout", "javascript_link", "htmx_attrs", "bidi_override"]
# Elements that hold typed text; each takes its direction from its own letters (static/css/handsup.css).
USER_TEXT = ".answer-text, .word-text, .resource-title, .bars .label, .choice > span, .projector-title, .activity > h1"


def deck() -> str:
    activities = [
        {"kind": "wordcloud", "title": PAYLOADS["img_onerror"], "max_length": 60},
        {"kind": "open", "title": PAYLOADS["svg_onload"], "prompt": PAYLOADS["attribute_breakout"], "max_length": 1000},
        {"kind": "qa", "title": PAYLOADS["template_injection"], "moderated": False},
        {"kind": "resources", "title": PAYLOADS["css_expression"], "moderated": False},
        {"kind": "poll", "title": PAYLOADS["htmx_attrs"], "options": [PAYLOADS[name] for name in POLL_OPTIONS]},
    ]
    return yaml.safe_dump(
        {"title": PAYLOADS["bidi_override"], "activities": activities}, allow_unicode=True, sort_keys=False
    )


@pytest.fixture(scope="module")
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_yaml": deck()}) as running:
        yield running


@dataclass
class Guard:
    """Every page of the test, watched: dialogs (alert, confirm), script errors, and navigations it did not ask for."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)
    pages: dict[str, Page] = field(default_factory=dict)
    _expected: set[str] = field(default_factory=set)

    def open(self, browser: Browser, device: Mapping[str, Any], name: str) -> Page:
        page = browser.new_context(**device).new_page()
        page.on("dialog", lambda dialog: (self.dialogs.append(f"{name}: {dialog.message}"), dialog.dismiss()))
        page.on("pageerror", lambda error: self.errors.append(f"{name}: {error}"))
        page.on(
            "framenavigated", lambda frame: self._navigated(page, name, frame.url) if frame == page.main_frame else None
        )
        self.pages[name] = page
        return page

    def expect(self, url: str) -> None:
        """A page the test will open."""
        self._expected.add(url)

    def goto(self, page: Page, url: str) -> None:
        self.expect(url)
        page.goto(url)

    def _navigated(self, page: Page, name: str, url: str) -> None:
        if url not in self._expected and not url.endswith(("/login", "/present")):
            self.navigations.append(f"{name}: {url}")

    def assert_nothing_ran(self) -> None:
        for name, page in self.pages.items():
            assert page.evaluate(f"typeof window.{MARKER}") == "undefined", f"{name}: a payload ran"
            assert page.evaluate("document.querySelectorAll('[onerror],[onload],[onmouseover],[onfocus]').length") == 0
            bidi = page.evaluate("document.body.innerText + document.title")
            assert not BIDI_CONTROLS & set(bidi), f"{name}: a bidi control reached the page"
        assert self.dialogs == []
        assert self.errors == []
        assert self.navigations == []


def received(phone: Page) -> None:
    expect(phone.locator("form.answer").get_by_role("status")).to_contain_text(re.compile(r"Received|Sent"))


def test_hostile_text_is_shown_inert_on_every_page(
    browser: Browser, live_server: LiveServer, live: LiveDeck, tmp_path: Path
) -> None:
    guard = Guard()
    projector = guard.open(browser, LAPTOP, "projector")
    guard.goto(projector, str(live.session["projector_url"]))
    presenter = guard.open(browser, LAPTOP, "presenter")
    guard.expect(f"{live_server.url}/present/{live.session['id']}")
    sign_in(presenter, live_server, int(live.session["id"]))
    phones = [guard.open(browser, PHONE_390, f"phone {n}") for n in range(2)]
    for phone in phones:
        guard.goto(phone, f"{live_server.url}/{live.code}")

    # The deck's own title is text; its bidi override was taken out when the deck was read.
    expect(projector.locator("h1")).to_have_text(tidy(PAYLOADS["bidi_override"]))

    # Word cloud: three words each, the running payloads that fit an entry.
    cloud = live.goto(0)
    words = [["script_tag", "img_onerror", "svg_onload"], ["attribute_breakout", "url_breakout", "template_injection"]]
    for phone, names in zip(phones, words, strict=True):
        expect(phone.get_by_role("heading", name=cloud["title"])).to_be_visible()
        for n, name in enumerate(names):
            phone.get_by_label(f"Entry {n + 1} of 3").fill(PAYLOADS[name])
        phone.get_by_role("button", name="Send").click()
        received(phone)
    for name in (name for names in words for name in names):
        expect(projector.locator(".top-words .word-text", has_text=surface_form(PAYLOADS[name])).first).to_be_visible()
    expect(presenter.locator(".top-words .word-text")).to_have_count(6)
    for phone in phones:
        no_sideways_scroll(phone)

    # Open question: the whole corpus arrives through the JSON API, then the phones type markup and a 500-character
    # word (newest first: their cards lead; the stage shows as many cards as fit, so the long word goes last, to lead).
    live.goto(1)
    answer_by_api(live, 1, [{"text": text} for text in PAYLOADS.values() if is_text(text) and tidy(text)])
    for phone, text in zip(phones, [PAYLOADS["htmx_attrs"], LONG_WORD], strict=True):
        phone.get_by_label("Your answer").fill(text)
        phone.get_by_role("button", name=re.compile(r"^Send")).click()
        received(phone)
    cards = projector.locator(".open-cards .card")
    expect(cards.filter(has_text=PAYLOADS["htmx_attrs"])).to_have_count(1)
    expect(cards.filter(has_text=LONG_WORD[:40]).first).to_be_visible()
    for phone in phones:
        no_sideways_scroll(phone)
    for card in cards.filter(visible=True).all()[:6]:
        card.hover()  # a handler that had slipped through would run now (cards the stage has no room for are hidden)
    screenshot(projector, "hostile-projector")

    # Q&A: a question of one 500-character word, signed with markup; it wraps inside its card on the other phone.
    live.goto(2)
    phones[0].get_by_label("Your question").fill(LONG_WORD)
    phones[0].get_by_label("Your name (optional)").fill(PAYLOADS["svg_onload"])
    phones[0].get_by_role("button", name="Ask", exact=True).click()
    received(phones[0])
    phones[1].get_by_label("Your question").fill(PAYLOADS["script_tag"])
    phones[1].get_by_role("button", name="Ask", exact=True).click()
    received(phones[1])
    card = phones[1].locator(".qa-item", has_text=LONG_WORD[:40])
    expect(card).to_contain_text(PAYLOADS["svg_onload"])
    fits_the_phone(phones[1], card)
    expect(projector.locator(".qa-cards .card", has_text=PAYLOADS["script_tag"])).to_have_count(1)
    expect(presenter.locator(".qa-card bdi", has_text=PAYLOADS["svg_onload"])).to_have_count(1)

    # Call for resources: a title of markup, a link that tries to break out of its attribute, a Markdown link.
    live.goto(3)
    phones[0].get_by_label("Title").fill(PAYLOADS["img_onerror"])
    phones[0].get_by_label("Link (optional)").fill(PAYLOADS["url_breakout"])
    phones[0].get_by_label("Note (optional)").fill(PAYLOADS["markdown_link"])
    phones[0].get_by_role("button", name="Send").click()
    received(phones[0])
    phones[1].get_by_label("Title").fill(WORD_120)
    phones[1].get_by_role("button", name="Send").click()
    received(phones[1])
    resource = projector.locator(".resource-card", has_text=PAYLOADS["img_onerror"])
    expect(resource).to_contain_text(PAYLOADS["markdown_link"])
    assert resource.locator("a").get_attribute("href") == PAYLOADS["url_breakout"]
    phones[0].reload()
    fits_the_phone(phones[0], phones[0].locator(".choice", has_text=WORD_120[:40]))
    no_sideways_scroll(phones[1])

    # The deck's poll: options made of markup, shown as options.
    poll = live.goto(4)
    for phone in phones:
        expect(phone.locator(".activity > h1")).to_have_text(poll["title"])
        for name in POLL_OPTIONS:
            expect(phone.locator(".choice > span", has_text=tidy(PAYLOADS[name]))).to_have_count(1)
        no_sideways_scroll(phone)
        assert phone.locator(USER_TEXT).evaluate_all(
            "els => els.every(el => getComputedStyle(el).unicodeBidi === 'plaintext')"
        )
    expect(projector.locator(".bars .label")).to_have_count(len(POLL_OPTIONS))
    assert projector.locator(USER_TEXT).evaluate_all(
        "els => els.length > 0 && els.every(el => getComputedStyle(el).unicodeBidi === 'plaintext')"
    )
    guard.assert_nothing_ran()

    # The archive's printed report, opened from a file as someone would open it after unzipping.
    report = tmp_path / "report.html"
    archive = live.api.get(f"/api/v1/sessions/{live.session['id']}/archive.zip")
    assert archive.status_code == 200, archive.text
    report.write_bytes(zipfile.ZipFile(io.BytesIO(archive.content)).read("report.html"))
    printed = guard.open(browser, LAPTOP, "report")
    guard.goto(printed, report.as_uri())
    expect(printed.locator("ol.listing li", has_text=PAYLOADS["htmx_attrs"])).to_have_count(1)
    expect(printed.locator("h3", has_text=PAYLOADS["svg_onload"])).to_have_count(1)
    for link in printed.locator("a[href]").all():
        assert (link.get_attribute("href") or "").startswith(("#", "https://", "http://"))
    guard.assert_nothing_ran()


def answer_by_api(live: LiveDeck, position: int, answers: list[dict[str, Any]]) -> None:
    """More participants answer through the JSON API (each joins, answers once)."""
    activity = live.session["activities"][position]["id"]
    base = str(live.api.base_url)
    with httpx.Client(base_url=base) as anonymous:
        for answer in answers:
            token = anonymous.post("/api/v1/join", json={"code": live.code}).json()["participant_token"]
            response = anonymous.post(
                "/api/v1/responses",
                json={"activity_id": activity, "answer": answer},
                headers={"X-Participant-Token": token},
            )
            assert response.status_code in {201, 422}, response.text


# The text on a page that sticks out past its right edge (screen-reader-only text is clipped on purpose).
STICKING_OUT = """width => {
  const out = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, range = document.createRange();
    if (node.parentElement.closest('.visually-hidden')) continue;
    range.selectNodeContents(node);
    if ([...range.getClientRects()].some(rect => rect.right > width + 0.5)) out.push(node.data.slice(0, 80));
  }
  return out;
}"""


def fits_the_phone(phone: Page, card: Locator) -> None:
    """The card lies inside the phone's width, and nothing makes the page scroll sideways.

    The card is measured in one step in the page: a push may redraw the list between finding the card and asking for
    its box, which leaves a handle to a detached element.
    """
    expect(card).to_be_visible()
    left, right = card.evaluate("card => { const box = card.getBoundingClientRect(); return [box.left, box.right]; }")
    assert 0 <= left and right <= PHONE_WIDTH + 0.5, (left, right)
    no_sideways_scroll(phone)


def no_sideways_scroll(phone: Page) -> None:
    assert phone.evaluate(STICKING_OUT, PHONE_WIDTH) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
