"""The points kind: its config, what a participant may submit, the summed and mean shares, and the export."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from activities import registry
from activities.base import ResponseEvent, SubmissionInvalid
from activities.points import MAX_ITEMS, PointsConfig, PointsSubmission, PointsTally, kind
from activities.testing import Database, check_folding_matches_recompute

TIME = PointsConfig(items=["Putting out fires", "Maintaining the organization", "Engaging in improvement"])
SMALL = PointsConfig(items=["Listening", "Inquiry"], total=10)


def config_error(**raw: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        kind.parse_config(raw)
    return str(caught.value)


def form(*values: str) -> dict[str, list[str]]:
    return {f"item-{index}": [value] for index, value in enumerate(values)}


def refusal(config: PointsConfig, fields: dict[str, list[str]]) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, fields)
    return str(caught.value)


def event(participant: int, version: int, *points: int, epoch: int = 0) -> ResponseEvent:
    return ResponseEvent(
        activity_id=1, participant_id=participant, epoch=epoch, version=version, payload={"points": list(points)}
    )


# --- config -----------------------------------------------------------------------------------------------------


def test_points_is_registered_under_its_name() -> None:
    assert registry["points"] is kind
    assert kind.label == "Points"


def test_points_config_spreads_one_hundred_points_by_default() -> None:
    assert kind.parse_config({"items": ["A", "B"]}).total == 100


def test_points_config_tidies_whitespace_in_items() -> None:
    assert kind.parse_config({"items": ["  Putting   out fires ", "Design"]}).items == ["Putting out fires", "Design"]


def test_points_config_refuses_items_that_differ_only_in_case_or_spacing() -> None:
    assert "two items are the same" in config_error(items=["Design", "design", "Action"])
    assert "two items are the same" in config_error(items=["Review  cycle", "Review cycle"])


def test_points_config_refuses_an_empty_item() -> None:
    assert "an item is empty" in config_error(items=["Design", "   "])


def test_points_config_refuses_an_item_longer_than_the_limit() -> None:
    assert len(kind.parse_config({"items": ["Design", "x" * 120]}).items[1]) == 120
    assert "longer than 120 characters" in config_error(items=["Design", "x" * 121])


def test_points_config_needs_two_to_twelve_items() -> None:
    assert "at least 2" in config_error(items=["Only one"])
    assert "items" in config_error()
    assert len(kind.parse_config({"items": [f"Item {i}" for i in range(MAX_ITEMS)]}).items) == MAX_ITEMS
    assert "at most 12" in config_error(items=[f"Item {i}" for i in range(MAX_ITEMS + 1)])


@pytest.mark.parametrize(
    ("total", "message"), [(9, "greater than or equal to 10"), (1001, "less than or equal to 1000")]
)
def test_points_config_refuses_a_total_out_of_range(total: int, message: str) -> None:
    assert message in config_error(items=["A", "B"], total=total)


def test_points_config_accepts_the_extreme_totals() -> None:
    assert kind.parse_config({"items": ["A", "B"], "total": 10}).total == 10
    assert kind.parse_config({"items": ["A", "B"], "total": 1000}).total == 1000


def test_points_config_refuses_unknown_keys() -> None:
    assert "budget" in config_error(items=["A", "B"], budget=50)


# --- submissions --------------------------------------------------------------------------------------------------


def test_points_accepts_points_that_add_up_to_the_total() -> None:
    assert kind.validate_submission(TIME, form("60", "30", "10")).points == [60, 30, 10]


def test_points_counts_a_blank_or_missing_item_as_zero() -> None:
    assert kind.validate_submission(TIME, form("100", " ", "")).points == [100, 0, 0]
    assert kind.validate_submission(TIME, {"item-1": ["100"]}).points == [0, 100, 0]


def test_points_ignores_surrounding_spaces_and_leading_zeros() -> None:
    assert kind.validate_submission(SMALL, form(" 07 ", "3")).points == [7, 3]


def test_points_asks_for_points_when_everything_is_blank() -> None:
    assert refusal(TIME, {}) == "Spread 100 points across the items first."
    assert refusal(TIME, form("0", "", "0")) == "Spread 100 points across the items first."


def test_points_says_how_many_more_points_to_spread() -> None:
    assert refusal(TIME, form("60", "30", "")) == "Your points add up to 90; add 10 more to make 100."


def test_points_says_how_many_points_to_take_away() -> None:
    assert refusal(TIME, form("60", "30", "20")) == "Your points add up to 110; take 10 away to make 100."


@pytest.mark.parametrize("value", ["2.5", "1.0", "ten", "0x1", "+5", "²", "١٠", "1e2"])
def test_points_refuses_a_value_that_is_not_a_whole_number(value: str) -> None:
    assert refusal(SMALL, form(value, "5")) == f"Use whole numbers of points: “Listening” has {value}."


def test_points_echoes_only_the_start_of_a_long_wrong_value() -> None:
    assert refusal(SMALL, form("x" * 500, "5")) == f"Use whole numbers of points: “Listening” has {'x' * 12}."


@pytest.mark.parametrize("value", ["-5", "-10"])
def test_points_refuses_negative_points(value: str) -> None:
    assert refusal(SMALL, form("5", value)) == f"Points cannot be negative: “Inquiry” has {value}."


def test_points_takes_minus_zero_as_zero() -> None:
    assert kind.validate_submission(SMALL, form("10", "-0")).points == [10, 0]


@pytest.mark.parametrize("value", ["11", "999999", "9" * 40])
def test_points_refuses_more_points_on_one_item_than_the_total(value: str) -> None:
    expected = f"“Listening” has {value[:12]} points; one item can take at most 10."
    assert refusal(SMALL, form(value, "0")) == expected


def test_points_refuses_a_field_sent_twice() -> None:
    assert refusal(SMALL, {"item-0": ["5", "5"]}) == "Use whole numbers of points: “Listening” has 5 5."


def test_points_submission_refuses_a_list_of_the_wrong_length() -> None:
    with pytest.raises(ValidationError, match="Give points for every item."):
        PointsSubmission.model_validate({"points": [10]}, context={"config": SMALL})


def test_points_submission_refuses_out_of_range_numbers_given_directly() -> None:
    with pytest.raises(ValidationError, match="Points cannot be negative"):
        PointsSubmission.model_validate({"points": [8, -2]}, context={"config": SMALL})


def test_points_stored_payload_round_trips_through_the_submission_model() -> None:
    submission = kind.validate_submission(TIME, form("50", "", "50"))
    stored = submission.model_dump(mode="json")
    assert stored == {"points": [50, 0, 50]}
    assert PointsSubmission.model_validate(stored, context={"config": TIME}) == submission
    assert PointsSubmission.model_validate(stored, context={"config": TIME, "stored": True}) == submission


def test_points_export_rows_give_every_item_with_its_points() -> None:
    submission = kind.validate_submission(TIME, form("60", "", "40"))
    assert kind.export_rows(TIME, submission) == [
        {"item": "Putting out fires", "points": 60},
        {"item": "Maintaining the organization", "points": 0},
        {"item": "Engaging in improvement", "points": 40},
    ]


# --- tally --------------------------------------------------------------------------------------------------------


def test_points_tally_sums_points_and_means_per_respondent_in_deck_order() -> None:
    tally = PointsTally(TIME)
    for participant, points in [(1, (60, 30, 10)), (2, (50, 50, 0)), (3, (0, 50, 50))]:
        assert tally.fold(event(participant, 1, *points))
    snapshot = tally.snapshot({})
    assert snapshot["respondents"] == 3 and snapshot["total"] == 100
    assert [(i["label"], i["points"], i["mean"], i["percent"], i["leading"]) for i in snapshot["items"]] == [
        ("Putting out fires", 110, 36.7, 36.7, False),
        ("Maintaining the organization", 130, 43.3, 43.3, True),
        ("Engaging in improvement", 60, 20.0, 20.0, False),
    ]


def test_points_tally_bars_are_the_mean_as_a_share_of_the_budget() -> None:
    tally = PointsTally(SMALL)
    tally.fold(event(1, 1, 7, 3))
    tally.fold(event(2, 1, 4, 6))
    items = tally.snapshot({})["items"]
    assert [(i["points"], i["mean"], i["percent"]) for i in items] == [(11, 5.5, 55.0), (9, 4.5, 45.0)]


def test_points_tally_of_nobody_shows_zeros_and_no_leader() -> None:
    snapshot = PointsTally(TIME).snapshot({})
    assert snapshot["respondents"] == 0
    items = snapshot["items"]
    assert all(i["points"] == 0 and i["mean"] == 0 and i["percent"] == 0 and not i["leading"] for i in items)


def test_points_tally_marks_every_item_tied_for_the_lead() -> None:
    tally = PointsTally(TIME)
    tally.fold(event(1, 1, 50, 0, 50))
    assert [i["leading"] for i in tally.snapshot({})["items"]] == [True, False, True]


def test_points_replacing_an_answer_retracts_the_old_one() -> None:
    tally = PointsTally(TIME)
    tally.fold(event(1, 1, 100, 0, 0))
    assert tally.fold(event(1, 2, 0, 0, 100))
    assert tally.sums == [0, 0, 100] and tally.respondents == 1


def test_points_an_older_version_arriving_late_changes_nothing() -> None:
    tally = PointsTally(TIME)
    tally.fold(event(1, 5, 0, 100, 0))
    assert not tally.fold(event(1, 4, 100, 0, 0))
    assert tally.sums == [0, 100, 0]


def test_points_reset_empties_the_bars_and_ignores_answers_from_before() -> None:
    tally = PointsTally(TIME)
    tally.fold(event(1, 1, 20, 30, 50))
    assert tally.reset(1)
    assert tally.sums == [0, 0, 0] and tally.respondents == 0
    assert not tally.fold(event(2, 9, 100, 0, 0, epoch=0))
    assert tally.fold(event(2, 10, 0, 100, 0, epoch=1))
    assert tally.sums == [0, 100, 0]


# --- folding in any order equals a recompute ------------------------------------------------------------------------

CONFIG = PointsConfig(items=["Fires", "Organization", "Improvement", "Inquiry"], total=20)


def spread(cuts: list[int]) -> dict[str, list[str]]:
    """Four items' points from three cut positions in 0..20; a zero is sometimes left blank, as people do."""
    edges = [0, *sorted(cuts), CONFIG.total]
    points = [high - low for low, high in zip(edges, edges[1:], strict=False)]
    return {f"item-{i}": ["" if n == 0 and i % 2 else str(n)] for i, n in enumerate(points)}


FORMS = st.lists(st.integers(0, CONFIG.total), min_size=3, max_size=3).map(spread)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_points_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, kind, CONFIG, FORMS, data)
