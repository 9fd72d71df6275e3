"""A 2x2 grid as a room runs it: phones place roles on influence and authority with the keyboard (two sliders per
role) or by tapping the small square, the projector plots each role's mean and spread and fits its stage, and the
presenter shows a role's cloud of individual placements to the room."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.axe import Audit
from tests.browser.factories import PHONE, LiveDeck, PageErrors, live_deck, screenshot, sign_in
from tests.browser.test_text_size import LOST, large_text_phone
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
DECK = """\
title: Influence and authority
activities:
  - kind: grid
    title: Who decides in this school?
    prompt: Place each role by how much influence and how much authority it has.
    items: [Principal, Teacher leader, Instructional coach, Parent council]
    x_label: Influence
    x_low: Low
    x_high: High
    y_label: Authority
    y_low: Low
    y_high: High
    quadrants: [Authority only, Both, Neither, Influence only]
"""
PROJECTOR_SIZES = {"720p": (1280, 720), "4:3": (1024, 768)}
STANDING_PHONE = {**PHONE, "viewport": {"width": 390, "height": 844}}


@pytest.fixture
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_yaml": DECK}) as running:
        running.goto(0)
        yield running


def slider(phone: Page, item: str, axis: str) -> Locator:
    return phone.get_by_role("group", name=item).get_by_role("slider", name=axis)


def send(phone: Page) -> None:
    phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()


def answer_by_api(live: LiveDeck, token: str, fields: dict[str, str]) -> None:
    activity = live.session["activities"][0]
    response = live.api.post(
        "/api/v1/responses",
        json={"activity_id": activity["id"], "answer": fields},
        headers={"X-Participant-Token": token, "Authorization": ""},
    )
    assert response.status_code == 201, response.text


def join_by_api(live: LiveDeck) -> str:
    response = live.api.post("/api/v1/join", json={"code": live.code}, headers={"Authorization": ""})
    return str(response.json()["participant_token"])


def stage_problems(page: Page) -> list[str]:
    """What would make the stage wrong: the page scrolls, or the plot, the key or the count leaves the window."""
    return list(
        page.evaluate(
            """() => {
      const found = [], root = document.documentElement;
      if (root.scrollWidth > innerWidth || root.scrollHeight > innerHeight) found.push("the page scrolls");
      for (const s of [".grid-plot", ".grid-legend", ".respondents", ".projector-title"]) {
        const el = document.querySelector(s);
        if (!el) { found.push(`${s} missing`); continue; }
        const r = el.getBoundingClientRect();
        if (r.width < 1 || r.height < 1) found.push(`${s} not shown`);
        if (r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5)
          found.push(`${s} outside the window`);
      }
      const plot = document.querySelector(".grid-plot").getBoundingClientRect();
      if (plot.height < innerHeight / 3) found.push(`the plot is small: ${plot.height}px`);
      return found;
    }"""
        )
    )


def test_phones_place_roles_with_the_keyboard_and_the_projector_plots_each_mean(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    projector = page_errors.watch(browser.new_context(viewport={"width": 1280, "height": 720}).new_page(), "projector")
    projector.goto(str(live.session["projector_url"]))
    expect(projector.get_by_role("heading", name="Who decides in this school?")).to_be_visible()

    phone = page_errors.watch(browser.new_context(**STANDING_PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{live.code}")
    expect(phone.get_by_role("heading", name="Who decides in this school?")).to_be_visible()

    # Every slider starts in the middle and says so; skipping everything is refused with what to do.
    expect(slider(phone, "Principal", "Influence")).to_have_value("5")
    for item in ("Principal", "Teacher leader", "Instructional coach", "Parent council"):
        phone.get_by_role("group", name=item).get_by_label("Skip this item").check()
    send(phone)
    expect(phone.get_by_role("status")).to_have_text("Place at least one item before sending.")

    # The keyboard alone: focus a slider and press keys. Moving a slider takes back its item's skip.
    influence = slider(phone, "Principal", "Influence")
    influence.focus()
    for _ in range(3):
        phone.keyboard.press("ArrowRight")
    slider(phone, "Principal", "Authority").focus()
    phone.keyboard.press("End")
    expect(phone.get_by_role("group", name="Principal").get_by_label("Skip this item")).not_to_be_checked()
    expect(phone.get_by_role("group", name="Principal").locator(".grid-value").first).to_have_text("8")
    slider(phone, "Teacher leader", "Influence").focus()
    phone.keyboard.press("End")
    phone.keyboard.press("ArrowLeft")
    slider(phone, "Teacher leader", "Authority").focus()
    phone.keyboard.press("Home")
    phone.keyboard.press("ArrowRight")
    phone.keyboard.press("ArrowRight")
    send(phone)
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()

    # The preview square: a tap near its top-right corner puts the coach high on both axes.
    coach = phone.get_by_role("group", name="Instructional coach")
    coach.get_by_label("Skip this item").uncheck()
    pad = coach.locator(".grid-pad")
    box = pad.bounding_box()
    assert box is not None
    pad.click(position={"x": 0.7 * box["width"], "y": 0.1 * box["height"]})
    expect(slider(phone, "Instructional coach", "Influence")).to_have_value("7")
    expect(slider(phone, "Instructional coach", "Authority")).to_have_value("9")
    send(phone)
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    screenshot(phone, "grid-phone-whole")
    phone.evaluate("() => window.scrollTo(0, 0)")
    screenshot(phone, "grid-phone", full_page=False)

    # Two more people answer; the projector shows each role's mean with its spread and how many placed it.
    answer_by_api(live, join_by_api(live), {"item-0-x": "8", "item-0-y": "10", "item-1-x": "9", "item-1-y": "4"})
    answer_by_api(live, join_by_api(live), {"item-0-x": "10", "item-0-y": "10", "item-3-x": "3", "item-3-y": "1"})
    expect(projector.locator(".respondents")).to_have_text("3 people answered")
    principal = projector.locator(".grid-key").filter(has_text="Principal")
    expect(principal).to_contain_text("Influence 8.7 ± 0.9 · Authority 10.0 ± 0.0 · 3 placed")
    expect(projector.locator(".grid-key").filter(has_text="Teacher leader")).to_contain_text("Influence 9.0 ± 0.0")
    expect(projector.locator(".grid-key").filter(has_text="Parent council")).to_contain_text(
        "1 placed · 2 people skipped it"
    )
    expect(projector.locator(".grid-mean")).to_have_count(4)
    expect(projector.get_by_text("Authority only")).to_be_visible()
    expect(projector.locator(".grid-cloud")).to_have_count(0)  # no individual placements until the presenter asks
    for size, (width, height) in PROJECTOR_SIZES.items():
        projector.set_viewport_size({"width": width, "height": height})
        projector.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        assert stage_problems(projector) == [], size
    projector.set_viewport_size({"width": 1280, "height": 720})

    # The presenter shows the principal's cloud: three placements, two of them at one point (one disc, drawn larger).
    presenter = page_errors.watch(browser.new_context(viewport={"width": 1440, "height": 900}).new_page(), "presenter")
    sign_in(presenter, live_server, int(live.session["id"]))
    presenter.locator(".grid-key").filter(has_text="Principal").get_by_role("button", name="Show placements").click()
    expect(projector.locator('.grid-cloud[data-item="0"] circle')).to_have_count(2)
    expect(presenter.locator('.grid-cloud[data-item="0"] circle')).to_have_count(2)
    expect(projector.locator('.grid-cloud[data-item="0"] circle title').last).to_have_text("Principal: 10, 10 (1)")
    expect(projector.locator('.grid-cloud[data-item="0"] circle title').first).to_have_text("Principal: 8, 10 (2)")
    presenter.get_by_role("button", name="Show every item's placements").click()
    expect(projector.locator(".grid-cloud")).to_have_count(4)
    screenshot(projector, "grid-projector", full_page=False)
    screenshot(presenter, "grid-presenter", full_page=False)
    presenter.get_by_role("button", name="Hide all placements").click()
    expect(projector.locator(".grid-cloud")).to_have_count(0)
    projector.set_viewport_size({"width": 1024, "height": 768})
    screenshot(projector, "grid-projector-4x3", full_page=False)
    assert page_errors.errors == []


def test_a_facilitator_adds_a_grid_in_the_deck_editor_and_the_phone_preview_shows_its_sliders(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    page = page_errors.watch(browser.new_context(viewport={"width": 1440, "height": 900}).new_page(), "editor")
    sign_in(page, live_server, int(live.session["id"]))  # the presenter live_deck made
    page.goto(f"{live_server.url}/present/decks")
    page.locator("form[action='/present/decks']").get_by_label("Title").fill("Who decides")
    page.locator("form[action='/present/decks']").get_by_role("button").click()
    page.wait_for_url(re.compile(r"/present/decks/\d+/edit$"))
    expect(page.locator("#save-status")).to_have_text("All changes saved")

    page.get_by_role("button", name="Add activity").click()
    page.locator("#palette").get_by_role("button", name="2x2 grid").click()
    page.get_by_label("Title", exact=True).nth(1).fill("Where do decisions get made?")
    page.get_by_label("Items: item 1").fill("Principal")
    page.get_by_role("button", name="Add item").click()
    page.get_by_label("Items: item 2").fill("Instructional coach")
    page.get_by_label("Horizontal axis").fill("Voice")
    page.get_by_label("Vertical axis").fill("Vote")
    page.get_by_label("Highest point").fill("5")
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Saved \d"), timeout=10_000)
    expect(page.locator("#problems-summary")).to_be_hidden()

    preview = page.frame_locator("#phone-preview")
    expect(preview.get_by_role("heading", name="Where do decisions get made?")).to_be_visible()
    voice = preview.get_by_role("group", name="Instructional coach").get_by_role("slider", name="Voice")
    expect(voice).to_have_attribute("max", "5")
    expect(preview.get_by_role("group", name="Principal").get_by_role("slider", name="Vote")).to_be_visible()

    # Four quadrant names or none: three are a problem shown at the field, and nothing is started from it.
    for n in range(3):
        page.get_by_role("button", name="Add quadrant name").click()
        page.get_by_label(f"Quadrant names: item {n + 1}").fill(["Vote only", "Both", "Neither"][n])
    expect(page.locator("#problems-summary")).to_contain_text("four quadrant labels")
    expect(page.get_by_role("button", name="Start session")).to_be_disabled()
    page.get_by_role("button", name="Add quadrant name").click()
    page.get_by_label("Quadrant names: item 4").fill("Voice only")
    expect(page.locator("#problems-summary")).to_be_hidden()
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Saved \d"), timeout=10_000)

    page.reload()
    expect(page.locator("#save-status")).to_have_text("All changes saved")
    page.locator("#activity-list .row-main").first.click()
    expect(page.get_by_label("Horizontal axis")).to_have_value("Voice")
    expect(page.get_by_label("Quadrant names: item 4")).to_have_value("Voice only")
    screenshot(page, "grid-editor")
    assert page_errors.errors == []


def test_the_grid_reflows_on_a_360_px_phone_at_200_percent_text_and_axe_finds_nothing_serious(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    audit = Audit()
    phone = page_errors.watch(large_text_phone(browser, 2), "phone at 200%")
    phone.goto(f"{live_server.url}/{live.code}")
    expect(phone.get_by_role("heading", name="Who decides in this school?")).to_be_visible()
    assert phone.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "32px"
    # Still answerable with the keyboard, every control reachable on screen.
    coach = slider(phone, "Parent council", "Authority")
    coach.scroll_into_view_if_needed()
    expect(coach).to_be_in_viewport()
    coach.focus()
    phone.keyboard.press("Home")
    send(phone)
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    # Measured last: LOST leaves empty style attributes behind, which a later swap would copy (a CSP report).
    assert phone.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert phone.evaluate(LOST) == []
    screenshot(phone, "grid-phone-200-percent", full_page=False)
    audit.check(phone, "grid phone at 200% text")

    projector = page_errors.watch(browser.new_context(viewport={"width": 1280, "height": 720}).new_page(), "projector")
    projector.goto(str(live.session["projector_url"]))
    expect(projector.locator(".grid-mean")).to_have_count(4)
    audit.check(projector, "grid projector")
    audit.assert_clean()
    assert page_errors.errors == []


SPANISH_DECK = """\
title: Quién decide
activities:
  - kind: grid
    title: {en: "Who decides?", es: "¿Quién decide?"}
    items: [{en: Principal, es: Director}, {en: Teacher leader, es: Docente líder}]
    x_label: {en: Influence, es: Influencia}
    y_label: {en: Authority, es: Autoridad}
    x_low: {en: Low, es: Baja}
    x_high: {en: High, es: Alta}
"""


def test_a_phone_and_a_projector_in_spanish_show_the_grid_in_spanish(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    with live_deck(live_server, {"deck_yaml": SPANISH_DECK}) as live:
        live.goto(0)
        phone = page_errors.watch(browser.new_context(**STANDING_PHONE, locale="es").new_page(), "phone")
        phone.goto(f"{live_server.url}/{live.code}")
        expect(phone.get_by_role("heading", name="¿Quién decide?")).to_be_visible()
        expect(phone.get_by_text("Ubica cada uno de los 2 elementos en los dos ejes")).to_be_visible()
        phone.get_by_role("group", name="Docente líder").get_by_label("Omitir este elemento").check()
        slider(phone, "Director", "Influencia").focus()
        phone.keyboard.press("End")
        phone.get_by_role("button", name="Enviar").click()
        expect(phone.get_by_role("status").filter(has_text="Recibida")).to_be_visible()

        projector = page_errors.watch(
            browser.new_context(viewport={"width": 1280, "height": 720}, locale="es").new_page(), "projector"
        )
        projector.goto(str(live.session["projector_url"]))
        expect(projector.locator(".respondents")).to_have_text("1 persona respondió")
        director = projector.locator(".grid-key").filter(has_text="Director")
        expect(director).to_contain_text("Influencia 10,0 ± 0,0 · Autoridad 5,0 ± 0,0 · 1 ubicación")
        expect(projector.locator(".grid-key").filter(has_text="Docente líder")).to_contain_text("1 persona lo omitió")
        expect(projector.locator(".grid-plot")).to_contain_text("10 Alta")
        screenshot(projector, "grid-projector-spanish", full_page=False)
    assert page_errors.errors == []
