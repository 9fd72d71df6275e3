"""Line breaks in what people type, over the real paths: a two-line answer sent over a phone's websocket (or its
plain form) is stored with its newline where the field is a textarea (open answers, questions, notes), shown as two
lines on the presenter's and projector's cards (the kind's stylesheet, loaded on the page, says pre-line), and kept
inside its CSV cell; in a one-line field (a word, a name, a title) the break is a space, never nothing."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from html import unescape
from typing import Any

from starlette.testclient import TestClient

from activities.qa import question_key
from tests.factories import Presenter, caught_up, csrf_from, join, login, receive_until, root_id

DECK = """\
title: Two lines
activities:
  - kind: open
    title: What helps?
    moderated: false
  - kind: qa
    title: Questions
    moderated: false
  - kind: resources
    title: Resources
    moderated: false
  - kind: wordcloud
    title: Three words
"""
TWO_LINES = "First line\r\nsecond line"
STORED = "First line\nsecond line"


def send(client: TestClient, presenter: Presenter, session: dict[str, Any], activity: int, **fields: str) -> None:
    """A new phone sends an answer to the activity the presenter shows over its websocket, as htmx does, and waits
    for its 'received'."""
    presenter.control(session["id"], "goto", activity)
    caught_up(client, session["id"])
    client.cookies.set("handsup_participant", join(client, session["code"]))
    with client.websocket_connect(f"/ws/participant/{session['code']}") as ws:
        ws.send_text(json.dumps({"activity": str(activity), **fields, "HEADERS": {"HX-Request": "true"}}))
        reply = receive_until(ws, lambda frame: root_id(frame) == f"status-{activity}")
    assert 'class="status ok"' in reply, reply


def texts_of(html: str, css_class: str) -> list[str]:
    """The text of each element of a class whose content is plain text (a card's answer, a note)."""
    return re.findall(rf'<p class="[^"]*\b{css_class}\b[^"]*">([^<]*)</p>', html)


def stylesheet(client: TestClient, html: str, kind: str) -> str:
    """The kind's own stylesheet as the page links it: its file, or the bundle of the page's kinds that holds it."""
    own = rf"/static/kinds/{kind}/[^\"]+\.css[^\"]*|/static/kinds/bundle\.css\?kinds=[^\"]*\b{kind}\b[^\"]*"
    url = re.search(rf'<link rel="stylesheet" href="({own})">', html)
    assert url, f"the page loads the {kind} stylesheet"
    return client.get(unescape(url.group(1))).text


def csv_cells(client: TestClient, presenter: Presenter, session_id: int, activity_id: int) -> list[str]:
    url = f"/api/v1/sessions/{session_id}/activities/{activity_id}/export.csv"
    download = client.get(url, headers=presenter.headers)
    assert download.status_code == 200, download.text
    return [cell for row in csv.reader(io.StringIO(download.text)) for cell in row]


def started(client: TestClient, presenter: Presenter) -> tuple[dict[str, Any], list[int]]:
    session = presenter.start(DECK)
    return session, [int(activity["id"]) for activity in session["activities"]]


def screens(client: TestClient, presenter: Presenter, session: dict[str, Any], activity: int) -> list[str]:
    """The presenter's page and the projector's page while the activity is shown."""
    presenter.control(session["id"], "goto", activity)
    caught_up(client, session["id"])
    login(client, presenter.user.email)
    pages = [client.get(f"/present/{session['id']}").text, client.get(session["projector_url"]).text]
    client.cookies.clear()
    return pages


def test_an_open_answer_keeps_its_line_break_on_the_cards_and_in_the_csv(
    client: TestClient, presenter: Presenter
) -> None:
    session, (open_, *_) = started(client, presenter)
    send(client, presenter, session, open_, text=f"  {TWO_LINES}  \n\n\n\nthird  ")
    for page in screens(client, presenter, session, open_):
        assert texts_of(page, "answer-text") == [f"{STORED}\n\nthird"]
        assert ".results.open .answer-text { white-space: pre-line; }" in stylesheet(client, page, "open")
    assert f"{STORED}\n\nthird" in csv_cells(client, presenter, session["id"], open_)


def test_an_open_answer_sent_by_the_plain_form_keeps_its_line_break(client: TestClient, presenter: Presenter) -> None:
    session, (open_, *_) = started(client, presenter)
    presenter.control(session["id"], "goto", open_)
    caught_up(client, session["id"])
    client.cookies.set("handsup_participant", join(client, session["code"]))
    page = client.get(f"/{session['code']}").text
    fields = {"activity": str(open_), "csrf_token": csrf_from(page), "text": TWO_LINES}
    posted = client.post(f"/{session['code']}/respond", data=fields, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    assert f">{STORED}</textarea>" in client.get(f"/{session['code']}").text  # the phone's own answer, both lines
    assert STORED in csv_cells(client, presenter, session["id"], open_)


def test_an_open_answer_counts_a_line_break_as_one_character(client: TestClient, presenter: Presenter) -> None:
    session, (open_, *_) = started(client, presenter)
    answer = "x" * 139 + "\r\n" + "y" * 140  # the default limit is 280: CR LF is stored as one newline
    send(client, presenter, session, open_, text=answer)
    assert "x" * 139 + "\n" + "y" * 140 in csv_cells(client, presenter, session["id"], open_)


def test_a_question_keeps_its_line_break_its_name_does_not(client: TestClient, presenter: Presenter) -> None:
    session, (_, qa, *_) = started(client, presenter)
    code = session["code"]
    send(client, presenter, session, qa, question=TWO_LINES, name="Ana\nMaría")
    for page in screens(client, presenter, session, qa):
        assert texts_of(page, "answer-text") == [STORED]
        assert "Ana María" in page
        assert "white-space: pre-line" in stylesheet(client, page, "qa")
    client.cookies.set("handsup_participant", join(client, code))  # another phone: the list to upvote from
    phone = client.get(f"/{code}?at={qa}").text
    assert texts_of(phone, "answer-text") == [STORED]
    cells = csv_cells(client, presenter, session["id"], qa)
    assert STORED in cells and "Ana María" in cells


def test_the_same_question_with_other_line_breaks_is_one_question(client: TestClient, presenter: Presenter) -> None:
    session, (_, qa, *_) = started(client, presenter)
    send(client, presenter, session, qa, question="Where is\nlunch?")
    send(client, presenter, session, qa, question="where is lunch?")
    questions = presenter.tally(session["id"], qa)["results"]["questions"]
    assert [(question["key"], question["askers"]) for question in questions] == [(question_key("Where is lunch?"), 2)]


def test_a_resource_note_keeps_its_line_break_its_title_does_not(client: TestClient, presenter: Presenter) -> None:
    session, (_, _, resources, _) = started(client, presenter)
    note = "Chapter 2 first.\r\n\r\nThen the exercises."
    send(client, presenter, session, resources, type="tool", title="The\nToolkit", link="", note=note)
    for page in screens(client, presenter, session, resources):
        assert texts_of(page, "resource-note") == ["Chapter 2 first.\n\nThen the exercises."]
        assert "<strong>The Toolkit</strong>" in page
        assert ".resource-note { white-space: pre-line; }" in stylesheet(client, page, "resources")
    cells = csv_cells(client, presenter, session["id"], resources)
    assert "Chapter 2 first.\n\nThen the exercises." in cells and "The Toolkit" in cells


def test_a_word_typed_over_two_lines_is_two_words_of_one_entry(client: TestClient, presenter: Presenter) -> None:
    session, (*_, wordcloud) = started(client, presenter)
    send(client, presenter, session, wordcloud, word="shared\nleadership")
    assert "shared leadership" in csv_cells(client, presenter, session["id"], wordcloud)


def test_an_open_answer_keeps_its_line_break_in_the_archives_report(client: TestClient, presenter: Presenter) -> None:
    session, (open_, *_) = started(client, presenter)
    send(client, presenter, session, open_, text=TWO_LINES)
    download = client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers)
    assert download.status_code == 200, download.text
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        report = archive.read("report.html").decode("utf-8")
    assert f"<li>{STORED}</li>" in report  # the text as typed, on its two lines ...
    assert re.search(r"ol\.listing li \{[^}]*white-space: pre-line", report)  # ... and shown on two lines
