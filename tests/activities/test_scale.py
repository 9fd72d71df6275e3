"""The scale kind: its config, a participant's ratings from the form, the distributions and means, export rows."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from activities import registry
from activities.base import ResponseEvent, SubmissionInvalid
from activities.scale import MAX_STATEMENTS, ScaleConfig, ScaleSubmission, ScaleTally, kind
from activities.testing import Database, check_folding_matches_recompute

SKILLS = ["Listening in stereo", "Maintaining inquiry, deferring advocacy", "Being curious in the face of criticism"]
ENDS = ScaleConfig(statements=SKILLS, labels=["Not yet", "Routinely"])
STRICT = ScaleConfig(statements=SKILLS[:2], min=0, max=3, allow_skip=False)
CENTRED = ScaleConfig(statements=["Trust"], min=-2, max=2, labels=["No", "Hardly", "Unsure", "Somewhat", "Yes"])


def config_error(**raw: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        kind.parse_config(raw)
    return str(caught.value)


def refusal(config: ScaleConfig, **form: list[str]) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, form)
    return str(caught.value)


def form(*values: str) -> dict[str, list[str]]:
    return {f"statement-{index}": [value] for index, value in enumerate(values) if value}


def event(participant: int, version: int, *answers: int | None, epoch: int = 0) -> ResponseEvent:
    return ResponseEvent(1, participant, epoch, version, {"answers": list(answers)})


# --- config -----------------------------------------------------------------------------------------------------


def test_scale_is_registered_under_its_name() -> None:
    assert registry["scale"] is kind


def test_scale_config_defaults_to_one_to_five_without_labels_and_skipping_allowed() -> None:
    config = kind.parse_config({"statements": ["Listening in stereo"]})
    assert (config.min, config.max, config.labels, config.allow_skip) == (1, 5, [], True)
    assert config.points == [1, 2, 3, 4, 5]
    assert config.end_labels == ("", "")
    assert config.label_of(3) == ""


def test_scale_config_tidies_whitespace_in_statements_and_labels() -> None:
    config = kind.parse_config({"statements": ["  Listening   in stereo "], "labels": [" Not  yet", "Routinely "]})
    assert config.statements == ["Listening in stereo"]
    assert config.labels == ["Not yet", "Routinely"]


def test_scale_end_labels_name_only_the_ends_and_per_point_labels_name_each_point() -> None:
    assert [ENDS.label_of(point) for point in ENDS.points] == ["Not yet", "", "", "", "Routinely"]
    assert [CENTRED.label_of(point) for point in CENTRED.points] == ["No", "Hardly", "Unsure", "Somewhat", "Yes"]
    assert CENTRED.end_labels == ("No", "Yes")


def test_scale_config_needs_one_to_twenty_distinct_statements() -> None:
    assert "statements" in config_error()
    assert "at least 1" in config_error(statements=[])
    assert len(kind.parse_config({"statements": [f"Skill {i}" for i in range(MAX_STATEMENTS)]}).statements) == 20
    assert "at most 20" in config_error(statements=[f"Skill {i}" for i in range(MAX_STATEMENTS + 1)])
    assert "two statements are the same" in config_error(statements=["Listening", "listening "])


def test_scale_config_refuses_an_empty_or_overlong_statement() -> None:
    assert "a statement is empty" in config_error(statements=["Listening", "  "])
    assert len(kind.parse_config({"statements": ["x" * 160]}).statements[0]) == 160
    assert "longer than 160 characters" in config_error(statements=["x" * 161])


@pytest.mark.parametrize(("low", "high", "points"), [(1, 1, 1), (5, 1, -3), (0, 11, 12), (1, 12, 12)])
def test_scale_config_refuses_fewer_than_two_or_more_than_eleven_points(low: int, high: int, points: int) -> None:
    message = config_error(statements=["A"], min=low, max=high)
    assert f"a scale has 2 to 11 points; min {low} and max {high} give {points}" in message


def test_scale_config_accepts_two_and_eleven_points() -> None:
    assert kind.parse_config({"statements": ["A"], "min": 0, "max": 1}).points == [0, 1]
    assert len(kind.parse_config({"statements": ["A"], "min": 0, "max": 10}).points) == 11


def test_scale_config_refuses_ends_far_from_zero() -> None:
    assert "min" in config_error(statements=["A"], min=-101, max=-100)
    assert "max" in config_error(statements=["A"], min=100, max=101)


def test_scale_config_labels_are_one_per_point_or_the_two_ends() -> None:
    assert "one label per point (5) or just the two end labels, not 3" in config_error(
        statements=["A"], labels=["Low", "Mid", "High"]
    )
    assert "labels" in config_error(statements=["A"], labels=["Only one"])


def test_scale_config_refuses_an_empty_or_overlong_label() -> None:
    assert "a label is empty" in config_error(statements=["A"], labels=["Not yet", " "])
    assert kind.parse_config({"statements": ["A"], "labels": ["x" * 30, "y"]}).labels[0] == "x" * 30
    assert "longer than 30 characters" in config_error(statements=["A"], labels=["x" * 31, "y"])


def test_scale_config_refuses_unknown_keys() -> None:
    assert "colour" in config_error(statements=["A"], colour="red")


# --- submissions --------------------------------------------------------------------------------------------------


def test_scale_reads_a_point_or_a_skip_for_each_statement() -> None:
    assert kind.validate_submission(ENDS, form("4", "skip", "1")).answers == [4, None, 1]


def test_scale_counts_an_unanswered_statement_as_skipped_when_skipping_is_allowed() -> None:
    assert kind.validate_submission(ENDS, form("", "5", "")).answers == [None, 5, None]


def test_scale_reads_negative_points_of_a_centred_scale() -> None:
    assert kind.validate_submission(CENTRED, form("-2")).answers == [-2]
    assert kind.validate_submission(CENTRED, {"statement-0": [" 0 "]}).answers == [0]


def test_scale_asks_for_at_least_one_rating_when_the_form_is_blank() -> None:
    assert refusal(ENDS) == "Rate at least one statement before sending."
    assert refusal(ENDS, **{"statement-0": ["  "]}) == "Rate at least one statement before sending."


def test_scale_accepts_skipping_every_statement_on_purpose() -> None:
    assert kind.validate_submission(ENDS, form("skip", "skip", "skip")).answers == [None, None, None]


def test_scale_refuses_an_unanswered_statement_when_skipping_is_not_allowed() -> None:
    assert refusal(STRICT, **form("2")) == (
        "Rate every statement before sending: “Maintaining inquiry, deferring advocacy” has no rating yet."
    )


def test_scale_refuses_a_skip_when_skipping_is_not_allowed() -> None:
    assert refusal(STRICT, **form("skip", "1")) == (
        "Every statement needs a rating here: rate “Listening in stereo” instead of skipping it."
    )


@pytest.mark.parametrize("value", ["0", "6", "-1", "999", "abc", "4.5", "²", "--3", "Skip"])
def test_scale_refuses_a_value_off_the_scale(value: str) -> None:
    assert refusal(ENDS, **form(value, "3")) == "Rate “Listening in stereo” from 1 to 5."


def test_scale_refuses_two_ratings_for_one_statement() -> None:
    assert refusal(ENDS, **{"statement-1": ["2", "4"]}) == (
        "Give one rating to “Maintaining inquiry, deferring advocacy”."
    )


def test_scale_refuses_answers_that_do_not_match_the_statements() -> None:
    with pytest.raises(ValidationError, match="does not match the statements"):
        ScaleSubmission.model_validate({"answers": [1]}, context={"config": ENDS})


def test_scale_checks_plain_points_against_the_scale_too() -> None:
    assert ScaleSubmission.model_validate({"answers": [0, 3]}, context={"config": STRICT}).answers == [0, 3]
    with pytest.raises(ValidationError, match="instead of skipping"):
        ScaleSubmission.model_validate({"answers": [0, None]}, context={"config": STRICT})
    with pytest.raises(ValidationError, match="from 0 to 3"):
        ScaleSubmission.model_validate({"answers": [4, 1]}, context={"config": STRICT})


def test_scale_stored_payload_round_trips_through_the_submission_model() -> None:
    submission = kind.validate_submission(ENDS, form("4", "skip", "2"))
    stored = submission.model_dump(mode="json")
    assert stored == {"answers": [4, None, 2]}
    assert ScaleSubmission.model_validate(stored, context={"config": ENDS, "stored": True}) == submission
    assert ScaleSubmission.model_validate(stored, context={"config": ENDS}) == submission


def test_scale_export_rows_give_each_statement_its_value_or_skipped() -> None:
    submission = kind.validate_submission(ENDS, form("4", "skip", "2"))
    assert kind.export_rows(ENDS, submission) == [
        {"statement": "Listening in stereo", "value": 4},
        {"statement": "Maintaining inquiry, deferring advocacy", "value": "skipped"},
        {"statement": "Being curious in the face of criticism", "value": 2},
    ]


# --- tally --------------------------------------------------------------------------------------------------------


def test_scale_tally_gives_each_statement_its_distribution_mean_answers_and_skips() -> None:
    tally = ScaleTally(ENDS)
    tally.fold(event(1, 1, 4, None, 1))
    tally.fold(event(2, 1, 5, None, 2))
    tally.fold(event(3, 1, 4, 3, None))
    snapshot = tally.snapshot({})
    assert snapshot["respondents"] == 3
    assert (snapshot["min"], snapshot["max"], snapshot["low_label"], snapshot["high_label"]) == (
        1,
        5,
        "Not yet",
        "Routinely",
    )
    first, second, third = snapshot["statements"]
    assert [d["count"] for d in first["distribution"]] == [0, 0, 0, 2, 1]
    assert [d["label"] for d in first["distribution"]] == ["Not yet", "", "", "", "Routinely"]
    assert (first["text"], first["mean"], first["answers"], first["skips"], first["top"]) == (
        "Listening in stereo",
        4.33,
        3,
        0,
        2,
    )
    assert (second["mean"], second["answers"], second["skips"]) == (3.0, 1, 2)
    assert (third["mean"], third["answers"], third["skips"]) == (1.5, 2, 1)


def test_scale_tally_of_nobody_has_no_mean() -> None:
    statement = ScaleTally(ENDS).snapshot({})["statements"][0]
    assert statement["mean"] is None and statement["answers"] == 0 and statement["top"] == 0


def test_scale_tally_means_of_a_centred_scale_can_be_negative() -> None:
    tally = ScaleTally(CENTRED)
    tally.fold(event(1, 1, -2))
    tally.fold(event(2, 1, 1))
    tally.fold(event(3, 1, -2))
    statement = tally.snapshot({})["statements"][0]
    assert statement["mean"] == -1.0
    assert [d["count"] for d in statement["distribution"]] == [2, 0, 0, 1, 0]


def test_scale_replacing_an_answer_retracts_the_old_one_exactly() -> None:
    tally = ScaleTally(ENDS)
    tally.fold(event(1, 1, 1, 2, None))
    tally.fold(event(2, 1, 2, 2, 2))
    assert tally.fold(event(1, 2, 5, None, 3))
    assert tally.counts == [[0, 1, 0, 0, 1], [0, 1, 0, 0, 0], [0, 1, 1, 0, 0]]
    assert tally.sums == [7, 2, 5] and tally.skips == [0, 1, 0]
    assert tally.respondents == 2


def test_scale_adding_then_retracting_leaves_the_tally_empty() -> None:
    tally = ScaleTally(ENDS)
    submission = kind.validate_submission(ENDS, form("3", "skip", "5"))
    tally.add(submission)
    tally.retract(submission)
    assert tally.counts == [[0] * 5] * 3 and tally.sums == [0, 0, 0] and tally.skips == [0, 0, 0]


def test_scale_an_older_version_or_a_repeat_changes_nothing() -> None:
    tally = ScaleTally(ENDS)
    tally.fold(event(1, 5, 3, 3, 3))
    assert not tally.fold(event(1, 4, 1, 1, 1))
    assert not tally.fold(event(1, 5, 3, 3, 3))
    assert tally.sums == [3, 3, 3]


def test_scale_reset_empties_the_charts_and_ignores_answers_from_before() -> None:
    tally = ScaleTally(ENDS)
    tally.fold(event(1, 1, 3, 3, 3))
    assert tally.reset(1)
    assert tally.respondents == 0 and tally.sums == [0, 0, 0]
    assert not tally.fold(event(2, 9, 1, 1, 1, epoch=0))
    assert tally.fold(event(2, 10, 2, None, 2, epoch=1))
    assert tally.snapshot({})["statements"][0]["mean"] == 2.0


# --- folding in any order ---------------------------------------------------------------------------------------

CONFIG = ScaleConfig(statements=SKILLS, min=0, max=4, labels=["Not yet", "Routinely"])
ANSWER = st.sampled_from(["0", "1", "2", "3", "4", "skip", ""])
FORMS = (
    st.lists(ANSWER, min_size=3, max_size=3)
    .filter(lambda values: any(values))
    .map(lambda values: {f"statement-{i}": [v] for i, v in enumerate(values) if v})
)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_scale_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, kind, CONFIG, FORMS, data)
