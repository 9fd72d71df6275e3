"""A call for resources as people run it: phones suggest and upvote, the presenter approves, the projector shows."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.factories import LAPTOP, PHONE, LiveDeck, PageErrors, live_deck, screenshot, sign_in
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
DECK = """\
title: Call for resources
activities:
  - kind: resources
    title: Call for resources
    prompt: What resources have deepened your understanding of distributed leadership?
"""


@pytest.fixture(scope="module")
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_yaml": DECK}) as running:
        yield running


def suggest(phone: Page, kind: str, title: str, link: str = "", note: str = "") -> None:
    phone.get_by_label("Type").select_option(kind)
    phone.get_by_label("Title").fill(title)
    phone.get_by_label("Link (optional)").fill(link)
    phone.get_by_label("Note (optional)").fill(note)
    send(phone)


def send(phone: Page) -> None:
    phone.get_by_role("button", name=re.compile(r"^(Send|Update my answer)$")).click()


def test_resources_merge_wait_for_approval_and_collect_upvotes(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    dialogs: list[str] = []
    live.goto(0)
    projector = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "projector")
    projector.goto(str(live.session["projector_url"]))
    presenter = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "presenter")
    sign_in(presenter, live_server, int(live.session["id"]))
    phones = [page_errors.watch(browser.new_context(**PHONE).new_page(), f"phone {i}") for i in range(3)]
    for page in [projector, presenter, *phones]:
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    for phone in phones:
        phone.goto(f"{live_server.url}/{live.code}")
        expect(phone.get_by_role("heading", name="Call for resources")).to_be_visible()

    # Nothing chosen, then a script for a link: each refusal says what to do.
    send(phones[0])
    expect(phones[0].get_by_role("status")).to_have_text("Suggest a resource or upvote one first.")
    suggest(phones[0], "tool", "Sneaky", "javascript:alert(1)")
    expect(phones[0].get_by_role("status")).to_have_text(
        "Only web links can be shared: start the link with https:// or http://."
    )

    # Two people suggest the same toolkit, its link written differently; a third suggests a video.
    suggest(phones[0], "tool", "Distributed leadership toolkit", "https://leaders.example.org", "Practical and short")
    expect(phones[0].get_by_role("status").filter(has_text="Received")).to_be_visible()
    suggest(phones[1], "tool", "The DL toolkit", "HTTPS://Leaders.Example.ORG/")
    expect(phones[1].get_by_role("status").filter(has_text="Received")).to_be_visible()
    suggest(phones[2], "video", "Leading from the middle", "https://video.example/talk")
    expect(phones[2].get_by_role("status").filter(has_text="Received")).to_be_visible()

    # Moderated by default: the projector waits for the presenter.
    expect(projector.locator(".empty")).to_have_text("No resources shown yet.")
    toolkit = presenter.locator(".resource-card", has_text="Distributed leadership toolkit")
    expect(toolkit).to_contain_text("2 suggested · 0 upvoted · Waiting for approval")
    toolkit.get_by_role("button", name="Approve").click()
    expect(projector.locator(".resource-card")).to_have_count(1)
    video = presenter.locator(".resource-card", has_text="Leading from the middle")
    video.get_by_role("button", name="Approve").click()
    expect(projector.locator(".resource-card")).to_have_count(2)

    # The presenter retitles the toolkit for the room.
    toolkit.get_by_label("Display title").fill("  Distributed   Leadership Toolkit ")
    toolkit.get_by_role("button", name="Retitle").click()
    card = projector.locator(".resource-card", has_text="Distributed Leadership Toolkit")  # has_text ignores case
    expect(card.locator(".resource-title")).to_have_text("Distributed Leadership Toolkit")

    # The video's author sees the approved resources arrive (pushed, no reload) and upvotes the toolkit; their own
    # video is not offered to upvote, and their suggestion stays filled in.
    expect(phones[2].get_by_role("checkbox")).to_have_count(1)
    expect(phones[2].get_by_label("Title")).to_have_value("Leading from the middle")
    phones[2].get_by_role("checkbox", name=re.compile("Distributed Leadership Toolkit")).check()
    send(phones[2])
    expect(phones[2].get_by_role("status").filter(has_text="Received")).to_be_visible()

    expect(card).to_contain_text("2 suggestions · 1 upvote")
    expect(card.get_by_role("link", name="leaders.example.org")).to_have_attribute(
        "href", "https://leaders.example.org/"
    )
    expect(card.get_by_role("link")).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(projector.locator(".resource-card").first).to_contain_text("Distributed Leadership Toolkit")  # score 3
    expect(projector.locator(".resource-card").nth(1)).to_contain_text("1 suggestion · 0 upvotes")
    expect(projector.locator(".respondents")).to_have_text("3 answers")

    phones[2].reload()
    expect(phones[2].get_by_role("checkbox", name=re.compile("Distributed Leadership Toolkit"))).to_be_checked()
    screenshot(projector, "resources-projector")
    screenshot(phones[2], "resources-phone")
    screenshot(presenter, "resources-presenter")

    # Hiding takes a resource off the projector; showing brings it back.
    video.get_by_role("button", name="Hide").click()
    expect(projector.locator(".resource-card")).to_have_count(1)
    expect(video).to_contain_text("Hidden")
    video.get_by_role("button", name="Show").click()
    expect(projector.locator(".resource-card")).to_have_count(2)

    assert dialogs == []
    assert page_errors.errors == []


OPEN_CALL = """\
title: Open call
activities:
  - kind: resources
    title: Share what helped
    moderated: false
"""


def test_resources_phones_see_new_resources_without_a_reload_and_keep_their_ticks(
    browser: Browser, live_server: LiveServer, page_errors: PageErrors
) -> None:
    with live_deck(live_server, {"deck_yaml": OPEN_CALL}) as call:
        call.goto(0)
        a, b, c = (page_errors.watch(browser.new_context(**PHONE).new_page(), f"phone {name}") for name in "ABC")
        for phone in (a, b, c):
            phone.goto(f"{live_server.url}/{call.code}")
            expect(phone.get_by_text("No resources to upvote yet.")).to_be_visible()

        suggest(a, "tool", "Team charter", "www.example.org/charter", "Start here.\nThen adapt it.")
        expect(a.get_by_role("status").filter(has_text="Received")).to_be_visible()
        charter = b.get_by_role("checkbox", name=re.compile("Team charter"))
        expect(charter).to_be_visible()  # pushed to B: no reload
        expect(b.get_by_text("(tool, www.example.org)")).to_be_visible()  # taken as https://www.example.org/...
        expect(a.get_by_role("checkbox")).to_have_count(0)  # A's own is not A's to upvote
        charter.check()  # ticked, not sent yet

        suggest(c, "video", "Kickoff talk")
        expect(c.get_by_role("status").filter(has_text="Received")).to_be_visible()
        expect(b.get_by_role("checkbox")).to_have_count(2)  # the list is pushed again...
        expect(charter).to_be_checked()  # ...and B's tick survives it
        expect(a.get_by_role("checkbox", name=re.compile("Kickoff talk"))).to_be_visible()
        send(b)
        expect(b.get_by_role("status").filter(has_text="Received")).to_be_visible()

        b.reload()  # what the server stored: B's tick, and both resources
        expect(b.get_by_role("checkbox", name=re.compile("Team charter"))).to_be_checked()
        expect(b.get_by_role("checkbox", name=re.compile("Kickoff talk"))).not_to_be_checked()
        response = call.api.get(
            f"/api/v1/sessions/{call.session['id']}/activities/{call.session['activities'][0]['id']}/tally"
        )
        charter_result = next(r for r in response.json()["results"]["resources"] if r["title"] == "Team charter")
        assert (charter_result["link"], charter_result["upvotes"]) == ("https://www.example.org/charter", 1)
        assert charter_result["note"] == "Start here.\nThen adapt it."
        screenshot(b, "resources-phone-live")
        assert page_errors.errors == []
