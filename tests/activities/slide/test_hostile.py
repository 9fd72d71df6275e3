"""Every hostile payload as a slide's title, body and image description, through a real session: stored as text,
shown inert on the phone, the presenter's view and the projector, and the only picture the uploaded one."""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser
from typing import Any

import pytest
import yaml
from sqlmodel import select
from starlette.testclient import TestClient

from activities.slide import MAX_BODY
from server.models import Session
from tests.factories import Presenter, caught_up, login, stored
from tests.hostile import PAYLOADS, Page, deck_text, inert, is_text

MEDIA = "b" * 64 + ".webp"
SHOWABLE = sorted(name for name, text in PAYLOADS.items() if is_text(text))
TRICKS = """\
# Tricks <script>alert(1)</script>

[a](javascript:alert(1)) [b](JAVASCRIPT:alert(1)) [c](data:text/html,<script>alert(1)</script>)
[d][ref] <javascript:alert(1)> <https://example.org/ok> [e](mailto:team@example.org)
![remote](https://elsewhere.example/pixel.png) <img src=x onerror=alert(1)> &lt;script&gt;alert(1)&lt;/script&gt;
&#x6A;avascript:alert(1) <a href="javascript:alert(1)">raw</a> <style>body{display:none}</style>

[ref]: vbscript:msgbox(1)
"""


def dump(deck: dict[str, Any]) -> str:
    return yaml.safe_dump(deck, allow_unicode=True, sort_keys=False, width=1 << 20)


def slide_deck(title: str, body: str, alt: str) -> dict[str, Any]:
    image = {"media": MEDIA, "alt": alt}
    return {
        "title": "Slides",
        "activities": [
            {"kind": "slide", "title": title, "body": body},
            {"kind": "slide", "title": "Beside a picture", "layout": "image-left", "image": image, "body": body},
            {"kind": "slide", "title": "A page", "layout": "image-full", "image": image, "phones": "slide"},
        ],
    }


class _SlidePart(HTMLParser):
    """Finds the markup of the first `<div class="slide ...">` (the slide's body and figure) in a page."""

    VOID = frozenset({"img", "br", "hr", "input", "meta", "link", "source"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=False)
        self.start: int | None = None
        self.end: int | None = None
        self._depth = 0
        self._lines = [0]
        for line in html.splitlines(keepends=True):
            self._lines.append(self._lines[-1] + len(line))
        self.feed(html)

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._lines[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.end is not None or tag in self.VOID:
            return
        if self.start is None and tag == "div" and (dict(attrs).get("class") or "").startswith("slide layout-"):
            self.start = self._offset()
        if self.start is not None:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.start is not None and self.end is None and tag not in self.VOID:
            self._depth -= 1
            if self._depth == 0:
                self.end = self._offset() + len(f"</{tag}>")


def slide_part(page: str, activity_id: int) -> str:
    """The slide's own part of a page (its body and figure), where the deck's Markdown lands."""
    found = _SlidePart(page)
    assert found.start is not None and found.end is not None, f"no slide in the page of activity {activity_id}"
    return page[found.start : found.end]


def checked(html: str) -> Page:
    """Inert (tests/hostile.py), and more: links only to the web or mail, and no picture but the uploaded one."""
    page = inert(html)
    links = [link for link in page.links if link != f"/media/{MEDIA}"]  # the uploaded picture's src
    assert all(link.startswith(("https://", "http://", "mailto:")) for link in links), links
    pictures = re.findall(r"<img\b[^>]*>", html)
    assert all(f'src="/media/{MEDIA}"' in picture for picture in pictures), pictures
    assert not re.search(r"<(script|style|iframe|object|embed|svg|math|form|input)\b", html)
    return page


def test_every_payload_as_title_body_and_alt_is_shown_inert_everywhere(
    client: TestClient, presenter: Presenter
) -> None:
    body = TRICKS + "\n\n".join(PAYLOADS[name] for name in SHOWABLE)
    assert len(body) <= MAX_BODY
    login(client, presenter.user.email)
    for name in SHOWABLE:
        text = PAYLOADS[name]
        session = presenter.start(dump(slide_deck(text[:200] if deck_text(text[:200]) else "Title", body, text[:300])))
        for activity in session["activities"]:
            presenter.control(session["id"], "goto", activity["id"])
            caught_up(client, session["id"])
            for url in (f"/{session['code']}", f"/present/{session['id']}", session["projector_url"]):
                page = client.get(url).text
                assert activity["title"].strip() and inert(page).shows(activity["title"].strip()), (name, url)
                part = slide_part(page, activity["id"])
                checked(part)
                if activity["config"].get("image"):
                    assert Page(part).shows(activity["config"]["image"]["alt"]), (name, url)
        archive = zipfile.ZipFile(
            io.BytesIO(client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers).content)
        )
        assert "Beside a picture" not in archive.read("report.html").decode()  # slides have no report part


def test_the_stored_body_is_the_text_given_and_renders_each_trick_as_text(
    client: TestClient, presenter: Presenter
) -> None:
    session = presenter.start(dump(slide_deck("Tricks", TRICKS, "A picture")))
    stored_body = session["activities"][0]["config"]["body"]
    assert stored_body == TRICKS.rstrip()  # kept as written; only its rendering is sanitised
    presenter.control(session["id"], "goto", session["activities"][0]["id"])
    caught_up(client, session["id"])
    part = slide_part(client.get(session["projector_url"]).text, session["activities"][0]["id"])
    page = checked(part)
    assert page.links == ["https://example.org/ok", "mailto:team@example.org"]
    assert "<script>alert(1)</script>" in page.text and "<img src=x onerror=alert(1)>" in page.text
    assert "remote" in page.text and "elsewhere.example" not in part


@pytest.mark.parametrize("where", ["title", "body", "alt"])
@pytest.mark.parametrize("name", sorted(name for name, text in PAYLOADS.items() if not is_text(text)))
def test_text_that_cannot_be_shown_is_refused_and_nothing_is_stored(
    client: TestClient, presenter: Presenter, where: str, name: str
) -> None:
    texts = {"title": "Title", "body": "Body", "alt": "A picture"} | {where: PAYLOADS[name]}
    response = client.post("/api/v1/sessions", json={"deck_yaml": dump(slide_deck(**texts))}, headers=presenter.headers)
    assert response.status_code == 422, response.text
    assert response.json()["problems"], response.text
    assert stored(client, select(Session)) == []
