"""Comparing cohorts: each cohort's tally and all cohorts' equal the tallies of the sessions they ran."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlmodel import col, delete, update
from starlette.testclient import TestClient

from server.compare import activity_key
from server.institutes import CohortForm, create_institute, save_cohort
from server.models import Activity, Cohort, Institute, Participant, Response, Role, Session, User, utcnow
from server.routes import compare as compare_routes
from tests.factories import Presenter, api_token, join, login, make_user, respond, run, services_of
from tests.hostile import PAYLOADS

DECK = """\
title: Day one
pace: audience
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
  - kind: wordcloud
    title: Three words
  - kind: sort
    title: Influence or authority?
    cards: [Hiring, Coaching]
  - kind: scale
    title: Skills
    statements: [Facilitation, Data use]
  - kind: points
    title: Where should time go?
    items: [Teaching, Meetings]
  - kind: ranking
    title: Priorities
    items: [Trust, Time, Money]
  - kind: open
    title: One idea
  - kind: resources
    title: Call for resources
    moderated: false
  - kind: qa
    title: Questions
    moderated: false
  - kind: grid
    title: Who decides?
    items: [Principal, Teacher leader]
"""
SCRIPT = PAYLOADS["script_tag"]
# Each person's answers, by activity position (the order of DECK).
ANA = {
    0: {"choice": "0"},
    1: {"word": ["Trust", "=cmd", "<script>"]},
    2: {"card-0": "0", "card-1": "1"},
    3: {"statement-0": "4", "statement-1": "2"},
    4: {"item-0": "70", "item-1": "30"},
    5: {"rank-0": "1", "rank-1": "2", "rank-2": "3"},
    6: {"text": SCRIPT},
    7: {"type": "video", "title": "Leading change", "link": "https://example.org/change"},
    8: {"question": "How do we start?"},
    9: {"item-0-x": "9", "item-0-y": "10", "item-1-skip": "1"},
}
BEN = {
    0: {"choice": "2"},
    1: {"word": ["trust", "voice"]},
    2: {"card-0": "0", "card-1": "unsure"},
    3: {"statement-0": "5", "statement-1": "skip"},
    4: {"item-0": "50", "item-1": "50"},
    5: {"rank-0": "2", "rank-1": "1", "rank-2": "3"},
    6: {"text": "More time"},
    8: {"question": "How do we start?"},
    9: {"item-0-x": "7", "item-0-y": "8", "item-1-x": "6", "item-1-y": "2"},
}
CLEO = {
    0: {"choice": "2"},
    1: {"word": ["Voice", "listening"]},
    2: {"card-0": "1", "card-1": "1"},
    3: {"statement-0": "3", "statement-1": "4"},
    4: {"item-0": "100", "item-1": "0"},
    5: {"rank-0": "1", "rank-1": "3", "rank-2": "2"},
    6: {"text": "More time"},
}


@dataclass
class Setup:
    """An institute with cohorts, and an organizer (API token, signed-in client) to run and compare them."""

    client: TestClient
    organizer: Presenter
    institute: Institute
    cohorts: list[Cohort]

    def start(self, cohort: Cohort, deck: str = DECK) -> dict[str, Any]:
        """A session of `deck` for a cohort, through the JSON API as a facilitator's script starts one."""
        body = {"deck_yaml": deck, "cohort_id": cohort.id}
        response = self.client.post("/api/v1/sessions", json=body, headers=self.organizer.headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def answer(self, session: dict[str, Any], *people: dict[int, dict[str, Any]]) -> list[str]:
        """Each person joins and answers; returns their participant tokens."""
        tokens = []
        for answers in people:
            token = join(self.client, session["code"])
            for position, answer in answers.items():
                activity = session["activities"][position]["id"]
                assert respond(self.client, token, activity, **answer).status_code == 201
            tokens.append(token)
        return tokens

    def api(self, path: str, **params: str) -> Any:
        response = self.client.get(
            f"/api/v1/institutes/{self.institute.id}{path}", headers=self.organizer.headers, params=params
        )
        assert response.status_code == 200, response.text
        return response.json() if response.headers["content-type"].startswith("application/json") else response

    def comparison(self, kind: str, title: str) -> dict[str, Any]:
        result: dict[str, Any] = self.api(f"/compare/{activity_key(kind, title)}")
        return result

    def tally(self, session: dict[str, Any], position: int) -> dict[str, Any]:
        return self.organizer.tally(session["id"], session["activities"][position]["id"])["results"]


def make_institute(client: TestClient, owner: User, *names: str) -> tuple[Institute, list[Cohort]]:
    """An institute of `owner` with a cohort of each name (site: the name with ', AZ'), made by the organizers' own
    functions."""
    services = services_of(client)
    institute = run(client, lambda: create_institute(services.db, "2017 Spring Institute", "", owner.id))
    assert institute.id is not None
    institute_id = institute.id
    cohorts = [
        run(client, lambda name=name: save_cohort(services.db, institute_id, CohortForm(name=name, site=f"{name}, AZ")))
        for name in names
    ]
    return institute, cohorts


@pytest.fixture
def setup(client: TestClient) -> Iterator[Setup]:
    user = make_user(client, "organizer@example.org", Role.organizer)
    organizer = Presenter(client, user, api_token(client, user.email))
    institute, cohorts = make_institute(client, user, "Phoenix", "Oakland", "Flagstaff")
    yield Setup(client, organizer, institute, cohorts)


@pytest.fixture
def two_cohorts(setup: Setup) -> dict[str, dict[str, Any]]:
    """Phoenix (Ana, Ben) and Oakland (Cleo) ran the deck; Flagstaff ran nothing. (Without dates, the institute
    lists its cohorts by name: Flagstaff, Oakland, Phoenix.)"""
    phoenix, oakland = setup.start(setup.cohorts[0]), setup.start(setup.cohorts[1])
    setup.answer(phoenix, ANA, BEN)
    setup.answer(oakland, CLEO)
    return {"phoenix": phoenix, "oakland": oakland}


def columns(comparison: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The columns of a comparison by name, All cohorts included."""
    found = {column["name"]: column for column in comparison["columns"]}
    if comparison["combined"] is not None:
        found[comparison["combined"]["name"]] = comparison["combined"]
    return found


def delete_answers(client: TestClient, session_id: int) -> dict[int, dict[str, Any]]:
    """What deleting a session's participant-level data leaves: each activity's results kept in `aggregate`, no
    participants or responses. Returns the kept results by activity id."""
    services = services_of(client)

    async def prune() -> dict[int, dict[str, Any]]:
        room = await services.hub.room(session_id)
        kept = {
            activity.id: {
                "snapshot": room.tallies[activity.id].snapshot(activity.moderation),
                "respondents": room.tallies[activity.id].respondents,
            }
            for activity in room.snapshot.activities
            if activity.id is not None
        }
        async with services.db() as db, db.begin():
            ids = [activity_id for activity_id in kept]
            await db.exec(delete(Response).where(col(Response.activity_id).in_(ids)))
            await db.exec(delete(Participant).where(col(Participant.session_id) == session_id))
            for activity_id, aggregate in kept.items():
                await db.exec(update(Activity).where(col(Activity.id) == activity_id).values(aggregate=aggregate))
            await db.exec(update(Session).where(col(Session.id) == session_id).values(pruned_at=utcnow()))
        return kept

    return run(client, prune)


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- which activities ---------------------------------------------------------------------------------------------


def test_the_index_lists_each_activity_once_with_the_cohorts_that_ran_it(setup: Setup) -> None:
    setup.start(setup.cohorts[0])
    setup.start(setup.cohorts[0])  # day two of Phoenix runs the same deck
    # Oakland ran an edited deck: a new first activity moves the others, and one title has other case and spaces.
    edited = DECK.replace("activities:\n", "activities:\n  - kind: open\n    title: Welcome\n").replace(
        "title: Three words", "title: three   Words"
    )
    setup.start(setup.cohorts[1], edited)
    index = setup.api("/compare")
    assert [item["title"] for item in index] == [
        "Where does the week go?",
        "Three words",
        "Influence or authority?",
        "Skills",
        "Where should time go?",
        "Priorities",
        "One idea",
        "Call for resources",
        "Questions",
        "Who decides?",
        "Welcome",
    ]
    words = index[1]
    assert (words["kind"], words["sessions"], words["key"]) == (
        "wordcloud",
        3,
        activity_key("wordcloud", "Three words"),
    )
    assert [cohort["name"] for cohort in words["cohorts"]] == ["Oakland", "Phoenix"]  # the institute's order: by name
    assert [cohort["name"] for cohort in index[-1]["cohorts"]] == ["Oakland"]


def test_an_institute_with_no_sessions_has_nothing_to_compare(setup: Setup) -> None:
    assert setup.api("/compare") == []
    login(setup.client, "organizer@example.org")
    page = setup.client.get(f"/organize/institutes/{setup.institute.id}/compare")
    assert page.status_code == 200
    assert "Nothing to compare yet" in page.text


# --- each cohort and all cohorts ----------------------------------------------------------------------------------


def test_each_cohorts_column_equals_its_sessions_tally(setup: Setup, two_cohorts: dict[str, dict[str, Any]]) -> None:
    phoenix, oakland = two_cohorts["phoenix"], two_cohorts["oakland"]
    for position, activity in enumerate(phoenix["activities"]):
        found = columns(setup.comparison(activity["kind"], activity["title"]))
        assert set(found) == {"Phoenix", "Oakland", "All cohorts"}  # Flagstaff ran nothing: no column
        assert found["Phoenix"]["results"] == setup.tally(phoenix, position), activity["kind"]
        assert found["Oakland"]["results"] == setup.tally(oakland, position), activity["kind"]
        assert (found["Phoenix"]["sessions"], found["Oakland"]["sessions"], found["All cohorts"]["sessions"]) == (
            1,
            1,
            2,
        )


def test_all_cohorts_counts_every_cohorts_answers(setup: Setup, two_cohorts: dict[str, dict[str, Any]]) -> None:
    poll = columns(setup.comparison("poll", "Where does the week go?"))["All cohorts"]
    assert poll["respondents"] == 3
    assert [(o["label"], o["count"], o["percent"]) for o in poll["results"]["options"]] == [
        ("Fires", 1, 33),
        ("Maintenance", 0, 0),
        ("Improvement", 2, 67),
    ]
    words = columns(setup.comparison("wordcloud", "Three words"))["All cohorts"]["results"]["words"]
    assert {word["text"]: word["count"] for word in words} == {
        "trust": 2,
        "voice": 2,
        "=cmd": 1,
        "<script>": 1,
        "listening": 1,
    }
    cards = columns(setup.comparison("sort", "Influence or authority?"))["All cohorts"]["results"]["cards"]
    assert [(card["text"], [b["count"] for b in card["bins"]], card["unsure"]) for card in cards] == [
        ("Hiring", [2, 1], 0),
        ("Coaching", [0, 2], 1),
    ]
    statements = columns(setup.comparison("scale", "Skills"))["All cohorts"]["results"]["statements"]
    assert [(s["text"], s["mean"], s["answers"], s["skips"]) for s in statements] == [
        ("Facilitation", 4.0, 3, 0),
        ("Data use", 3.0, 2, 1),
    ]
    items = columns(setup.comparison("points", "Where should time go?"))["All cohorts"]["results"]["items"]
    assert [(item["label"], item["points"], item["mean"]) for item in items] == [
        ("Teaching", 220, 73.3),
        ("Meetings", 80, 26.7),
    ]
    ranks = columns(setup.comparison("ranking", "Priorities"))["All cohorts"]["results"]["items"]
    assert [(item["label"], item["average_rank"], item["first"]) for item in ranks] == [
        ("Trust", 1.33, 2),
        ("Time", 2.0, 1),
        ("Money", 2.67, 0),
    ]


def test_a_cohorts_sessions_are_folded_together(setup: Setup) -> None:
    phoenix = setup.cohorts[0]
    day_one, day_two = setup.start(phoenix), setup.start(phoenix)
    setup.answer(day_one, ANA)
    setup.answer(day_two, BEN, CLEO)  # the same phone on day two is another participant: counted again
    column = columns(setup.comparison("poll", "Where does the week go?"))["Phoenix"]
    assert (column["sessions"], column["respondents"]) == (2, 3)
    assert [option["count"] for option in column["results"]["options"]] == [1, 0, 2]


def test_an_answer_from_before_a_reset_does_not_count(setup: Setup) -> None:
    session = setup.start(setup.cohorts[0])
    setup.answer(session, ANA)
    poll = session["activities"][0]["id"]
    setup.organizer.control(session["id"], "reset", poll)
    setup.answer(session, BEN)
    column = columns(setup.comparison("poll", "Where does the week go?"))["Phoenix"]
    assert column["respondents"] == 1
    assert [option["count"] for option in column["results"]["options"]] == [0, 0, 1]


def test_moderation_applies_and_a_word_hidden_in_one_cohort_stays_hidden_in_all(
    setup: Setup, two_cohorts: dict[str, dict[str, Any]]
) -> None:
    phoenix = two_cohorts["phoenix"]
    words = phoenix["activities"][1]["id"]
    setup.organizer.control(phoenix["id"], "moderate", words, verb="hide", word="voice")
    found = columns(setup.comparison("wordcloud", "Three words"))
    shown = {name: [word["text"] for word in column["results"]["words"]] for name, column in found.items()}
    assert "voice" not in shown["Phoenix"] and "voice" in shown["Oakland"]
    assert "voice" not in shown["All cohorts"]
    assert [word["text"] for word in found["Phoenix"]["results"]["hidden"]] == ["voice"]


def test_a_cohort_with_other_settings_is_shown_but_left_out_of_all_cohorts(setup: Setup) -> None:
    phoenix, flagstaff = setup.start(setup.cohorts[0]), setup.start(setup.cohorts[2])
    oakland = setup.start(setup.cohorts[1], DECK.replace("[Fires, Maintenance, Improvement]", "[Fires, Improvement]"))
    setup.answer(phoenix, ANA)
    setup.answer(flagstaff, BEN)
    setup.answer(oakland, {0: {"choice": "1"}}, {0: {"choice": "1"}})
    comparison = setup.comparison("poll", "Where does the week go?")
    found = columns(comparison)
    assert [option["label"] for option in found["Oakland"]["results"]["options"]] == ["Fires", "Improvement"]
    assert [option["count"] for option in found["Oakland"]["results"]["options"]] == [0, 2]
    assert not found["Oakland"]["in_combined"] and found["Phoenix"]["in_combined"] and found["Flagstaff"]["in_combined"]
    assert any("other settings" in note for note in found["Oakland"]["notes"])
    assert comparison["notes"] == ["Not part of All cohorts: Oakland (see the note under each)."]
    combined = found["All cohorts"]
    assert (combined["respondents"], combined["sessions"]) == (2, 2)
    assert [option["count"] for option in combined["results"]["options"]] == [1, 0, 1]


def test_kept_results_are_shown_when_answers_were_deleted_and_left_out_of_all_cohorts(
    setup: Setup, two_cohorts: dict[str, dict[str, Any]]
) -> None:
    oakland = two_cohorts["oakland"]
    before = setup.comparison("wordcloud", "Three words")
    kept = delete_answers(setup.client, oakland["id"])
    comparison = setup.comparison("wordcloud", "Three words")
    found = columns(comparison)
    words = oakland["activities"][1]["id"]
    assert found["Oakland"]["saved"] and not found["Oakland"]["in_combined"]
    assert found["Oakland"]["results"] == json.loads(json.dumps(kept[words]["snapshot"]))
    assert found["Oakland"]["results"] == columns(before)["Oakland"]["results"]
    assert found["Oakland"]["respondents"] == 1
    assert any("deleted" in note for note in found["Oakland"]["notes"])
    assert found["All cohorts"]["results"] == found["Phoenix"]["results"]
    assert comparison["notes"] == ["Not part of All cohorts: Oakland (see the note under each)."]


def test_with_every_cohorts_answers_deleted_there_is_no_all_cohorts_column(
    setup: Setup, two_cohorts: dict[str, dict[str, Any]]
) -> None:
    for session in two_cohorts.values():
        delete_answers(setup.client, session["id"])
    comparison = setup.comparison("poll", "Where does the week go?")
    assert comparison["combined"] is None
    assert [(column["name"], column["respondents"]) for column in comparison["columns"]] == [
        ("Oakland", 1),
        ("Phoenix", 2),
    ]
    login(setup.client, "organizer@example.org")
    page = setup.client.get(f"/organize/institutes/{setup.institute.id}/compare/{comparison['key']}")
    assert page.status_code == 200 and "All cohorts</h2>" not in page.text


# --- pages, images, CSV -------------------------------------------------------------------------------------------


def test_every_kind_renders_side_by_side_with_text_escaped(
    setup: Setup, two_cohorts: dict[str, dict[str, Any]]
) -> None:
    delete_answers(setup.client, two_cohorts["oakland"]["id"])  # kept results render through the same templates
    login(setup.client, "organizer@example.org")
    base = f"/organize/institutes/{setup.institute.id}/compare"
    index = setup.client.get(base)
    for activity in two_cohorts["phoenix"]["activities"]:
        key = activity_key(activity["kind"], activity["title"])
        assert f'href="{base}/{key}"' in index.text
        page = setup.client.get(f"{base}/{key}")
        assert page.status_code == 200, (activity["kind"], page.text)
        for name in ("Phoenix", "Oakland", "All cohorts"):
            assert f">{name}</h2>" in page.text
        assert 'id="results-compare-all"' in page.text and f'id="results-compare-c{setup.cohorts[0].id}"' in page.text
        assert "<script>" not in page.text.replace('<script src="/static/', "")  # no script but our own files
    words = setup.client.get(f"{base}/{activity_key('wordcloud', 'Three words')}").text
    assert "&lt;script&gt;" in words
    assert f'data-src="{base}/{activity_key("wordcloud", "Three words")}/all/cloud.png?v=' in words
    ideas = setup.client.get(f"{base}/{activity_key('open', 'One idea')}").text
    assert "&lt;script&gt;alert(1)&lt;/script<wbr>&gt;" in ideas  # cut where a long run may wrap


def test_each_columns_cloud_image_is_drawn(setup: Setup, two_cohorts: dict[str, dict[str, Any]]) -> None:
    login(setup.client, "organizer@example.org")
    key = activity_key("wordcloud", "Three words")
    base = f"/organize/institutes/{setup.institute.id}/compare/{key}"
    for column in (f"c{setup.cohorts[0].id}", f"c{setup.cohorts[1].id}", "all"):
        image = setup.client.get(f"{base}/{column}/cloud.png")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG")
    svg = setup.api(f"/compare/{key}/all/cloud.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    assert setup.client.get(f"{base}/c{setup.cohorts[2].id}/cloud.png").status_code == 404  # Flagstaff ran nothing
    assert setup.client.get(f"{base}/all/chart.png").status_code == 404
    poll = activity_key("poll", "Where does the week go?")
    assert (
        setup.client.get(f"/organize/institutes/{setup.institute.id}/compare/{poll}/all/cloud.png").status_code == 404
    )


def test_the_csv_has_a_row_per_cohort_and_line_traced_back_to_the_tallies(
    setup: Setup, two_cohorts: dict[str, dict[str, Any]]
) -> None:
    login(setup.client, "organizer@example.org")
    key = activity_key("poll", "Where does the week go?")
    download = setup.client.get(f"/organize/institutes/{setup.institute.id}/compare/{key}/export.csv")
    assert download.status_code == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"] == (
        'attachment; filename="2017-spring-institute-where-does-the-week-go.csv"'
    )
    assert download.text.splitlines()[0] == "cohort,site,sessions,respondents,line,label,detail,count,share,mean,note"
    rows = table(download.text)
    for name, session in (("Phoenix", two_cohorts["phoenix"]), ("Oakland", two_cohorts["oakland"])):
        tally = setup.tally(session, 0)
        mine = [row for row in rows if row["cohort"] == name]
        assert [(row["label"], int(row["count"]), int(row["share"])) for row in mine] == [
            (option["label"], option["count"], option["percent"]) for option in tally["options"]
        ]
        assert {(row["site"], row["sessions"], row["respondents"], row["line"]) for row in mine} == {
            (f"{name}, AZ", "1", str(tally["respondents"]), "option")
        }
    combined = [(row["label"], row["count"]) for row in rows if row["cohort"] == "All cohorts"]
    assert combined == [("Fires", "1"), ("Maintenance", "0"), ("Improvement", "2")]
    assert setup.api(f"/compare/{key}/export.csv").text == download.text


def test_csv_lines_of_each_kind_with_formula_cells_made_harmless(
    setup: Setup, two_cohorts: dict[str, dict[str, Any]]
) -> None:
    def lines(kind: str, title: str) -> list[dict[str, str]]:
        return [row for row in table(setup.api(f"/compare/{activity_key(kind, title)}/export.csv").text)]

    words = {row["label"]: row for row in lines("wordcloud", "Three words") if row["cohort"] == "All cohorts"}
    assert words["trust"]["count"] == "2" and words["trust"]["share"] == "67"
    assert "'=cmd" in words and "=cmd" not in words  # a spreadsheet shows it, never runs it
    sort = [
        (r["label"], r["detail"], r["count"])
        for r in lines("sort", "Influence or authority?")
        if r["cohort"] == "Phoenix"
    ]
    assert sort == [
        ("Hiring", "Influence", "2"),
        ("Hiring", "Authority", "0"),
        ("Hiring", "unsure", "0"),
        ("Coaching", "Influence", "0"),
        ("Coaching", "Authority", "1"),
        ("Coaching", "unsure", "1"),
    ]
    scale = [(r["label"], r["mean"], r["detail"]) for r in lines("scale", "Skills") if r["cohort"] == "All cohorts"]
    assert scale == [
        ("Facilitation", "4.0", "1:0 2:0 3:1 4:1 5:1"),
        ("Data use", "3.0", "1:0 2:1 3:0 4:1 5:0; skipped:1"),
    ]
    points = [
        (r["label"], r["count"], r["mean"])
        for r in lines("points", "Where should time go?")
        if r["cohort"] == "Oakland"
    ]
    assert points == [("Teaching", "100", "100.0"), ("Meetings", "0", "0.0")]
    ranks = [
        (r["label"], r["detail"], r["mean"]) for r in lines("ranking", "Priorities") if r["cohort"] == "All cohorts"
    ]
    assert ranks == [("Trust", "place 1", "1.33"), ("Time", "place 2", "2.0"), ("Money", "place 3", "2.67")]
    ideas = [(r["cohort"], r["label"], r["count"]) for r in lines("open", "One idea")]
    assert ("All cohorts", "More time", "2") in ideas and ("Phoenix", SCRIPT, "1") in ideas
    questions = [(r["cohort"], r["label"], r["count"]) for r in lines("qa", "Questions")]
    assert ("Phoenix", "How do we start?", "2") in questions
    assert ("Oakland", "", "") in questions  # a cohort with nothing to show still has its row
    resources = [
        (r["label"], r["detail"], r["count"])
        for r in lines("resources", "Call for resources")
        if r["cohort"] == "All cohorts"
    ]
    assert resources == [("Leading change", "https://example.org/change", "1")]


def test_a_hostile_cohort_name_and_title_stay_text(setup: Setup) -> None:
    services = services_of(setup.client)
    institute_id = setup.institute.id
    assert institute_id is not None
    hostile = run(setup.client, lambda: save_cohort(services.db, institute_id, CohortForm(name=f"=cmd {SCRIPT}")))
    session = setup.start(hostile, DECK.replace("title: Three words", f"title: Words {SCRIPT}"))
    setup.answer(session, ANA)
    key = activity_key("wordcloud", f"Words {SCRIPT}")
    rows = table(setup.api(f"/compare/{key}/export.csv").text)
    assert rows[0]["cohort"] == f"'=cmd {SCRIPT}"
    login(setup.client, "organizer@example.org")
    page = setup.client.get(f"/organize/institutes/{institute_id}/compare/{key}").text
    assert "Words &lt;script&gt;alert(1)&lt;/script&gt;" in page and "=cmd &lt;script&gt;" in page
    assert SCRIPT not in page


# --- who may compare ----------------------------------------------------------------------------------------------


def test_a_presenter_may_not_compare(client: TestClient, setup: Setup, two_cohorts: dict[str, dict[str, Any]]) -> None:
    presenter = make_user(client, "presenter@example.org", Role.presenter)
    token = api_token(client, presenter.email)
    key = activity_key("poll", "Where does the week go?")
    base = f"/institutes/{setup.institute.id}"
    for path in (
        "/compare",
        f"/compare/{key}",
        f"/compare/{key}/export.csv",
        f"/compare/{key}/all/cloud.png",
        "/pools/resources",
    ):
        answer = client.get(f"/api/v1{base}{path}", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 403, path
        assert answer.json()["detail"] == "This needs an organizer's token."
    login(client, presenter.email)
    for path in (
        "/compare",
        f"/compare/{key}",
        f"/compare/{key}/export.csv",
        "/pools/resources",
        "/pools/resources/export.md",
    ):
        assert client.get(f"/organize{base}{path}", headers={"Accept": "text/html"}).status_code == 403, path


# A missing institute answers as someone else's does, so ids cannot be probed.
NOT_YOURS = "No such institute, cohort or session among yours."


def test_an_unknown_institute_or_activity_is_404(setup: Setup, two_cohorts: dict[str, dict[str, Any]]) -> None:
    client, headers = setup.client, setup.organizer.headers
    key = activity_key("poll", "Where does the week go?")
    for path in (
        "/compare",
        f"/compare/{key}",
        f"/compare/{key}/export.csv",
        "/pools/resources",
        "/pools/resources/export.csv",
    ):
        answer = client.get(f"/api/v1/institutes/999{path}", headers=headers)
        assert (answer.status_code, answer.json()["detail"]) == (404, NOT_YOURS), path
    unknown = client.get(
        f"/api/v1/institutes/{setup.institute.id}/compare/{activity_key('poll', 'Nope')}", headers=headers
    )
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "No cohort of this institute ran that activity.")
    login(client, "organizer@example.org")
    page = client.get("/organize/institutes/999/compare", headers={"Accept": "text/html"})
    assert page.status_code == 404 and NOT_YOURS in page.text


def test_a_signed_out_visitor_is_sent_to_sign_in(client: TestClient, setup: Setup) -> None:
    answer = client.get(f"/organize/institutes/{setup.institute.id}/compare", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next=/organize/institutes/{setup.institute.id}/compare"


def test_openapi_describes_the_compare_and_pool_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    api_routes = {
        route.path for route in compare_routes.router.routes if isinstance(route, APIRoute) and route.include_in_schema
    }
    assert api_routes == {
        "/api/v1/institutes/{institute_id}/compare",
        "/api/v1/institutes/{institute_id}/compare/{key}",
        "/api/v1/institutes/{institute_id}/compare/{key}/export.csv",
        "/api/v1/institutes/{institute_id}/compare/{key}/{column}/{asset}",
        "/api/v1/institutes/{institute_id}/pools/{kind}",
        "/api/v1/institutes/{institute_id}/pools/{kind}/export.{extension}",
    }
    assert api_routes <= set(spec["paths"])
    assert not any(path.startswith("/organize/") for path in spec["paths"])
    comparison = spec["paths"]["/api/v1/institutes/{institute_id}/compare/{key}"]["get"]
    assert comparison["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("ComparisonPublic")
    assert "application/problem+json" in comparison["responses"]["403"]["content"]
    pool = spec["paths"]["/api/v1/institutes/{institute_id}/pools/{kind}"]["get"]
    assert [parameter["name"] for parameter in pool["parameters"]] == ["institute_id", "kind", "type"]
