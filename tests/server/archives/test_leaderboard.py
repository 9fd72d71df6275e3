"""A session's leaderboard in its archive (leaderboard.csv, the teams', the workbook's sheet, the report) and back:
a quiz really run, with teams, nicknames and the streak bonus, archived, checked against an independent count from
the archived answers (docs/kinds.md "Points"), imported into a fresh server, whose standings are the same."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from server.app import create_app
from server.archives.build import ArchiveSources, write_archive
from server.archives.format import Scope
from server.config import Settings
from server.institutes import CohortForm, Stores, create_institute, prune_cohort, save_cohort
from server.models import Participant, Role
from server.models import Session as SessionRow
from tests.factories import SECRET, Presenter, api_token, caught_up, join, make_user, respond, run, services_of, stored
from tests.server.archives.test_import import (
    activity as activity_data,
)
from tests.server.archives.test_import import (
    answer,
    archive_zip,
    imported,
    refused,
    rezip,
    same_archive,
    session_archive_data,
    sha256,
)

QUIZ = """\
title: Leadership quiz
activities:
  - kind: quiz
    title: Which PSEL standard is about equity?
    options: [Mission and vision, Ethics, Equity and cultural responsiveness, Curriculum]
    correct: [3]
    time_limit: 20
  - kind: quiz
    title: Which two are PSEL standards?
    options: [Professional community, Fundraising, School improvement, Athletics]
    correct: [1, 3]
    time_limit: 30
  - kind: quiz
    title: A leadership that is shared among many is called...
    accepted: [Distributed leadership]
  - kind: quiz
    title: Never revealed
    options: [Yes, No]
    correct: [1]
"""
TEAMS = ["Red", "Blue"]
# Five phones: nickname and team (empty: none), then their answers to the four questions (None: no answer).
PHONES: list[tuple[str, str, list[dict[str, Any] | None]]] = [
    (
        "Ana",
        "Red",
        [{"choice": ["2"]}, {"choice": ["0", "2"]}, {"answer": "distributed leadership"}, {"choice": ["0"]}],
    ),
    ("", "Red", [{"choice": ["2"]}, {"choice": ["0"]}, {"answer": "Distributed Leadership"}, {"choice": ["0"]}]),
    ("Zoë", "Blue", [{"choice": ["0"]}, {"choice": ["2", "0"]}, {"answer": "no idea"}, {"choice": ["1"]}]),
    ("", "Blue", [{"choice": ["2"]}, {"choice": ["0", "2"]}, {"answer": "DISTRIBUTED LEADERSHIP"}, None]),
    ("", "", [None, {"choice": ["0", "2"]}, None, {"choice": ["0"]}]),
]
REVEALED = 3  # the last question is answered but never revealed: it is no part of the standings


@pytest.fixture
def second(tmp_path: Path) -> Iterator[TestClient]:
    """A second server with its own, fresh database: where the archive is imported."""
    settings = Settings(
        env="test", data_dir=tmp_path / "second", secret_key=SECRET, commit_interval_ms=5, push_interval_ms=20
    )
    with TestClient(create_app(settings), base_url="http://testserver") as other:
        yield other


def organizer_of(client: TestClient) -> Presenter:
    user = make_user(client, "organizer@example.org", Role.organizer)
    return Presenter(client, user, api_token(client, user.email))


def export(client: TestClient, scope: Scope, scope_id: int) -> bytes:
    services = services_of(client)

    async def write() -> bytes:
        with tempfile.TemporaryFile() as target:
            await write_archive(target, ArchiveSources.of(services), scope, scope_id)
            target.seek(0)
            return target.read()

    return run(client, write)


def name_them(client: TestClient, session_id: int, *, streak: bool) -> None:
    """The session's options and each phone's nickname and team, as the names work's pages will set them."""

    async def write() -> None:
        async with services_of(client).db() as db:
            session = await db.get(SessionRow, session_id)
            assert session is not None
            session.teams, session.nicknames, session.streak = list(TEAMS), True, streak
            db.add(session)
            query = select(Participant).where(Participant.session_id == session_id).order_by(col(Participant.id))
            for person, (nickname, team, _) in zip((await db.exec(query)).all(), PHONES, strict=True):
                person.nickname, person.team = nickname, team
                db.add(person)
            await db.commit()

    run(client, write)


def run_quiz(
    client: TestClient, presenter: Presenter, *, streak: bool = True, session: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The quiz as a room plays it (in a new session, or `session`): each question shown, answered, and (but the
    last) revealed; then the end."""
    session = session or presenter.start(QUIZ)
    tokens = [join(client, session["code"]) for _ in PHONES]
    name_them(client, session["id"], streak=streak)
    for position, question in enumerate(session["activities"]):
        presenter.control(session["id"], "goto", question["id"])
        caught_up(client, session["id"])
        for token, (_, _, answers) in zip(tokens, PHONES, strict=True):
            if answers[position] is not None:
                sent = respond(client, token, question["id"], **answers[position])
                assert sent.status_code == 201, sent.text
        if position < REVEALED:
            presenter.control(session["id"], "reveal", question["id"])
    presenter.control(session["id"], "end")
    return session


def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def expected_points(activity: dict[str, Any], payload: dict[str, Any]) -> int:
    """docs/kinds.md "Points", written out again: round(1000 * (1 - t / (2 * limit))) for a right answer in time."""
    config = activity["config"]
    if config["options"]:
        right = sorted(payload["choices"]) == sorted(n - 1 for n in config["correct"])
    else:  # the typed answers here differ from the accepted one by case only
        right = payload["answer"].casefold() in {a.casefold() for a in config["accepted"]}
    limit, elapsed = config["time_limit"], payload["elapsed"]
    return round(1000 * (1 - elapsed / (2 * limit))) if right and elapsed <= limit else 0


def independent_standings(data: dict[str, Any], *, streak: bool) -> list[dict[str, Any]]:
    """Every ranked participant's rank, number, points and bonus, counted from data.json's answers alone."""
    [session] = data["sessions"]
    scored = [a for a in sorted(session["activities"], key=lambda a: a["position"]) if a["revealed"]]
    totals: dict[int, int] = {}
    bonus: dict[int, int] = {}
    run_of: dict[int, int] = {}
    for activity in scored:
        answers = {
            r["participant"]: r["payload"] for r in session["responses"] if r["activity"] == activity["position"]
        }
        for number in {p["number"] for p in session["participants"]}:
            points = expected_points(activity, answers[number]) if number in answers else None
            if points is not None:
                totals[number] = totals.get(number, 0) + points
            run_of[number] = run_of.get(number, 0) + 1 if points else 0
            if streak and points and run_of[number] >= 2:
                bonus[number] = bonus.get(number, 0) + min(100 * (run_of[number] - 1), 500)
    ordered = sorted(totals, key=lambda n: (-(totals[n] + bonus.get(n, 0)), n))
    rows: list[dict[str, Any]] = []
    for place, number in enumerate(ordered, start=1):
        points = totals[number] + bonus.get(number, 0)
        rank = rows[-1]["rank"] if rows and rows[-1]["points"] == points else place
        rows.append({"rank": rank, "participant": number, "points": points, "bonus": bonus.get(number, 0)})
    return rows


def as_numbers(rows: list[dict[str, str]], *keys: str) -> list[dict[str, Any]]:
    return [{key: int(row[key]) for key in keys} for row in rows]


def test_the_archive_holds_the_leaderboard_the_answers_add_up_to(client: TestClient, presenter: Presenter) -> None:
    session = run_quiz(client, presenter)
    archive = zipfile.ZipFile(io.BytesIO(export(client, "session", session["id"])))
    data = json.loads(archive.read("data.json"))
    board = read_csv(archive, "leaderboard.csv")
    assert list(board[0]) == ["rank", "participant", "name", "nickname", "team", "points", "bonus"]
    expected = independent_standings(data, streak=True)
    assert as_numbers(board, "rank", "participant", "points", "bonus") == expected
    assert len(board) == 5 and expected[0]["bonus"] == 300  # three right in a row: +100, then +200
    names = {int(row["participant"]): (row["name"], row["nickname"], row["team"]) for row in board}
    assert names == {
        1: ("Ana", "Ana", "Red"),
        2: ("Participant 2", "", "Red"),
        3: ("Zoë", "Zoë", "Blue"),
        4: ("Participant 4", "", "Blue"),
        5: ("Participant 5", "", ""),
    }
    # The teams: the mean of their ranked members' totals, rounded half up.
    points = {int(row["participant"]): int(row["points"]) for row in board}
    red, blue = (points[1] + points[2]) / 2, (points[3] + points[4]) / 2
    teams = read_csv(archive, "leaderboard-teams.csv")
    assert [(row["team"], int(row["members"]), int(row["points"])) for row in teams] == sorted(
        [("Red", 2, int(red + 0.5)), ("Blue", 2, int(blue + 0.5))], key=lambda team: -team[2]
    )
    assert [row["rank"] for row in teams] == ["1", "2"]
    # data.json keeps what the standings are made of: the options, and each participant's name and team.
    [kept] = data["sessions"]
    assert (kept["nicknames"], kept["teams"], kept["streak"]) == (True, TEAMS, True)
    assert [(p["nickname"], p["team"]) for p in kept["participants"]] == [(n, t) for n, t, _ in PHONES]
    listed = {entry["path"] for entry in json.loads(archive.read("manifest.json"))["files"]}
    assert {"leaderboard.csv", "leaderboard-teams.csv"} <= listed
    # Per question, every answer with its time, whether it was right and its points (the kind's export rows).
    answers = read_csv(archive, "responses/02-which-two-are-psel-standards.csv")
    assert list(answers[0])[3:] == ["answer", "option_indexes", "seconds", "right", "points"]
    by_number = {int(row["participant"]): row for row in answers}
    assert by_number[2]["answer"] == "Professional community" and by_number[2]["right"] == "False"
    assert by_number[1]["answer"] == "Professional community; School improvement" and by_number[1]["right"] == "True"
    [second] = [a for a in data["sessions"][0]["activities"] if a["position"] == 2]
    for number, row in by_number.items():
        payload = next(
            r["payload"] for r in data["sessions"][0]["responses"] if r["activity"] == 2 and r["participant"] == number
        )
        assert int(row["points"]) == expected_points(second, payload) and float(row["seconds"]) == payload["elapsed"]
    # Per question, the distribution with the right options marked, as the projector showed it.
    book = openpyxl.load_workbook(io.BytesIO(archive.read("workbook.xlsx")), read_only=True)
    results = [row[:4] for row in book["Results"].iter_rows(values_only=True) if row and row[0]]
    book.close()
    at = [row[0] for row in results].index("2 Which two are PSEL standards?")
    assert results[at + 3 : at + 7] == [
        ("Professional community", "right", 5, 1.0),
        ("Fundraising", None, 0, 0.0),
        ("School improvement", "right", 4, 0.8),
        ("Athletics", None, 0, 0.0),
    ]


def test_without_the_streak_the_points_are_the_answers_alone(client: TestClient, presenter: Presenter) -> None:
    session = run_quiz(client, presenter, streak=False)
    archive = zipfile.ZipFile(io.BytesIO(export(client, "session", session["id"])))
    board = read_csv(archive, "leaderboard.csv")
    expected = independent_standings(json.loads(archive.read("data.json")), streak=False)
    assert as_numbers(board, "rank", "participant", "points", "bonus") == expected
    assert {row["bonus"] for row in board} == {"0"}
    book = openpyxl.load_workbook(io.BytesIO(archive.read("workbook.xlsx")), read_only=True)
    assert book["Leaderboard"]["A2"].value == (
        "Points of the revealed scored questions (no streak bonus in this session); equal points share a rank."
    )
    book.close()


def test_the_workbook_and_the_report_show_the_leaderboard(client: TestClient, presenter: Presenter) -> None:
    session = run_quiz(client, presenter)
    archive = zipfile.ZipFile(io.BytesIO(export(client, "session", session["id"])))
    board = read_csv(archive, "leaderboard.csv")
    book = openpyxl.load_workbook(io.BytesIO(archive.read("workbook.xlsx")), read_only=True)
    assert book.sheetnames[-1] == "Leaderboard"
    rows = [row for row in book["Leaderboard"].iter_rows(values_only=True) if any(row)]
    book.close()
    assert rows[0][0] == "Leaderboard: Leadership quiz"
    assert rows[2] == ("Rank", "Name", "Team", "Points", "Streak bonus")
    ranked = [(r["rank"], r["name"], r["team"] or None, r["points"], r["bonus"]) for r in board]
    assert [(str(r[0]), r[1], r[2], str(r[3]), str(r[4])) for r in rows[3:8]] == ranked
    assert rows[8][0] == "Teams" and rows[10][:4] == ("Rank", "Team", "Members", "Points (mean)")
    teams = read_csv(archive, "leaderboard-teams.csv")
    assert [tuple(str(v) for v in r[:4]) for r in rows[11:]] == [tuple(t.values()) for t in teams]
    report = archive.read("report.html").decode()
    section = report.split("<h3>Leaderboard</h3>", 1)[1]
    assert "5 ranked" in section and "streak bonus included" in section
    top = section.split("</table>", 1)[0]
    shown = [top.index(f"<td>{row['name']}</td>") for row in board]
    assert shown == sorted(shown)  # every ranked name, best first
    assert all(f"{int(row['points']):,}" in top for row in board)
    assert "<h3>Teams</h3>" in section and "mean of its ranked members" in section


def test_a_session_without_quiz_questions_has_no_leaderboard(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start("title: Poll only\nactivities:\n  - kind: poll\n    title: Q\n    options: [A, B]\n")
    archive = zipfile.ZipFile(io.BytesIO(export(client, "session", session["id"])))
    assert not [name for name in archive.namelist() if "leaderboard" in name]
    assert "Leaderboard" not in openpyxl.load_workbook(io.BytesIO(archive.read("workbook.xlsx"))).sheetnames
    assert "<h3>Leaderboard</h3>" not in archive.read("report.html").decode()


def test_a_quiz_never_revealed_ranks_no_one(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(QUIZ)
    token = join(client, session["code"])
    presenter.control(session["id"], "goto", session["activities"][0]["id"])
    caught_up(client, session["id"])
    assert respond(client, token, session["activities"][0]["id"], choice=["2"]).status_code == 201
    archive = zipfile.ZipFile(io.BytesIO(export(client, "session", session["id"])))
    assert read_csv(archive, "leaderboard.csv") == []  # the header alone: the room ranked no one yet
    assert "No one was ranked: no scored question was revealed." in archive.read("report.html").decode()


def test_a_cohort_archive_keeps_each_sessions_leaderboard(client: TestClient) -> None:
    organizer = organizer_of(client)
    db = services_of(client).db
    institute = run(client, create_institute, db, "2017 Summer Institute", "", organizer.user.id)
    cohort = run(client, save_cohort, db, institute.id, CohortForm("Phoenix", time_zone="America/Phoenix"))
    boards = []
    for day, streak in ((1, True), (2, False)):
        body = {"deck_yaml": QUIZ, "title": f"Phoenix, day {day}", "cohort_id": cohort.id}
        started = client.post("/api/v1/sessions", json=body, headers=organizer.headers)
        assert started.status_code == 201, started.text
        session = run_quiz(client, organizer, streak=streak, session=started.json())
        single = zipfile.ZipFile(io.BytesIO(export(client, "session", session["id"])))
        boards.append((single.read("leaderboard.csv"), single.read("leaderboard-teams.csv")))
    archive = zipfile.ZipFile(io.BytesIO(export(client, "cohort", cohort.id)))
    for day, (board, teams) in enumerate(boards, start=1):
        folder = f"cohorts/phoenix/{day:02d}-phoenix-day-{day}/"
        assert archive.read(folder + "leaderboard.csv") == board  # the same file as the session's own archive
        assert archive.read(folder + "leaderboard-teams.csv") == teams
    book = openpyxl.load_workbook(io.BytesIO(archive.read("workbook.xlsx")), read_only=True)
    assert [name for name in book.sheetnames if name.startswith("Leaderboard")] == ["Leaderboard", "Leaderboard (2)"]
    assert book["Leaderboard (2)"]["A1"].value == "Leaderboard: Phoenix, day 2"
    book.close()
    assert archive.read("report.html").decode().count("<h3>Leaderboard</h3>") == 2


def test_once_participant_data_is_deleted_no_one_is_left_to_rank(client: TestClient) -> None:
    organizer = organizer_of(client)
    services = services_of(client)
    institute = run(client, create_institute, services.db, "2017 Summer Institute", "", organizer.user.id)
    cohort = run(client, save_cohort, services.db, institute.id, CohortForm("Phoenix"))
    body = {"deck_yaml": QUIZ, "title": "Phoenix, day 1", "cohort_id": cohort.id}
    started = client.post("/api/v1/sessions", json=body, headers=organizer.headers)
    assert started.status_code == 201, started.text
    session = run_quiz(client, organizer, session=started.json())
    stores = Stores(services.db, services.engine, services.registry, services.hub.forget)
    run(client, lambda: prune_cohort(stores, cohort.id, organizer.user))
    archive = zipfile.ZipFile(io.BytesIO(export(client, "session", session["id"])))
    assert read_csv(archive, "leaderboard.csv") == [] and read_csv(archive, "leaderboard-teams.csv") == []
    report = archive.read("report.html").decode()
    assert "No one is left to rank: participant-level data was deleted on" in report
    book = openpyxl.load_workbook(io.BytesIO(archive.read("workbook.xlsx")), read_only=True)
    assert book["Leaderboard"]["A4"].value == "No one was ranked: participant-level data was deleted."
    book.close()


def restored_standings(client: TestClient, session_id: int) -> list[dict[str, Any]]:
    """The standings the restored session's room makes from its tallies (rebuilt from the restored answers)."""
    services = services_of(client)

    async def standings() -> list[dict[str, Any]]:
        room = await services.hub.room(session_id)
        async with services.db() as db:
            query = select(Participant.id).where(Participant.session_id == session_id).order_by(col(Participant.id))
            numbers = {pid: number for number, pid in enumerate((await db.exec(query)).all(), start=1)}
        return [
            {"rank": row.rank, "participant": numbers[row.participant_id], "points": row.points, "bonus": row.bonus}
            for row in room.standings().rows
        ]

    return run(client, standings)


@pytest.mark.postgresql
def test_an_imported_archive_gives_the_same_leaderboard(
    client: TestClient, presenter: Presenter, second: TestClient
) -> None:
    session = run_quiz(client, presenter)
    first = export(client, "session", session["id"])
    archive = zipfile.ZipFile(io.BytesIO(first))
    board = as_numbers(read_csv(archive, "leaderboard.csv"), "rank", "participant", "points", "bonus")
    importer = organizer_of(second)
    importer.start(QUIZ)  # the second server has a session of its own: the copy's ids all differ
    [copy] = imported(second, importer, first)["session_ids"]
    assert restored_standings(second, copy) == board
    [restored] = stored(second, select(SessionRow).where(SessionRow.id == copy))
    assert (restored.teams, restored.nicknames, restored.streak) == (TEAMS, True, True)
    people = stored(second, select(Participant).where(Participant.session_id == copy).order_by(col(Participant.id)))
    assert [(p.nickname, p.team) for p in people] == [(n, t) for n, t, _ in PHONES]
    same_archive(first, export(second, "session", copy))  # leaderboard.csv, the teams', sheet and report included


def test_a_tampered_leaderboard_is_not_believed(client: TestClient, presenter: Presenter) -> None:
    """leaderboard.csv is derived: an import checks it against the manifest like every file, and never reads it."""
    session = run_quiz(client, presenter)
    first = export(client, "session", session["id"])
    archive = zipfile.ZipFile(io.BytesIO(first))
    original = archive.read("leaderboard.csv")
    last = read_csv(archive, "leaderboard.csv")[-1]  # the last one given the most points, the size unchanged
    row = ",".join(last.values()).encode()
    boosted = "8" * len(last["points"]) if set(last["points"]) != {"8"} else "9" * len(last["points"])
    forged = original.replace(row, row.replace(f",{last['points']},".encode(), f",{boosted},".encode()))
    assert forged != original
    organizer = organizer_of(client)
    detail = refused(client, organizer, rezip(first, {"leaderboard.csv": forged}))
    assert detail == "This archive is damaged: leaderboard.csv does not match its checksum."
    # Forged with its manifest entry to match: imported, and the standings are still the answers' own.
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        if entry["path"] == "leaderboard.csv":
            entry.update(bytes=len(forged), sha256=sha256(forged))
    body = rezip(first, {"leaderboard.csv": forged, "manifest.json": json.dumps(manifest).encode()})
    [copy] = imported(client, organizer, body)["session_ids"]
    expected = independent_standings(json.loads(archive.read("data.json")), streak=True)
    assert restored_standings(client, copy) == expected
    again = zipfile.ZipFile(io.BytesIO(export(client, "session", copy)))
    assert again.read("leaderboard.csv") == original


def named(**change: Any) -> dict[str, Any]:
    """The session archive of test_import, with teams and these changes to its first participant."""
    data = session_archive_data()
    data["sessions"][0]["teams"] = list(TEAMS)
    data["sessions"][0]["participants"][0].update(change)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            named(team="Green"),
            "Session 1 (“Phoenix, day 1”), participant 1: their team “Green” is not one of the session's teams.",
        ),
        (
            {**named(nickname="Ana"), "sessions": [{**named(nickname="Ana")["sessions"][0], "teams": ["Red", "red"]}]},
            "Session 1 (“Phoenix, day 1”): Two teams have the same name: “Red” and “red”.",
        ),
        (
            named(nickname="Ana\u202e"),
            "Session 1 (“Phoenix, day 1”), participant 1: their nickname “Ana?” is not one the room shows.",
        ),
        (
            named(nickname="x" * 41),
            "data.json does not fit the archive format: sessions.0.participants.0.nickname: "
            "String should have at most 40 characters",
        ),
        (
            named(nickname="<b>Bo</b>"),
            "Session 1 (“Phoenix, day 1”), participant 1: their nickname “<b>Bo</b>” is refused: "
            "A nickname may have letters, numbers, spaces and . , - _ ' ! ? & ( ) only.",
        ),
    ],
    ids=["unknown team", "same team twice", "control character", "too long", "markup, as no phone may"],
)
def test_names_and_teams_an_archive_brings_are_checked(client: TestClient, data: dict[str, Any], message: str) -> None:
    assert refused(client, organizer_of(client), archive_zip(data)) == message


def test_two_participants_of_one_nickname_are_refused(client: TestClient) -> None:
    data = named(nickname="Ana")
    data["sessions"][0]["participants"][1]["nickname"] = "ANA"
    detail = refused(client, organizer_of(client), archive_zip(data))
    assert detail == "Session 1 (“Phoenix, day 1”), participant 2: another participant has the nickname “ANA”."


def test_names_that_look_like_code_stay_text_in_every_file(client: TestClient) -> None:
    """A nickname a spreadsheet would run, or a team a page would read as markup, is shown as typed: quoted in the
    CSV, a text cell in the workbook, escaped in the report. (A nickname cannot carry markup: the rules refuse it.)"""
    question = {"options": ["Yes", "No"], "correct": [1]}
    data = session_archive_data()
    session = data["sessions"][0]
    session.update(teams=["<i>Red</i>"], streak=True)
    session["activities"] = [activity_data(1, "quiz", "Ready?", question, revealed=True)]
    session["participants"][0].update(nickname="-1-1", team="<i>Red</i>")
    session["participants"][1].update(nickname="Bo")
    session["responses"] = [
        answer(1, 1, {"choices": [0], "answer": "", "elapsed": 2.0}),
        answer(1, 2, {"choices": [0], "answer": "", "elapsed": 4.0}, minute=2),
    ]
    organizer = organizer_of(client)
    [copy] = imported(client, organizer, archive_zip(data))["session_ids"]
    archive = zipfile.ZipFile(io.BytesIO(export(client, "session", copy)))
    board = read_csv(archive, "leaderboard.csv")
    assert [(row["name"], row["team"], row["points"]) for row in board] == [
        ("'-1-1", "<i>Red</i>", "950"),
        ("Bo", "", "900"),
    ]
    book = openpyxl.load_workbook(io.BytesIO(archive.read("workbook.xlsx")))
    cell = book["Leaderboard"]["B4"]
    assert (cell.value, cell.data_type) == ("-1-1", "s")
    report = archive.read("report.html").decode()
    assert "&lt;i&gt;Red&lt;/i&gt;" in report and "<i>Red" not in report
