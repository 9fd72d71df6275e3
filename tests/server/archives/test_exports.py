"""Exports of an activity: its responses as CSV, and the call for resources as Markdown or HTML lists."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.exports import safe_cell
from tests.factories import Presenter, caught_up, join, login, make_user, respond
from tests.hostile import PAYLOADS

DECK = """\
title: Export me
activities:
  - kind: poll
    title: Pick any
    multiple: true
    options: [Fires, Maintenance, Improvement]
  - kind: open
    title: Say it
  - kind: resources
    title: Call for resources
"""


@pytest.fixture
def session(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    session = presenter.start(DECK)
    caught_up(client, session["id"])
    return session


def answer(client: TestClient, presenter: Presenter, session: dict[str, Any], position: int, **fields: Any) -> str:
    activity = session["activities"][position]["id"]
    presenter.control(session["id"], "goto", activity)
    caught_up(client, session["id"])
    token = join(client, session["code"])
    response = respond(client, token, activity, **fields)
    assert response.status_code == 201, response.text
    return token


def export(client: TestClient, presenter: Presenter, session: dict[str, Any], position: int, extension: str) -> Any:
    activity = session["activities"][position]["id"]
    return client.get(
        f"/api/v1/sessions/{session['id']}/activities/{activity}/export.{extension}", headers=presenter.headers
    )


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2", "'-2"), ("@cmd", "'@cmd"), ("plain", "plain"), (3, "3")],
)
def test_cells_a_spreadsheet_would_run_are_kept_as_text(value: Any, cell: str) -> None:
    assert safe_cell(value) == cell


def test_a_poll_exports_a_row_per_choice_with_numbered_participants(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    answer(client, presenter, session, 0, choice=["0", "2"])
    answer(client, presenter, session, 0, choice="1")
    response = export(client, presenter, session, 0, "csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="export-me-1-pick-any.csv"' in response.headers["content-disposition"]
    table = rows(response.text)
    assert [(r["participant"], r["option"], r["option_index"]) for r in table] == [
        ("1", "Fires", "0"),
        ("1", "Improvement", "2"),
        ("2", "Maintenance", "1"),
    ]
    assert all(r["answered_at"] for r in table)


def test_hostile_answers_stay_text_in_the_csv(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    answer(client, presenter, session, 1, text=PAYLOADS["formula_hyperlink"])
    (row,) = rows(export(client, presenter, session, 1, "csv").text)
    assert row["text"] == "'" + PAYLOADS["formula_hyperlink"]


def test_resources_export_the_approved_list_as_markdown_and_html(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    fields = {"type": "reading", "title": "<b>Bold</b> [moves]", "link": "HTTPS://Example.org:443/a?b=1&c=2#top"}
    answer(client, presenter, session, 2, **fields)
    answer(client, presenter, session, 2, type="video", title="Not approved")
    assert "No resources were shared." in export(client, presenter, session, 2, "md").text
    tally = presenter.tally(session["id"], session["activities"][2]["id"])
    key = next(r["key"] for r in tally["results"]["resources"] if r["title"].startswith("<b>"))
    presenter.control(session["id"], "moderate", session["activities"][2]["id"], verb="approve", answer=key)
    markdown = export(client, presenter, session, 2, "md")
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.splitlines()[2] == (
        r"- [\<b\>Bold\</b\> \[moves\]](<https://example.org/a?b=1&c=2>) (reading, suggested by 1, 0 upvotes)"
    )
    page = export(client, presenter, session, 2, "html").text
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer">&lt;b&gt;Bold' in page
    assert "Not approved" not in page and "<b>" not in page
    assert len(rows(export(client, presenter, session, 2, "csv").text)) == 2


def test_unknown_formats_and_other_presenters_get_nothing(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    missing = export(client, presenter, session, 0, "md")
    assert missing.status_code == 404 and missing.json()["detail"] == "Poll exports as csv."
    make_user(client, "other@example.org")
    login(client, "other@example.org")
    activity = session["activities"][0]["id"]
    assert client.get(f"/present/{session['id']}/activities/{activity}/export.csv").status_code in {403, 404}
    login(client, presenter.user.email)
    page = client.get(f"/present/{session['id']}/activities/{activity}/export.csv")
    assert page.status_code == 200 and page.text.startswith("participant,answered_at")
