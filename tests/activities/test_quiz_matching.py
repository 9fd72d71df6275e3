"""When a typed quiz answer counts as right: case, accents, punctuation and, from five letters, one typo forgiven."""

from __future__ import annotations

import pytest

from activities.quiz.matching import accepts, answer_key, one_typo_apart


def test_the_compared_key_folds_case_accents_punctuation_and_spaces() -> None:
    assert answer_key("  São   Paulo! ") == "sao paulo"
    assert answer_key("ÉQUIPE") == "equipe"
    assert answer_key("well-being") == "well being"
    assert answer_key("?!…") == ""


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        ("equity", "equity", True),
        ("equity", "equty", True),  # dropped
        ("equity", "equitty", True),  # added
        ("equity", "eqiuty", True),  # two neighbours swapped
        ("equity", "equita", True),  # changed
        ("equity", "eqita", False),  # two edits
        ("equity", "quitye", False),  # moved, not swapped
        ("ab", "ba", True),
        ("abc", "", False),
    ],
)
def test_one_typo_apart_is_damerau_levenshtein_distance_at_most_one(a: str, b: str, apart: bool) -> None:
    assert one_typo_apart(a, b) is apart
    assert one_typo_apart(b, a) is apart


def test_answers_of_five_letters_or_more_forgive_one_typo_and_shorter_ones_none() -> None:
    assert accepts(["Flagstaff"], "flagstaf")
    assert accepts(["Flagstaff"], "FLAGSTAFF.")
    assert accepts(["Los Alamitos"], "los alamitso")
    assert not accepts(["Flagstaff"], "flagstuf")
    assert accepts(["cat"], "Cat!")
    assert not accepts(["cat"], "car")
    assert not accepts(["Oakland"], "")
    assert accepts(["Phoenix", "Oakland"], "oaklnd")


def test_accents_are_forgiven_both_ways() -> None:
    assert accepts(["Liderazgo pedagógico"], "liderazgo pedagogico")
    assert accepts(["liderazgo pedagogico"], "Liderazgo Pedagógico")
