"""The cohort page's actions over the JSON API: editing a cohort, starting its session, and retention (prune and
delete, each confirmed by the cohort's name as the page asks)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.models import Role
from tests.factories import TWO_QUESTIONS, api_token, join, make_user, respond
from tests.server.routes.factories import problem


@dataclass
class Organizing:
    client: TestClient
    headers: dict[str, str]
    institute_id: int
    cohort: dict[str, Any]
    deck_id: int

    def call(self, method: str, path: str, **body: Any) -> Any:
        return self.client.request(method, f"/api/v1{path}", json=body if body else None, headers=self.headers)


@pytest.fixture
def organizing(client: TestClient) -> Organizing:
    make_user(client, "organizer@example.org", Role.organizer)
    headers = {"Authorization": f"Bearer {api_token(client, 'organizer@example.org')}"}
    deck = client.post("/api/v1/decks", json={"source": TWO_QUESTIONS}, headers=headers)
    assert deck.status_code == 201, deck.text
    institute = client.post("/api/v1/institutes", json={"title": "Spring Institute"}, headers=headers).json()
    cohort = client.post(
        f"/api/v1/institutes/{institute['id']}/cohorts",
        json={"name": "Phoenix", "site": "Phoenix, AZ", "deck_ids": [deck.json()["id"]], "facilitators": ["Ana"]},
        headers=headers,
    )
    assert cohort.status_code == 201, cohort.text
    return Organizing(client, headers, institute["id"], cohort.json(), deck.json()["id"])


def test_patch_changes_the_fields_given_and_keeps_the_rest(organizing: Organizing) -> None:
    cohort_id = organizing.cohort["id"]
    changed = organizing.call("PATCH", f"/cohorts/{cohort_id}", site="Tempe, AZ", time_zone="America/Phoenix")
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["site"], body["time_zone"]) == ("Tempe, AZ", "America/Phoenix")
    assert (body["name"], body["facilitators"], body["deck_ids"]) == ("Phoenix", ["Ana"], [organizing.deck_id])
    assert organizing.call("GET", f"/cohorts/{cohort_id}").json() == body


def test_patch_refuses_a_null_and_a_bad_zone_and_changes_nothing(organizing: Organizing) -> None:
    cohort_id = organizing.cohort["id"]
    assert "null is not a value" in problem(organizing.call("PATCH", f"/cohorts/{cohort_id}", name=None), 422)["detail"]
    problem(organizing.call("PATCH", f"/cohorts/{cohort_id}", time_zone="Mars/Olympus"), 422)
    problem(organizing.call("PATCH", f"/cohorts/{cohort_id}", colour="red"), 422)
    assert organizing.call("GET", f"/cohorts/{cohort_id}").json()["site"] == "Phoenix, AZ"


def test_a_cohort_session_starts_from_one_of_its_decks_only(organizing: Organizing, client: TestClient) -> None:
    cohort_id = organizing.cohort["id"]
    other = client.post("/api/v1/decks", json={"title": "Not assigned"}, headers=organizing.headers).json()
    refused = problem(organizing.call("POST", f"/cohorts/{cohort_id}/sessions", deck_id=other["id"]), 409)
    assert refused["title"] == "Not one of this cohort's decks"
    started = organizing.call("POST", f"/cohorts/{cohort_id}/sessions", deck_id=organizing.deck_id, streak=True)
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["title"] == "Two questions · Phoenix" and body["cohort_id"] == cohort_id
    session = organizing.call("GET", f"/sessions/{body['id']}").json()
    assert (session["cohort_id"], session["code"], session["streak"]) == (cohort_id, body["code"], True)
    assert body["id"] in organizing.call("GET", f"/cohorts/{cohort_id}").json()["session_ids"]


def test_retention_needs_the_cohort_s_name_and_no_live_session(organizing: Organizing, client: TestClient) -> None:
    cohort_id = organizing.cohort["id"]
    session = organizing.call("POST", f"/cohorts/{cohort_id}/sessions", deck_id=organizing.deck_id).json()
    poll = organizing.call("GET", f"/sessions/{session['id']}").json()["activities"][0]["id"]
    organizing.call("POST", f"/sessions/{session['id']}/control", action="goto", activity_id=poll)
    assert respond(client, join(client, session["code"]), poll, choice=1).status_code == 201
    wrong = problem(organizing.call("POST", f"/cohorts/{cohort_id}/prune", confirm="Tucson"), 422)
    assert wrong["detail"] == "Nothing was deleted: type the cohort’s name exactly to confirm."
    live = problem(organizing.call("POST", f"/cohorts/{cohort_id}/prune", confirm="Phoenix"), 409)
    assert "live" in live["detail"]
    organizing.call("POST", f"/sessions/{session['id']}/control", action="end")
    pruned = organizing.call("POST", f"/cohorts/{cohort_id}/prune", confirm="  Phoenix ")
    assert pruned.status_code == 200, pruned.text
    assert pruned.json() == {"cohort_id": cohort_id, "sessions": 1, "participants": 1, "responses": 1}
    tally = organizing.call("GET", f"/sessions/{session['id']}/activities/{poll}/tally").json()
    assert tally["respondents"] == 1  # the results stay, without who gave them


def test_delete_takes_the_cohort_and_its_sessions(organizing: Organizing) -> None:
    cohort_id = organizing.cohort["id"]
    session = organizing.call("POST", f"/cohorts/{cohort_id}/sessions", deck_id=organizing.deck_id).json()
    organizing.call("POST", f"/sessions/{session['id']}/control", action="end")
    problem(organizing.call("DELETE", f"/cohorts/{cohort_id}"), 422)  # no confirmation at all
    problem(organizing.call("DELETE", f"/cohorts/{cohort_id}", confirm="phoenix"), 422)  # case matters, as on the page
    assert organizing.call("GET", f"/cohorts/{cohort_id}").status_code == 200
    deleted = organizing.call("DELETE", f"/cohorts/{cohort_id}", confirm="Phoenix")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"cohort_id": cohort_id, "sessions": 1, "participants": 0, "responses": 0}
    problem(organizing.call("GET", f"/cohorts/{cohort_id}"), 404)
    problem(organizing.call("GET", f"/sessions/{session['id']}"), 404)


def test_another_organizer_and_a_presenter_cannot_reach_the_cohort(organizing: Organizing, client: TestClient) -> None:
    cohort_id = organizing.cohort["id"]
    make_user(client, "rival@example.org", Role.organizer)
    make_user(client, "speaker@example.org", Role.presenter)
    rival = {"Authorization": f"Bearer {api_token(client, 'rival@example.org')}"}
    speaker = {"Authorization": f"Bearer {api_token(client, 'speaker@example.org')}"}
    body = {"confirm": "Phoenix"}
    problem(client.request("DELETE", f"/api/v1/cohorts/{cohort_id}", json=body, headers=rival), 404)
    problem(client.request("DELETE", f"/api/v1/cohorts/{cohort_id}", json=body, headers=speaker), 403)
    problem(client.patch(f"/api/v1/cohorts/{cohort_id}", json={"site": "x"}, headers=rival), 404)
    assert organizing.call("GET", f"/cohorts/{cohort_id}").json()["site"] == "Phoenix, AZ"


def test_a_cohort_s_session_archive_is_the_organizer_s_download(organizing: Organizing, client: TestClient) -> None:
    cohort_id = organizing.cohort["id"]
    session = organizing.call("POST", f"/cohorts/{cohort_id}/sessions", deck_id=organizing.deck_id).json()
    archive = organizing.call("GET", f"/cohorts/{cohort_id}/sessions/{session['id']}/archive.zip")
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert "manifest.json" in opened.namelist()
    other = organizing.call("POST", f"/institutes/{organizing.institute_id}/cohorts", name="Tucson").json()
    problem(organizing.call("GET", f"/cohorts/{other['id']}/sessions/{session['id']}/archive.zip"), 404)
