"""A kind that takes no answers (`takes_answers = False`, a content slide): shown, never answered, and left out of
everything about answers: intake refuses, the audience's pace steps past it, completion ignores it, the presenter
gets no voting controls or counts, and exports, archives, reports and comparisons have nothing of it.

Each test runs twice: with a stand-in kind registered here (the seam's proof, for any plug-in) and with the real
content slide (activities/slide)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from activities import registry
from activities.base import ActivityKind, FormFields, KindConfig, KindSubmission, Tally
from server.app import create_app
from server.compare import activity_key
from server.config import Settings
from server.live.hub import Room
from server.models import Participant, Role
from tests.factories import Presenter, api_token, caught_up, join, make_user, respond, run, services_of, stored
from tests.server.test_compare import make_institute

DECK = """\
title: With a note
pace: audience
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
{shown}
  - kind: wordcloud
    title: Three words
"""
SHOWN = {
    "note": "  - kind: note\n    title: Read this first\n    text: Leadership is a practice, not a position.",
    "slide": "  - kind: slide\n    title: Read this first\n    body: Leadership is *a practice*, not a position.",
}
POLL, NOTE, WORDS = 0, 1, 2
TEXT = "Leadership is a practice, not a position."


class NoteConfig(KindConfig):
    text: str


class NoteSubmission(KindSubmission):
    pass


class NoteTally(Tally[NoteConfig, NoteSubmission]):
    submission_model = NoteSubmission

    def clear(self) -> None:
        pass

    def add(self, submission: NoteSubmission) -> None:
        pass

    def retract(self, submission: NoteSubmission) -> None:
        pass

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        return {}


class Note(ActivityKind[NoteConfig, NoteSubmission]):
    """A text for the room to read: the smallest kind that takes no answers."""

    name = "note"
    label = "Note"
    config_model = NoteConfig
    submission_model = NoteSubmission
    tally_class = NoteTally
    takes_answers = False

    def __init__(self, templates: Path) -> None:
        self._templates = templates

    @property
    def templates_dir(self) -> Path:
        return self._templates

    def submission_from_form(self, config: NoteConfig, form: FormFields) -> dict[str, Any]:
        return {}

    def export_rows(self, config: NoteConfig, submission: NoteSubmission) -> list[dict[str, Any]]:
        return []


@pytest.fixture
def client(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app with the note kind registered beside the built-ins (as a plug-in would be)."""
    folder = tmp_path / "templates" / "note"
    folder.mkdir(parents=True)
    (folder / "participant.html").write_text('<p class="note-text">{{ config.text }}</p>')
    for audience in ("presenter", "projector"):
        (folder / f"{audience}.html").write_text(
            f'<div id="results-{{{{ activity.id }}}}" class="{audience}"><p>{{{{ config.text }}}}</p></div>'
        )
    monkeypatch.setitem(registry._kinds, "note", Note(tmp_path / "templates"))
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(params=sorted(SHOWN))
def shown(request: pytest.FixtureRequest) -> str:
    """The kind that takes no answers: the stand-in `note`, or the real `slide`."""
    return str(request.param)


def deck(shown: str, settings: str = "") -> str:
    """The test deck with `shown`'s activity in the middle, with extra `settings` lines (indented) if given."""
    return DECK.format(shown=SHOWN[shown] + settings)


@pytest.fixture
def session(presenter: Presenter, shown: str) -> dict[str, Any]:
    return presenter.start(deck(shown))


def plain(html: str) -> str:
    """A page's text without its inline markup (the slide's Markdown *emphasis*)."""
    return re.sub(r"</?em>", "", html)


def activity_id(session: dict[str, Any], position: int) -> int:
    return int(session["activities"][position]["id"])


def room_of(client: TestClient, session: dict[str, Any]) -> Room:
    caught_up(client, session["id"])
    return run(client, lambda: services_of(client).hub.room(session["id"]))


def test_a_response_to_it_is_refused_with_a_message(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    presenter.control(session["id"], "pace", pace="presenter")
    presenter.control(session["id"], "goto", activity_id(session, NOTE))
    caught_up(client, session["id"])
    token = join(client, session["code"])
    refused = respond(client, token, activity_id(session, NOTE))
    assert refused.status_code == 422
    assert refused.json()["detail"] == "This activity takes no answers: there is nothing to send here."


def test_the_audience_pace_steps_past_it_and_completion_ignores_it(client: TestClient, session: dict[str, Any]) -> None:
    token = join(client, session["code"])
    [person] = [p.id for p in stored(client, select(Participant))]
    room = room_of(client, session)
    assert room.shown(person, None).id == activity_id(session, POLL)  # type: ignore[union-attr]
    assert respond(client, token, activity_id(session, POLL), choice="1").status_code == 201
    room = room_of(client, session)
    assert room.shown(person, None).id == activity_id(session, WORDS)  # type: ignore[union-attr]
    assert room.finished() == 0
    assert respond(client, token, activity_id(session, WORDS), word=["trust"]).status_code == 201
    room = room_of(client, session)
    assert room.shown(person, None) is None  # done: nothing left to answer
    assert room.finished() == 1
    completion = services_of(client).views.completion(room)
    assert "Where does the week go?" in completion and "Three words" in completion
    assert "Read this first" not in completion
    client.cookies.set("handsup_participant", token)
    stage = client.get(f"/{session['code']}?at={activity_id(session, NOTE)}").text
    assert TEXT in plain(stage) and "2 of 2 answered" in stage
    assert f'id="submit-{activity_id(session, NOTE)}"' not in stage  # no Send button: nothing to send


def test_phones_show_it_when_the_presenter_shows_it(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    presenter.control(session["id"], "pace", pace="presenter")
    presenter.control(session["id"], "goto", activity_id(session, NOTE))
    caught_up(client, session["id"])
    client.cookies.set("handsup_participant", join(client, session["code"]))
    stage = client.get(f"/{session['code']}").text
    assert "Read this first" in stage and TEXT in plain(stage)
    assert f'id="submit-{activity_id(session, NOTE)}"' not in stage
    presenter.control(session["id"], "close", activity_id(session, NOTE))  # closing what takes no answers says nothing
    projector = services_of(client).views.projector_stage(room_of(client, session))
    assert TEXT in plain(projector) and "Voting is closed" not in projector
    stage = client.get(f"/{session['code']}").text
    assert TEXT in plain(stage) and "Voting is closed" not in stage


def test_the_projector_shows_it_even_where_the_deck_hides_results(
    client: TestClient, presenter: Presenter, shown: str
) -> None:
    session = presenter.start(deck(shown, "\n    results: hidden"))
    presenter.control(session["id"], "pace", pace="presenter")
    presenter.control(session["id"], "goto", activity_id(session, NOTE))
    projector = services_of(client).views.projector_stage(room_of(client, session))
    assert TEXT in plain(projector)
    assert "answers so far" not in projector and "revealed soon" not in projector


def test_the_presenter_gets_no_voting_controls_counts_or_export_for_it(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    presenter.control(session["id"], "pace", pace="presenter")
    presenter.control(session["id"], "goto", activity_id(session, POLL))
    poll = services_of(client).views.presenter_live(room_of(client, session))
    assert "Close voting" in poll and "answered</span>" in poll and "responses (CSV)" in poll
    presenter.control(session["id"], "goto", activity_id(session, NOTE))
    note = services_of(client).views.presenter_live(room_of(client, session))
    assert TEXT in plain(note)
    for control in ("Close voting", "Open voting", "Reset responses", "Voting is", "answered</span>", "(CSV)"):
        assert control not in note, control
    exported = client.get(
        f"/api/v1/sessions/{session['id']}/activities/{activity_id(session, NOTE)}/export.csv",
        headers=presenter.headers,
    )
    assert exported.status_code == 404
    assert "takes no answers" in exported.json()["detail"]


def test_archives_write_no_csv_and_no_report_part_for_it(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    token = join(client, session["code"])
    assert respond(client, token, activity_id(session, POLL), choice="0").status_code == 201
    response = client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert "responses/01-where-does-the-week-go.csv" in names and "responses/03-three-words.csv" in names
    assert not [name for name in names if "read-this-first" in name]
    assert "Read this first" not in archive.read("summary.csv").decode()
    assert "Read this first" not in archive.read("report.html").decode()
    [workbook] = [name for name in names if name.endswith(".xlsx")]
    sheets = openpyxl.load_workbook(io.BytesIO(archive.read(workbook)), read_only=True).sheetnames
    assert [sheet for sheet in sheets if "Where does" in sheet] and not [
        sheet for sheet in sheets if "Read this" in sheet
    ], sheets
    assert "Read this first" in archive.read("data.json").decode()  # the session restores whole


def test_comparisons_leave_it_out(client: TestClient, shown: str) -> None:
    user = make_user(client, "organizer@example.org", Role.organizer)
    organizer = Presenter(client, user, api_token(client, user.email))
    institute, cohorts = make_institute(client, user, "Phoenix")
    created = client.post(
        "/api/v1/sessions", json={"deck_yaml": deck(shown), "cohort_id": cohorts[0].id}, headers=organizer.headers
    )
    assert created.status_code == 201, created.text
    index = client.get(f"/api/v1/institutes/{institute.id}/compare", headers=organizer.headers).json()
    assert [item["title"] for item in index] == ["Where does the week go?", "Three words"]
    missing = client.get(
        f"/api/v1/institutes/{institute.id}/compare/{activity_key(shown, 'Read this first')}",
        headers=organizer.headers,
    )
    assert missing.status_code == 404
