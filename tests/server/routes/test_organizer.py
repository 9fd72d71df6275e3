"""Organizer pages: institutes and cohorts, starting a cohort's sessions, and deleting a cohort's data."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from server.models import Activity, AuditEntry, Cohort, CohortDeck, Deck, Institute, Participant, Response, Role
from server.models import Session as SessionRow
from tests.factories import Presenter, api_token, csrf_from, join, login, make_user, respond, stored

DECK = """\
title: Day one
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
  - kind: qa
    title: Questions for the panel
    moderated: false
"""


@pytest.fixture
def organizer(client: TestClient) -> Presenter:
    user = make_user(client, "organizer@example.org", Role.organizer)
    login(client, user.email)
    return Presenter(client, user, api_token(client, user.email))


def csrf(client: TestClient) -> str:
    return csrf_from(client.get("/organize").text)


def new_institute(client: TestClient, title: str = "2017 Spring Institute") -> int:
    response = client.post(
        "/organize/institutes", data={"csrf_token": csrf(client), "title": title}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def new_cohort(client: TestClient, institute: int, **fields: Any) -> Any:
    data = {"csrf_token": csrf(client), "name": "Phoenix", "site": "Phoenix, AZ", **fields}
    return client.post(f"/organize/institutes/{institute}/cohorts", data=data, follow_redirects=False)


def example_deck(client: TestClient) -> int:
    [deck] = stored(client, select(Deck.id).where(Deck.slug == "distributed-leadership"))
    return int(deck)


def test_organizer_pages_are_for_organizers(client: TestClient, presenter: Presenter) -> None:
    login(client, presenter.user.email)
    response = client.get("/organize", headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert "This page is for organizers." in response.text


def test_an_organizer_sets_up_an_institute_and_a_two_day_cohort(client: TestClient, organizer: Presenter) -> None:
    institute = new_institute(client)
    deck = example_deck(client)
    response = new_cohort(
        client,
        institute,
        starts_on="2017-04-24",
        ends_on="2017-04-25",
        facilitators="Ana Ruiz\n\n  Sam   Lee ",
        deck_id=str(deck),
        same_identity="on",
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert "Phoenix, AZ · Apr 24, 2017 – Apr 25, 2017" in page.text
    assert "Facilitated by Ana Ruiz, Sam Lee" in page.text
    [cohort] = stored(client, select(Cohort))
    assert (cohort.slug, cohort.facilitators, cohort.same_identity) == ("phoenix", ["Ana Ruiz", "Sam Lee"], True)
    assert stored(client, select(CohortDeck.deck_id).where(CohortDeck.cohort_id == cohort.id)) == [deck]
    listing = client.get(f"/organize/institutes/{institute}").text
    assert "Phoenix" in listing and "Transforming Schools Through Distributed Leadership" in listing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "Give the cohort a name"),
        ({"starts_on": "2017-04-25", "ends_on": "2017-04-24"}, "The last day comes before the first."),
        ({"starts_on": "24/04/2017"}, "is not a date; use the form yyyy-mm-dd."),
        ({"deck_id": "999"}, "There is no deck 999."),
        ({"site": "Phoenix\x00"}, "The control character U+0000 cannot be stored or shown: remove it."),
    ],
)
def test_a_cohort_that_does_not_make_sense_is_refused_and_nothing_is_saved(
    client: TestClient, organizer: Presenter, fields: dict[str, str], message: str
) -> None:
    institute = new_institute(client)
    response = new_cohort(client, institute, **fields)
    assert response.status_code == 422
    assert message in response.text
    assert stored(client, select(Cohort)) == []


def test_two_cohorts_of_an_institute_cannot_share_a_name(client: TestClient, organizer: Presenter) -> None:
    institute = new_institute(client)
    assert new_cohort(client, institute).status_code == 303
    response = new_cohort(client, institute, name="phoenix")
    assert response.status_code == 422
    assert "has a cohort named “phoenix” already" in response.text


def test_hostile_titles_are_shown_as_text(client: TestClient, organizer: Presenter) -> None:
    institute = new_institute(client, "<script>alert(1)</script> Institute")
    page = client.get(f"/organize/institutes/{institute}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Institute" in page
    [row] = stored(client, select(Institute))
    assert row.slug == "script-alert-1-script-institute"


def test_an_institute_title_with_a_control_character_is_refused(client: TestClient, organizer: Presenter) -> None:
    response = client.post("/organize/institutes", data={"csrf_token": csrf(client), "title": "Spring\x1b Institute"})
    assert response.status_code == 422
    assert "The control character U+001B cannot be stored or shown: remove it." in response.text
    assert stored(client, select(Institute)) == []


def test_editing_a_cohort_replaces_its_decks(client: TestClient, organizer: Presenter) -> None:
    institute = new_institute(client)
    cohort = new_cohort(client, institute, deck_id=str(example_deck(client))).headers["location"]
    response = client.post(
        cohort, data={"csrf_token": csrf(client), "name": "Phoenix (April)", "site": "Phoenix"}, follow_redirects=False
    )
    assert response.status_code == 303
    [row] = stored(client, select(Cohort))
    assert (row.name, row.slug, row.same_identity) == ("Phoenix (April)", "phoenix-april", False)
    assert stored(client, select(CohortDeck)) == []


def test_a_session_started_for_a_cohort_belongs_to_it(client: TestClient, organizer: Presenter) -> None:
    institute = new_institute(client)
    deck = example_deck(client)
    cohort = new_cohort(client, institute, deck_id=str(deck)).headers["location"]
    response = client.post(
        f"{cohort}/sessions", data={"csrf_token": csrf(client), "deck_id": str(deck)}, follow_redirects=False
    )
    assert response.status_code == 303
    session_id = int(response.headers["location"].rsplit("/", 1)[1])
    [session] = stored(client, select(SessionRow).where(SessionRow.id == session_id))
    [cohort_row] = stored(client, select(Cohort))
    assert session.cohort_id == cohort_row.id
    assert session.title == "Transforming Schools Through Distributed Leadership · Phoenix"
    assert session.title in client.get(cohort).text
    other = client.post(f"{cohort}/sessions", data={"csrf_token": csrf(client), "deck_id": "999999"})
    assert other.status_code == 409


# --- retention ------------------------------------------------------------------------------------------------------


def run_a_session(client: TestClient, organizer: Presenter, cohort_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A session of the cohort: three people answer the poll, one signs a question; then it ends.
    Returns the session and its tallies by activity id as they stood."""
    response = client.post(
        "/api/v1/sessions", json={"deck_yaml": DECK, "cohort_id": cohort_id}, headers=organizer.headers
    )
    assert response.status_code == 201, response.text
    session = response.json()
    poll, qa = (int(a["id"]) for a in session["activities"])
    organizer.control(session["id"], "goto", poll)
    tokens = [join(client, session["code"]) for _ in range(3)]
    for token, choice in zip(tokens, ("0", "2", "2"), strict=True):
        assert respond(client, token, poll, choice=choice).status_code == 201
    assert respond(client, tokens[0], qa, question="Who decides?", name="Ana").status_code == 201
    before = {activity: organizer.tally(session["id"], activity) for activity in (poll, qa)}
    organizer.control(session["id"], "end")
    return session, before


def cohort_id(client: TestClient) -> int:
    [row] = stored(client, select(Cohort.id))
    return int(row)


def test_deleting_participant_level_data_keeps_the_results(client: TestClient, organizer: Presenter) -> None:
    institute = new_institute(client)
    new_cohort(client, institute)
    session, before = run_a_session(client, organizer, cohort_id(client))
    page = f"/organize/cohorts/{cohort_id(client)}"

    wrong = client.post(f"{page}/prune", data={"csrf_token": csrf(client), "confirm": "Phoenix?"})
    assert wrong.status_code == 422
    assert "Nothing was deleted: type the cohort’s name exactly to confirm." in wrong.text
    assert len(stored(client, select(Response))) == 4

    response = client.post(
        f"{page}/prune", data={"csrf_token": csrf(client), "confirm": " Phoenix "}, follow_redirects=False
    )
    assert response.status_code == 303
    assert stored(client, select(Participant)) == []
    assert stored(client, select(Response)) == []
    poll, qa = before
    after = organizer.tally(session["id"], poll)
    assert after == before[poll]
    asked = organizer.tally(session["id"], qa)
    assert asked["respondents"] == 1
    [question] = asked["results"]["questions"]
    assert (question["text"], question["names"]) == ("Who decides?", [])
    assert before[qa]["results"]["questions"][0]["names"] == ["Ana"]
    [entry] = stored(client, select(AuditEntry))
    assert entry.action == "cohort.prune"
    assert entry.user_id == organizer.user.id
    assert entry.detail == {
        "institute": institute,
        "cohort": cohort_id(client),
        "sessions": 1,
        "participants": 3,
        "responses": 4,
    }
    shown = client.get(page).text
    assert "results only" in shown
    assert "participant-level data deleted: 1 session, 3 participants, 4 responses" in shown


def test_later_archives_hold_the_kept_results_and_no_one(client: TestClient, organizer: Presenter) -> None:
    institute = new_institute(client)
    new_cohort(client, institute)
    cohort = cohort_id(client)
    _, before = run_a_session(client, organizer, cohort)
    client.post(f"/organize/cohorts/{cohort}/prune", data={"csrf_token": csrf(client), "confirm": "Phoenix"})
    response = client.get(f"/api/v1/cohorts/{cohort}/archive.zip", headers=organizer.headers)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    [session] = json.loads(archive.read("data.json"))["sessions"]
    assert (session["participants"], session["responses"], session["pruned_at"] is not None) == ([], [], True)
    poll, qa = session["activities"]
    assert (poll["tally"], poll["respondents"]) == (before[min(before)]["results"], 3)
    assert poll["aggregate"] == {"snapshot": poll["tally"], "respondents": 3}
    assert qa["tally"]["questions"][0]["names"] == []
    assert "Ana" not in archive.read("report.html").decode()


def test_data_of_a_live_session_is_not_deleted(client: TestClient, organizer: Presenter) -> None:
    institute = new_institute(client)
    new_cohort(client, institute)
    response = client.post(
        "/api/v1/sessions", json={"deck_yaml": DECK, "cohort_id": cohort_id(client)}, headers=organizer.headers
    )
    session = response.json()
    join(client, session["code"])
    page = f"/organize/cohorts/{cohort_id(client)}"
    for action in ("prune", "delete"):
        refused = client.post(f"{page}/{action}", data={"csrf_token": csrf(client), "confirm": "Phoenix"})
        assert refused.status_code == 409
        assert "End the live session “Day one” before" in refused.text
    assert len(stored(client, select(Participant))) == 1
    assert stored(client, select(AuditEntry)) == []


def test_deleting_a_cohort_removes_it_and_everything_in_it(client: TestClient, organizer: Presenter) -> None:
    institute = new_institute(client)
    new_cohort(client, institute)
    assert new_cohort(client, institute, name="Oakland").status_code == 303
    phoenix = int(stored(client, select(Cohort.id).where(Cohort.name == "Phoenix"))[0])
    session, _ = run_a_session(client, organizer, phoenix)
    response = client.post(
        f"/organize/cohorts/{phoenix}/delete",
        data={"csrf_token": csrf(client), "confirm": "Phoenix"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/organize/institutes/{institute}"
    assert stored(client, select(Cohort.name)) == ["Oakland"]
    assert stored(client, select(SessionRow).where(SessionRow.id == session["id"])) == []
    assert stored(client, select(Activity).where(col(Activity.session_id) == session["id"])) == []
    assert (stored(client, select(Participant)), stored(client, select(Response))) == ([], [])
    [entry] = stored(client, select(AuditEntry))
    assert (entry.action, entry.detail["sessions"], entry.detail["responses"]) == ("cohort.delete", 1, 4)
    assert client.get(f"/organize/cohorts/{phoenix}").status_code == 404
    listing = client.get(f"/organize/institutes/{institute}").text
    assert "cohort 1 “Phoenix” of “2017 Spring Institute” deleted with 1 session and 4 responses" in listing


# --- JSON API -------------------------------------------------------------------------------------------------------


def test_a_script_sets_up_an_institute_and_a_cohort_and_runs_its_session(
    client: TestClient, organizer: Presenter
) -> None:
    headers = organizer.headers
    created = client.post("/api/v1/institutes", json={"title": "2017 Spring Institute"}, headers=headers)
    assert created.status_code == 201, created.text
    institute = created.json()
    assert (institute["slug"], institute["cohorts"]) == ("2017-spring-institute", [])
    body = {
        "name": "Oakland",
        "site": "Oakland, CA",
        "starts_on": "2017-04-27",
        "ends_on": "2017-04-28",
        "facilitators": ["Ana Ruiz"],
        "deck_ids": [example_deck(client)],
    }
    cohort = client.post(f"/api/v1/institutes/{institute['id']}/cohorts", json=body, headers=headers)
    assert cohort.status_code == 201, cohort.text
    assert cohort.json()["same_identity"] is True
    session = client.post(
        "/api/v1/sessions",
        json={"deck_slug": "distributed-leadership", "cohort_id": cohort.json()["id"]},
        headers=headers,
    )
    assert session.json()["cohort_id"] == cohort.json()["id"]
    read = client.get(f"/api/v1/institutes/{institute['id']}", headers=headers).json()
    [listed] = read["cohorts"]
    assert (listed["name"], listed["session_ids"]) == ("Oakland", [session.json()["id"]])
    assert client.get(f"/api/v1/cohorts/{listed['id']}", headers=headers).json() == listed
    assert [i["title"] for i in client.get("/api/v1/institutes", headers=headers).json()] == ["2017 Spring Institute"]


def test_the_institute_api_refuses_presenters_and_nonsense(client: TestClient, organizer: Presenter) -> None:
    user = make_user(client)
    presenter = {"Authorization": f"Bearer {api_token(client, user.email)}"}
    assert client.get("/api/v1/institutes", headers=presenter).status_code == 403
    refused = client.post("/api/v1/institutes", json={"title": " "}, headers=organizer.headers)
    assert refused.status_code == 422
    assert "Give the institute a title" in refused.json()["detail"]
    assert client.get("/api/v1/institutes/99", headers=organizer.headers).status_code == 404
    late = {"name": "Flagstaff", "starts_on": "2017-06-02", "ends_on": "2017-06-01"}
    institute = client.post("/api/v1/institutes", json={"title": "Summer"}, headers=organizer.headers).json()
    response = client.post(f"/api/v1/institutes/{institute['id']}/cohorts", json=late, headers=organizer.headers)
    assert response.status_code == 422
    assert response.json()["detail"] == "The last day comes before the first."
    unknown = client.post(
        "/api/v1/sessions", json={"deck_slug": "distributed-leadership", "cohort_id": 999}, headers=organizer.headers
    )
    assert unknown.status_code == 404
