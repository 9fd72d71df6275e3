"""The card sort: bins and cards from the deck, every card placed, each card's split and how contested it is."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from activities import load_registry
from activities.base import ResponseEvent, SubmissionInvalid
from activities.sort import (
    BIN_COLOURS,
    MAX_BINS,
    MAX_CARDS,
    SortConfig,
    SortTally,
    contestedness,
    kind,
    split_percents,
)
from activities.testing import Database, check_folding_matches_recompute

CARDS = ["Listening in stereo", "Setting the budget", "Using influence rather than authority"]
CONFIG = SortConfig(cards=CARDS)
THREE_BINS = SortConfig(bins=["Influence", "Authority", "Both"], cards=CARDS)
FORMS = st.lists(st.sampled_from(["0", "1", "unsure"]), min_size=len(CARDS), max_size=len(CARDS)).map(
    lambda picks: {f"card-{i}": [pick] for i, pick in enumerate(picks)}
)


def form(*picks: str) -> dict[str, list[str]]:
    """A form placing card i in picks[i] ("" leaves it unplaced)."""
    return {f"card-{i}": [pick] for i, pick in enumerate(picks) if pick}


def refusal(config: SortConfig, fields: dict[str, list[str]]) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, fields)
    return str(caught.value)


def payload(config: SortConfig, *picks: str) -> dict[str, Any]:
    return kind.validate_submission(config, form(*picks)).model_dump(mode="json")


def tally_of(config: SortConfig, *answers: tuple[int, tuple[str, ...]]) -> SortTally:
    """A tally with each (participant, picks) folded, versions in the order given."""
    tally = SortTally(config)
    for version, (participant, picks) in enumerate(answers, start=1):
        tally.fold(ResponseEvent(1, participant, 0, version, payload(config, *picks)))
    return tally


def splits(tally: SortTally, moderation: dict[str, Any] | None = None) -> list[tuple[str, list[int], int]]:
    return [
        (card["text"], [b["count"] for b in card["bins"]], card["unsure"])
        for card in tally.snapshot(moderation or {})["cards"]
    ]


# --- config -------------------------------------------------------------------------------------------------------


def test_sort_is_registered_under_its_name() -> None:
    assert load_registry()["sort"] is kind
    assert kind.moderation_actions == {"order"}


def test_sort_config_defaults_to_influence_and_authority() -> None:
    config = kind.parse_config({"cards": ["  Listening   in stereo "]})
    assert config.bins == ["Influence", "Authority"]
    assert config.cards == ["Listening in stereo"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "Field required"),
        ({"cards": []}, "at least 1 item"),
        ({"cards": [f"Card {i}" for i in range(MAX_CARDS + 1)]}, f"at most {MAX_CARDS} items"),
        ({"cards": ["x" * 121]}, "a card is longer than 120 characters"),
        ({"cards": ["Budget", " budget "]}, "two cards are the same"),
        ({"cards": ["  "]}, "a card is empty"),
        ({"cards": ["a"], "bins": ["Influence"]}, "at least 2 items"),
        ({"cards": ["a"], "bins": [f"Bin {i}" for i in range(MAX_BINS + 1)]}, f"at most {MAX_BINS} items"),
        ({"cards": ["a"], "bins": ["Influence", "y" * 41]}, "a bin is longer than 40 characters"),
        ({"cards": ["a"], "bins": ["Influence", "INFLUENCE"]}, "two bins are the same"),
        ({"cards": ["a"], "bins": ["Influence", "Unsure"]}, "a bin may not be called Unsure"),
        ({"cards": ["a"], "shuffle": True}, "Extra inputs are not permitted"),
    ],
)
def test_sort_config_refuses_what_a_deck_gets_wrong(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        kind.parse_config(raw)


def test_sort_config_takes_the_largest_sizes() -> None:
    config = kind.parse_config(
        {"cards": [f"{i:03} " + "c" * 116 for i in range(MAX_CARDS)], "bins": [f"{i} " + "b" * 38 for i in range(5)]}
    )
    assert (len(config.cards), len(config.bins)) == (MAX_CARDS, MAX_BINS)


# --- submissions ----------------------------------------------------------------------------------------------------


def test_sort_reads_a_bin_or_unsure_for_every_card() -> None:
    submission = kind.validate_submission(CONFIG, form("1", "unsure", "0") | {"activity": ["7"], "csrf": ["x"]})
    assert submission.placements == [1, None, 0]


def test_sort_refuses_a_card_left_unplaced_and_names_it() -> None:
    assert refusal(CONFIG, form("0", "", "1")) == "Place every card before sending: 1 is left: “Setting the budget”."


def test_sort_refuses_cards_left_unplaced_and_counts_them() -> None:
    message = refusal(CONFIG, form("0"))
    assert message == "Place every card before sending: 2 are left, starting with “Setting the budget”."
    assert refusal(CONFIG, {}).startswith("Place every card before sending: 3 are left")
    assert refusal(CONFIG, form("0", " ", "1")).startswith("Place every card before sending: 1 is left")


@pytest.mark.parametrize("value", ["2", "-1", "x", "1.0", "99999"])
def test_sort_refuses_a_bin_it_does_not_have(value: str) -> None:
    assert refusal(CONFIG, form("0", value, "1")) == "That bin is not part of this sort."


@pytest.mark.parametrize("name", ["card-3", "card-x", "card-", "card--1"])
def test_sort_refuses_a_card_it_does_not_have(name: str) -> None:
    assert refusal(CONFIG, form("0", "1", "0") | {name: ["0"]}) == "That card is not part of this sort."


def test_sort_refuses_a_card_put_in_two_bins() -> None:
    fields = form("0", "1", "0") | {"card-1": ["0", "1"]}
    assert refusal(CONFIG, fields) == "Put “Setting the budget” in one bin only."


def test_sort_refuses_a_stored_shape_that_does_not_fit_the_config() -> None:
    with pytest.raises(ValidationError, match="Place every card before sending"):
        kind.submission_model.model_validate({"placements": [0]}, context={"config": CONFIG})
    with pytest.raises(ValidationError, match="That bin is not part of this sort"):
        kind.submission_model.model_validate({"placements": [0, 5, None]}, context={"config": CONFIG})


def test_sort_payload_round_trips_through_storage() -> None:
    stored = payload(CONFIG, "1", "unsure", "0")
    assert stored == {"placements": [1, None, 0]}
    assert SortTally(CONFIG).parse_payload(stored).placements == [1, None, 0]


# --- tally ----------------------------------------------------------------------------------------------------------


def test_sort_tally_counts_each_card_per_bin_and_unsure() -> None:
    tally = tally_of(CONFIG, (1, ("0", "1", "0")), (2, ("0", "unsure", "1")), (3, ("1", "1", "0")))
    assert splits(tally) == [
        ("Listening in stereo", [2, 1], 0),
        ("Setting the budget", [0, 2], 1),
        ("Using influence rather than authority", [2, 1], 0),
    ]
    assert tally.respondents == 3


def test_sort_tally_replaces_a_changed_answer_and_retracts_to_nothing() -> None:
    tally = tally_of(CONFIG, (1, ("0", "0", "0")), (1, ("1", "unsure", "1")))
    assert splits(tally) == [(CARDS[0], [0, 1], 0), (CARDS[1], [0, 0], 1), (CARDS[2], [0, 1], 0)]
    tally.retract(tally.parse_payload(payload(CONFIG, "1", "unsure", "1")))
    assert splits(tally) == [(card, [0, 0], 0) for card in CARDS]


def test_sort_split_is_in_percent_of_those_who_placed_the_card() -> None:
    tally = tally_of(CONFIG, (1, ("0", "unsure", "0")), (2, ("0", "unsure", "1")), (3, ("1", "unsure", "1")))
    first, second, third = tally.snapshot({})["cards"]
    assert [(b["name"], b["percent"], b["offset"]) for b in first["bins"]] == [
        ("Influence", 67, 0),
        ("Authority", 33, 67),
    ]
    assert (first["leading"], first["leading_percent"], first["placed"]) == ("Influence", 67, 3)
    assert second["placed"] == 0 and second["unsure"] == 3 and [b["percent"] for b in second["bins"]] == [0, 0]
    assert second["contested"] is None and second["leading"] is None
    assert [b["colour"] for b in third["bins"]] == list(BIN_COLOURS[:2])


def test_sort_split_percents_always_add_up_to_a_hundred() -> None:
    assert split_percents([1, 1, 1]) == [34, 33, 33]
    assert split_percents([2, 1]) == [67, 33]
    assert split_percents([0, 0]) == [0, 0]
    assert split_percents([1, 0, 6]) == [14, 0, 86]


def test_sort_contestedness_runs_from_agreed_to_evenly_split() -> None:
    assert contestedness([5, 0]) == 0
    assert contestedness([2, 2]) == 1
    assert contestedness([3, 1]) == Fraction(1, 2)
    assert contestedness([1, 1, 1]) == 1
    assert contestedness([2, 2, 0]) == Fraction(3, 4)
    assert contestedness([0, 0]) is None


def test_sort_tally_ties_without_a_leading_bin_are_an_even_split() -> None:
    card = tally_of(CONFIG, (1, ("0", "0", "0")), (2, ("1", "0", "0"))).snapshot({})["cards"][0]
    assert card["leading"] is None and card["contested"] == 1.0 and card["contested_percent"] == 100


# --- moderation: the order of the cards -------------------------------------------------------------------------


def ordered_tally() -> SortTally:
    # Card 0: 2-1 (contested 2/3); card 1: unplaced; card 2: 3-0 (agreed).
    return tally_of(CONFIG, (1, ("0", "unsure", "0")), (2, ("0", "unsure", "0")), (3, ("1", "unsure", "0")))


@pytest.mark.parametrize(
    ("order", "cards"),
    [
        ("deck", [0, 1, 2]),
        ("agreed", [2, 0, 1]),
        ("contested", [0, 2, 1]),
    ],
)
def test_sort_orders_cards_as_the_presenter_chose(order: str, cards: list[int]) -> None:
    moderation = kind.moderate({}, "order", {"verb": ["order"], "order": [order]})
    assert moderation == {"order": order}
    snapshot = ordered_tally().snapshot(moderation)
    assert snapshot["order"] == order
    assert [card["index"] for card in snapshot["cards"]] == cards


def test_sort_defaults_to_deck_order_and_ignores_an_unknown_stored_order() -> None:
    assert [card["index"] for card in ordered_tally().snapshot({})["cards"]] == [0, 1, 2]
    assert ordered_tally().snapshot({"order": "random"})["order"] == "deck"


def test_sort_ties_in_contestedness_keep_deck_order() -> None:
    tally = tally_of(CONFIG, (1, ("0", "1", "0")), (2, ("1", "0", "1")))
    assert [card["index"] for card in tally.snapshot({"order": "contested"})["cards"]] == [0, 1, 2]
    assert [card["index"] for card in tally.snapshot({"order": "agreed"})["cards"]] == [0, 1, 2]


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("order", {"order": ["random"]}),
        ("order", {}),
        ("hide", {"order": ["deck"]}),
        ("order", {"order": ["deck", "agreed"]}),
    ],
)
def test_sort_refuses_an_order_it_does_not_know(action: str, fields: dict[str, list[str]]) -> None:
    with pytest.raises(SubmissionInvalid, match="Choose how to order the cards: deck, agreed or contested."):
        kind.moderate({}, action, fields)


# --- export ---------------------------------------------------------------------------------------------------------


def test_sort_exports_one_row_per_card_with_its_bin_or_unsure() -> None:
    submission = kind.validate_submission(THREE_BINS, form("2", "unsure", "0"))
    assert kind.export_rows(THREE_BINS, submission) == [
        {"card": "Listening in stereo", "bin": "Both"},
        {"card": "Setting the budget", "bin": "unsure"},
        {"card": "Using influence rather than authority", "bin": "Influence"},
    ]


# --- the folding property -------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_sort_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, kind, CONFIG, FORMS, data)
