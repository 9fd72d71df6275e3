"""The ranking kind: its config, the permutations a participant may submit, and the average-rank tally."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from activities import registry
from activities.base import ResponseEvent, SubmissionInvalid
from activities.ranking import MAX_ITEMS, RankingConfig, RankingSubmission, RankingTally, kind
from activities.testing import Database, check_folding_matches_recompute

ELEMENTS = ["Long-term outcome", "Preconditions", "Assumptions", "Interventions", "Indicators", "Rationale"]
RISKS = RankingConfig(items=["Funding", "Staff turnover", "Data loss"])
TOP_TWO = RankingConfig(items=["Funding", "Staff turnover", "Data loss", "Reputation"], partial=True, top=2)
CONFIG = RankingConfig(items=ELEMENTS[:4])
FORMS = st.permutations(range(1, 5)).map(lambda ranks: {f"rank-{i}": [str(rank)] for i, rank in enumerate(ranks)})
PARTIAL = RankingConfig(items=ELEMENTS[:4], partial=True, top=3)
PARTIAL_FORMS = st.integers(1, 3).flatmap(
    lambda k: st.permutations(range(4)).map(
        lambda order: {f"rank-{item}": [str(place + 1) if place < k else ""] for place, item in enumerate(order)}
    )
)


def config_error(**raw: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        kind.parse_config(raw)
    return str(caught.value)


def ranks(*given: str) -> dict[str, list[str]]:
    return {f"rank-{index}": [rank] for index, rank in enumerate(given)}


def refusal(config: RankingConfig, form: dict[str, list[str]]) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, form)
    return str(caught.value)


def event(participant: int, version: int, *given: int, epoch: int = 0) -> ResponseEvent:
    return ResponseEvent(
        activity_id=1, participant_id=participant, epoch=epoch, version=version, payload={"ranks": list(given)}
    )


def table(tally: RankingTally) -> list[tuple[str, int, float | None, int, int]]:
    return [
        (item["label"], item["place"], item["average_rank"], item["first"], item["score"])
        for item in tally.snapshot({})["items"]
    ]


# --- config -----------------------------------------------------------------------------------------------------


def test_ranking_is_registered_under_its_name() -> None:
    assert registry["ranking"] is kind
    assert kind.label == "Ranking"


def test_ranking_config_defaults_to_ranking_every_item() -> None:
    config = kind.parse_config({"items": ["  Long-term   outcome ", "Preconditions"]})
    assert config.items == ["Long-term outcome", "Preconditions"]
    assert config.partial is False and config.top is None
    assert config.rank_limit == 2


def test_ranking_config_needs_two_to_fifteen_items() -> None:
    assert "at least 2" in config_error(items=["Only one"])
    assert "items" in config_error()
    assert len(kind.parse_config({"items": [f"Item {i}" for i in range(MAX_ITEMS)]}).items) == MAX_ITEMS
    assert "at most 15" in config_error(items=[f"Item {i}" for i in range(MAX_ITEMS + 1)])


def test_ranking_config_refuses_empty_long_or_repeated_items() -> None:
    assert "an item is empty" in config_error(items=["Funding", "  "])
    assert "longer than 120 characters" in config_error(items=["Funding", "x" * 121])
    assert len(kind.parse_config({"items": ["Funding", "x" * 120]}).items[1]) == 120
    assert "two items are the same" in config_error(items=["Data loss", "data  LOSS"])


def test_ranking_config_partial_ranks_the_top_or_all_items() -> None:
    assert TOP_TWO.rank_limit == 2
    assert kind.parse_config({"items": ["A", "B", "C"], "partial": True}).rank_limit == 3


def test_ranking_config_refuses_a_top_out_of_bounds_or_without_partial() -> None:
    assert "top needs partial: true" in config_error(items=["A", "B", "C"], top=2)
    assert "top is 4 but there are only 3 items" in config_error(items=["A", "B", "C"], partial=True, top=4)
    assert "top" in config_error(items=["A", "B"], partial=True, top=0)
    assert "top" in config_error(items=["A", "B"], partial=True, top=MAX_ITEMS + 1)


def test_ranking_config_refuses_unknown_keys() -> None:
    assert "shuffle" in config_error(items=["A", "B"], shuffle=True)


# --- submissions --------------------------------------------------------------------------------------------------


def test_ranking_accepts_a_complete_permutation() -> None:
    assert kind.validate_submission(RISKS, ranks("2", " 3 ", "1")).ranks == [2, 3, 1]


def test_ranking_names_a_rank_used_twice_or_more() -> None:
    assert refusal(RISKS, ranks("2", "2", "1")) == "Rank 2 is used twice."
    assert refusal(RISKS, ranks("1", "1", "1")) == "Rank 1 is used 3 times."


def test_ranking_asks_for_every_item_to_have_a_rank() -> None:
    assert refusal(RISKS, ranks("1", "", "2")) == "Give every item a rank."
    assert refusal(RISKS, {}) == "Give every item a rank."


def test_ranking_names_a_duplicate_before_a_blank() -> None:
    assert refusal(RISKS, ranks("1", "1", "")) == "Rank 1 is used twice."


@pytest.mark.parametrize("value", ["0", "4", "-1", "abc", "1.0", "²", "1000"])
def test_ranking_refuses_a_rank_out_of_range(value: str) -> None:
    assert refusal(RISKS, ranks("1", "2", value)) == "Use ranks from 1 to 3."


def test_ranking_refuses_two_values_for_one_item() -> None:
    assert refusal(RISKS, {"rank-0": ["1", "2"], "rank-1": ["2"], "rank-2": ["3"]}) == "Use ranks from 1 to 3."


def test_ranking_refuses_a_payload_of_another_length() -> None:
    with pytest.raises(ValidationError, match="reload the page"):
        RankingSubmission.model_validate({"ranks": [1, 2]}, context={"config": RISKS})


def test_ranking_partial_accepts_up_to_top_ranks_without_gaps() -> None:
    assert kind.validate_submission(TOP_TWO, ranks("", "1", "", "")).ranks == [0, 1, 0, 0]
    assert kind.validate_submission(TOP_TWO, ranks("2", "1", "", "")).ranks == [2, 1, 0, 0]


def test_ranking_partial_refusals() -> None:
    assert refusal(TOP_TWO, ranks("", "", "", "")) == "Give your first choice rank 1."
    assert refusal(TOP_TWO, ranks("", "2", "", "")) == (
        "Rank 1 is missing: number your choices 1, 2, 3… without a gap."
    )
    assert refusal(TOP_TWO, ranks("3", "1", "2", "")) == "Use ranks from 1 to 2."
    assert refusal(TOP_TWO, ranks("1", "1", "", "")) == "Rank 1 is used twice."


def test_ranking_stored_payload_round_trips_through_the_submission_model() -> None:
    submission = kind.validate_submission(TOP_TWO, ranks("", "1", "2", ""))
    stored = submission.model_dump(mode="json")
    assert stored == {"ranks": [0, 1, 2, 0]}
    assert RankingSubmission.model_validate(stored, context={"config": TOP_TWO}) == submission


def test_ranking_export_rows_give_each_item_its_rank() -> None:
    assert kind.export_rows(RISKS, kind.validate_submission(RISKS, ranks("2", "3", "1"))) == [
        {"item": "Funding", "item_index": 0, "rank": 2},
        {"item": "Staff turnover", "item_index": 1, "rank": 3},
        {"item": "Data loss", "item_index": 2, "rank": 1},
    ]
    assert [row["rank"] for row in kind.export_rows(TOP_TWO, kind.validate_submission(TOP_TWO, ranks("1")))] == [
        1,
        None,
        None,
        None,
    ]


# --- tally --------------------------------------------------------------------------------------------------------


def test_ranking_tally_sorts_by_average_rank_with_firsts_and_bars_normalised_to_the_top() -> None:
    tally = RankingTally(RISKS)
    tally.fold(event(1, 1, 2, 3, 1))
    tally.fold(event(2, 1, 1, 3, 2))
    tally.fold(event(3, 1, 1, 2, 3))
    snapshot = tally.snapshot({})
    assert snapshot["respondents"] == 3 and snapshot["partial"] is False
    # Average ranks: Funding 4/3, Data loss 2, Staff turnover 8/3; Borda points 5, 3, 1 of at most 6.
    assert table(tally) == [
        ("Funding", 1, 1.33, 2, 100),
        ("Data loss", 2, 2.0, 1, 60),
        ("Staff turnover", 3, 2.67, 0, 20),
    ]
    assert [item["leading"] for item in snapshot["items"]] == [True, False, False]
    assert [item["ranked"] for item in snapshot["items"]] == [3, 3, 3]


def test_ranking_tally_breaks_ties_by_deck_order_and_shares_the_place() -> None:
    tally = RankingTally(RISKS)
    tally.fold(event(1, 1, 3, 1, 2))
    tally.fold(event(2, 1, 3, 2, 1))
    assert table(tally) == [
        ("Staff turnover", 1, 1.5, 1, 100),
        ("Data loss", 1, 1.5, 1, 100),
        ("Funding", 3, 3.0, 0, 0),
    ]


def test_ranking_tally_of_nobody_keeps_deck_order_with_no_average() -> None:
    snapshot = RankingTally(RISKS).snapshot({})
    assert snapshot["respondents"] == 0
    assert [(i["label"], i["average_rank"], i["score"], i["leading"]) for i in snapshot["items"]] == [
        ("Funding", None, 0, False),
        ("Staff turnover", None, 0, False),
        ("Data loss", None, 0, False),
    ]


def test_ranking_partial_tally_lets_unranked_items_share_the_places_left() -> None:
    tally = RankingTally(TOP_TWO)
    tally.fold(event(1, 1, 1, 0, 0, 0))  # the three others share places 2 to 4: 3 each
    tally.fold(event(2, 1, 2, 0, 1, 0))  # the two others share places 3 and 4: 3.5 each
    assert table(tally) == [
        ("Funding", 1, 1.5, 1, 100),
        ("Data loss", 2, 2.0, 1, 80),
        ("Staff turnover", 3, 3.25, 0, 30),
        ("Reputation", 3, 3.25, 0, 30),
    ]
    assert [item["ranked"] for item in tally.snapshot({})["items"]] == [2, 1, 0, 0]


def test_ranking_replacing_an_answer_retracts_the_old_one() -> None:
    tally = RankingTally(RISKS)
    tally.fold(event(1, 1, 1, 2, 3))
    assert tally.fold(event(1, 2, 3, 2, 1))
    assert tally.respondents == 1
    assert table(tally)[0] == ("Data loss", 1, 1.0, 1, 100)
    assert tally.answer_of(1) == RankingSubmission.model_validate({"ranks": [3, 2, 1]}, context={"config": RISKS})


def test_ranking_retract_undoes_add_exactly() -> None:
    tally = RankingTally(TOP_TWO)
    submission = RankingSubmission.model_validate({"ranks": [0, 2, 1, 0]}, context={"config": TOP_TWO})
    tally.add(submission)
    tally.retract(submission)
    assert tally.doubled_rank_sums == [0, 0, 0, 0] and tally.firsts == [0, 0, 0, 0] and tally.people == 0


def test_ranking_an_older_version_or_a_repeat_changes_nothing() -> None:
    tally = RankingTally(RISKS)
    tally.fold(event(1, 5, 1, 2, 3))
    assert not tally.fold(event(1, 4, 3, 2, 1))
    assert not tally.fold(event(1, 5, 1, 2, 3))
    assert table(tally)[0] == ("Funding", 1, 1.0, 1, 100)


def test_ranking_reset_empties_the_tally_and_ignores_answers_from_before() -> None:
    tally = RankingTally(RISKS)
    tally.fold(event(1, 1, 1, 2, 3))
    assert tally.reset(1)
    assert tally.snapshot({})["respondents"] == 0
    assert not tally.fold(event(2, 9, 1, 2, 3, epoch=0))
    assert tally.fold(event(2, 10, 3, 2, 1, epoch=1))
    assert table(tally)[0][0] == "Data loss"


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_ranking_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, kind, CONFIG, FORMS, data)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_partial_ranking_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, kind, PARTIAL, PARTIAL_FORMS, data)
