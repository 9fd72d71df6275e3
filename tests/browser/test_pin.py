"""Pin on image in a real browser: one phone places its pin with the mouse, another with the keyboard alone (the
pin moves and its place is said); the projector's heat map shows both, its spots measured over the very points of the
picture at 1280x720 and 1024x768 with nothing scrolling; the correct areas are outlined and counted once voting
closes. Without JavaScript a phone answers by typing the position. In the deck editor a facilitator uploads the
picture, gives its alt text and an area, and sees the phone's preview."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LAPTOP, PHONE, PageErrors, screenshot
from tests.browser.test_text_size import LOST, large_text_phone
from tests.factories import PASSWORD, LiveServer, cli

pytestmark = pytest.mark.browser

ALT = "Floor plan of Lincoln Middle School: offices on the left, classrooms along the right"
TITLE = "Where in this school do decisions get made?"
WIDTH, HEIGHT = 900, 500  # a wide plan: the projector must keep this shape, not the stage's
OFFICE = (0.1, 0.1, 0.3, 0.3)  # x, y, width, height


def floor_plan() -> bytes:
    """A simple floor plan: rooms as outlined boxes, the office shaded."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, WIDTH - 5, HEIGHT - 5), outline="black", width=6)
    x, y, w, h = OFFICE
    draw.rectangle((x * WIDTH, y * HEIGHT, (x + w) * WIDTH, (y + h) * HEIGHT), fill="#dde8f4", outline="black", width=4)
    for left in range(500, 860, 120):
        draw.rectangle((left, 40, left + 100, 220), outline="black", width=4)
        draw.rectangle((left, 280, left + 100, 460), outline="black", width=4)
    draw.rectangle((90, 300, 400, 460), fill="#f4eedd", outline="black", width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def deck(media: str) -> str:
    x, y, w, h = OFFICE
    return f"""\
title: Decisions
activities:
  - kind: pin
    title: {TITLE}
    prompt: Put your pin where most decisions about teaching are made.
    image: {{media: {media}, alt: "{ALT}"}}
    areas:
      - {{label: Principal's office, x: {x}, y: {y}, width: {w}, height: {h}}}
"""


class Running:
    """A session of the pin deck, run through the JSON API as a presenter's script would."""

    def __init__(self, api: httpx.Client, media: str) -> None:
        response = api.post("/api/v1/sessions", json={"deck_yaml": deck(media)})
        assert response.status_code == 201, response.text
        self.api = api
        self.session: dict[str, Any] = response.json()
        self.activity: dict[str, Any] = self.session["activities"][0]
        self.control("goto")

    def control(self, action: str) -> None:
        response = self.api.post(
            f"/api/v1/sessions/{self.session['id']}/control",
            json={"action": action, "activity_id": self.activity["id"]},
        )
        assert response.status_code == 200, response.text

    def tally(self) -> dict[str, Any]:
        response = self.api.get(f"/api/v1/sessions/{self.session['id']}/activities/{self.activity['id']}/tally")
        return dict(response.json())


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    password = live_server.data_dir / "pin-password"
    password.write_text(PASSWORD)
    cli(live_server, "user", "add", "pin@example.org", "--password-file", str(password))
    token = cli(live_server, "token", "create", "pin@example.org")
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture(scope="module")
def media(api: httpx.Client) -> str:
    response = api.post("/api/v1/media", files={"file": ("plan.png", floor_plan(), "image/png")})
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (WIDTH, HEIGHT)
    return str(response.json()["media"])


def boxes(projector: Page) -> dict[str, Any]:
    """Where the picture, its frame and each spot of the heat map are on the projector, and whether anything
    scrolls."""
    return dict(
        projector.evaluate(
            """() => {
              const box = (el) => { const r = el.getBoundingClientRect();
                return {left: r.left, top: r.top, width: r.width, height: r.height,
                        bottom: r.bottom, right: r.right}; };
              const image = document.querySelector(".results.pin .pin-image");
              return {
                image: box(image), frame: box(document.querySelector(".results.pin .pin-figure")),
                overlay: box(document.querySelector(".results.pin .pin-overlay")),
                natural: image.naturalWidth / image.naturalHeight, loaded: image.complete && image.naturalWidth > 0,
                spots: [...document.querySelectorAll(".results.pin .pin-spot")].map((spot) =>
                  ({x: Number(spot.dataset.x), y: Number(spot.dataset.y), box: box(spot)})),
                scrolls: document.scrollingElement.scrollHeight > innerHeight + 1
                  || document.scrollingElement.scrollWidth > innerWidth + 1,
                viewport: {width: innerWidth, height: innerHeight},
              };
            }"""
        )
    )


def assert_overlay_on_the_picture(measured: dict[str, Any]) -> None:
    """The picture keeps its own shape, fits the window, and each spot's centre is over its point of the picture."""
    image, overlay = measured["image"], measured["overlay"]
    assert measured["loaded"]
    assert not measured["scrolls"], measured
    assert abs(image["width"] / image["height"] - WIDTH / HEIGHT) < 0.02, measured
    assert image["bottom"] <= measured["viewport"]["height"] and image["right"] <= measured["viewport"]["width"]
    assert image["width"] > 0.4 * measured["viewport"]["width"], "the picture should take the room the stage has"
    for side in ("left", "top", "width", "height"):
        assert abs(image[side] - overlay[side]) < 1.5, (side, measured)
    for spot in measured["spots"]:
        centre_x = spot["box"]["left"] + spot["box"]["width"] / 2
        centre_y = spot["box"]["top"] + spot["box"]["height"] / 2
        assert abs(centre_x - (image["left"] + image["width"] * spot["x"] / 100)) < 1.5, spot
        assert abs(centre_y - (image["top"] + image["height"] * spot["y"] / 100)) < 1.5, spot


def test_pins_placed_by_mouse_and_by_keyboard_show_on_the_projector_heat_map_over_their_places(
    browser: Browser, live_server: LiveServer, api: httpx.Client, media: str, page_errors: PageErrors
) -> None:
    running = Running(api, media)
    projector = page_errors.watch(browser.new_context(viewport={"width": 1280, "height": 720}).new_page(), "projector")
    projector.goto(str(running.session["projector_url"]))
    expect(projector.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(projector.locator(".results.pin .respondents")).to_have_text("0 pins placed")

    # A phone with a mouse: a click on the office places the pin there, and the phone says where it is.
    mouse = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "mouse")
    mouse.goto(f"{live_server.url}/{running.session['code']}")
    picture = mouse.get_by_role("img", name=ALT)
    expect(picture).to_be_visible()
    shown = picture.bounding_box()
    assert shown is not None
    mouse.mouse.click(shown["x"] + 0.25 * shown["width"], shown["y"] + 0.2 * shown["height"])
    expect(mouse.locator(".pin-where")).to_have_text(re.compile(r"^2[45](\.\d)?% across, (19\.\d|20(\.\d)?)% down$"))
    expect(mouse.locator(".pin-marker")).to_have_attribute("visibility", "visible")
    mouse.get_by_role("button", name="Send").click()
    expect(mouse.locator("form.answer").get_by_role("status")).to_contain_text("Received")

    # A phone driven by the keyboard alone: Tab to the picture, arrows move the pin, Enter in the form sends it.
    keys = page_errors.watch(browser.new_context(**PHONE).new_page(), "keyboard")
    keys.goto(f"{live_server.url}/{running.session['code']}")
    expect(keys.get_by_role("img", name=ALT)).to_be_visible()
    figure = keys.get_by_role("group", name=f"Picture to pin on: {ALT}")
    for _ in range(20):
        keys.keyboard.press("Tab")
        if figure.evaluate("el => el === document.activeElement"):
            break
    expect(figure).to_be_focused()
    keys.keyboard.press("ArrowRight")  # the first key shows the pin in the middle
    expect(keys.locator(".pin-where")).to_have_text("50% across, 50% down")
    keys.keyboard.press("Shift+ArrowRight")
    keys.keyboard.press("Shift+ArrowRight")
    for _ in range(5):
        keys.keyboard.press("ArrowDown")
    expect(keys.locator(".pin-where")).to_have_text("70% across, 55% down")
    expect(keys.get_by_label("Across (% from the left)")).to_have_value("70")
    expect(keys.locator(".pin-dot")).to_have_attribute("cx", "70%")
    screenshot(keys, "pin-phone")
    keys.keyboard.press("Tab")  # into the typed fields, which say the same, and on to Send
    keys.keyboard.press("Tab")
    keys.keyboard.press("Tab")
    expect(keys.get_by_role("button", name="Send")).to_be_focused()
    keys.keyboard.press("Enter")
    expect(keys.locator("form.answer").get_by_role("status")).to_contain_text("Received")

    tally = running.tally()
    assert tally["respondents"] == 2
    expect(projector.locator(".results.pin .respondents")).to_have_text("2 pins placed")
    expect(projector.locator(".pin-spot")).to_have_count(2)
    expect(projector.locator(".pin-area")).to_have_count(0)  # the answer is not outlined while people vote
    for size in ({"width": 1280, "height": 720}, {"width": 1024, "height": 768}):
        projector.set_viewport_size(size)
        projector.wait_for_timeout(200)
        assert_overlay_on_the_picture(boxes(projector))
    projector.set_viewport_size({"width": 1280, "height": 720})

    # Voting closes: the correct area is outlined over the office and counted.
    running.control("close")
    expect(projector.locator(".pin-area")).to_have_count(1)
    expect(projector.locator(".pin-areas")).to_have_text(re.compile(r"Principal's office:\s*1\s*\(50%\)"))
    projector.wait_for_timeout(200)
    measured = boxes(projector)
    screenshot(projector, "pin-projector", full_page=False)
    assert_overlay_on_the_picture(measured)
    area = projector.locator(".pin-area").bounding_box()
    assert area is not None
    image = measured["image"]
    assert abs(area["x"] + 2 - (image["left"] + OFFICE[0] * image["width"])) < 3, (area, image)
    assert abs(area["width"] - 4 - OFFICE[2] * image["width"]) < 3, (area, image)
    screenshot(projector, "pin-projector", full_page=False)
    projector.set_viewport_size({"width": 1024, "height": 768})
    projector.wait_for_timeout(200)
    assert_overlay_on_the_picture(boxes(projector))
    screenshot(projector, "pin-projector-4-3", full_page=False)
    assert page_errors.errors == []


def test_without_javascript_a_phone_answers_by_typing_where_its_pin_goes(
    browser: Browser, live_server: LiveServer, api: httpx.Client, media: str
) -> None:
    running = Running(api, media)
    phone = browser.new_context(java_script_enabled=False, **PHONE).new_page()
    phone.goto(f"{live_server.url}/{running.session['code']}")
    expect(phone.get_by_role("img", name=ALT)).to_be_visible()
    phone.get_by_label("Across (% from the left)").fill("250")
    phone.get_by_label("Down (% from the top)").fill("40")
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_text("“Across” should be a number from 0 to 100, not 250.")).to_be_visible()
    assert running.tally()["respondents"] == 0

    phone.get_by_label("Across (% from the left)").fill("25,5")
    phone.get_by_label("Down (% from the top)").fill("40")
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("button", name="Update my answer")).to_be_visible()
    assert running.tally()["respondents"] == 1
    # The page as served again shows the counted pin where it was put, drawn without any script.
    expect(phone.locator(".pin-dot")).to_have_attribute("cx", "25.5%")
    expect(phone.locator(".pin-where")).to_have_text("25.5% across, 40% down")
    dot, shown = phone.locator(".pin-dot").bounding_box(), phone.get_by_role("img", name=ALT).bounding_box()
    assert dot is not None and shown is not None
    assert abs(dot["x"] + dot["width"] / 2 - (shown["x"] + 0.255 * shown["width"])) < 1.5


def test_a_facilitator_uploads_the_picture_gives_its_alt_text_and_an_area_in_the_editor(
    browser: Browser, live_server: LiveServer, api: httpx.Client, tmp_path: Path, page_errors: PageErrors
) -> None:
    password = live_server.data_dir / "editor-password"
    password.write_text(PASSWORD)
    cli(live_server, "user", "add", "pin-editor@example.org", "--role", "presenter", "--password-file", str(password))
    page = page_errors.watch(browser.new_context(viewport={"width": 1440, "height": 900}).new_page(), "editor")
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill("pin-editor@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/present/decks")
    page.locator("form[action='/present/decks']").get_by_label("Title").fill("Decisions")
    page.locator("form[action='/present/decks']").get_by_role("button").click()
    page.wait_for_url(re.compile(r"/present/decks/\d+/edit$"))

    page.get_by_role("button", name="Add activity").click()
    page.locator("#palette").get_by_role("button", name="Pin on image").click()
    page.get_by_label("Title", exact=True).nth(1).fill(TITLE)
    expect(page.locator("#problems-summary")).to_contain_text("needs a picture to pin on")
    plan = tmp_path / "plan.png"
    plan.write_bytes(floor_plan())
    page.get_by_label("Upload image").set_input_files(str(plan))
    alt = page.get_by_label("Alt text: what the image shows (required)")
    expect(alt).to_be_visible()
    expect(page.locator("#problems-summary")).to_contain_text("alt text")  # refused until it is given
    alt.fill(ALT)
    page.get_by_role("button", name="Add area").click()
    area = page.get_by_role("group", name="Area 1")
    area.get_by_label("Label").fill("Principal's office")
    for name, value in (("X", "0.1"), ("Y", "0.1"), ("Width", "0.3"), ("Height", "0.3")):
        area.get_by_label(name, exact=True).fill(value)
    expect(page.locator("#save-status")).to_have_text(re.compile(r"^Saved \d"), timeout=10_000)
    expect(page.locator("#problems-summary")).to_be_hidden()
    preview = page.frame_locator("#phone-preview")
    expect(preview.get_by_role("img", name=ALT)).to_be_visible()
    expect(preview.get_by_label("Across (% from the left)")).to_be_visible()
    screenshot(page, "pin-editor")

    page.reload()
    expect(page.locator("#save-status")).to_have_text("All changes saved")
    page.locator("#activity-list .row-main").first.click()
    expect(page.get_by_label("Alt text: what the image shows (required)")).to_have_value(ALT)
    expect(page.get_by_role("group", name="Area 1").get_by_label("Width", exact=True)).to_have_value("0.3")
    assert page_errors.errors == []


# Where a room of sixteen put their pins: most on the office, a cluster in a classroom, a few elsewhere.
ROOM = [(24, 18), (26, 20), (25, 22), (22, 19), (27, 17), (30, 24), (25, 19), (23, 21), (71, 62), (73, 64), (70, 60),
        (72, 66), (15, 80), (50, 50), (85, 25), (33, 16)]  # fmt: skip


def test_a_room_of_pins_makes_a_heat_map_that_fits_the_stage_over_the_picture(
    browser: Browser, live_server: LiveServer, api: httpx.Client, media: str, page_errors: PageErrors
) -> None:
    running = Running(api, media)
    with httpx.Client(base_url=live_server.url) as anonymous:
        for x, y in ROOM:
            token = anonymous.post("/api/v1/join", json={"code": running.session["code"]}).json()["participant_token"]
            answer = {"activity_id": running.activity["id"], "answer": {"x": str(x), "y": str(y)}}
            reply = anonymous.post("/api/v1/responses", json=answer, headers={"X-Participant-Token": token})
            assert reply.status_code < 300, reply.text
    running.control("close")
    projector = page_errors.watch(browser.new_context(viewport={"width": 1280, "height": 720}).new_page(), "projector")
    projector.goto(str(running.session["projector_url"]))
    expect(projector.locator(".results.pin .respondents")).to_have_text("16 pins placed")
    expect(projector.locator(".pin-areas")).to_have_text(re.compile(r"Principal's office:\s*9\s*\(56%\)"))
    projector.wait_for_timeout(200)
    assert_overlay_on_the_picture(boxes(projector))
    screenshot(projector, "pin-room-projector", full_page=False)
    projector.set_viewport_size({"width": 1024, "height": 768})
    projector.wait_for_timeout(200)
    assert_overlay_on_the_picture(boxes(projector))

    phone = page_errors.watch(
        browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page(), "phone"
    )
    running.control("open")
    phone.goto(f"{live_server.url}/{running.session['code']}")
    picture = phone.get_by_role("img", name=ALT)
    expect(picture).to_be_visible()
    shown = picture.bounding_box()
    assert shown is not None
    phone.touchscreen.tap(shown["x"] + 0.26 * shown["width"], shown["y"] + 0.2 * shown["height"])
    expect(phone.locator(".pin-marker")).to_have_attribute("visibility", "visible")
    expect(phone.get_by_label("Across (% from the left)")).to_have_value(re.compile(r"^2[56](\.\d)?$"))
    screenshot(phone, "pin-room-phone", full_page=False)
    assert page_errors.errors == []


def test_the_pin_page_reflows_at_200_percent_text_on_a_360_px_phone(
    browser: Browser, live_server: LiveServer, api: httpx.Client, media: str
) -> None:
    running = Running(api, media)
    phone = large_text_phone(browser, 2)
    phone.goto(f"{live_server.url}/{running.session['code']}")
    expect(phone.get_by_role("img", name=ALT)).to_be_visible()
    assert phone.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert phone.evaluate(LOST) == []
    for control in (phone.get_by_label("Down (% from the top)"), phone.get_by_role("button", name="Send")):
        control.scroll_into_view_if_needed()
        expect(control).to_be_in_viewport()
    phone.get_by_role("img", name=ALT).click()
    expect(phone.locator(".pin-where")).to_have_text(re.compile(r"^\d+(\.\d)?% across, \d+(\.\d)?% down$"))
    screenshot(phone, "pin-phone-200-percent", full_page=False)
