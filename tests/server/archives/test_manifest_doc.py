"""docs/archives.md's manifest.json section is exact: its example's keys are a real manifest's, in order, and its
table's `archived` layout is what each scope's real manifest holds."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.models import Role
from tests.factories import Presenter, api_token, join, make_user, respond

DOC = (Path(__file__).resolve().parents[3] / "docs/archives.md").read_text()
SECTION = DOC[DOC.index("### manifest.json") : DOC.index("### data.json")]
DECK = "title: Day\nactivities:\n  - kind: poll\n    title: Where?\n    options: [Here, There]\n"


@pytest.fixture
def organizer(client: TestClient) -> Presenter:
    user = make_user(client, "organizer@example.org", Role.organizer)
    return Presenter(client, user, api_token(client, user.email))


def manifest_of(client: TestClient, organizer: Presenter, url: str) -> dict[str, Any]:
    response = client.get(url, headers=organizer.headers)
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        body = archive.read("manifest.json")
        manifest: dict[str, Any] = json.loads(body)
        assert body.decode().startswith('{\n "format": "handsup-archive",\n "version": 2,')  # indented by one space
        listed = [entry["path"] for entry in manifest["files"]]
        assert listed == sorted(set(archive.namelist()) - {"manifest.json"})
    return manifest


def documented_example() -> dict[str, Any]:
    (block,) = re.findall(r"```json\n(.*?)```", SECTION, re.S)
    return dict(json.loads(block.replace("  …\n", "").replace("},\n ]", "}\n ]")))


def shape(value: Any) -> Any:
    """The keys of an object, in order, all the way down (lists by their first item)."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_the_manifest_section_is_what_real_manifests_hold(client: TestClient, organizer: Presenter) -> None:
    institute = client.post("/api/v1/institutes", json={"title": "Spring"}, headers=organizer.headers).json()
    cohort = client.post(
        f"/api/v1/institutes/{institute['id']}/cohorts", json={"name": "Phoenix"}, headers=organizer.headers
    ).json()
    alone = organizer.start(DECK)
    filed = client.post(
        "/api/v1/sessions", json={"deck_yaml": DECK, "cohort_id": cohort["id"]}, headers=organizer.headers
    ).json()
    for session in (alone, filed):
        organizer.control(session["id"], "goto", session["activities"][0]["id"])
        assert respond(client, join(client, session["code"]), session["activities"][0]["id"], choice="0").is_success

    single = manifest_of(client, organizer, f"/api/v1/sessions/{alone['id']}/archive.zip")
    assert shape(single) == shape(documented_example())  # every key of the example, in the same order
    assert single["archived"] == {"session": {"id": alone["id"], "code": alone["code"], "title": "Day"}}
    assert single["counts"] == {"cohorts": 0, "sessions": 1, "activities": 1, "participants": 1, "responses": 1}
    assert single["exported_at"].endswith("+00:00") and single["exported_by"].startswith("Handsup ")

    in_cohort = manifest_of(client, organizer, f"/api/v1/sessions/{filed['id']}/archive.zip")
    assert in_cohort["archived"] == {
        "session": {"id": filed["id"], "code": filed["code"], "title": "Day"},
        "cohort": {"id": cohort["id"], "name": "Phoenix"},
    }
    assert in_cohort["counts"]["cohorts"] == 1
    of_cohort = manifest_of(client, organizer, f"/api/v1/cohorts/{cohort['id']}/archive.zip")
    named = {"id": institute["id"], "slug": institute["slug"], "title": "Spring"}
    assert of_cohort["archived"] == {
        "institute": named,
        "cohort": {"id": cohort["id"], "slug": cohort["slug"], "name": "Phoenix"},
    }
    of_institute = manifest_of(client, organizer, f"/api/v1/institutes/{institute['id']}/archive.zip")
    assert of_institute["archived"] == {"institute": named}
    assert [m["scope"] for m in (single, of_cohort, of_institute)] == ["session", "cohort", "institute"]
    # The table names each layout as these are.
    for layout in (
        '`{"session": {"id", "code", "title"}}`',
        '`"cohort": {"id", "name"}`',
        '`{"institute": {"id", "slug", "title"}, "cohort": {"id", "slug", "name"}}`',
        '`{"institute": {"id", "slug", "title"}}`',
        '`{"path", "bytes", "sha256"}`',
    ):
        assert layout in SECTION
