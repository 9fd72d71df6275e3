"""Session archives: every file listed with its checksum, every CSV row traced back to an answer given, the workbook
holding the same rows, pictures that open, and a report that loads nothing from anywhere."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pytest
from starlette.testclient import TestClient

from activities import registry
from activities.base import Chart, ChartRow, ListItem, ResponseEvent
from server.archives.build import ReportActivity, ReportSession
from server.archives.charts import chart_svg
from server.archives.format import ArchiveData
from server.archives.workbook import MAX_SHEET_NAME, sheet_name
from server.cli import main
from server.exports import FIXED_COLUMNS, safe_cell
from server.live.fragments import make_environment
from server.models import Session as SessionRow
from tests.factories import Presenter, caught_up, join, login, make_user, respond
from tests.hostile import PAYLOADS

pytestmark = pytest.mark.postgresql  # each test here runs on SQLite and on PostgreSQL

DECK = """\
title: Phoenix, day 1
activities:
  - kind: poll
    title: Where does the week go?
    multiple: true
    options: [Fires, Maintenance, Improvement]
  - kind: wordcloud
    title: Three words
  - kind: open
    title: One idea
  - kind: sort
    title: Influence or authority?
    cards: [Hiring staff, Setting the budget]
"""
FORMULA = PAYLOADS["formula_cmd"]
# (participant, activity position, answer)
ANSWERS: list[tuple[int, int, dict[str, Any]]] = [
    (0, 0, {"choice": ["0", "2"]}),
    (1, 0, {"choice": "1"}),
    (0, 1, {"word": ["Trust", "listening", "=cmd"]}),
    (2, 1, {"word": ["trust"]}),
    (1, 2, {"text": "<script>alert(1)</script> more time"}),
    (2, 2, {"text": FORMULA}),
    (0, 3, {"card-0": "0", "card-1": "1"}),
    (2, 3, {"card-0": "0", "card-1": "unsure"}),
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def answered(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    session = presenter.start(DECK)
    tokens = [join(client, session["code"]) for _ in range(3)]
    for person, position, answer in ANSWERS:
        activity = session["activities"][position]["id"]
        presenter.control(session["id"], "goto", activity)
        caught_up(client, session["id"])
        assert respond(client, tokens[person], activity, **answer).status_code == 201
    return session


def download(client: TestClient, presenter: Presenter, session: dict[str, Any]) -> zipfile.ZipFile:
    response = client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith('attachment; filename="handsup-phoenix-day-1-')
    assert int(response.headers["content-length"]) == len(response.content)
    return zipfile.ZipFile(io.BytesIO(response.content))


def table(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


def test_the_manifest_lists_every_file_with_its_size_and_checksum(
    client: TestClient, presenter: Presenter, answered: dict[str, Any]
) -> None:
    archive = download(client, presenter, answered)
    manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["format"], manifest["version"], manifest["scope"]) == ("handsup-archive", 2, "session")
    assert manifest["archived"] == {
        "session": {"id": answered["id"], "code": answered["code"], "title": "Phoenix, day 1"}
    }
    assert manifest["counts"] == {"cohorts": 0, "sessions": 1, "activities": 4, "participants": 3, "responses": 8}
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) | {"manifest.json"} == set(archive.namelist())
    assert {"data.json", "summary.csv", "workbook.xlsx", "report.html"} <= set(listed)
    for path, entry in listed.items():
        body = archive.read(path)
        assert entry["bytes"] == len(body) and entry["sha256"] == hashlib.sha256(body).hexdigest()
    for name in archive.namelist():
        assert not name.startswith("/") and ".." not in name.split("/") and "\\" not in name


def test_every_csv_row_traces_back_to_an_answer_given(
    client: TestClient, presenter: Presenter, answered: dict[str, Any]
) -> None:
    archive = download(client, presenter, answered)
    poll = table(archive, "responses/01-where-does-the-week-go.csv")
    # Participants are numbered in the order they joined: tokens[0] is 1.
    assert [(r["participant"], r["option"], r["option_index"]) for r in poll] == [
        ("1", "Fires", "0"),
        ("1", "Improvement", "2"),
        ("2", "Maintenance", "1"),
    ]
    cloud = table(archive, "responses/02-three-words.csv")
    assert [(r["participant"], r["entry"], r["normalised"]) for r in cloud] == [
        ("1", "trust", "trust"),  # entries are stored cleaned (case-folded)
        ("1", "listening", "listening"),
        ("1", "'=cmd", "'=cmd"),  # a spreadsheet shows it, never runs it
        ("3", "trust", "trust"),
    ]
    ideas = table(archive, "responses/03-one-idea.csv")
    assert [(r["participant"], r["text"]) for r in ideas] == [
        ("2", "<script>alert(1)</script> more time"),
        ("3", "'" + FORMULA),
    ]
    sort = table(archive, "responses/04-influence-or-authority.csv")
    assert [(r["participant"], r["card"], r["bin"]) for r in sort] == [
        ("1", "Hiring staff", "Influence"),
        ("1", "Setting the budget", "Authority"),
        ("3", "Hiring staff", "Influence"),
        ("3", "Setting the budget", "unsure"),
    ]
    traced = {
        (int(r["participant"]), position + 1) for position, rows in enumerate([poll, cloud, ideas, sort]) for r in rows
    }
    assert traced == {(person + 1, position + 1) for person, position, _ in ANSWERS}
    summary = table(archive, "summary.csv")
    assert [(r["position"], r["kind"], r["respondents"], r["responses"], r["cohort"]) for r in summary] == [
        ("1", "poll", "2", "2", ""),
        ("2", "wordcloud", "2", "2", ""),
        ("3", "open", "2", "2", ""),
        ("4", "sort", "2", "2", ""),
    ]
    assert {r["session"] for r in summary} == {"Phoenix, day 1"}


def test_the_workbook_holds_the_csv_rows_and_formulas_stay_text(
    client: TestClient, presenter: Presenter, answered: dict[str, Any]
) -> None:
    archive = download(client, presenter, answered)
    body = archive.read("workbook.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(body))
    summary = table(archive, "summary.csv")
    assert book.sheetnames == ["Results", "Summary", *(row["sheet"] for row in summary)]
    assert book.sheetnames[2:] == [
        "1 Where does the week go",
        "2 Three words",
        "3 One idea",
        "4 Influence or authority",
    ]
    for row in summary:  # the CSV's rows in words: "Participant 1", local date-times, the zone in the header
        on_sheet = [[cell.value for cell in line] for line in book[row["sheet"]].iter_rows()]
        in_csv = list(csv.reader(io.StringIO(archive.read(row["responses_file"]).decode("utf-8"))))
        assert on_sheet[0][:2] == ["Participant", "Answered (UTC)"] and in_csv[0][:3] == FIXED_COLUMNS
        assert [name.replace("_", " ").capitalize() for name in in_csv[0][3:]] == on_sheet[0][2:]
        for cells, line in zip(on_sheet[1:], in_csv[1:], strict=True):
            assert cells[0] == f"Participant {line[0]}"
            assert cells[1] == datetime.fromisoformat(line[1]).replace(tzinfo=None) and line[2] == "UTC"
            assert [safe_cell(cell) for cell in cells[2:]] == line[3:], row["sheet"]
    summary_sheet = [[safe_cell(cell.value) for cell in line] for line in book["Summary"].iter_rows()]
    assert summary_sheet == list(csv.reader(io.StringIO(archive.read("summary.csv").decode("utf-8"))))
    cells = [cell for line in book["3 One idea"].iter_rows() for cell in line if cell.value == FORMULA]
    assert len(cells) == 1 and cells[0].data_type == "s"  # the answer as typed, stored as text
    with zipfile.ZipFile(io.BytesIO(body)) as xlsx:
        sheets = [name for name in xlsx.namelist() if name.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in xlsx.read(name) or b"<f " in xlsx.read(name) for name in sheets)


def test_data_json_holds_every_answer_and_the_tallies(
    client: TestClient, presenter: Presenter, answered: dict[str, Any]
) -> None:
    data = json.loads(download(client, presenter, answered).read("data.json"))
    archive = ArchiveData.model_validate(data)
    assert (archive.scope, archive.institute, archive.cohorts) == ("session", None, [])
    (session,) = archive.sessions
    assert (session.title, session.state, session.cohort) == ("Phoenix, day 1", "live", None)
    assert [(p.number, p.person) for p in session.participants] == [(1, None), (2, None), (3, None)]
    assert "token" not in json.dumps(data["sessions"][0]["participants"])
    given = sorted((person + 1, position + 1) for person, position, _ in ANSWERS)
    assert sorted((r.participant, r.activity) for r in session.responses) == given
    poll = session.activities[0]
    assert poll.config["options"] == ["Fires", "Maintenance", "Improvement"] and poll.aggregate is None
    assert poll.tally == presenter.tally(answered["id"], answered["activities"][0]["id"])["results"]


def test_clouds_are_png_and_svg_and_the_other_kinds_are_charted(
    client: TestClient, presenter: Presenter, answered: dict[str, Any]
) -> None:
    archive = download(client, presenter, answered)
    assert archive.read("images/02-three-words-cloud.png").startswith(PNG_SIGNATURE)
    cloud = ElementTree.fromstring(archive.read("images/02-three-words-cloud.svg"))
    assert "trust" in [text.text for text in cloud.iter("{http://www.w3.org/2000/svg}text")]
    charts = sorted(name for name in archive.namelist() if name.startswith("charts/"))
    # The open question's answers are all different: nothing to chart, its answers are listed in the report.
    assert charts == ["charts/01-where-does-the-week-go.svg", "charts/04-influence-or-authority.svg"]
    sort = ElementTree.fromstring(archive.read("charts/04-influence-or-authority.svg"))
    texts = [text.text for text in sort.iter("{http://www.w3.org/2000/svg}text")]
    assert {"Influence", "Authority", "Hiring staff", "Setting the budget"} <= set(texts)


def test_a_chart_keeps_what_participants_wrote_as_text() -> None:
    hostile = '<script>alert("x")</script> & "quotes"\x00\x1b'
    chart = Chart((ChartRow(hostile, (3.0,), note="=1+1 <b>"),), unit="people & <more>")
    svg = chart_svg(chart, "<script>steal()</script>")
    root = ElementTree.fromstring(svg)  # well-formed XML: control characters dropped, the rest escaped
    assert not [element for element in root.iter() if element.tag.endswith("script")]
    assert "<script>" not in svg
    texts = [element.text or "" for element in root.iter()]
    assert "<script>steal()</script>" in texts
    assert '<script>alert("x")</script> & "quotes": =1+1 <b>' in texts  # the row's tooltip: label and note
    assert '<script>alert("x")</script> & "quotes"' in texts  # the label beside its bar


def results_of(kind: str, config: dict[str, Any], answers: list[tuple[int, dict[str, list[str]]]]) -> Any:
    """A kind, its config and the moderated snapshot after these (participant, form) answers, folded in order."""
    activity_kind = registry[kind]
    parsed = activity_kind.parse_config(config)
    tally = activity_kind.new_tally(parsed)
    for version, (participant, form) in enumerate(answers, start=1):
        submission = activity_kind.validate_submission(parsed, form, tally.answer_of(participant))
        tally.fold(ResponseEvent(1, participant, 0, version, submission.model_dump(mode="json")))
    return activity_kind, parsed, tally.snapshot({})


def bars(chart: Chart | None) -> list[tuple[str, tuple[float, ...], str]]:
    assert chart is not None
    ElementTree.fromstring(chart_svg(chart, "A chart"))  # and it draws
    return [(row.label, row.values, row.note) for row in chart.rows]


def test_kinds_of_choices_chart_their_results() -> None:
    kind, config, snapshot = results_of(
        "poll", {"options": ["Yes", "No"]}, [(1, {"choice": ["0"]}), (2, {"choice": ["0"]})]
    )
    chart = kind.chart(config, snapshot)
    assert bars(chart) == [("Yes", (2,), "2 (100%)"), ("No", (0,), "0 (0%)")] and chart and chart.scale == 2
    cards = {"cards": ["Agreed", "Split", "Nobody placed"]}
    both = [
        (1, {"card-0": ["0"], "card-1": ["0"], "card-2": ["unsure"]}),
        (2, {"card-0": ["0"], "card-1": ["1"], "card-2": ["unsure"]}),
    ]
    kind, config, snapshot = results_of("sort", cards, both)
    assert bars(kind.chart(config, snapshot)) == [  # most agreed first, most contested last, unplaced at the end
        ("Agreed", (2.0, 0.0), "100% Influence"),
        ("Split", (1.0, 1.0), "split"),
        ("Nobody placed", (0.0, 0.0), "2 unsure"),
    ]
    scale = {"statements": ["Listening", "Coaching"], "min": 1, "max": 3, "labels": ["Low", "High"]}
    rated = [(1, {"statement-0": ["1"], "statement-1": ["skip"]}), (2, {"statement-0": ["3"], "statement-1": ["2"]})]
    kind, config, snapshot = results_of("scale", scale, rated)
    chart = kind.chart(config, snapshot)
    assert chart and chart.series == ("1 Low", "2", "3 High") and chart.ordered
    assert bars(chart) == [
        ("Listening", (1.0, 0.0, 1.0), "mean 2.0"),
        ("Coaching", (0.0, 1.0, 0.0), "mean 2.0, 1 skipped"),
    ]
    kind, config, snapshot = results_of(
        "points", {"items": ["A", "B"], "total": 10}, [(1, {"item-0": ["7"], "item-1": ["3"]})]
    )
    chart = kind.chart(config, snapshot)
    assert (
        bars(chart) == [("A", (70.0,), "70.0% (mean 7.0)"), ("B", (30.0,), "30.0% (mean 3.0)")]
        and chart
        and chart.scale == 100
    )
    ranked = [(1, {"rank-0": ["2"], "rank-1": ["1"], "rank-2": ["3"]})]
    kind, config, snapshot = results_of("ranking", {"items": ["A", "B", "C"]}, ranked)
    assert [label for label, _, _ in bars(kind.chart(config, snapshot))] == ["B", "A", "C"]


def test_text_kinds_chart_and_list_only_what_the_room_saw() -> None:
    same = [(1, {"text": ["Same"]}), (2, {"text": ["same"]}), (3, {"text": ["Same"]}), (4, {"text": ["Other"]})]
    kind, config, snapshot = results_of("open", {}, same)
    # Answers that differ only by case are one card (issue 17: as Q&A's questions), shown as most people wrote it.
    assert bars(kind.chart(config, snapshot)) == [("Same", (3,), "3"), ("Other", (1,), "1")]
    assert [(item.text, item.note) for item in kind.listing(config, snapshot)][:1] == [("Same", "3 people")]
    kind, config, snapshot = results_of("open", {}, [(1, {"text": ["One"]}), (2, {"text": ["Two"]})])
    assert kind.chart(config, snapshot) is None  # every answer unique: listed, not charted
    asked = [(1, {"question": ["Why?"], "name": ["Ana"]})]
    kind, config, snapshot = results_of("qa", {}, asked)  # moderated: nothing approved, so the room saw nothing
    assert kind.chart(config, snapshot) is None and kind.listing(config, snapshot) == []
    key = snapshot["questions"][0]["key"]
    kind, config, snapshot = results_of("qa", {"moderated": False}, [*asked, (2, {"upvote": [key]})])
    assert bars(kind.chart(config, snapshot)) == [("Why?", (1, 1), "2 votes")]
    assert [(item.text, item.note) for item in kind.listing(config, snapshot)] == [
        ("Why?", "asked by 1, upvoted by 1 (Ana)")
    ]
    shared = {"title": ["A book"], "type": ["reading"], "link": ["https://example.org/b"], "note": ["=SUM(1)"]}
    kind, config, snapshot = results_of("resources", {"moderated": False}, [(1, shared)])
    assert bars(kind.chart(config, snapshot)) == [("A book", (1, 0), "1")]
    (item,) = kind.listing(config, snapshot)
    assert (item.text, item.link, item.note) == (
        "A book",
        "https://example.org/b",
        "reading, suggested by 1, 0 upvotes: =SUM(1)",
    )
    kind, config, snapshot = results_of("wordcloud", {}, [(1, {"word": ["trust", "care"]}), (2, {"word": ["Trust"]})])
    assert kind.chart(config, snapshot) is None  # the cloud is its picture
    assert [(item.text, item.note) for item in kind.listing(config, snapshot)] == [
        ("trust", "2 people"),
        ("care", "1 person"),
    ]


def test_sheet_names_are_ones_excel_accepts() -> None:
    taken: set[str] = set()
    names = []
    for wanted in ["1.02 ../../etc/[passwd]:*?", "1.02 ../../etc/[passwd]:*?", "'quoted'", "History", "x" * 60, ""]:
        name = sheet_name(wanted, taken)
        taken.add(name.casefold())
        names.append(name)
    assert names[0] == "1.02 .. .. etc passwd"
    assert names[1] == "1.02 .. .. etc passwd (2)"
    assert names[2] == "quoted" and names[3] == "History (2)" and names[5] == "Sheet"
    assert all(len(name) <= MAX_SHEET_NAME and not re.search(r"[\[\]:*?/\\]", name) for name in names)


class Loads(HTMLParser):
    """Every tag of a page, and the attributes by which a page makes a browser load something."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.loads: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "srcset", "poster", "data", "background"} or (name == "href" and tag != "a"):
                self.loads.append(value or "")
            if tag == "a" and name == "href":
                self.links.append(value or "")


def test_the_report_is_self_contained_and_names_every_activity(
    client: TestClient, presenter: Presenter, answered: dict[str, Any]
) -> None:
    archive = download(client, presenter, answered)
    report = archive.read("report.html").decode("utf-8")
    assert "<script" not in report.lower()
    page = Loads()
    page.feed(report)
    assert page.loads and all(value.startswith("data:image/") for value in page.loads)
    assert all(link.startswith("#") for link in page.links)  # only in-page links in this report
    assert not {"link", "iframe", "object", "embed", "base", "form"} & set(page.tags)
    assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'" in report
    for activity in answered["activities"]:
        assert activity["title"] in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt; more time" in report  # the answer, shown as written


def test_the_report_links_only_web_addresses() -> None:
    hostile = ReportActivity(1, "Links", "", "Call for resources", 2, 2, False)
    hostile.listing = [
        ListItem("<img src=x onerror=alert(1)>", link="javascript:alert(1)"),
        ListItem("A book", note="=HYPERLINK(x)", link="https://example.org/b?a=1&b=2"),
    ]
    session = SessionRow(id=1, code="123456", title="<b>Day</b>", presenter_id=1, projector_secret="x" * 32)
    report = (
        make_environment(registry)
        .get_template("report/report.html")
        .render(
            title="Day",
            scope="session",
            institute=None,
            cohorts=[],
            sessions=[ReportSession(session, "", 2, "2017-04-24", "", "America/Phoenix", [hostile])],
            counts={"sessions": 1, "participants": 2, "responses": 2},
            exported_at=datetime.fromisoformat("2017-04-24T17:00:00+00:00"),
            time_zone="America/Phoenix",
        )
    )
    page = Loads()
    page.feed(report)
    assert page.links == ["#session-1", "https://example.org/b?a=1&b=2"]  # the javascript: link is text only
    assert "Exported 2017-04-24 10:00 MST by Handsup" in report  # in the cohort's local time, its zone named
    assert "&lt;img src=x onerror=alert(1)&gt;" in report and "&lt;b&gt;Day&lt;/b&gt;" in report
    assert "<img" not in report


def test_the_presenter_page_and_the_command_line_give_the_same_archive(
    client: TestClient,
    presenter: Presenter,
    answered: dict[str, Any],
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    login(client, presenter.user.email)
    page = client.get(f"/present/{answered['id']}/archive.zip")
    assert page.status_code == 200
    monkeypatch.setenv("HANDSUP_ENV", "test")
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDSUP_DATABASE_URL", database_url)
    out = tmp_path / "session.zip"
    assert main(["archive", "export", "--session", str(answered["id"]), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("archived 1 of 1 session\n")  # not a terminal: plain lines, no bar
    assert f"Wrote {out} (" in err and "; 1 session, 8 responses)." in err
    assert not out.with_name("session.zip.partial").exists()
    from_cli, from_page = zipfile.ZipFile(out), zipfile.ZipFile(io.BytesIO(page.content))
    assert from_cli.namelist() == from_page.namelist()
    for name in from_cli.namelist():
        # The manifest and the report say when they were exported; the workbook stamps when it was made.
        if name not in {"manifest.json", "report.html", "workbook.xlsx"}:
            assert from_cli.read(name) == from_page.read(name), name
    assert main(["archive", "export", "--session", "999", "-o", str(out)]) == 1
    assert "there is no session 999" in capsys.readouterr().err


def test_only_the_sessions_presenter_gets_its_archive(
    client: TestClient, presenter: Presenter, answered: dict[str, Any]
) -> None:
    make_user(client, "other@example.org")
    login(client, "other@example.org")
    assert client.get(f"/present/{answered['id']}/archive.zip").status_code in {403, 404}
    assert client.get(f"/api/v1/sessions/{answered['id']}/archive.zip").status_code == 401
