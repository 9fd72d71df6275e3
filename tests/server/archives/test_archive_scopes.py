"""Cohort and institute archives: every session of the scope and nothing else, persons across a cohort's days,
activities kept only as aggregates, and the organizer pages, JSON API and command line that download them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import col, delete, select
from starlette.testclient import TestClient

from server.archives.format import ArchiveData
from server.archives.workbook import MAX_SHEET_NAME
from server.cli import main
from server.institutes import CohortForm, create_institute, save_cohort
from server.models import Activity, Deck, Participant, Response, Role, utcnow
from server.models import Session as SessionRow
from tests.factories import (
    Presenter,
    api_token,
    caught_up,
    join,
    login,
    make_user,
    respond,
    run,
    services_of,
    stored,
)
from tests.hostile import PAYLOADS

DECK = """\
title: Day
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
  - kind: open
    title: ../../etc/passwd
"""
FORMULA = PAYLOADS["formula_cmd"]


@dataclass
class Institute:
    """The 2017 Spring Institute: Phoenix (one identity across its two days) and Oakland (none), with answers."""

    id: int
    phoenix: int
    oakland: int
    sessions: dict[str, dict[str, Any]]


@pytest.fixture
def organizer(client: TestClient) -> Presenter:
    user = make_user(client, "organizer@example.org", Role.organizer)
    return Presenter(client, user, api_token(client, user.email))


def start(
    client: TestClient, presenter: Presenter, title: str, cohort_id: int | None, organizer: Presenter | None = None
) -> dict[str, Any]:
    """A session the presenter runs: a cohort's is filed by the institute's organizer, who adds the presenter as its
    co-facilitator (only an institute's organizer files sessions under its cohorts)."""
    body = {"deck_yaml": DECK, "title": title, "cohort_id": cohort_id}
    response = client.post("/api/v1/sessions", json=body, headers=(organizer or presenter).headers)
    assert response.status_code == 201, response.text
    if organizer is not None:
        added = client.post(
            f"/api/v1/sessions/{response.json()['id']}/facilitators",
            json={"email": presenter.user.email},
            headers=organizer.headers,
        )
        assert added.status_code == 201, added.text
    return dict(response.json())


def rejoin(client: TestClient, session: dict[str, Any], token: str) -> None:
    """The same phone opens another session's page: its cookie makes it the same participant token there."""
    assert client.get(f"/{session['code']}", headers={"cookie": f"handsup_participant={token}"}).status_code == 200
    client.cookies.delete("handsup_participant")


def answer(
    client: TestClient, presenter: Presenter, session: dict[str, Any], token: str, position: int, **given: Any
) -> None:
    activity = session["activities"][position]["id"]
    presenter.control(session["id"], "goto", activity)
    caught_up(client, session["id"])
    assert respond(client, token, activity, **given).status_code == 201


@pytest.fixture
def institute(client: TestClient, presenter: Presenter, organizer: Presenter) -> Institute:
    db = services_of(client).db
    [deck] = stored(client, select(Deck.id).where(Deck.slug == "distributed-leadership"))
    spring = run(client, create_institute, db, "2017 Spring Institute", "Four sites, one deck.", organizer.user.id)
    phoenix_form = CohortForm(
        "Phoenix",
        site="Phoenix, AZ",
        starts_on=date(2017, 4, 24),
        ends_on=date(2017, 4, 25),
        facilitators=["Ana Ruiz", "Sam Lee"],
        same_identity=True,
        deck_ids=[deck],
    )
    phoenix = run(client, save_cohort, db, spring.id, phoenix_form)
    oakland_form = CohortForm("Oakland", site="Oakland, CA", starts_on=date(2017, 4, 27), same_identity=False)
    oakland = run(client, save_cohort, db, spring.id, oakland_form)
    other = run(client, create_institute, db, "Another Institute", "", organizer.user.id)
    elsewhere = run(client, save_cohort, db, other.id, CohortForm("Elsewhere"))
    sessions = {
        "phoenix 1": start(client, presenter, "Phoenix, day 1", phoenix.id, organizer),
        "phoenix 2": start(client, presenter, "Phoenix, day 2", phoenix.id, organizer),
        "oakland 1": start(client, presenter, "Oakland, day 1", oakland.id, organizer),
        "oakland 2": start(client, presenter, "Oakland, day 2", oakland.id, organizer),
        "loose": start(client, presenter, "Not for a cohort", None),
        "elsewhere": start(client, presenter, "Another institute's day", elsewhere.id, organizer),
    }
    day1, day2 = sessions["phoenix 1"], sessions["phoenix 2"]
    ana, ben = join(client, day1["code"]), join(client, day1["code"])
    cy = join(client, day2["code"])  # Cy joins day two before Ana comes back: numbers and persons differ there
    rejoin(client, day2, ana)
    answer(client, presenter, day1, ana, 0, choice="0")
    answer(client, presenter, day1, ben, 0, choice="1")
    answer(client, presenter, day1, ben, 1, text=FORMULA)
    answer(client, presenter, day2, cy, 0, choice="2")
    answer(client, presenter, day2, ana, 0, choice="1")
    answer(client, presenter, day2, ana, 1, text="Trust <b>first</b>")
    dee = join(client, sessions["oakland 1"]["code"])
    rejoin(client, sessions["oakland 2"], dee)
    answer(client, presenter, sessions["oakland 1"], dee, 0, choice="0")
    answer(client, presenter, sessions["oakland 2"], dee, 0, choice="2")
    answer(client, presenter, sessions["loose"], join(client, sessions["loose"]["code"]), 0, choice="0")
    assert spring.id is not None and phoenix.id is not None and oakland.id is not None
    return Institute(spring.id, phoenix.id, oakland.id, sessions)


class Terminal(io.StringIO):
    """Standard error as a terminal: where the command line draws its progress bar."""

    def isatty(self) -> bool:
        return True


def download(client: TestClient, path: str, headers: dict[str, str] | None = None) -> zipfile.ZipFile:
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def table(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


def data_of(archive: zipfile.ZipFile) -> ArchiveData:
    return ArchiveData.model_validate(json.loads(archive.read("data.json")))


def test_a_cohort_archive_traces_every_csv_row_to_an_answer_of_its_sessions(
    client: TestClient, organizer: Presenter, institute: Institute
) -> None:
    archive = download(client, f"/api/v1/cohorts/{institute.phoenix}/archive.zip", organizer.headers)
    day1, day2 = "cohorts/phoenix/01-phoenix-day-1", "cohorts/phoenix/02-phoenix-day-2"
    poll1 = table(archive, f"{day1}/responses/01-where-does-the-week-go.csv")
    assert [(r["participant"], r["option"]) for r in poll1] == [("1", "Fires"), ("2", "Maintenance")]
    (idea,) = table(archive, f"{day1}/responses/02-etc-passwd.csv")  # the title cannot climb out of its folder
    assert (idea["participant"], idea["text"]) == ("2", "'" + FORMULA)
    poll2 = table(archive, f"{day2}/responses/01-where-does-the-week-go.csv")
    assert [(r["participant"], r["option"]) for r in poll2] == [("1", "Improvement"), ("2", "Maintenance")]
    (idea,) = table(archive, f"{day2}/responses/02-etc-passwd.csv")
    assert (idea["participant"], idea["text"]) == ("2", "Trust <b>first</b>")
    summary = table(archive, "summary.csv")
    assert [(r["cohort"], r["session"], r["position"], r["respondents"], r["responses_file"]) for r in summary] == [
        ("Phoenix", "Phoenix, day 1", "1", "2", f"{day1}/responses/01-where-does-the-week-go.csv"),
        ("Phoenix", "Phoenix, day 1", "2", "1", f"{day1}/responses/02-etc-passwd.csv"),
        ("Phoenix", "Phoenix, day 2", "1", "2", f"{day2}/responses/01-where-does-the-week-go.csv"),
        ("Phoenix", "Phoenix, day 2", "2", "1", f"{day2}/responses/02-etc-passwd.csv"),
    ]
    book = openpyxl.load_workbook(io.BytesIO(archive.read("workbook.xlsx")))
    assert book.sheetnames == [
        "Results",
        "Summary",
        "1 Where does the week go",
        "2 .. .. etc passwd",
        "1 Where does the week go (2)",  # day two's: the Results sheet and the Summary say which session it is
        "2 .. .. etc passwd (2)",
    ]
    assert [r["sheet"] for r in summary] == book.sheetnames[2:]
    formula = book["2 .. .. etc passwd"]["C2"]
    assert (formula.value, formula.data_type) == (FORMULA, "s")
    data = data_of(archive)
    assert [(s.key, s.cohort, s.title) for s in data.sessions] == [(1, 1, "Phoenix, day 1"), (2, 1, "Phoenix, day 2")]
    for session, csv_rows in zip(data.sessions, [poll1, poll2], strict=True):
        payloads = {r.participant: r.payload for r in session.responses if r.activity == 1}
        options = session.activities[0].config["options"]
        assert [(int(r["participant"]), r["option"]) for r in csv_rows] == [
            (number, options[payload["choices"][0]]) for number, payload in payloads.items()
        ]


def test_persons_are_the_same_phone_across_a_same_identity_cohorts_sessions(
    client: TestClient, organizer: Presenter, institute: Institute
) -> None:
    data = data_of(download(client, f"/api/v1/cohorts/{institute.phoenix}/archive.zip", organizer.headers))
    day1, day2 = data.sessions
    # Day 1: Ana (1), Ben (2). Day 2: Cy joined first (number 1, third person), then Ana came back (person 1).
    assert [(p.number, p.person) for p in day1.participants] == [(1, 1), (2, 2)]
    assert [(p.number, p.person) for p in day2.participants] == [(1, 3), (2, 1)]
    assert "token" not in json.dumps(data.model_dump(mode="json")["sessions"])
    (cohort,) = data.cohorts
    assert (cohort.key, cohort.slug, cohort.name, cohort.site) == (1, "phoenix", "Phoenix", "Phoenix, AZ")
    assert (cohort.starts_on, cohort.ends_on, cohort.facilitators) == (
        date(2017, 4, 24),
        date(2017, 4, 25),
        ["Ana Ruiz", "Sam Lee"],
    )
    assert [deck.slug for deck in cohort.decks] == ["distributed-leadership"] and cohort.decks[0].source
    assert data.institute is not None and data.institute.title == "2017 Spring Institute"
    oakland = data_of(download(client, f"/api/v1/cohorts/{institute.oakland}/archive.zip", organizer.headers))
    assert [[p.person for p in s.participants] for s in oakland.sessions] == [[None], [None]]


def test_an_institute_archive_holds_every_cohort_and_session_and_nothing_else(
    client: TestClient, organizer: Presenter, institute: Institute
) -> None:
    response = client.get(f"/api/v1/institutes/{institute.id}/archive.zip", headers=organizer.headers)
    assert response.status_code == 200, response.text
    name = re.fullmatch(r'attachment; filename="(.+)"', response.headers["content-disposition"])
    assert name and re.fullmatch(r"handsup-2017-spring-institute-\d{4}-\d{2}-\d{2}\.zip", name.group(1))
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["scope"], manifest["version"]) == ("institute", 2)
    assert manifest["archived"] == {
        "institute": {"id": institute.id, "slug": "2017-spring-institute", "title": "2017 Spring Institute"}
    }
    assert manifest["counts"] == {"cohorts": 2, "sessions": 4, "activities": 8, "participants": 6, "responses": 8}
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) | {"manifest.json"} == set(archive.namelist())
    for path, entry in listed.items():
        body = archive.read(path)
        assert (entry["bytes"], entry["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
        assert not path.startswith("/") and ".." not in path.split("/")
    data = data_of(archive)
    assert [c.name for c in data.cohorts] == ["Phoenix", "Oakland"]
    assert [(s.cohort, s.title) for s in data.sessions] == [
        (1, "Phoenix, day 1"),
        (1, "Phoenix, day 2"),
        (2, "Oakland, day 1"),
        (2, "Oakland, day 2"),
    ]
    assert {"cohorts/oakland/03-oakland-day-1/responses/01-where-does-the-week-go.csv"} <= set(listed)
    assert not any("not-for-a-cohort" in path or "another" in path for path in listed)
    book = openpyxl.load_workbook(io.BytesIO(archive.read("workbook.xlsx")))
    assert len(book.sheetnames) == 10 and len({n.casefold() for n in book.sheetnames}) == 10
    assert all(len(sheet) <= MAX_SHEET_NAME for sheet in book.sheetnames)
    charts = [path for path in listed if path.endswith(".svg")]
    assert len(charts) == 4  # a poll chart per session; every open answer is unique, so listed, not charted
    report = archive.read("report.html").decode("utf-8")
    assert "<script" not in report.lower() and "Trust &lt;b&gt;first&lt;/b&gt;" in report
    for text in [
        "Phoenix, AZ",
        "Apr 24, 2017 – Apr 25, 2017",  # the days as the pages write them, in the language of the download
        "Ana Ruiz, Sam Lee",
        "Oakland, CA",
        "Four sites, one deck.",
    ]:
        assert text in report
    for session in data.sessions:
        assert session.title in report
    assert "Not for a cohort" not in report


def prune(client: TestClient, presenter: Presenter, session: dict[str, Any]) -> None:
    """Delete a session's participant-level data as retention does: results kept as aggregates, people gone."""
    kept = {a["id"]: presenter.tally(session["id"], a["id"]) for a in session["activities"]}

    async def apply() -> None:
        async with services_of(client).db() as db, db.begin():
            for activity in (await db.exec(select(Activity).where(Activity.session_id == session["id"]))).all():
                tally = kept[activity.id]
                activity.aggregate = {"snapshot": tally["results"], "respondents": tally["respondents"]}
                db.add(activity)
            ids = [a["id"] for a in session["activities"]]
            await db.exec(delete(Response).where(col(Response.activity_id).in_(ids)))
            await db.exec(delete(Participant).where(col(Participant.session_id) == session["id"]))
            row = await db.get(SessionRow, session["id"])
            assert row is not None
            row.pruned_at = utcnow()
            db.add(row)

    run(client, apply)


def test_activities_kept_only_as_aggregates_archive_without_responses(
    client: TestClient, presenter: Presenter, organizer: Presenter, institute: Institute
) -> None:
    pruned = institute.sessions["oakland 1"]
    poll = presenter.tally(pruned["id"], pruned["activities"][0]["id"])
    prune(client, presenter, pruned)
    archive = download(client, f"/api/v1/cohorts/{institute.oakland}/archive.zip", organizer.headers)
    first, second = data_of(archive).sessions
    assert first.pruned_at is not None and first.participants == [] and first.responses == []
    assert first.activities[0].tally == poll["results"] and first.activities[0].respondents == 1
    assert first.activities[0].aggregate == {"snapshot": poll["results"], "respondents": 1}
    assert second.pruned_at is None and len(second.responses) == 1 and second.activities[0].aggregate is None
    folder = "cohorts/oakland/01-oakland-day-1"
    assert (
        archive.read(f"{folder}/responses/01-where-does-the-week-go.csv").decode()
        == "participant,answered_at,time_zone\r\n"
    )
    assert archive.read(f"{folder}/charts/01-where-does-the-week-go.svg").startswith(b"<svg")
    summary = table(archive, "summary.csv")
    assert [(r["session"], r["respondents"], r["responses"], r["aggregate_only"]) for r in summary[:1]] == [
        ("Oakland, day 1", "1", "0", "True")
    ]
    assert json.loads(archive.read("manifest.json"))["counts"]["responses"] == 1


def test_the_organizer_pages_download_every_scope_and_refuse_presenters(
    client: TestClient, presenter: Presenter, organizer: Presenter, institute: Institute
) -> None:
    paths = [
        f"/organize/sessions/{institute.sessions['phoenix 1']['id']}/archive.zip",
        f"/organize/cohorts/{institute.phoenix}/archive.zip",
        f"/organize/institutes/{institute.id}/archive.zip",
    ]
    login(client, presenter.user.email)
    for path in paths:
        assert client.get(path).status_code == 403, path
    login(client, organizer.user.email)
    names = [client.get(path).headers["content-disposition"] for path in paths]
    assert names[0].startswith('attachment; filename="handsup-phoenix-day-1-')  # presented by someone else
    assert names[1] == 'attachment; filename="handsup-2017-spring-institute-phoenix-2017-04-24.zip"'
    assert names[2].startswith('attachment; filename="handsup-2017-spring-institute-')
    (session,) = data_of(download(client, paths[0])).sessions  # a session archive names its cohort
    assert (session.cohort, [p.person for p in session.participants]) == (1, [1, 2])
    for path in [
        "/organize/sessions/999/archive.zip",
        "/organize/cohorts/999/archive.zip",
        "/organize/institutes/999/archive.zip",
    ]:
        assert client.get(path).status_code == 404, path


def test_the_api_gives_cohort_and_institute_archives_to_organizers_only(
    client: TestClient, presenter: Presenter, organizer: Presenter, institute: Institute
) -> None:
    for path in [f"/api/v1/cohorts/{institute.phoenix}/archive.zip", f"/api/v1/institutes/{institute.id}/archive.zip"]:
        assert client.get(path).status_code == 401
        refused = client.get(path, headers=presenter.headers)
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    # A missing cohort or institute answers as someone else's does, so ids cannot be probed.
    for path in ["/api/v1/cohorts/999/archive.zip", "/api/v1/institutes/999/archive.zip"]:
        missing = client.get(path, headers=organizer.headers)
        assert missing.status_code == 404
        assert missing.json()["detail"] == "No such institute, cohort or session among yours."
    spec = client.get("/openapi.json").json()["paths"]
    for path in ["/api/v1/cohorts/{cohort_id}/archive.zip", "/api/v1/institutes/{institute_id}/archive.zip"]:
        assert "application/zip" in spec[path]["get"]["responses"]["200"]["content"]


def test_the_command_line_exports_each_scope_atomically(
    client: TestClient,
    institute: Institute,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HANDSUP_ENV", "test")
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HANDSUP_DATABASE_URL", raising=False)
    out = tmp_path / "phoenix.zip"
    assert main(["archive", "export", "--cohort", str(institute.phoenix), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("archived 1 of 2 sessions\narchived 2 of 2 sessions\nWrote ")
    assert data_of(zipfile.ZipFile(out)).scope == "cohort"
    whole = tmp_path / "institute.zip"
    terminal = Terminal()
    with monkeypatch.context() as on_a_terminal:
        on_a_terminal.setattr(sys, "stderr", terminal)
        assert main(["archive", "export", "--institute", str(institute.id), "-o", str(whole)]) == 0
    drawn = terminal.getvalue()  # one line redrawn in place, then a new line when done
    assert drawn.startswith("\r[..............................] archived 0 of 4 sessions\r[#######")
    assert "\r[##############################] archived 4 of 4 sessions\nWrote " in drawn
    with zipfile.ZipFile(whole) as archive:
        assert len(data_of(archive).sessions) == 4
    assert sorted(path.name for path in tmp_path.glob("*.zip*")) == ["institute.zip", "phoenix.zip"]
    assert main(["archive", "export", "--cohort", "999", "-o", str(tmp_path / "none.zip")]) == 1
    assert "handsup: there is no cohort 999" in capsys.readouterr().err
    assert not list(tmp_path.glob("none.zip*"))
    for wrong in (["--session", "1", "--cohort", "1"], []):
        with pytest.raises(SystemExit) as exit_code:
            main(["archive", "export", *wrong, "-o", str(out)])
        assert exit_code.value.code == 2
    assert "one of the arguments --session --cohort --institute is required" in capsys.readouterr().err


def test_the_command_line_shows_a_session_without_a_cohort_in_the_servers_time_zone(
    client: TestClient, presenter: Presenter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = presenter.start(DECK)
    poll = session["activities"][0]["id"]
    presenter.control(session["id"], "next")
    assert respond(client, join(client, session["code"]), poll, choice=0).status_code in (200, 201)
    monkeypatch.setenv("HANDSUP_ENV", "test")
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDSUP_TIME_ZONE", "America/Phoenix")
    monkeypatch.delenv("HANDSUP_DATABASE_URL", raising=False)
    out = tmp_path / "session.zip"
    assert main(["archive", "export", "--session", str(session["id"]), "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        [responses] = [name for name in archive.namelist() if name.endswith(".csv") and "where-does" in name]
        [row] = csv.DictReader(io.StringIO(archive.read(responses).decode("utf-8-sig")))
    assert row["time_zone"] == "America/Phoenix"
    assert row["answered_at"].endswith("-07:00")  # Phoenix keeps standard time all year
