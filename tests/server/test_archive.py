"""Session archives: every file listed with its checksum, every CSV row traced back to an answer given."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.cli import main
from tests.conftest import Presenter, caught_up, join, login, make_user, respond

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
"""
# (participant, activity position, answer)
ANSWERS: list[tuple[int, int, dict[str, Any]]] = [
    (0, 0, {"choice": ["0", "2"]}),
    (1, 0, {"choice": "1"}),
    (0, 1, {"word": ["Trust", "listening", "=cmd"]}),
    (2, 1, {"word": ["trust"]}),
    (1, 2, {"text": "<script>alert(1)</script> more time"}),
]


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
    return zipfile.ZipFile(io.BytesIO(response.content))


def table(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


def test_the_manifest_lists_every_file_with_its_size_and_checksum(
    client: TestClient, presenter: Presenter, answered: dict[str, Any]
) -> None:
    archive = download(client, presenter, answered)
    manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["format"], manifest["version"], manifest["scope"]) == ("handsup-archive", 1, "session")
    assert manifest["counts"] == {"activities": 3, "participants": 3, "responses": 5}
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) | {"manifest.json"} == set(archive.namelist())
    for path, entry in listed.items():
        body = archive.read(path)
        assert entry["bytes"] == len(body) and entry["sha256"] == hashlib.sha256(body).hexdigest()


def test_every_csv_row_traces_back_to_an_answer_given(
    client: TestClient, presenter: Presenter, answered: dict[str, Any]
) -> None:
    archive = download(client, presenter, answered)
    poll = table(archive, "responses/01-where-does-the-week-go.csv")
    # Participants are numbered in the order they joined: tokens[0] is 1.
    assert [(r["participant"], r["option"]) for r in poll] == [
        ("1", "Fires"),
        ("1", "Improvement"),
        ("2", "Maintenance"),
    ]
    cloud = table(archive, "responses/02-three-words.csv")
    assert [(r["participant"], r["entry"], r["normalised"]) for r in cloud] == [
        ("1", "trust", "trust"),  # entries are stored cleaned (case-folded)
        ("1", "listening", "listening"),
        ("1", "'=cmd", "'=cmd"),  # a spreadsheet shows it, never runs it
        ("3", "trust", "trust"),
    ]
    (idea,) = table(archive, "responses/03-one-idea.csv")
    assert (idea["participant"], idea["text"]) == ("2", "<script>alert(1)</script> more time")
    summary = table(archive, "summary.csv")
    assert [(r["position"], r["kind"], r["respondents"]) for r in summary] == [
        ("1", "poll", "2"),
        ("2", "wordcloud", "2"),
        ("3", "open", "1"),
    ]


def test_data_json_holds_every_answer_and_the_tallies(
    client: TestClient, presenter: Presenter, answered: dict[str, Any]
) -> None:
    data = json.loads(download(client, presenter, answered).read("data.json"))
    assert data["session"]["title"] == "Phoenix, day 1" and data["session"]["state"] == "live"
    assert [p["number"] for p in data["participants"]] == [1, 2, 3]
    assert "token" not in json.dumps(data["participants"])
    given = sorted((person + 1, position + 1) for person, position, _ in ANSWERS)
    assert sorted((r["participant"], r["activity"]) for r in data["responses"]) == given
    poll = data["activities"][0]
    assert poll["config"]["options"] == ["Fires", "Maintenance", "Improvement"]
    assert poll["tally"] == presenter.tally(answered["id"], answered["activities"][0]["id"])["results"]


def test_the_presenter_page_and_the_command_line_give_the_same_archive(
    client: TestClient,
    presenter: Presenter,
    answered: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    login(client, presenter.user.email)
    page = client.get(f"/present/{answered['id']}/archive.zip")
    assert page.status_code == 200
    monkeypatch.setenv("HANDSUP_ENV", "test")
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HANDSUP_DATABASE_URL", raising=False)
    out = tmp_path / "session.zip"
    assert main(["archive", "export", "--session", str(answered["id"]), "-o", str(out)]) == 0
    assert capsys.readouterr().err.startswith(f"Wrote {out} (")
    from_cli, from_page = zipfile.ZipFile(out), zipfile.ZipFile(io.BytesIO(page.content))
    assert from_cli.namelist() == from_page.namelist()
    for name in from_cli.namelist():
        if name != "manifest.json":  # it says when it was exported
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
