"""The number kind: its config, reading a typed number, the histogram, median and right answer, is_correct, exports."""

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
from activities.number import MAX_BINS, NumberConfig, NumberSubmission, NumberTally, is_correct, kind
from activities.testing import Database, check_folding_matches_recompute, environment, render
from activities.text import tidy
from server.compare import activity_key
from server.models import Role
from server.web.i18n import speaking
from tests.factories import Presenter, api_token, caught_up, join, login, make_user, respond
from tests.hostile import PAYLOADS, inert, is_text
from tests.server.test_compare import Setup, columns, make_institute

HOURS = NumberConfig(min=0, max=80, unit="hours", correct=12, tolerance=2)
SHARE = NumberConfig(min=0, max=100, decimals=1, unit="%", correct=37.5)
YEARS = NumberConfig(min=1900, max=2026)


def config_error(**raw: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        kind.parse_config(raw)
    return str(caught.value)


def answer(config: NumberConfig, typed: str) -> NumberSubmission:
    return kind.validate_submission(config, {"value": [typed]})


def refusal(config: NumberConfig, typed: Any) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, {"value": typed if isinstance(typed, list) else [typed]})
    return str(caught.value)


def event(participant: int, version: int, value: float, epoch: int = 0) -> ResponseEvent:
    return ResponseEvent(1, participant, epoch, version, {"value": value})


def tally_of(config: NumberConfig, *values: float) -> NumberTally:
    tally = NumberTally(config)
    for participant, value in enumerate(values):
        tally.fold(event(participant, 1, value))
    return tally


# --- config -----------------------------------------------------------------------------------------------------


def test_number_is_registered_under_its_name() -> None:
    assert registry["number"] is kind


def test_number_config_needs_both_bounds_and_defaults_to_whole_numbers_without_a_right_answer() -> None:
    assert "min" in config_error(max=10) and "max" in config_error(min=0)
    config = kind.parse_config({"min": 0, "max": 10})
    assert (config.decimals, config.unit, config.correct, config.tolerance) == (0, "", None, 0)


def test_number_config_refuses_min_not_under_max() -> None:
    assert "min (5) must be smaller than max (5)" in config_error(min=5, max=5)
    assert "min (6) must be smaller than max (5)" in config_error(min=6, max=5)


def test_number_config_refuses_a_correct_value_out_of_bounds_and_a_negative_tolerance() -> None:
    assert "correct (81) must be between min (0) and max (80)" in config_error(min=0, max=80, correct=81)
    assert "greater than or equal to 0" in config_error(min=0, max=80, correct=12, tolerance=-1)
    assert "wider than the range" in config_error(min=0, max=80, tolerance=81)


def test_number_config_refuses_bounds_and_answers_with_more_decimals_than_answers_may_have() -> None:
    assert "min (0.5) has more decimals than the 0" in config_error(min=0.5, max=2)
    assert "correct (1.25) has more decimals than the 1" in config_error(min=0, max=2, decimals=1, correct=1.25)
    assert kind.parse_config({"min": 0.5, "max": 2, "decimals": 2, "correct": 1.25}).correct == 1.25


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", 1e10, -1e10])
def test_number_config_refuses_not_numbers_and_huge_bounds(value: Any) -> None:
    config_error(min=value, max=1e9 if value != 1e10 else 2e10)


def test_number_config_tidies_the_unit_and_refuses_unknown_keys() -> None:
    assert kind.parse_config({"min": 0, "max": 1, "unit": "  school\nyears "}).unit == "school years"
    assert "Extra inputs are not permitted" in config_error(min=0, max=1, step=2)
    assert "at most 20 characters" in config_error(min=0, max=1, unit="x" * 21)


# --- reading an answer ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value"),
    [("12", 12), (" 37.5 ", 37.5), ("37,5", 37.5), ("-0", 0), ("+3", 3), (".5", 0.5), ("2.5e1", 25), ("1e2", 100)],
)
def test_number_reads_a_point_a_comma_a_sign_and_exponents(typed: str, value: float) -> None:
    assert answer(SHARE, typed).value == value


def test_number_reads_a_typographic_minus_sign() -> None:
    assert answer(NumberConfig(min=-10, max=10), "\u22123").value == -3


@pytest.mark.parametrize("typed", ["nan", "NaN", "inf", "Infinity", "abc", "12 hours", "1.2.3", "3,5,1", "0x10", "--1"])
def test_number_refuses_what_is_not_a_number_echoing_it(typed: str) -> None:
    assert refusal(SHARE, typed) == f"“{typed}” is not a number: type one like 42 or 3.5."


@pytest.mark.parametrize("typed", ["1e309", "-1e309", "1e999999999", "100.1", "-0.1", "101"])
def test_number_refuses_a_number_out_of_bounds_even_a_float_overflow(typed: str) -> None:
    assert refusal(SHARE, typed) == "Give a number from 0 to 100."


def test_number_refuses_more_decimals_than_allowed() -> None:
    assert refusal(HOURS, "3,5") == "Give a whole number (no decimals)."
    assert refusal(SHARE, "37.55") == "Give at most 1 digit after the decimal point."
    assert refusal(NumberConfig(min=0, max=1, decimals=2), "0.125") == "Give at most 2 digits after the decimal point."
    assert refusal(SHARE, "1e-400") == "Give at most 1 digit after the decimal point."


def test_number_trailing_zeros_are_not_decimals() -> None:
    assert answer(HOURS, "12.000").value == 12


def test_number_refuses_thousands_separators_as_ambiguous() -> None:
    message = "Write “1,000” without the comma: digits only for thousands, a comma or point only before decimals."
    assert refusal(YEARS, "1,000") == message
    assert answer(YEARS, "2000").value == 2000


def test_number_asks_for_an_answer_when_blank_and_for_one_number_when_given_two() -> None:
    assert refusal(HOURS, []) == "Type your answer first."
    assert refusal(HOURS, "   ") == "Type your answer first."
    assert refusal(HOURS, ["1", "2"]) == "Give one number."


def test_number_echo_of_a_pasted_novel_is_cut_short() -> None:
    message = refusal(HOURS, "x" * 500)
    assert len(message) < 100


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_number_refuses_every_hostile_text_echoing_at_most_a_short_piece(name: str) -> None:
    message = refusal(HOURS, PAYLOADS[name])
    assert message in ("Type your answer first.",) or "not a number" in message or "without the comma" in message
    assert len(message) <= 140


def test_number_json_api_numbers_are_checked_like_typed_ones() -> None:
    assert kind.submission_model.model_validate({"value": 12}, context={"config": HOURS}).value == 12
    for bad in (float("nan"), float("inf"), True, 81, 1.5, 10**400, 0.1 + 0.2, "12 hours", {"value": 12}):
        with pytest.raises(ValidationError):
            kind.submission_model.model_validate({"value": bad}, context={"config": HOURS})


def test_number_stored_payload_round_trips() -> None:
    submitted = answer(SHARE, "37,5")
    assert NumberTally(SHARE).parse_payload(submitted.model_dump()) == submitted
    assert submitted.shown == "37.5"


@pytest.mark.parametrize("name", sorted(name for name, text in PAYLOADS.items() if is_text(text)))
def test_number_shows_every_hostile_unit_as_plain_text_on_phones_presenter_and_projector(name: str) -> None:
    unit = tidy(PAYLOADS[name])[:20].strip() or "x"
    config = kind.parse_config({"min": 0, "max": 80, "unit": unit, "correct": 12})
    tally = tally_of(config, 12, 30)
    activity = SimpleNamespace(id=9, session_id=3, voting_open=False, moderation={}, revealed=True)
    phone = (
        environment()
        .get_template("number/participant.html")
        .render(activity=activity, config=config, answer=tally.answer_of(0), respond_url="/123456/respond", csrf=None)
    )
    assert unit in inert(phone).texts
    for audience in ("presenter", "projector"):
        shown_text = " ".join(inert(render("number", audience, config, tally)).texts)
        assert unit in shown_text


def test_number_shows_its_numbers_with_the_decimal_mark_of_the_pages_language() -> None:
    """Spanish writes 37,5 where English writes 37.5: the median, mean, bins, right answer, closest answers and the
    phone's hint and own answer, on every screen; whole numbers and the unit are left as they are."""
    tally = tally_of(SHARE, 37.5, 37.5, 12.5)
    activity = SimpleNamespace(id=9, session_id=3, voting_open=False, moderation={}, revealed=True)
    phone = environment().get_template("number/participant.html")
    for language, point in [("en", "."), ("es", ",")]:
        with speaking(language):
            projector = " ".join(" ".join(inert(render("number", "projector", SHARE, tally)).texts).split())
            answered = phone.render(activity=activity, config=SHARE, answer=tally.answer_of(0), respond_url="/1/r")
        assert f"37{point}5 %" in projector and f"29{point}167 %" in projector  # the median, the mean
        assert f"37{point}5" in " ".join(inert(answered).texts) or f'value="37{point}5"' in answered
        assert f"0 {'to' if language == 'en' else 'al'} 100" in " ".join(inert(answered).texts)
    with speaking("es"):
        spanish = render("number", "presenter", SHARE, tally)
    assert "37.5" not in spanish and "12.5" not in spanish and "12,5 %" in spanish  # the closest answers too


# --- is_correct --------------------------------------------------------------------------------------------------


def test_is_correct_counts_answers_within_the_tolerance_inclusive() -> None:
    assert [is_correct(HOURS, answer(HOURS, typed)) for typed in ("9", "10", "12", "14", "15")] == [
        False,
        True,
        True,
        True,
        False,
    ]
    assert kind.is_correct(HOURS, answer(HOURS, "14"))


def test_is_correct_is_exact_in_decimals_where_floats_are_not() -> None:
    config = NumberConfig(min=0, max=1, decimals=1, correct=0.3, tolerance=0.1)
    assert 0.4 - 0.3 > 0.1  # what a float comparison would get wrong
    assert is_correct(config, answer(config, "0.4")) and is_correct(config, answer(config, "0.2"))
    assert not is_correct(config, answer(config, "0.5"))


def test_is_correct_without_a_correct_value_is_never_right() -> None:
    assert not is_correct(YEARS, answer(YEARS, "2000"))


# --- the tally ---------------------------------------------------------------------------------------------------


def test_number_tally_gives_the_median_mean_bins_and_right_answers() -> None:
    results = tally_of(HOURS, 10, 12, 12, 30, 79).snapshot({})
    assert (results["respondents"], results["answers"], results["median"], results["mean"]) == (5, 5, "12", "28.6")
    assert [b["count"] for b in results["bins"]] == [0, 3, 0, 1, 0, 0, 0, 1]
    assert results["bins"][0]["label"] == "0–9" and results["bins"][-1]["label"] == "70–80"
    correct = results["correct"]
    assert (correct["value"], correct["tolerance"], correct["within"], correct["share"]) == ("12", "2", 3, 60)
    assert correct["closest"] == [
        {"value": "12", "count": 2, "right": True},
        {"value": "10", "count": 1, "right": True},
        {"value": "30", "count": 1, "right": False},
    ]


def test_number_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    assert tally_of(HOURS, 1, 2, 4, 80).snapshot({})["median"] == "3"
    assert tally_of(HOURS, 1, 2).snapshot({})["median"] == "1.5"


def test_number_tally_of_nobody_has_no_median_and_nobody_right() -> None:
    results = NumberTally(HOURS).snapshot({})
    assert (results["median"], results["mean"], results["top"]) == (None, None, 0)
    assert (results["correct"]["within"], results["correct"]["closest"]) == (0, [])
    assert NumberTally(YEARS).snapshot({})["correct"] is None


def test_number_small_ranges_get_a_column_per_value() -> None:
    results = tally_of(NumberConfig(min=-2, max=2), -2, 2, 2).snapshot({})
    assert [(b["label"], b["count"]) for b in results["bins"]] == [("-2", 1), ("-1", 0), ("0", 0), ("1", 0), ("2", 2)]


@pytest.mark.parametrize(
    "raw",
    [
        {"min": 0, "max": 100},
        {"min": 1900, "max": 2026},
        {"min": 0, "max": 1, "decimals": 2},
        {"min": -5, "max": 5, "decimals": 1},
        {"min": -1e9, "max": 1e9, "decimals": 4},
        {"min": 3, "max": 97},
        {"min": 0, "max": 13},
    ],
)
def test_number_bins_cover_the_range_in_at_most_twelve_and_count_both_ends(raw: dict[str, Any]) -> None:
    config = kind.parse_config(raw)
    results = tally_of(config, config.min, config.max).snapshot({})
    assert 2 <= len(results["bins"]) <= MAX_BINS
    assert results["bins"][0]["count"] == 1 and results["bins"][-1]["count"] == 1
    assert sum(b["count"] for b in results["bins"]) == 2


def test_number_replacing_an_answer_retracts_the_old_one() -> None:
    tally = NumberTally(HOURS)
    tally.fold(event(1, 1, 12))
    tally.fold(event(1, 2, 40))
    assert tally.fold(event(1, 1, 12)) is False
    results = tally.snapshot({})
    assert (results["answers"], results["median"], results["correct"]["within"]) == (1, "40", 0)


def test_number_export_rows_give_the_value_the_unit_and_whether_it_was_right() -> None:
    assert kind.export_rows(HOURS, answer(HOURS, "13")) == [{"value": "13", "unit": "hours", "correct": "yes"}]
    assert kind.export_rows(YEARS, answer(YEARS, "2000")) == [{"value": "2000", "unit": ""}]


def test_number_chart_listing_and_comparison_lines_carry_the_results() -> None:
    results = tally_of(HOURS, 10, 12, 30).snapshot({})
    chart = kind.chart(HOURS, results)
    assert chart.rows[1].label == "10–19 hours" and chart.rows[1].values == (2.0,)
    listing = kind.listing(HOURS, results)
    assert listing[0].text == "Median 12 hours" and listing[1].text == "Correct 12 hours"
    assert listing[1].note.startswith("2 within ±2 (67%)")
    lines = kind.result_lines(results)
    assert {"line": "median", "label": "median", "detail": "12", "count": 3, "mean": "17.33"} in lines
    assert lines[-1]["line"] == "correct" and lines[-1]["count"] == 2


# --- folding -----------------------------------------------------------------------------------------------------

FORMS = st.sampled_from(["0", "9", "10", "11,5", "12", "12.0", "14", "40", "80", "1e1"]).map(
    lambda typed: {"value": [typed]}
)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_number_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(
        database, kind, NumberConfig(min=0, max=80, decimals=1, correct=12, tolerance=2), FORMS, data
    )


# --- through a session: the archive ---------------------------------------------------------------------------

ARCHIVED = """\
title: Guesses
activities:
  - kind: number
    title: Hours on instruction
    min: 0
    max: 80
    unit: hours
    correct: 12
    tolerance: 2
"""


def test_number_archive_has_each_answer_marked_right_or_wrong_a_chart_and_the_report_s_median(
    client: TestClient, presenter: Presenter
) -> None:
    session = presenter.start(ARCHIVED)
    activity = session["activities"][0]["id"]
    presenter.control(session["id"], "goto", activity)
    caught_up(client, session["id"])
    for typed in ("13", "30", "12,0"):
        assert respond(client, join(client, session["code"]), activity, value=typed).status_code == 201
    response = client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    rows = list(csv.DictReader(io.StringIO(archive.read("responses/01-hours-on-instruction.csv").decode())))
    assert sorted((row["value"], row["unit"], row["correct"]) for row in rows) == [
        ("12", "hours", "yes"),
        ("13", "hours", "yes"),
        ("30", "hours", "no"),
    ]
    assert any(name.startswith("charts/") and name.endswith(".svg") for name in archive.namelist())
    report = archive.read("report.html").decode()
    assert "Median 13 hours" in report and "Correct 12 hours" in report and "2 within ±2 (67%)" in report


# --- comparing cohorts ------------------------------------------------------------------------------------------


def test_number_cohorts_compare_side_by_side_with_all_cohorts_median_and_right_answers(client: TestClient) -> None:
    user = make_user(client, "organizer@example.org", Role.organizer)
    institute, cohorts = make_institute(client, user, "Phoenix", "Oakland")
    setup = Setup(client, Presenter(client, user, api_token(client, user.email)), institute, cohorts)
    deck = "pace: audience\n" + ARCHIVED
    setup.answer(setup.start(cohorts[0], deck), {0: {"value": "12"}}, {0: {"value": "30"}})
    setup.answer(setup.start(cohorts[1], deck), {0: {"value": "10,0"}})
    compared = columns(setup.comparison("number", "Hours on instruction"))
    everyone = compared["All cohorts"]["results"]
    assert (everyone["answers"], everyone["median"], everyone["correct"]["within"]) == (3, "12", 2)
    assert compared["Phoenix"]["results"]["median"] == "21"
    login(client, "organizer@example.org")
    base = f"/organize/institutes/{institute.id}/compare/{activity_key('number', 'Hours on instruction')}"
    page = client.get(base)
    assert page.status_code == 200 and page.text.count("results number") == 3
    rows = list(csv.DictReader(io.StringIO(client.get(f"{base}/export.csv").text)))
    medians = {row["cohort"]: row["detail"] for row in rows if row["line"] == "median"}
    assert medians == {"Phoenix": "21", "Oakland": "10", "All cohorts": "12"}
    right = {row["cohort"]: row["count"] for row in rows if row["line"] == "correct"}
    assert right == {"Phoenix": "1", "Oakland": "1", "All cohorts": "2"}
