"""The pin kind: its config (a picture with its alt text, optional correct areas), reading a placed pin, the heat
map's cells and the areas' counts, is_correct, the export and chart, and hostile text shown inert."""

from __future__ import annotations

import csv
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
from activities.pin import GRID, MAX_AREAS, PinConfig, PinSubmission, is_correct, kind
from activities.testing import Database, check_folding_matches_recompute, environment, render
from activities.testing import results as moderated
from tests.factories import Presenter, caught_up, join, respond
from tests.hostile import PAYLOADS, Page, inert, is_text

MEDIA = "c" * 64 + ".png"
PLAN = {"media": MEDIA, "alt": "A floor plan of the school"}
OFFICE = {"label": "Principal's office", "x": 0.1, "y": 0.1, "width": 0.3, "height": 0.2}
STAFFROOM = {"label": "Staff room", "x": 0.6, "y": 0.5, "width": 0.3, "height": 0.4}
FLOOR = kind.parse_config({"image": PLAN, "areas": [OFFICE, STAFFROOM]})
MAP = kind.parse_config({"image": PLAN})


def config_error(**raw: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        kind.parse_config(raw)
    return str(caught.value)


def refusal(config: PinConfig, fields: dict[str, list[str]]) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, fields)
    return str(caught.value)


def pin(config: PinConfig, x: str, y: str) -> PinSubmission:
    return kind.validate_submission(config, {"x": [x], "y": [y]})


def event(participant: int, version: int, x: float, y: float) -> ResponseEvent:
    return ResponseEvent(activity_id=1, participant_id=participant, epoch=0, version=version, payload={"x": x, "y": y})


# --- config -----------------------------------------------------------------------------------------------------


def test_pin_is_registered_under_its_name() -> None:
    assert registry["pin"] is kind
    assert kind.label == "Pin on image"


def test_pin_config_needs_a_picture() -> None:
    assert "a pin activity needs a picture to pin on" in config_error()


@pytest.mark.parametrize("alt", [None, "", "   "])
def test_pin_config_refuses_a_picture_without_alt_text_saying_why(alt: str | None) -> None:
    image = {"media": MEDIA} if alt is None else {"media": MEDIA, "alt": alt}
    assert "add the picture's alt text" in config_error(image=image)


def test_pin_config_refuses_a_name_that_is_not_an_uploaded_image() -> None:
    assert "image.media" in config_error(image={"media": "../../etc/passwd", "alt": "A plan"})


def test_pin_config_areas_are_optional_and_tidied() -> None:
    assert MAP.areas == []
    config = kind.parse_config({"image": PLAN, "areas": [{**OFFICE, "label": "  Principal's   office "}]})
    assert config.areas[0].label == "Principal's office"


def test_pin_config_refuses_an_area_past_the_picture_edge() -> None:
    assert "reaches past the picture's edge" in config_error(image=PLAN, areas=[{**OFFICE, "x": 0.8}])


@pytest.mark.parametrize("field, value", [("x", -0.1), ("y", 1.5), ("width", 0), ("height", 2)])
def test_pin_config_refuses_an_area_outside_zero_to_one(field: str, value: float) -> None:
    assert f"areas.0.{field}" in config_error(image=PLAN, areas=[{**OFFICE, field: value}])


def test_pin_config_refuses_two_areas_with_one_label_and_too_many_areas() -> None:
    assert "two area labels are the same" in config_error(
        image=PLAN, areas=[OFFICE, {**STAFFROOM, "label": "PRINCIPAL'S office"}]
    )
    many = [{**OFFICE, "label": f"Room {n}"} for n in range(MAX_AREAS + 1)]
    assert "areas" in config_error(image=PLAN, areas=many)


# --- submissions --------------------------------------------------------------------------------------------------


def test_a_pin_is_read_from_percent_fields_and_kept_relative() -> None:
    # Unscored: no clock (elapsed is None).
    assert pin(MAP, "42", "63.5").model_dump() == {"x": 0.42, "y": 0.635, "elapsed": None}
    assert pin(MAP, "0", "100 %").model_dump() == {"x": 0.0, "y": 1.0, "elapsed": None}
    assert pin(MAP, "12,25", "0007.0004").model_dump() == {"x": 0.122, "y": 0.07, "elapsed": None}


def test_a_pin_not_placed_is_refused_with_a_clear_message() -> None:
    assert refusal(MAP, {}) == "Place your pin on the picture first."
    assert refusal(MAP, {"x": ["40"]}) == "“Down” is missing: place your pin on the picture."


@pytest.mark.parametrize("typed", ["101", "100.5", "00000101", "-5", "1e2", "½", "٤٢", "nan", "4 2", "40.5.1"])
def test_a_pin_off_the_picture_or_not_a_number_is_refused(typed: str) -> None:
    assert "should be a number from 0 to 100" in refusal(MAP, {"x": [typed], "y": ["50"]})


def test_a_position_sent_twice_is_refused() -> None:
    assert "should be a number from 0 to 100" in refusal(MAP, {"x": ["10", "20"], "y": ["50"]})


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_every_hostile_payload_typed_as_a_position_is_refused_and_echoed_short(name: str) -> None:
    message = refusal(MAP, {"x": [PAYLOADS[name]], "y": ["50"]})
    assert len(message) < 120


def test_is_correct_says_whether_the_pin_is_inside_a_correct_area() -> None:
    assert is_correct(FLOOR, pin(FLOOR, "20", "15"))
    assert is_correct(FLOOR, pin(FLOOR, "40", "30"))  # on the edge counts
    assert is_correct(FLOOR, pin(FLOOR, "75", "80"))
    assert not is_correct(FLOOR, pin(FLOOR, "50", "50"))
    assert not is_correct(MAP, pin(MAP, "20", "15"))  # no areas: nothing is correct


# --- tally --------------------------------------------------------------------------------------------------------


def test_the_heat_map_bins_pins_into_cells_and_counts_each_area() -> None:
    tally = kind.new_tally(FLOOR)
    for participant, (x, y) in enumerate([(0.21, 0.16), (0.22, 0.17), (0.75, 0.8), (0.5, 0.5), (1.0, 1.0)]):
        tally.fold(event(participant, 1, x, y))
    snapshot = tally.snapshot({})
    assert snapshot["respondents"] == 5
    assert snapshot["top"] == 2
    assert snapshot["cells"][0] == {"x": 22.5, "y": 17.5, "count": 2, "heat": 1.0}
    assert {(cell["x"], cell["y"]): cell["count"] for cell in snapshot["cells"]} == {
        (22.5, 17.5): 2,
        (52.5, 52.5): 1,
        (77.5, 82.5): 1,
        (97.5, 97.5): 1,  # the far corner is in the last cell
    }
    assert [(area["label"], area["count"], area["percent"]) for area in snapshot["areas"]] == [
        ("Principal's office", 2, 40),
        ("Staff room", 1, 20),  # (0.75, 0.8); the far corner is past its edges (0.6 to 0.9 across)
    ]
    assert snapshot["inside"] == 3
    assert len(snapshot["cells"]) <= GRID * GRID


def test_a_moved_pin_leaves_its_old_cell_and_area() -> None:
    tally = kind.new_tally(FLOOR)
    tally.fold(event(1, 1, 0.2, 0.15))
    tally.fold(event(1, 2, 0.7, 0.6))
    snapshot = tally.snapshot({})
    assert [cell["count"] for cell in snapshot["cells"]] == [1]
    assert [area["count"] for area in snapshot["areas"]] == [0, 1]


PIN_FORMS = st.tuples(st.integers(0, 1000), st.integers(0, 1000)).map(
    lambda xy: {"x": [f"{xy[0] / 10:g}"], "y": [f"{xy[1] / 10:g}"]}
)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_pin_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, kind, FLOOR, PIN_FORMS, data)


# --- export, chart, comparisons ---------------------------------------------------------------------------------


def test_export_rows_give_the_position_and_the_areas_it_is_in() -> None:
    assert kind.export_rows(FLOOR, pin(FLOOR, "20", "15")) == [
        {"x": 0.2, "y": 0.15, "areas": "Principal's office", "correct": True}
    ]
    assert kind.export_rows(MAP, pin(MAP, "20", "15")) == [{"x": 0.2, "y": 0.15}]


def test_the_chart_counts_pins_per_area_and_outside_or_per_third() -> None:
    tally = kind.new_tally(FLOOR)
    for participant, (x, y) in enumerate([(0.2, 0.15), (0.5, 0.5), (0.95, 0.05)]):
        tally.fold(event(participant, 1, x, y))
    chart = kind.chart(FLOOR, tally.snapshot({}))
    assert [(row.label, row.values, row.note) for row in chart.rows] == [
        ("Principal's office", (1,), "1 (33%)"),
        ("Staff room", (0,), "0 (0%)"),
        ("Outside every area", (2,), "2 (67%)"),
    ]
    plain = kind.new_tally(MAP)
    plain.fold(event(1, 1, 0.95, 0.05))
    rows = {row.label: row.values[0] for row in kind.chart(MAP, plain.snapshot({})).rows}
    assert rows["top right"] == 1 and sum(rows.values()) == 1 and len(rows) == 9
    assert kind.result_lines(plain.snapshot({}))[2] == {"line": "third", "label": "top right", "count": 1, "share": 100}


# --- templates ------------------------------------------------------------------------------------------------------


def participant_html(config: PinConfig, answer: PinSubmission | None) -> str:
    activity = SimpleNamespace(id=9, session_id=3, kind="pin", voting_open=True, moderation={}, position=0)
    return (
        environment()
        .get_template("pin/participant.html")
        .render(activity=activity, config=config, results=None, answer=answer, respond_url="/424242/respond", csrf=None)
    )


def test_the_phone_shows_the_picture_and_the_counted_pin_where_it_was_placed() -> None:
    page = Page(participant_html(MAP, pin(MAP, "42", "63.5")))
    assert "A floor plan of the school" in page.values
    assert 'cx="42%"' in participant_html(MAP, pin(MAP, "42", "63.5"))
    assert {"42", "63.5"} <= set(page.values)
    assert page.shows("42% across, 63.5% down")
    unplaced = participant_html(MAP, None)
    assert 'visibility="hidden"' in unplaced and 'value=""' in unplaced


def test_the_projector_draws_a_spot_per_cell_and_outlines_the_areas() -> None:
    tally = kind.new_tally(FLOOR)
    tally.fold(event(1, 1, 0.21, 0.16))
    tally.fold(event(2, 1, 0.8, 0.7))
    html = render("pin", "projector", FLOOR, tally)
    assert html.count('class="pin-spot"') == 2
    assert 'cx="22.5%" cy="17.5%"' in html
    assert Page(html).shows("2 pins placed")
    # The correct areas are the answer: not on the projector while people vote, always for the presenter.
    assert html.count('class="pin-area"') == 0
    assert render("pin", "presenter", FLOOR, tally).count('class="pin-area"') == 2
    closed = SimpleNamespace(id=9, session_id=3, voting_open=False, revealed=False, moderation={})
    html = (
        environment()
        .get_template("pin/projector.html")
        .render(activity=closed, config=FLOOR, results=moderated(tally), results_visible=True, audience="projector")
    )
    assert html.count('class="pin-area"') == 2
    assert Page(html).shows("Principal's office: 1 (50%)")


SHOWABLE = [text for text in PAYLOADS.values() if is_text(text) and text.strip()]


@pytest.mark.parametrize("text", SHOWABLE[:: max(1, len(SHOWABLE) // 40)] + SHOWABLE[-3:])
def test_hostile_alt_text_and_area_labels_are_shown_inert(text: str) -> None:
    config = kind.parse_config(
        {"image": {"media": MEDIA, "alt": text[:300]}, "areas": [{**OFFICE, "label": text[:80]}]}
    )
    tally = kind.new_tally(config)
    tally.fold(event(1, 1, 0.2, 0.15))
    for html in (
        render("pin", "projector", config, tally),
        render("pin", "presenter", config, tally),
        participant_html(config, None),
    ):
        page = inert(html)
        assert config.image.alt in page.values
    assert inert(render("pin", "projector", config, tally)).shows(config.areas[0].label)
    assert moderated(tally)["areas"][0]["label"] == config.areas[0].label


# --- through a real session: archive, report, CSV ---------------------------------------------------------------


def test_a_pin_session_archives_its_pins_as_csv_chart_and_report(client: TestClient, presenter: Presenter) -> None:
    deck = (
        "title: Decisions\nactivities:\n  - kind: pin\n    title: Where are decisions made?\n"
        f"    image: {{media: {MEDIA}, alt: A floor plan}}\n"
        "    areas: [{label: Principal's office, x: 0.1, y: 0.1, width: 0.3, height: 0.2}]\n"
    )
    session = presenter.start(deck)
    activity = session["activities"][0]
    presenter.control(session["id"], "goto", activity["id"])
    for x, y in (("20", "15"), ("21", "16"), ("80", "80")):
        assert respond(client, join(client, session["code"]), activity["id"], x=x, y=y).status_code < 300
    refused = respond(client, join(client, session["code"]), activity["id"], x="150", y="10")
    assert refused.status_code == 422 and "from 0 to 100" in refused.text
    caught_up(client, session["id"])
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers).content)
    )
    names = archive.namelist()
    csv_name = next(name for name in names if name.endswith(".csv") and "where-are-decisions-made" in name)
    rows = list(csv.DictReader(io.StringIO(archive.read(csv_name).decode("utf-8-sig"))))
    assert sorted((row["x"], row["y"], row["correct"]) for row in rows) == [
        ("0.2", "0.15", "True"),
        ("0.21", "0.16", "True"),
        ("0.8", "0.8", "False"),
    ]
    report = archive.read("report.html").decode()
    assert Page(report).shows("Principal's office")
    assert "Outside every area" in report
    assert "2 (67%)" in report
