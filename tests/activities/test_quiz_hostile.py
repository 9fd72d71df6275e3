"""Every hostile payload as a quiz's typed answer and as an accepted answer: stored as text (or refused in words a
person reads), shown inert on the phone, the presenter's view and the revealed projector, guarded in the archive."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import yaml
from sqlmodel import select
from starlette.testclient import TestClient

from activities.quiz import MAX_ACCEPTED, MAX_ANSWER_LENGTH
from activities.quiz.matching import answer_key
from activities.text import tidy
from server.models import Response
from tests.factories import Presenter, caught_up, join, login, respond, stored
from tests.hostile import PAYLOADS, inert, is_text, unguarded, unguarded_cells

SHOWABLE = [text for text in PAYLOADS.values() if is_text(text)]


def dump(deck: dict[str, Any]) -> str:
    return yaml.safe_dump(deck, allow_unicode=True, sort_keys=False, width=1 << 20)


def test_hostile_typed_answers_are_stored_as_text_and_shown_inert(client: TestClient, presenter: Presenter) -> None:
    deck = {"title": "Typed", "activities": [{"kind": "quiz", "title": "Say it", "accepted": ["Equity"]}]}
    session = presenter.start(dump(deck))
    question = session["activities"][0]["id"]
    presenter.control(session["id"], "goto", question)
    caught_up(client, session["id"])
    kept: dict[str, str] = {}
    for text in SHOWABLE:  # text no page can hold is refused at the door for every kind (tests/server)
        token = join(client, session["code"])
        reply = respond(client, token, question, answer=text)
        if reply.status_code == 201:
            kept[token] = tidy(text)
        else:
            message = reply.json()["detail"]
            assert reply.status_code == 422 and "Error" not in message and len(message) < 200, message
    stored_answers = sorted(row.payload["answer"] for row in stored(client, select(Response)))
    assert stored_answers == sorted(kept.values()) and len(kept) >= len(SHOWABLE) // 2
    for token, answer in kept.items():
        client.cookies = type(client.cookies)()  # this participant's browser: their cookie only
        client.cookies.set("handsup_participant", token)
        phone = inert(client.get(f"/{session['code']}").text)
        assert phone.shows(answer), answer
    client.cookies = type(client.cookies)()
    presenter.control(session["id"], "reveal", question)
    caught_up(client, session["id"])
    login(client, presenter.user.email)
    inert(client.get(f"/present/{session['id']}").text)
    inert(client.get(session["projector_url"]).text)
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers).content)
    )
    inert(archive.read("report.html").decode())
    [responses] = [name for name in archive.namelist() if name.startswith("responses/") and name.endswith(".csv")]
    text = archive.read(responses).decode()
    assert unguarded_cells(text) == []
    cells = {unguarded(cell) for row in csv.reader(io.StringIO(text)) for cell in row}
    assert [answer for answer in kept.values() if answer not in cells] == []


def test_hostile_accepted_answers_are_secret_until_the_reveal_then_inert(
    client: TestClient, presenter: Presenter
) -> None:
    seen: set[str] = set()
    accepted = []
    for text in SHOWABLE:
        answer = tidy(text)[:MAX_ANSWER_LENGTH]
        if answer_key(answer) and answer_key(answer) not in seen:
            seen.add(answer_key(answer))
            accepted.append(answer)
    chunks = [accepted[start : start + MAX_ACCEPTED] for start in range(0, len(accepted), MAX_ACCEPTED)]
    deck = {
        "title": "Accepted",
        "activities": [{"kind": "quiz", "title": f"Q{n}", "accepted": chunk} for n, chunk in enumerate(chunks)],
    }
    session = presenter.start(dump(deck))
    login(client, presenter.user.email)
    for activity, chunk in zip(session["activities"], chunks, strict=True):
        assert activity["config"]["accepted"] == chunk
        presenter.control(session["id"], "goto", activity["id"])
        caught_up(client, session["id"])
        phone = inert(client.get(f"/{session['code']}").text)
        before = inert(client.get(session["projector_url"]).text)
        secret = [answer for answer in chunk if len(answer) > 3]  # a short one may be a word of the page itself
        assert [answer for answer in secret if phone.shows(answer) or before.shows(answer)] == []
        presenter.control(session["id"], "reveal", activity["id"])
        caught_up(client, session["id"])
        after = inert(client.get(session["projector_url"]).text)
        assert [answer for answer in chunk if not after.shows(answer)] == [], activity["title"]
        inert(client.get(f"/present/{session['id']}").text)
