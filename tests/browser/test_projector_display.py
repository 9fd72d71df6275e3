"""The projector from the back of the room: large type everywhere, a high-contrast option chosen by a plain link and
remembered, and motion that stops for people who asked their system for less of it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import Audit
from tests.browser.factories import LAPTOP, PHONE, LiveDeck, screenshot
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
SMALLEST_PX = 20  # at 1280 px wide, what a projector shows is never smaller than this
POLL = "How do school leaders spend their time?"

# Every element that has text of its own, with its computed size: what the room has to read.
TEXT_SIZES = """() => [...document.querySelectorAll("body *")]
  .filter(el => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) && el.checkVisibility()
                && !el.closest(".visually-hidden, svg"))
  .map(el => [el.tagName.toLowerCase() + "." + el.className, el.textContent.trim().slice(0, 30),
              parseFloat(getComputedStyle(el).fontSize)])"""


def activity(example_deck: LiveDeck, title: str) -> dict[str, Any]:
    return next(a for a in example_deck.session["activities"] if a["title"] == title)


def answer_poll(browser: Browser, server: LiveServer, example_deck: LiveDeck, choice: str) -> None:
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{server.url}/{example_deck.code}")
    phone.get_by_role("radio", name=choice).check()
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    phone.context.close()


def small_text(projector: Page) -> list[Any]:
    return [found for found in projector.evaluate(TEXT_SIZES) if found[2] < SMALLEST_PX]


def test_the_projector_has_large_type_and_a_remembered_high_contrast_option(
    browser: Browser, live_server: LiveServer, example_deck: LiveDeck
) -> None:
    projector = browser.new_context(**LAPTOP).new_page()
    projector.goto(str(example_deck.session["projector_url"]))
    expect(projector.locator(".lobby .code")).to_be_visible()
    assert small_text(projector) == []

    poll = activity(example_deck, POLL)
    example_deck.goto(poll["position"])
    answer_poll(browser, live_server, example_deck, "Putting out fires")
    expect(projector.locator(".respondents")).to_have_text("1 person answered")
    assert small_text(projector) == []
    assert "high-contrast" not in (projector.locator("body").get_attribute("class") or "")

    # A link, no JavaScript: the projector switches and stays switched on reload and on its next session link.
    projector.get_by_role("link", name="High contrast").click()
    expect(projector.locator("body")).to_have_class("projector high-contrast")
    expect(projector.locator(".bars li", has_text="Putting out fires").locator(".value")).to_contain_text("100%")
    projector.goto(str(example_deck.session["projector_url"]))
    expect(projector.locator("body")).to_have_class("projector high-contrast")
    ink = projector.evaluate("() => getComputedStyle(document.querySelector('.respondents')).color")
    assert ink == "rgb(0, 0, 0)"  # no grey text in high contrast
    assert small_text(projector) == []
    audit = Audit()
    audit.check(projector, "projector in high contrast")
    audit.assert_clean()
    screenshot(projector, "projector-high-contrast")

    # A contrast the projector does not know is refused with a message and changes nothing.
    response = httpx.get(str(example_deck.session["projector_url"]) + "?contrast=loud", headers={"Accept": "text/html"})
    assert response.status_code == 400 and "either" in response.text and "set-cookie" not in response.headers
    projector.get_by_role("link", name="Standard contrast").click()
    expect(projector.locator("body")).to_have_class("projector")
    screenshot(projector, "projector-standard-contrast")


# The animation and transition that run on the projector: a floating reaction and a word-cloud picture fading in.
MOTION = """() => {
  const reaction = document.querySelector("#reactions .reaction"), cloud = document.querySelector(".cloud-image");
  const r = getComputedStyle(reaction), c = getComputedStyle(cloud);
  return {reaction: r.animationName, cloud: c.transitionDuration};
}"""


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
def test_motion_stops_when_the_system_asks_for_less(
    motion: str, browser: Browser, live_server: LiveServer, example_deck: LiveDeck
) -> None:
    example_deck.goto(0)  # a word cloud
    assert example_deck.session["reactions"], "the example deck's session takes reactions"
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{live_server.url}/{example_deck.code}")
    phone.get_by_label("Entry 1 of 3").fill("trust")
    phone.get_by_role("button", name=re.compile("Send|Update my answer")).click()
    projector = browser.new_context(**LAPTOP, reduced_motion=motion).new_page()  # type: ignore[arg-type]
    projector.goto(str(example_deck.session["projector_url"]))
    expect(projector.locator(".cloud-image")).to_be_attached()
    phone.get_by_role("button", name="Love it").click()
    expect(projector.locator("#reactions .reaction").first).to_be_attached()
    found = projector.evaluate(MOTION)
    if motion == "reduce":
        # Nothing floats; the reaction fades out in place, so it still leaves the screen.
        assert found == {"reaction": "fade-out", "cloud": "0s"}
    else:
        assert found == {"reaction": "float-up", "cloud": "0.3s"}
    expect(projector.locator("#reactions .reaction")).to_have_count(0, timeout=10_000)
