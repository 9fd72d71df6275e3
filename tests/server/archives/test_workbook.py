"""The archive's workbook as people open it: a Results sheet with the projector's numbers and native charts, response
sheets with real date-time cells in the cohort's local time, bold frozen headers, fitted columns and readable names;
and rendered by LibreOffice, as a person opening it would see it."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pypdfium2
import pytest
from openpyxl.chart import BarChart
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import col, update
from starlette.testclient import TestClient

from server.archives.workbook import MAX_SHEET_NAME, sheet_name
from server.institutes import CohortForm, create_institute, save_cohort
from server.models import Response, Role
from server.models import Session as SessionRow
from tests.factories import (
    Presenter,
    api_token,
    caught_up,
    csrf_from,
    join,
    login,
    make_user,
    respond,
    run,
    services_of,
)
from tests.server.archives.test_import import key_of

FORMULA = '=HYPERLINK("http://evil.example")'
PEOPLE = 4


def answer_of(kind: str, config: dict[str, Any], person: int) -> dict[str, Any] | None:
    """What person 0-3 answers to an activity of the example deck: varied, so every count, share and mean differs."""
    if kind == "wordcloud":
        return {
            "word": [["trust", "listening", "vision"], ["trust", "equity"], ["vision", "trust"], ["equity"]][person]
        }
    if kind == "poll":
        return {"choice": str([0, 1, 0, 2][person] % len(config["options"]))}
    if kind == "sort":
        return {f"card-{i}": str((i + person) % len(config["bins"])) for i in range(len(config["cards"]))}
    if kind == "points":
        first = [60, 100, 20, 0][person]
        items = len(config["items"])
        return {f"item-{i}": str(first if i == 0 else (100 - first if i == 1 else 0)) for i in range(items)}
    if kind == "scale":
        span = config["max"] - config["min"] + 1
        return {f"statement-{i}": str(config["min"] + (i + person) % span) for i in range(len(config["statements"]))}
    if kind == "ranking":
        items = len(config["items"])
        return {f"rank-{i}": str((i + person) % items + 1) for i in range(items)}
    if kind == "resources" and person < 2:
        titles = ["Leadership on the Line", FORMULA]
        return {"type": config["types"][0], "title": titles[person], "link": f"https://example.org/{person}"}
    if kind == "open":
        return {"text": ["Who owns the timetable", "Grading", "Grading", "Coverage"][person]}
    if kind == "qa" and person < 2:
        return {"question": ["Who decides?", "Why now?"][person]}
    if kind == "grid":
        items = range(len(config["items"]))
        return {f"item-{i}-{axis}": str((i * (1 + n) + person) % 11) for i in items for n, axis in enumerate("xy")}
    if kind == "number":
        return {"value": [8, 10, 5, 20][person]}
    if kind == "pin":
        return {"x": str([20, 25, 50, 90][person]), "y": str([20, 22, 60, 80][person])}  # percent, as typed
    if kind == "quiz" and len(config["correct"]) > 1:  # several right options: people pick several
        return {"choice": [["0", "2", "3"], ["0", "1"], ["3"], ["0", "2", "3"]][person]}
    if kind == "quiz" and config["options"]:
        return {"choice": ["2", "1", "2", "0"][person]}
    if kind == "quiz":
        return {"answer": ["10", "ten", "nine", "diez"][person]}
    return None


@pytest.fixture
def example(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    """The example deck run with four people answering every activity; resources, ideas and questions approved,
    and the last two people upvoting the first resource and question."""
    session = presenter.start()
    session_id = session["id"]
    tokens = [join(client, session["code"]) for _ in range(PEOPLE)]
    for activity in session["activities"]:
        presenter.control(session_id, "goto", activity["id"])
        caught_up(client, session_id)
        for person, token in enumerate(tokens):
            given = answer_of(activity["kind"], activity["config"], person)
            if given is not None:
                assert respond(client, token, activity["id"], **given).status_code == 201, activity["title"]
        moderate(client, presenter, session_id, activity, tokens[2:])
    caught_up(client, session_id)
    return session


def moderate(
    client: TestClient, presenter: Presenter, session_id: int, activity: dict[str, Any], later: list[str]
) -> None:
    """While the activity is open: approve what people wrote, and the `later` people upvote the first of it."""
    kind, activity_id = activity["kind"], activity["id"]
    if kind == "resources":
        for title in ["Leadership on the Line", FORMULA]:
            resource = key_of(presenter, session_id, activity_id, "resources", "title", title)
            presenter.control(session_id, "moderate", activity_id, verb="approve", answer=resource)
        first = key_of(presenter, session_id, activity_id, "resources", "title", "Leadership on the Line")
        for token in later:
            assert respond(client, token, activity_id, upvote=first).status_code == 201
    if kind == "open":
        for text in ["Who owns the timetable", "Grading", "Coverage"]:
            idea = key_of(presenter, session_id, activity_id, "cards", "text", text)
            presenter.control(session_id, "moderate", activity_id, verb="approve", answer=idea)
    if kind == "qa":
        for text in ["Who decides?", "Why now?"]:
            question = key_of(presenter, session_id, activity_id, "questions", "text", text)
            presenter.control(session_id, "moderate", activity_id, verb="approve", question=question)
        asked = key_of(presenter, session_id, activity_id, "questions", "text", "Who decides?")
        for token in later:
            assert respond(client, token, activity_id, upvote=asked).status_code == 201


def workbook_of(client: TestClient, presenter: Presenter, path: str) -> tuple[zipfile.ZipFile, bytes]:
    response = client.get(path, headers=presenter.headers)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return archive, archive.read("workbook.xlsx")


def results_block(sheet: Worksheet, heading: str) -> tuple[int, list[dict[str, Any]]]:
    """The table under an activity's heading on the Results sheet: its header row's number, and its rows by header."""
    rows = list(sheet.iter_rows(values_only=True))
    at = next(i for i, row in enumerate(rows) if row[0] == heading)
    header_index = at + 2
    header = rows[header_index]
    table = []
    for row in rows[header_index + 1 :]:
        if row[0] is None:
            break
        table.append({name: value for name, value in zip(header, row, strict=False) if name is not None})
    return header_index + 1, table


def chart_ranges(chart: BarChart) -> list[str]:
    return [str(series.val.numRef.f) for series in chart.series]


def test_the_workbook_opens_on_results_with_the_projectors_numbers(
    client: TestClient, presenter: Presenter, example: dict[str, Any]
) -> None:
    _, body = workbook_of(client, presenter, f"/api/v1/sessions/{example['id']}/archive.zip")
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames[:2] == ["Results", "Summary"]
    sheet = book["Results"]
    activities = {a["title"]: a for a in example["activities"]}

    poll = activities["How do school leaders spend their time?"]
    tally = presenter.tally(example["id"], poll["id"])["results"]
    header_row, table = results_block(sheet, f"{poll['position'] + 1} {poll['title']}")
    assert [(row["Option"], row["Count"], row["%"]) for row in table] == [
        (option["label"], option["count"], pytest.approx(option["percent"] / 100)) for option in tally["options"]
    ]
    assert [row["Count"] for row in table] == [2, 1, 1]  # people 1 and 3 put out fires
    assert sheet.cell(header_row + 1, 4).number_format == "0%"

    scale = activities["Skills distributed leadership requires"]
    tally = presenter.tally(example["id"], scale["id"])["results"]
    _, table = results_block(sheet, f"{scale['position'] + 1} {scale['title']}")
    assert [(row["Statement"], row["Count"], row["Mean"]) for row in table] == [
        (statement["text"], PEOPLE, statement["mean"]) for statement in tally["statements"]
    ]

    points = activities["Where does your team's time go?"]
    tally = presenter.tally(example["id"], points["id"])["results"]
    _, table = results_block(sheet, f"{points['position'] + 1} {points['title']}")
    assert [(row["Item"], row["Mean"], row["%"]) for row in table] == [
        (item["label"], item["mean"], pytest.approx(item["percent"] / 100)) for item in tally["items"]
    ]
    assert table[0]["Mean"] == 45  # (60 + 100 + 20 + 0) / 4 points on the first item

    ranking = activities["Managing the risks: which first?"]
    tally = presenter.tally(example["id"], ranking["id"])["results"]
    _, table = results_block(sheet, f"{ranking['position'] + 1} {ranking['title']}")
    assert [(row["Item"], row["Mean"]) for row in table] == [
        (item["label"], item["average_rank"]) for item in tally["items"]
    ]

    cloud = activities["Understanding leadership practice"]
    _, table = results_block(sheet, f"{cloud['position'] + 1} {cloud['title']}")
    assert (table[0]["Word"], table[0]["Count"], table[0]["%"]) == ("trust", 3, pytest.approx(0.75))

    resources = activities["Call for resources"]
    _, table = results_block(sheet, f"{resources['position'] + 1} {resources['title']}")
    assert [(row["Resource"], row["Count"]) for row in table] == [("Leadership on the Line", 3), (FORMULA, 1)]
    formula = [cell for row in sheet.iter_rows() for cell in row if cell.value == FORMULA]
    assert formula and all(cell.data_type == "s" for cell in formula)  # shown, never run


def test_results_charts_are_native_bar_charts_of_the_tables_cells(
    client: TestClient, presenter: Presenter, example: dict[str, Any]
) -> None:
    _, body = workbook_of(client, presenter, f"/api/v1/sessions/{example['id']}/archive.zip")
    sheet = openpyxl.load_workbook(io.BytesIO(body))["Results"]
    charts = sheet._charts
    answered = [a for a in example["activities"] if a["kind"] != "slide"]
    assert len(charts) == len(answered)  # every activity with answers has its chart, word clouds included
    assert all(isinstance(chart, BarChart) and chart.type == "bar" for chart in charts)
    by_title = {"".join(run.t for run in chart.title.tx.rich.p[0].r): chart for chart in charts}

    poll = next(a for a in example["activities"] if a["title"] == "How do school leaders spend their time?")
    header_row, table = results_block(sheet, f"{poll['position'] + 1} {poll['title']}")
    chart = by_title[poll["title"]]
    first, last = header_row + 1, header_row + len(table)
    assert chart_ranges(chart) == [f"'Results'!$C${first}:$C${last}"]  # the Count column drawn as it stands
    assert str(chart.series[0].cat.strRef.f) == f"'Results'!$A${first}:$A${last}"

    scale = next(a for a in example["activities"] if a["kind"] == "scale")
    chart = by_title[scale["title"]]
    points = list(range(scale["config"]["min"], scale["config"]["max"] + 1))
    assert chart.grouping == "stacked" and len(chart.series) == len(points)
    # A stacked chart draws its own table, under the results: one column per point of the scale, from C.
    top = int(re.findall(r"\$(\d+)", chart_ranges(chart)[0])[0])
    statements = scale["config"]["statements"]
    assert chart_ranges(chart) == [
        f"'Results'!${column}${top}:${column}${top + len(statements) - 1}" for column in "CDEFG"[: len(points)]
    ]
    header = [cell.value for cell in sheet[top - 1]]
    assert header[0] == "Chart: people"  # then the series' names, one per point of the scale: "1 Not yet"
    assert [str(name).split(" ")[0] for name in header[2 : 2 + len(points)]] == [str(p) for p in points]
    assert [sheet.cell(top + i, 1).value for i in range(len(statements))] == statements
    tally = presenter.tally(example["id"], scale["id"])["results"]
    assert [sheet.cell(top, 3 + i).value for i in range(len(points))] == [
        point["count"] for point in tally["statements"][0]["distribution"]
    ]


def test_response_sheets_have_date_times_bold_frozen_headers_widths_and_readable_names(
    client: TestClient, presenter: Presenter, example: dict[str, Any]
) -> None:
    archive, body = workbook_of(client, presenter, f"/api/v1/sessions/{example['id']}/archive.zip")
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames[2:4] == ["1 Understanding leadership…", "2 How do school leaders spend…"]  # at a word
    assert len(set(book.sheetnames)) == len(book.sheetnames)
    for name in book.sheetnames:
        assert len(name) <= MAX_SHEET_NAME and name == name.strip()
    poll = book["2 How do school leaders spend…"]
    header = [cell.value for cell in poll[1]]
    assert header[:3] == ["Participant", "Answered (UTC)", "Option"]
    assert all(cell.font.b for cell in poll[1]) and poll.freeze_panes == "A2"
    assert poll.column_dimensions["B"].width >= len("Answered (UTC)")
    assert poll.column_dimensions["C"].width >= len("Maintaining the organization")
    first = list(poll.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in first] == ["Participant 1", "Participant 2", "Participant 3", "Participant 4"]
    assert all(isinstance(row[1], datetime) and row[1].microsecond == 0 for row in first)
    assert poll.cell(2, 2).number_format == "yyyy-mm-dd hh:mm:ss"
    assert all(isinstance(row[3], int) for row in first)  # the option's index stays a number

    resources = book[next(name for name in book.sheetnames if name.endswith("Call for resources"))]
    upvoted = header_of(resources).index("Upvoted")
    rows = list(resources.iter_rows(min_row=2, values_only=True))
    # People 3 and 4 upvoted the resource participant 1 suggested (not its internal key).
    assert [row[upvoted] for row in rows] == [None, None, "Participant 1", "Participant 1"]
    csv_name = next(name for name in archive.namelist() if name.endswith("call-for-resources.csv"))
    in_csv = list(csv.DictReader(io.StringIO(archive.read(csv_name).decode())))
    assert list(in_csv[0])[:3] == ["participant", "answered_at", "time_zone"]
    assert [row["upvoted"] for row in in_csv] == ["", "", "1", "1"]  # the CSV names them by number
    assert all(row["time_zone"] == "UTC" and row["answered_at"].endswith("+00:00") for row in in_csv)


def header_of(sheet: Worksheet) -> list[Any]:
    return [cell.value for cell in sheet[1]]


def test_sheet_names_are_cut_at_a_word_and_numbered_when_taken() -> None:
    taken: set[str] = set()
    names = []
    for wanted in ["6 Call for resources", "6 Call for resources", "6 Call for resources What resources deepen"] * 1:
        name = sheet_name(wanted, taken)
        taken.add(name.casefold())
        names.append(name)
    assert names == ["6 Call for resources", "6 Call for resources (2)", "6 Call for resources What…"]
    assert sheet_name("6 Call for resources What resources deepen", taken) == "6 Call for resources What… (2)"
    assert sheet_name("Supercalifragilisticexpialidocious-and-more", set()) == "Supercalifragilisticexpialidoc…"


# --- local times ---------------------------------------------------------------------------------------------------

SUMMER = datetime.fromisoformat("2017-06-20T17:00:00+00:00")  # Los Alamitos, June: PDT, UTC-7 like Phoenix
WINTER = datetime.fromisoformat("2017-01-20T17:00:00+00:00")  # January: PST, UTC-8; Phoenix stays UTC-7
DECK = """\
title: Day
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
"""


@pytest.fixture
def organizer(client: TestClient) -> Presenter:
    user = make_user(client, "organizer@example.org", Role.organizer)
    return Presenter(client, user, api_token(client, user.email))


def cohort_session(client: TestClient, organizer: Presenter, institute_id: int, name: str, zone: str) -> dict[str, Any]:
    """A cohort in `zone`, one session of it, one answer."""
    cohort = run(client, save_cohort, services_of(client).db, institute_id, CohortForm(name, time_zone=zone))
    assert cohort.id is not None
    session = start_in(client, organizer, cohort.id, f"{name}, day 1")
    token = join(client, session["code"])
    assert respond(client, token, session["activities"][0]["id"], choice="0").status_code == 201
    caught_up(client, session["id"])
    return {"cohort": cohort.id, **session}


def happened_at(client: TestClient, session: dict[str, Any], moment: datetime) -> None:
    """The session started and its answers were given at `moment` (UTC), as stored."""
    activities = [activity["id"] for activity in session["activities"]]

    async def move() -> None:
        async with services_of(client).engine.begin() as connection:
            await connection.execute(
                update(SessionRow).where(col(SessionRow.id) == session["id"]).values(created_at=moment)
            )
            await connection.execute(
                update(Response).where(col(Response.activity_id).in_(activities)).values(updated_at=moment)
            )

    run(client, move)


def test_a_cohort_archive_of_two_sessions_has_a_results_part_for_each(client: TestClient, organizer: Presenter) -> None:
    db = services_of(client).db
    institute = run(client, create_institute, db, "2017 Summer Institute", "", organizer.user.id)
    phoenix = cohort_session(client, organizer, institute.id, "Phoenix", "America/Phoenix")
    day_two = start_in(client, organizer, phoenix["cohort"], "Phoenix, day 2")
    for token_choice in ["1", "2"]:
        token = join(client, day_two["code"])
        assert respond(client, token, day_two["activities"][0]["id"], choice=token_choice).status_code == 201
    caught_up(client, day_two["id"])
    _, body = workbook_of(client, organizer, f"/api/v1/cohorts/{phoenix['cohort']}/archive.zip")
    book = openpyxl.load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Results", "Summary", "1 Where does the week go", "1 Where does the week go (2)"]
    sheet = book["Results"]
    column = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert column[0] == "Results: 2017 Summer Institute: Phoenix"
    assert column.index("Phoenix, day 1") < column.index("Phoenix, day 2")
    about = column[column.index("Phoenix, day 2") + 1]
    assert "Phoenix" in about and "times in America/Phoenix" in about and "2 participants" in about
    rows = list(sheet.iter_rows(values_only=True))
    blocks = [i for i, value in enumerate(column) if value == "1 Where does the week go?"]
    assert len(blocks) == 2
    counts = [[rows[i][2] for i in range(at + 3, at + 6)] for at in blocks]
    assert counts == [[1, 0, 0], [0, 1, 1]]
    assert "responses on sheet “1 Where does the week go (2)”" in str(rows[blocks[1] + 1][0])
    assert len(sheet._charts) == 2
    assert book["1 Where does the week go (2)"]["B1"].value == "Answered (America/Phoenix)"


def start_in(client: TestClient, organizer: Presenter, cohort_id: int, title: str) -> dict[str, Any]:
    """A session of the cohort, on its first activity."""
    body = {"deck_yaml": DECK, "title": title, "cohort_id": cohort_id}
    response = client.post("/api/v1/sessions", json=body, headers=organizer.headers)
    assert response.status_code == 201, response.text
    session = dict(response.json())
    organizer.control(session["id"], "goto", session["activities"][0]["id"])
    caught_up(client, session["id"])
    return session


@pytest.mark.parametrize(
    ("moment", "phoenix", "los_angeles"),
    [
        (SUMMER, "2017-06-20 10:00 MST", "2017-06-20 10:00 PDT"),  # the same clock time, two zones' names
        (WINTER, "2017-01-20 10:00 MST", "2017-01-20 09:00 PST"),  # Arizona keeps no daylight saving
    ],
)
def test_two_cohorts_show_the_same_moment_in_their_own_local_time(
    client: TestClient, organizer: Presenter, moment: datetime, phoenix: str, los_angeles: str
) -> None:
    db = services_of(client).db
    institute = run(client, create_institute, db, "2017 Summer Institute", "", organizer.user.id)
    sessions = {
        "America/Phoenix": cohort_session(client, organizer, institute.id, "Phoenix", "America/Phoenix"),
        "America/Los_Angeles": cohort_session(client, organizer, institute.id, "Los Alamitos", "America/Los_Angeles"),
    }
    for session in sessions.values():
        happened_at(client, session, moment)
    login(client, organizer.user.email)
    for (zone, session), shown in zip(sessions.items(), [phoenix, los_angeles], strict=True):
        page = client.get(f"/organize/cohorts/{session['cohort']}")
        assert page.status_code == 200 and shown in page.text and f"Times are shown in {zone}" in page.text
        activity = session["activities"][0]["id"]
        exported = client.get(f"/present/{session['id']}/activities/{activity}/export.csv")
        [row] = list(csv.DictReader(io.StringIO(exported.text)))
        local = datetime.fromisoformat(row["answered_at"])
        assert row["time_zone"] == zone and local == moment and local.strftime("%Y-%m-%d %H:%M") == shown[:16]
        _, body = workbook_of(client, organizer, f"/api/v1/sessions/{session['id']}/archive.zip")
        sheet = openpyxl.load_workbook(io.BytesIO(body))["1 Where does the week go"]
        assert sheet["B1"].value == f"Answered ({zone})"
        assert sheet["B2"].value == local.replace(tzinfo=None)
    dashboard = client.get("/present")
    assert phoenix in dashboard.text and los_angeles in dashboard.text


def test_a_time_zone_that_is_not_one_is_refused_and_changes_nothing(client: TestClient, organizer: Presenter) -> None:
    db = services_of(client).db
    institute = run(client, create_institute, db, "2017 Summer Institute", "", organizer.user.id)
    session = cohort_session(client, organizer, institute.id, "Phoenix", "America/Phoenix")
    login(client, organizer.user.email)
    page = client.get(f"/organize/cohorts/{session['cohort']}")
    assert '<option value="America/Phoenix" selected>America/Phoenix</option>' in page.text
    token = csrf_from(page.text)
    for hostile in ["../../etc/passwd", "Mars/Base", "America/Phoenix\x00", "/etc/localtime"]:
        form = {"csrf_token": token, "name": "Phoenix, renamed", "time_zone": hostile, "same_identity": "on"}
        answer = client.post(f"/organize/cohorts/{session['cohort']}", data=form, follow_redirects=False)
        assert answer.status_code == 422 and "is not a time zone" in answer.text, hostile
    cohort = client.get(f"/api/v1/cohorts/{session['cohort']}", headers=organizer.headers).json()
    assert (cohort["name"], cohort["time_zone"]) == ("Phoenix", "America/Phoenix")  # nothing changed
    form = {"csrf_token": token, "name": "Phoenix", "time_zone": "America/Los_Angeles", "same_identity": "on"}
    assert client.post(f"/organize/cohorts/{session['cohort']}", data=form, follow_redirects=False).status_code == 303
    cohort = client.get(f"/api/v1/cohorts/{session['cohort']}", headers=organizer.headers).json()
    assert cohort["time_zone"] == "America/Los_Angeles"
    refused = client.post(
        f"/api/v1/institutes/{institute.id}/cohorts",
        json={"name": "Mars", "time_zone": "Mars/Base"},
        headers=organizer.headers,
    )
    assert refused.status_code == 422 and "“Mars/Base” is not a time zone" in refused.text


# --- as LibreOffice draws it ---------------------------------------------------------------------------------------

RENDER_SECONDS = 120


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice Calc (make system-deps) draws the workbook")
def test_libreoffice_renders_the_results_sheet_with_its_charts(
    client: TestClient, presenter: Presenter, example: dict[str, Any], tmp_path: Path
) -> None:
    _, body = workbook_of(client, presenter, f"/api/v1/sessions/{example['id']}/archive.zip")
    source = tmp_path / "workbook.xlsx"
    source.write_bytes(body)
    profile = tmp_path / "profile"
    command = [
        str(shutil.which("soffice")),
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(tmp_path),
        str(source),
    ]
    subprocess.run(command, check=True, timeout=RENDER_SECONDS, capture_output=True, cwd=tmp_path)
    pdf = pypdfium2.PdfDocument(tmp_path / "workbook.pdf")
    try:
        assert len(pdf) >= 3  # Results, Summary, then the response sheets
        first = pdf[0]
        text = first.get_textpage().get_text_range()
        assert "Results: Transforming Schools Through Distributed Leadership" in text
        assert "How do school leaders spend their time?" in text and "Putting out fires" in text
        picture = first.render(scale=1.5).to_pil().convert("RGB")
        # The charts' bars: LibreOffice draws them in colour; the tables are black on white and pale blue.
        coloured = sum(1 for r, g, b in picture.get_flattened_data() if max(r, g, b) - min(r, g, b) > 60)
        assert coloured > 2000, coloured
        saved = os.environ.get("HANDSUP_WORKBOOK_PICTURE")
        if saved:  # docs/screenshots/workbook-results.png is made this way (docs/archives.md)
            picture.save(saved)
    finally:
        pdf.close()
