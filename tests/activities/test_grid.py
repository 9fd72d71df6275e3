"""The grid kind (a 2x2): its config, a participant's placements from the form, means and spreads, the presenter's
clouds of individual placements, export rows, charts, and the fold-equals-recompute property."""

from __future__ import annotations

import io
import zipfile
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from starlette.testclient import TestClient

from activities import registry
from activities.base import ResponseEvent, SubmissionInvalid
from activities.grid import MAX_ITEMS, GridConfig, GridSubmission, GridTally, kind
from activities.testing import Database, check_folding_matches_recompute
from server.live.fragments import make_environment
from tests.factories import Presenter, join, respond
from tests.hostile import PAYLOADS, inert, svg_problems

ROLES = ["Principal", "Teacher leader", "Instructional coach"]
CONFIG = GridConfig(items=ROLES, quadrants=["Influence only", "Both", "Neither", "Authority only"])
SMALL = GridConfig(items=["Principal", "Parent council"], min=1, max=5, x_label="Voice", y_label="Vote")


def config_error(**raw: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        kind.parse_config(raw)
    return str(caught.value)


def refusal(config: GridConfig, form: dict[str, list[str]]) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, form)
    return str(caught.value)


def placed(config: GridConfig, form: dict[str, list[str]]) -> list[Any]:
    return [None if p is None else tuple(p) for p in kind.validate_submission(config, form).placements]


def event(participant: int, version: int, *placements: tuple[int, int] | None, epoch: int = 0) -> ResponseEvent:
    payload = {"placements": [None if p is None else list(p) for p in placements]}
    return ResponseEvent(1, participant, epoch, version, payload)


# --- config ---------------------------------------------------------------------------------------------------------


def test_grid_is_registered_under_its_name() -> None:
    assert registry["grid"] is kind


def test_grid_config_defaults_to_influence_by_authority_from_zero_to_ten() -> None:
    config = kind.parse_config({"items": ["Principal"]})
    assert (config.x_label, config.y_label, config.min, config.max) == ("Influence", "Authority", 0, 10)
    # No words at the ends unless the deck gives them (a default would be English in every room): just the numbers.
    assert (config.x_low, config.x_high, config.y_low, config.y_high) == ("", "", "", "")
    assert config.quadrants == []
    assert config.middle == 5


def test_grid_config_tidies_whitespace_in_every_text() -> None:
    config = kind.parse_config(
        {"items": ["  Teacher   leader "], "x_label": " Say  so ", "quadrants": [" a ", "b", "c", "d"]}
    )
    assert (config.items, config.x_label, config.quadrants) == (["Teacher leader"], "Say so", ["a", "b", "c", "d"])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"items": []}, "at least 1 item"),
        ({"items": [f"Role {n}" for n in range(MAX_ITEMS + 1)]}, f"at most {MAX_ITEMS} items"),
        ({"items": ["Coach", "coach"]}, "two items are the same"),
        ({"items": ["x" * 61]}, "an item is longer than 60 characters"),
        ({"items": ["Coach"], "x_label": "  "}, "an axis label is empty"),
        ({"items": ["Coach"], "y_high": "h" * 31}, "an end label is longer than 30 characters"),
        ({"items": ["Coach"], "quadrants": ["a", "b"]}, "give four quadrant labels"),
        ({"items": ["Coach"], "quadrants": ["a", "b", "c", "d" * 25]}, "a quadrant label is longer than 24 characters"),
        ({"items": ["Coach"], "min": 0, "max": 1}, "each axis has 3 to 21 points"),
        ({"items": ["Coach"], "min": 0, "max": 21}, "min 0 and max 21 give 22"),
        ({"items": ["Coach"], "colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_grid_config_refuses_what_a_deck_gets_wrong(raw: dict[str, Any], message: str) -> None:
    assert message in config_error(**raw)


def test_grid_config_takes_the_largest_sizes() -> None:
    config = kind.parse_config({"items": [f"Role {n}" for n in range(MAX_ITEMS)], "min": -10, "max": 10})
    assert len(config.items) == MAX_ITEMS
    assert config.middle == 0


# --- submissions ----------------------------------------------------------------------------------------------------


def test_grid_reads_both_sliders_of_every_item() -> None:
    form = {
        "item-0-x": ["8"],
        "item-0-y": ["9"],
        "item-1-x": ["7"],
        "item-1-y": ["2"],
        "item-2-x": ["0"],
        "item-2-y": ["10"],
    }
    assert placed(CONFIG, form) == [(8, 9), (7, 2), (0, 10)]


def test_grid_counts_a_ticked_skip_or_an_item_sent_without_values_as_skipped() -> None:
    form = {"item-0-x": ["3"], "item-0-y": ["4"], "item-1-x": ["5"], "item-1-y": ["5"], "item-1-skip": ["1"]}
    assert placed(CONFIG, form) == [(3, 4), None, None]


def test_grid_asks_for_at_least_one_placed_item() -> None:
    assert refusal(CONFIG, {}) == "Place at least one item before sending."
    every_skipped = {f"item-{i}-skip": ["1"] for i in range(3)} | {"item-0-x": ["2"], "item-0-y": ["2"]}
    assert refusal(CONFIG, every_skipped) == "Place at least one item before sending."


@pytest.mark.parametrize("value", ["11", "-1", "five", "2.5", "", "²"])
def test_grid_refuses_a_value_off_the_scale_and_names_the_item(value: str) -> None:
    form = {"item-1-x": ["3"], "item-1-y": [value]}
    assert refusal(CONFIG, form) in (
        "Place “Teacher leader” from 0 to 10 on both axes.",
        "Place “Teacher leader” once on each axis, or skip it.",
    )


def test_grid_refuses_an_item_placed_on_one_axis_only_or_twice() -> None:
    assert refusal(CONFIG, {"item-0-x": ["3"]}) == "Place “Principal” once on each axis, or skip it."
    assert (
        refusal(CONFIG, {"item-0-x": ["3", "4"], "item-0-y": ["1"]})
        == "Place “Principal” once on each axis, or skip it."
    )


@pytest.mark.parametrize("name", ["item-3-x", "item-0-z", "item--1-x", "item-a-y"])
def test_grid_refuses_an_item_it_does_not_have(name: str) -> None:
    assert refusal(CONFIG, {"item-0-x": ["3"], "item-0-y": ["3"], name: ["1"]}) == "That item is not part of this grid."


def test_grid_reads_negative_points_of_a_centred_scale() -> None:
    centred = GridConfig(items=["Coach"], min=-5, max=5)
    assert placed(centred, {"item-0-x": ["-5"], "item-0-y": ["4"]}) == [(-5, 4)]


def test_grid_stored_payload_round_trips_and_a_foreign_shape_is_refused() -> None:
    submission = kind.validate_submission(CONFIG, {"item-2-x": ["1"], "item-2-y": ["6"]})
    payload = submission.model_dump(mode="json")
    assert payload == {"placements": [None, None, [1, 6]]}
    again = GridSubmission.model_validate(payload, context={"config": CONFIG, "stored": True})
    assert again == submission
    with pytest.raises(ValidationError):
        GridSubmission.model_validate({"placements": [[1, 6]]}, context={"config": CONFIG})
    with pytest.raises(ValidationError):
        GridSubmission.model_validate({"placements": [None, None, [1, 60]]}, context={"config": CONFIG})


def test_grid_export_rows_give_each_item_its_point_or_skipped() -> None:
    submission = kind.validate_submission(CONFIG, {"item-0-x": ["8"], "item-0-y": ["9"]})
    assert kind.export_rows(CONFIG, submission) == [
        {"item": "Principal", "x": 8, "y": 9},
        {"item": "Teacher leader", "x": "skipped", "y": "skipped"},
        {"item": "Instructional coach", "x": "skipped", "y": "skipped"},
    ]


# --- tally ----------------------------------------------------------------------------------------------------------


def tally_of(config: GridConfig, *events: ResponseEvent) -> GridTally:
    tally = GridTally(config)
    for one in events:
        tally.fold(one)
    return tally


def test_grid_tally_gives_each_item_its_mean_spread_placements_and_skips() -> None:
    tally = tally_of(
        CONFIG, event(1, 1, (8, 9), (2, 4), None), event(2, 1, (6, 9), (4, 4), None), event(3, 1, (10, 9), None, None)
    )
    principal, teacher, coach = tally.snapshot({})["items"]
    assert (principal["mean_x"], principal["mean_y"], principal["placed"]) == (8.0, 9.0, 3)
    assert (principal["spread_x"], principal["spread_y"]) == (1.63, 0.0)  # sd of 6, 8, 10
    assert principal["cloud"] == [
        {"x": 6, "y": 9, "count": 1},
        {"x": 8, "y": 9, "count": 1},
        {"x": 10, "y": 9, "count": 1},
    ]
    assert (teacher["mean_x"], teacher["spread_x"], teacher["placed"], teacher["skips"]) == (3.0, 1.0, 2, 1)
    assert (coach["mean_x"], coach["spread_x"], coach["placed"], coach["skips"]) == (None, None, 0, 3)
    assert tally.snapshot({})["respondents"] == 3


def test_grid_tally_counts_people_at_one_point_together() -> None:
    tally = tally_of(SMALL, event(1, 1, (2, 2), None), event(2, 1, (2, 2), None), event(3, 1, (5, 1), None))
    assert tally.snapshot({})["items"][0]["cloud"] == [{"x": 2, "y": 2, "count": 2}, {"x": 5, "y": 1, "count": 1}]


def test_grid_tally_replaces_a_changed_answer_and_retracts_to_nothing() -> None:
    tally = tally_of(SMALL, event(1, 1, (1, 1), (5, 5)), event(1, 2, (3, 4), None))
    principal, council = tally.snapshot({})["items"]
    assert (principal["mean_x"], principal["mean_y"], principal["placed"]) == (3.0, 4.0, 1)
    assert (council["placed"], council["skips"], council["cloud"]) == (0, 1, [])
    tally.retract(tally.answer_of(1))  # type: ignore[arg-type]
    assert tally.cells == [{}, {}] and tally.sums == [[0, 0], [0, 0]] and tally.squares == [[0, 0], [0, 0]]


def test_grid_shows_no_clouds_until_the_presenter_asks_and_then_those_asked_for() -> None:
    tally = tally_of(CONFIG, event(1, 1, (8, 9), (2, 4), (5, 5)))
    assert [item["cloud_shown"] for item in tally.snapshot({})["items"]] == [False, False, False]
    moderation = kind.moderate({}, "show-cloud", {"item": ["1"]})
    assert moderation == {"clouds": [1]}
    assert [item["cloud_shown"] for item in tally.snapshot(moderation)["items"]] == [False, True, False]
    every = kind.moderate(moderation, "show-cloud", {"item": ["all"]})
    assert [item["cloud_shown"] for item in tally.snapshot(every)["items"]] == [True, True, True]
    fewer = kind.moderate(every, "hide-cloud", {"item": ["0"]})
    assert [item["cloud_shown"] for item in tally.snapshot(fewer)["items"]] == [False, True, True]
    assert kind.moderate(fewer, "hide-cloud", {"item": ["all"]}) == {"clouds": []}


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("show-cloud", {}),
        ("show-cloud", {"item": ["12"]}),
        ("hide-cloud", {"item": ["one"]}),
        ("hide", {"item": ["0"]}),
    ],
)
def test_grid_refuses_a_cloud_toggle_it_cannot_follow(action: str, fields: dict[str, list[str]]) -> None:
    with pytest.raises(SubmissionInvalid, match="show or hide the placements"):
        kind.moderate({}, action, fields)


def test_grid_ignores_stored_cloud_choices_that_do_not_fit() -> None:
    tally = tally_of(SMALL, event(1, 1, (1, 1), None))
    shown = [item["cloud_shown"] for item in tally.snapshot({"clouds": [1, 7, "0", -1]})["items"]]
    assert shown == [False, True]


def test_grid_chart_draws_each_axis_mean_from_the_low_end_and_notes_the_spread() -> None:
    tally = tally_of(SMALL, event(1, 1, (2, 5), None), event(2, 1, (4, 5), None))
    chart = kind.chart(SMALL, tally.snapshot({}))
    assert chart.scale == 4.0
    assert [(row.label, row.values, row.note) for row in chart.rows] == [
        ("Principal: Voice", (2.0,), "mean 3.0 ± 1.0, 2 placed"),
        ("Principal: Vote", (4.0,), "mean 5.0 ± 0.0, 2 placed"),
        ("Parent council: Voice", (0.0,), "no placements"),
        ("Parent council: Vote", (0.0,), "no placements"),
    ]


def test_grid_result_lines_give_each_item_its_means_and_spreads() -> None:
    tally = tally_of(SMALL, event(1, 1, (2, 5), None))
    assert kind.result_lines(tally.snapshot({})) == [
        {"line": "item", "label": "Principal", "detail": "x 2.0 ± 0.0; y 5.0 ± 0.0", "count": 1},
        {"line": "item", "label": "Parent council", "detail": "no placements; skipped:1", "count": 0},
    ]


# --- templates ----------------------------------------------------------------------------------------------------

ENV = make_environment(registry)
AXIS_TEXTS = ("x_label", "x_low", "x_high", "y_label", "y_low", "y_high")


def render(name: str, config: GridConfig, tally: GridTally, answer: GridSubmission | None = None) -> str:
    moderation = {"clouds": [0, 1, 2]}
    context = {
        "activity": SimpleNamespace(id=9, session_id=3, voting_open=True, moderation=moderation),
        "respond_url": "/123456/respond",
        "config": config,
        "results": tally.snapshot(moderation),
        "answer": answer,
        "audience": name,
    }
    return ENV.get_template(f"grid/{name}.html").render(**context)


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_grid_templates_show_hostile_axis_names_and_items_as_text(payload: str) -> None:
    text = " ".join(PAYLOADS[payload].split())[:30] or "Filler"
    config = kind.parse_config(
        {"items": [text[:60], "Coach"], **{key: text for key in AXIS_TEXTS}, "quadrants": [text[:24], "b", "c", "d"]}
    )
    tally = tally_of(config, event(1, 1, (3, 4), None))
    for name in ("participant", "presenter", "projector"):
        inert(render(name, config, tally, tally.answer_of(1)))


def test_grid_participant_form_keeps_a_previous_answer_and_its_skips() -> None:
    tally = tally_of(CONFIG, event(1, 1, (8, 2), None, None))
    html = render("participant", CONFIG, tally, tally.answer_of(1))
    assert 'value="8"' in html and 'value="2"' in html
    assert html.count('type="range"') == 6 and html.count("checked") == 2  # the two skipped items
    fresh = render("participant", CONFIG, tally, None)
    assert fresh.count('value="5"') == 6 and "checked" not in fresh


def test_grid_results_draw_a_mean_for_each_placed_item_and_the_clouds_asked_for() -> None:
    tally = tally_of(CONFIG, event(1, 1, (8, 2), (3, 3), None), event(2, 1, (8, 2), None, None))
    html = render("projector", CONFIG, tally)
    assert html.count('class="grid-mean"') == 2 and html.count('class="grid-cloud"') == 2
    assert "Influence only" in html and "3 people answered" not in html and "2 people answered" in html
    assert "not placed yet" in html  # the coach


# --- a whole session: the JSON API, the archive ----------------------------------------------------------------------

SESSION_DECK = """\
title: Who decides
activities:
  - kind: grid
    title: Influence and authority
    items: [Principal, Teacher leader]
    quadrants: [Authority only, Both, Neither, Influence only]
"""


def test_a_grid_session_answers_through_the_api_and_its_archive_charts_and_lists_it(
    client: TestClient, presenter: Presenter
) -> None:
    session = presenter.start(SESSION_DECK)
    activity = session["activities"][0]
    presenter.control(session["id"], "goto", activity["id"])
    first, second = join(client, session["code"]), join(client, session["code"])
    assert (
        respond(client, first, activity["id"], **{"item-0-x": "9", "item-0-y": "10", "item-1-skip": "1"}).status_code
        == 201
    )
    assert (
        respond(
            client, second, activity["id"], **{"item-0-x": "7", "item-0-y": "8", "item-1-x": "6", "item-1-y": "2"}
        ).status_code
        == 201
    )
    refused = respond(client, second, activity["id"], **{"item-0-x": "70", "item-0-y": "8"})
    assert refused.status_code == 422 and "Place “Principal” from 0 to 10 on both axes." in refused.text
    tally = presenter.tally(session["id"], activity["id"])
    principal = tally["results"]["items"][0]
    assert (principal["mean_x"], principal["mean_y"], principal["placed"]) == (8.0, 9.0, 2)

    response = client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    rows = [
        line
        for name in archive.namelist()
        if name.endswith(".csv") and "summary" not in name
        for line in archive.read(name).decode().splitlines()
    ]
    assert any("Teacher leader" in line and "skipped" in line for line in rows)
    report = inert(archive.read("report.html").decode())
    assert report.shows("Principal: Influence") and report.shows("mean 8.0 ± 1.0, 2 placed")
    for name in archive.namelist():
        if name.endswith(".svg"):
            assert svg_problems(archive.read(name)) == [], name


# --- the folding property -------------------------------------------------------------------------------------------

AXIS = st.integers(0, 10).map(str)
ITEM = st.one_of(st.tuples(AXIS, AXIS).map(lambda xy: {"x": [xy[0]], "y": [xy[1]]}), st.just({"skip": ["1"]}))
FORMS = (
    st.tuples(ITEM, ITEM, ITEM)
    .map(lambda items: {f"item-{i}-{key}": value for i, item in enumerate(items) for key, value in item.items()})
    .filter(lambda form: any(name.endswith("-x") for name in form))
)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_grid_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, kind, CONFIG, FORMS, data)
