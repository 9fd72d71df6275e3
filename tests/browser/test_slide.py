"""Content slides in a real session: phones show the slide (or point to the screen), the projector shows it large and
whole inside a 1280x720 screen, the audience's pace steps past it, and axe finds nothing blocking on either."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlmodel import Session, create_engine

from server.models import Media
from tests.browser.axe import Audit
from tests.browser.factories import PHONE, LiveDeck, live_deck, screenshot, sign_in
from tests.factories import LiveServer

pytestmark = pytest.mark.browser

PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
TALL_PHONE = {**PHONE, "viewport": {"width": 390, "height": 844}}
ALT = "A floor plan of a school: the office in the middle, classrooms around it"
PAGE_ALT = "Page 1 of the imported deck: the cycle of inquiry"

DECK = """\
title: Leading together
activities:
  - kind: poll
    title: How do school leaders spend their time?
    options: [Putting out fires, Maintenance, Improvement]
  - kind: slide
    title: Where leadership happens
    layout: image-right
    image: {{media: {plan}, alt: "{alt}"}}
    body: |
      # Look at the plan
      - **Leadership** is a practice, *not* a position
      - It happens in [every room](https://example.org/rooms)

      > Teachers lead too.
  - kind: slide
    title: Distributed leadership
    body: |
      Leadership is shared across **many people** in a school.

      1. Name the practice
      2. Watch it in action
      3. Talk about what you saw
  - kind: slide
    title: The cycle of inquiry
    layout: image-full
    image: {{media: {page}, alt: "{page_alt}"}}
  - kind: slide
    title: Thank you for leading with us
    layout: title
    body: Phoenix, April 24
  - kind: slide
    title: {long_title}
    layout: image-left
    image: {{media: {plan}, alt: "{alt}"}}
    body: "{long_body}"
"""
POLL, PLAN, TEXT, PAGE, END, LONG = 0, 1, 2, 3, 4, 5
LONG_TITLE = "A title that goes on for a while, as imported titles sometimes do, and wraps onto a second line"
LONG_BODY = "\\n".join(
    f"- Point {n}: leadership is a practice people share, not a position one holds" for n in range(30)
)

# Each box of the slide on the projector, by what it is: all must be on screen, and none may overlap another.
BOXES = """() => {
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const projected = document.querySelector(".projected");
  return {title: box(projected.querySelector(".projector-title")), body: box(projected.querySelector(".slide-body")),
          image: box(projected.querySelector(".slide-image")),
          screen: {right: window.innerWidth, bottom: window.innerHeight}};
}"""


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    picture = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 40):  # a few lines, so the picture reads as one in a screenshot
        for y in range(height):
            picture.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def store_image(server: LiveServer, data: bytes, width: int, height: int) -> str:
    """An uploaded image as the upload route would store it (that route is another part's), straight into the
    server's database: named by the SHA-256 of its bytes."""
    name = hashlib.sha256(data).hexdigest() + ".png"
    engine = create_engine(f"sqlite:///{server.data_dir / 'handsup.db'}")
    with Session(engine) as db:
        db.add(Media(name=name, media_type="image/png", width=width, height=height, size=len(data), data=data))
        db.commit()
    engine.dispose()
    return name


def serve_images(context: BrowserContext, images: dict[str, bytes]) -> None:
    """Where this server has no /media route yet, the browser is handed the stored bytes for /media/<name>."""

    def media(route: Route) -> None:
        response = route.fetch()
        name = route.request.url.rsplit("/", 1)[-1]
        if response.status == 404 and name in images:
            route.fulfill(status=200, body=images[name], content_type="image/png")
        else:
            route.fulfill(response=response)

    context.route("**/media/*", media)


@pytest.fixture(scope="module")
def images(live_server: LiveServer) -> dict[str, bytes]:
    plan, page = png(800, 600, (0, 90, 160)), png(1600, 900, (120, 60, 0))
    return {store_image(live_server, plan, 800, 600): plan, store_image(live_server, page, 1600, 900): page}


@pytest.fixture(scope="module")
def deck(live_server: LiveServer, images: dict[str, bytes]) -> Iterator[LiveDeck]:
    plan, page = images
    text = DECK.format(plan=plan, page=page, alt=ALT, page_alt=PAGE_ALT, long_title=LONG_TITLE, long_body=LONG_BODY)
    with live_deck(live_server, {"deck_yaml": text}) as running:
        yield running


def open_page(browser: Browser, options: dict[str, Any], images: dict[str, bytes], url: str) -> Page:
    context = browser.new_context(**options)
    serve_images(context, images)
    page = context.new_page()
    page.goto(url)
    return page


def on_screen_and_apart(projector: Page, *parts: str) -> dict[str, Any]:
    """The boxes of the projected slide, checked: each part inside the viewport, no two overlapping."""
    boxes = projector.evaluate(BOXES)
    screen = boxes["screen"]
    for part in parts:
        box = boxes[part]
        assert box is not None, f"the projector shows no {part}"
        assert box["left"] >= 0 and box["top"] >= 0, (part, box)
        assert box["right"] <= screen["right"] and box["bottom"] <= screen["bottom"], (part, box, screen)
        assert box["right"] - box["left"] > 100 and box["bottom"] - box["top"] > 30, (part, box)
    for index, first in enumerate(parts):
        for second in parts[index + 1 :]:
            a, b = boxes[first], boxes[second]
            apart = (
                a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or b["bottom"] <= a["top"]
            )
            assert apart, f"the {first} and the {second} overlap: {a} {b}"
    return dict(boxes)


def test_slides_show_on_phones_and_large_on_the_projector_and_the_pace_steps_past_them(
    browser: Browser, live_server: LiveServer, deck: LiveDeck, images: dict[str, bytes]
) -> None:
    audit = Audit()
    projector = open_page(browser, PROJECTOR, images, str(deck.session["projector_url"]))
    phone = open_page(browser, TALL_PHONE, images, f"{live_server.url}/{deck.code}")
    deck.goto(POLL)
    phone.get_by_role("radio", name="Improvement").check()
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()

    # A slide with an image beside its text: the phone shows both, and has nothing to send.
    deck.goto(PLAN)
    expect(phone.get_by_role("heading", name="Where leadership happens", level=1)).to_be_visible()
    expect(phone.get_by_role("heading", name="Look at the plan", level=2)).to_be_visible()
    expect(phone.get_by_role("img", name=ALT)).to_be_visible()
    expect(phone.get_by_role("link", name="every room")).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(phone.get_by_role("button", name="Send")).to_have_count(0)
    expect(phone.locator("blockquote")).to_have_text("Teachers lead too.")
    audit.check(phone, "phone with an image slide")
    screenshot(phone, "slide-phone-image")

    expect(projector.get_by_role("img", name=ALT)).to_be_visible()
    expect(projector.locator(".slide-body li").first).to_contain_text("Leadership is a practice")
    boxes = on_screen_and_apart(projector, "title", "body", "image")
    assert boxes["image"]["left"] > boxes["body"]["left"]  # image-right: the picture is on the right
    assert projector.evaluate("() => document.querySelector('.slide-image').naturalWidth") == 800  # it loaded
    font = projector.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.slide-body li')).fontSize)")
    assert font >= 28  # read from the back of the room
    expect(projector.locator(".closed-note, .hidden-results")).to_have_count(0)
    audit.check(projector, "projector with an image slide")
    screenshot(projector, "slide-projector-image-right", full_page=False)

    # A slide of text.
    deck.goto(TEXT)
    expect(phone.get_by_role("heading", name="Distributed leadership", level=1)).to_be_visible()
    expect(phone.locator(".slide-body ol li")).to_have_count(3)
    expect(projector.locator(".slide-body ol li")).to_have_count(3)
    on_screen_and_apart(projector, "title", "body")
    audit.check(projector, "projector with a text slide")
    screenshot(projector, "slide-projector-text", full_page=False)
    screenshot(phone, "slide-phone-text")

    # An image filling the stage, as an imported page is: the projector shows it whole, phones point to the screen.
    deck.goto(PAGE)
    expect(phone.get_by_text("Look at the screen.")).to_be_visible()
    expect(phone.locator(".slide-image")).to_have_count(0)
    expect(projector.get_by_role("img", name=PAGE_ALT)).to_be_visible()
    boxes = on_screen_and_apart(projector, "title", "image")
    assert boxes["image"]["bottom"] - boxes["image"]["top"] > 360  # it fills the stage, not a thumbnail
    audit.check(phone, "phone pointed to the screen")
    audit.check(projector, "projector with an image-full slide")
    screenshot(phone, "slide-phone-look")
    screenshot(projector, "slide-projector-image-full", full_page=False)

    # A title slide: the title large in the middle, the body under it.
    deck.goto(END)
    expect(projector.locator(".slide-body")).to_have_text("Phoenix, April 24")
    boxes = on_screen_and_apart(projector, "title", "body")
    middle = (boxes["title"]["top"] + boxes["body"]["bottom"]) / 2
    assert 0.4 < middle / boxes["screen"]["bottom"] < 0.75  # the middle of the stage, under the join banner
    title = projector.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.projector-title')).fontSize)"
    )
    assert title > 60
    audit.check(projector, "projector with a title slide")
    screenshot(projector, "slide-projector-title", full_page=False)
    screenshot(phone, "slide-phone-title")

    # Much more text than a screen holds: the title, the picture and the text's box stay on screen and apart (the
    # text shrinks to the floor, then shows as many points as fit, rather than pushing the picture or running under
    # the footer: the projector's fit step, tests/browser/test_projector_stage.py).
    deck.goto(LONG)
    expect(projector.locator(".slide-body li")).to_have_count(30)
    boxes = on_screen_and_apart(projector, "title", "body", "image")
    assert boxes["image"]["right"] <= boxes["body"]["left"]  # image-left
    screenshot(projector, "slide-projector-long", full_page=False)
    deck.goto(PAGE)

    # The presenter sees the slide, with no voting controls.
    laptop = open_page(browser, LAPTOP, images, live_server.url)
    sign_in(laptop, live_server, int(deck.session["id"]))
    expect(laptop.locator(".slide-facts")).to_contain_text("Phones show its title and “Look at the screen.”")
    expect(laptop.get_by_role("button", name="Close voting")).to_have_count(0)
    screenshot(laptop, "slide-presenter-image-full")
    deck.goto(PLAN)
    expect(laptop.get_by_role("img", name=ALT)).to_be_visible()
    screenshot(laptop, "slide-presenter-image-right")

    # At the audience's pace a newcomer lands on the poll, may read the slides on the way (Next), and once the poll is
    # answered is done: a slide is never something left to answer.
    paced = deck.api.post(
        f"/api/v1/sessions/{deck.session['id']}/control", json={"action": "pace", "fields": {"pace": "audience"}}
    )
    assert paced.status_code == 200, paced.text
    newcomer = open_page(browser, TALL_PHONE, images, f"{live_server.url}/{deck.code}")
    expect(newcomer.get_by_text("0 of 1 answered")).to_be_visible()
    newcomer.get_by_role("radio", name="Maintenance").check()
    newcomer.get_by_role("button", name="Send").click()
    expect(newcomer.locator(".status.ok")).to_contain_text("Received")
    newcomer.get_by_role("link", name="Next →").click()
    expect(newcomer.get_by_role("img", name=ALT)).to_be_visible()
    expect(newcomer.get_by_text("1 of 1 answered")).to_be_visible()
    expect(newcomer.get_by_role("button", name="Send")).to_have_count(0)
    newcomer.get_by_role("link", name="Next →").click()
    expect(newcomer.get_by_role("heading", name="Distributed leadership", level=1)).to_be_visible()
    newcomer.get_by_role("link", name="Next →").click()
    expect(newcomer.get_by_text("Look at the screen.")).to_be_visible()
    newcomer.get_by_role("link", name="Next →").click()
    expect(newcomer.get_by_role("heading", name="Thank you for leading with us")).to_be_visible()
    newcomer.get_by_role("link", name="Next →").click()
    expect(newcomer.get_by_role("heading", name=LONG_TITLE)).to_be_visible()
    newcomer.get_by_role("link", name="Finish").click()
    expect(newcomer.get_by_role("heading", name="All done, thank you!")).to_be_visible()
    newcomer.goto(f"{live_server.url}/{deck.code}")  # where the pace puts them: past every slide, done
    expect(newcomer.get_by_role("heading", name="All done, thank you!")).to_be_visible()
    expect(newcomer.get_by_text("1 of 1 answered")).to_be_visible()
    audit.assert_clean()
    for page in (projector, phone, laptop, newcomer):
        page.context.close()
