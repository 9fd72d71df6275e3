"""The kind kit's text helpers: what every kind that takes typed text stores and shows of it."""

from __future__ import annotations

import pytest

from activities.text import UNBROKEN_RUN, pieces, tidy


def test_tidy_trims_and_collapses_whitespace() -> None:
    assert tidy("   shared \t\n  leadership  ") == "shared leadership"


def test_tidy_turns_unusual_spaces_into_plain_ones() -> None:
    assert tidy("shared\u00a0leadership\u2003now") == "shared leadership now"


def test_tidy_removes_control_characters() -> None:
    assert tidy("tru\x00st\x07\x1b") == "trust"


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"])
def test_tidy_removes_zero_width_and_direction_characters(invisible: str) -> None:
    assert tidy(f"tr{invisible}ust") == "trust"


def test_tidy_gives_canonical_unicode() -> None:
    decomposed = "e\u0301quipe"
    assert tidy(decomposed) == "\u00e9quipe"
    assert tidy("ｆｕｌｌｗｉｄｔｈ") == "fullwidth"
    assert tidy("ﬁne") == "fine"


def test_tidy_of_only_spaces_and_invisibles_is_empty() -> None:
    assert tidy(" \u200b\t\u00a0 ") == ""


def test_pieces_cuts_long_runs_without_spaces_so_a_card_can_wrap_them() -> None:
    assert pieces("short words stay whole") == ["short words stay whole"]
    long = "x" * (UNBROKEN_RUN * 2 + 1)
    assert pieces(f"a {long} b") == ["a ", "x" * UNBROKEN_RUN, "x" * UNBROKEN_RUN, "x", " b"]
    assert "".join(pieces(f"a {long} b")) == f"a {long} b"
