"""Text at 200% on a 360 px phone: every kind's page reflows (no sideways scrolling, nothing cut off, the controls on
screen). The size is Chromium's own default-font-size setting, what a person with large text sets; no stylesheet is
injected, so the page's Content-Security-Policy stays as it is."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from activities import registry
from tests.browser.factories import PHONE, LiveDeck, first_of_each_kind, screenshot
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
DEFAULT_FONT_PX = 16  # Chromium's default "standard" font size

# Every element that sticks out sideways past the page, cuts off its own content (overflow other than visible,
# ellipsis included) or fits its words only by breaking them mid-word ("Influe / nce"), as "tag.class: what";
# visually hidden text (for screen readers) is left out.
LOST = """() => {
  const width = document.documentElement.clientWidth, found = [];
  for (const element of document.body.querySelectorAll("*")) {
    if (element.closest(".visually-hidden, [hidden], svg, option")) continue;
    const box = element.getBoundingClientRect(), style = getComputedStyle(element);
    if (!box.width && !box.height) continue;
    const name = element.tagName.toLowerCase() + (element.className ? "." + element.className : "");
    if (box.right > width + 0.5 || box.left < -0.5) found.push(`${name}: spans ${box.left}..${box.right} of ${width}`);
    const clips = style.overflowX !== "visible" || style.textOverflow === "ellipsis";
    if (clips && element.scrollWidth > element.clientWidth + 1)
      found.push(`${name}: shows ${element.clientWidth} of ${element.scrollWidth} px`);
    const text = [...element.childNodes].some(node => node.nodeType === 3 && node.textContent.trim());
    if (!text || style.display === "inline") continue;
    // Words kept whole (CSSOM, which the page's policy allows, unlike a style attribute): an element that then
    // overflows, or grows (a flex item sized by its words), was breaking one.
    element.style.overflowWrap = "normal";
    if (element.scrollWidth > element.clientWidth + 1 || element.getBoundingClientRect().width > box.width + 1)
      found.push(`${name}: breaks "${element.textContent.trim()}"`);
    element.style.overflowWrap = "";
  }
  return found;
}"""


def large_text_phone(browser: Browser, scale: float) -> Page:
    """A 360 px phone whose browser is set to show text at `scale` times the default size."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    size = round(DEFAULT_FONT_PX * scale)
    context.new_cdp_session(page).send("Page.setFontSizes", {"fontSizes": {"standard": size, "fixed": size}})
    return page


def test_every_kind_reflows_at_200_percent_text(
    browser: Browser, live_server: LiveServer, example_deck: LiveDeck
) -> None:
    phone = large_text_phone(browser, 2)
    lost: list[str] = []
    for kind, activity in first_of_each_kind(example_deck.session).items():
        example_deck.goto(activity["position"])
        phone.goto(f"{live_server.url}/{example_deck.code}")
        expect(phone.get_by_role("heading", name=activity["title"])).to_be_visible()
        assert phone.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "32px"
        sideways = phone.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        lost += [f"{kind}: the page scrolls sideways by {sideways} px"] if sideways > 0 else []
        lost += [f"{kind}: {found}" for found in phone.evaluate(LOST)]
        if not registry[kind].takes_answers:
            continue  # a content slide: read, nothing to send
        submit = phone.locator("form.answer").get_by_role("button", name="Ask" if kind == "qa" else "Send")
        submit.scroll_into_view_if_needed()
        expect(submit).to_be_in_viewport()
        controls = "label.choice, input:not([type=hidden], .visually-hidden), select, textarea"
        first = phone.locator("form.answer fieldset").locator(controls).first
        first.scroll_into_view_if_needed()
        expect(first).to_be_in_viewport()
        if kind in ("sort", "scale"):
            screenshot(phone, f"phone-200-percent-{kind}", full_page=False)
    assert lost == [], "content lost at 200% text:\n" + "\n".join(lost)


def test_the_join_page_and_lobby_reflow_at_200_percent_text(
    browser: Browser, live_server: LiveServer, example_deck: LiveDeck
) -> None:
    phone = large_text_phone(browser, 2)
    phone.goto(live_server.url + "/")
    assert phone.evaluate(LOST) == []
    code = phone.get_by_label("Enter the code on the screen")
    expect(code).to_be_in_viewport()
    code.fill(example_deck.code)
    phone.get_by_role("button", name="Join").click()
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    assert phone.evaluate(LOST) == []
