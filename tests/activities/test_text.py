"""The kind kit's text helpers: what every kind that takes typed text stores and shows of it."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activities.text import UNBROKEN_RUN, pieces, tidy, tidy_long

# Every way a line may break in typed or pasted text: LF, CR LF (Windows), CR (old Macs), the Unicode line and
# paragraph separators, NEL, vertical tab and form feed.
BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\v", "\f"]


def test_tidy_trims_and_collapses_whitespace() -> None:
    assert tidy("   shared \t\n  leadership  ") == "shared leadership"


@pytest.mark.parametrize("break_", [*BREAKS, "\t", "\n\n\n"])
def test_tidy_turns_a_line_break_into_a_space_never_into_nothing(break_: str) -> None:
    assert tidy(f"first line{break_}second") == "first line second"


@pytest.mark.parametrize("break_", BREAKS)
def test_tidy_long_keeps_every_kind_of_line_break_as_one_newline(break_: str) -> None:
    assert tidy_long(f"first line{break_}second") == "first line\nsecond"


def test_tidy_long_keeps_one_blank_line_between_paragraphs_and_none_around_them() -> None:
    typed = "\r\n \n  Dear panel,  \r\n\r\n\r\n\r\n  why   not?\t\n\u2029\n\n"
    assert tidy_long(typed) == "Dear panel,\n\nwhy not?"


def test_tidy_long_trims_every_line_and_tidies_inside_it() -> None:
    typed = "  ｆｕｌｌ\u00a0width \u200b\n\tleft \u202eright\u202c \x00end  "
    assert tidy_long(typed) == "full width\nleft right end"


def test_tidy_long_of_only_breaks_spaces_and_invisibles_is_empty() -> None:
    assert tidy_long(" \n\r\n\u200b\t\u2028 ") == ""


words = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8)
typed = st.lists(
    st.one_of(st.characters(codec="utf-8"), st.sampled_from([*BREAKS, " ", "\t", "\u200b", "\u202e"])), max_size=60
).map("".join)


@given(words, words, st.sampled_from([*BREAKS, "\t", " \n ", "\n\n\n"]))
def test_a_line_break_never_joins_two_words(first: str, second: str, break_: str) -> None:
    first, second = tidy(first), tidy(second)  # the words as tidy spells them (NFKC)
    assert tidy(first + break_ + second) == f"{first} {second}"
    assert tidy_long(first + break_ + second).split() == [first, second]


@given(typed)
def test_tidy_long_shown_on_one_line_is_tidy(text: str) -> None:
    assert tidy(tidy_long(text)) == tidy(text)


@given(typed)
def test_tidy_long_is_stable_and_keeps_only_newlines_of_the_control_characters(text: str) -> None:
    tidied = tidy_long(text)
    assert tidy_long(tidied) == tidied
    assert "\n\n\n" not in tidied and tidied == tidied.strip()
    assert all(line == line.strip() for line in tidied.split("\n"))
    assert all(ch == "\n" or unicodedata.category(ch) not in {"Cc", "Cf"} for ch in tidied)


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
