"""The editor's document and back to YAML (server/decks/document.py), and YAML's errors in plain words
(server/decks/loading.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activities import registry
from server.decks import DeckInvalid, deck_document, deck_yaml, parse_deck
from server.decks.loading import MAX_NODES
from tests.factories import DECK

# Texts YAML would read as something else, or that trip a writer up: each must come back as the same text.
AWKWARD = [
    "yes",
    "no",
    "on",
    "off",
    "Yes",
    "NO",
    "null",
    "Null",
    "~",
    "",
    " ",
    "true",
    "False",
    "1",
    "1.0",
    "-1",
    "0x1F",
    "0o7",
    "1e3",
    ".inf",
    ".nan",
    "2026-12-07",
    "2026-12-07T10:00:00Z",
    ":",
    ": x",
    "a: b",
    "#",
    "# not a comment",
    "a #b",
    "- ",
    "- item",
    "-",
    "?",
    "? x",
    "[a]",
    "{a: b}",
    "'",
    '"',
    "'quoted'",
    '"quoted"',
    "&anchor",
    "*alias",
    "!tag",
    "!!python/object",
    "%YAML",
    "@me",
    "`x`",
    "|",
    ">",
    " leading",
    "trailing ",
    "\ttab",
    "line\nbreak",
    "\nleading break",
    "trailing break\n",
    "two\n\nblank",
    "  indented\nlines",
    "crlf\r\nline",
    "\u2028",
    "\x85",
    "\ufeffbom",
    "日本語",
    "emoji 🎉",
    "\u202eright-to-left",
    "\x00nul",
    "back\\slash",
    "---",
    "...",
    "<<",
]
json_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=30) | st.sampled_from(AWKWARD)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | json_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_text, inner, max_size=4),
    max_leaves=20,
)
documents = st.dictionaries(json_text, json_value, max_size=6)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_a_document_comes_back_from_its_yaml_as_it_was(document: dict[str, Any]) -> None:
    text = deck_yaml(document)
    assert deck_document(text) == document
    assert deck_yaml(deck_document(text)) == text


@pytest.mark.parametrize("text", AWKWARD)
def test_each_awkward_text_comes_back_as_itself(text: str) -> None:
    document = {"title": text, "options": [text], text: text}
    assert deck_document(deck_yaml(document)) == document


def test_the_yaml_reads_as_people_write_it() -> None:
    document = {
        "title": "Roles: who decides?",
        "activities": [
            {"kind": "poll", "title": "Go?", "options": ["Yes", "No", "1.0"], "notes": "Ask twice.\nThen wait.\n"}
        ],
    }
    assert deck_yaml(document) == (
        "title: 'Roles: who decides?'\n"
        "activities:\n"
        "  - kind: poll\n"
        "    title: Go?\n"
        "    options:\n"
        "      - Yes\n"
        "      - No\n"
        "      - '1.0'\n"
        "    notes: |\n"
        "      Ask twice.\n"
        "      Then wait.\n"
    )


def test_the_shipped_deck_loads_to_a_document_that_writes_back_as_the_same_deck() -> None:
    document = deck_document(DECK.read_text(encoding="utf-8"))
    again = deck_yaml(document)
    assert deck_document(again) == document
    assert parse_deck(again, registry) == parse_deck(DECK.read_text(encoding="utf-8"), registry)


def test_a_date_is_read_as_the_text_it_is_written_as() -> None:
    assert deck_document("title: 2026-12-07\n") == {"title": "2026-12-07"}


def test_a_document_is_a_mapping() -> None:
    with pytest.raises(DeckInvalid, match="a deck is a mapping"):
        deck_document("- a\n- b\n")


@pytest.mark.parametrize("text", ["a: !!set {x, y}\n", "a: !!binary aGk=\n", "a: .nan\n", "a: .inf\n"])
def test_values_json_has_no_word_for_are_refused(text: str) -> None:
    with pytest.raises(DeckInvalid, match="put this in quotes"):
        deck_document(text)


def test_keys_that_are_not_text_become_text() -> None:
    assert deck_document("2: two\ntrue: yes\nnull: no\n") == {"2": "two", "true": "yes", "null": "no"}


# --- plain words for YAML's errors ----------------------------------------------------------------------------------


def problem_of(text: str) -> tuple[int | None, str]:
    with pytest.raises(DeckInvalid) as caught:
        deck_document(text)
    [found] = caught.value.problems
    assert found.message.startswith("not valid YAML: ")
    return found.line, found.message.removeprefix("not valid YAML: ")


def test_a_colon_in_a_title_says_to_quote_it_and_shows_how() -> None:
    line, message = problem_of("language: en\npace: presenter\ntitle: Roles: who decides?\n")
    assert line == 3
    assert message == (
        'a colon followed by a space is read as a new key; put the text in quotes: title: "Roles: who decides?"'
    )


def test_a_colon_in_a_list_item_shows_the_item_quoted() -> None:
    line, message = problem_of('title: T\nactivities:\n  - title: Who "decides": you?\n')
    assert line == 3
    assert message.endswith('put the text in quotes: title: "Who \\"decides\\": you?"')


def test_a_tab_says_to_indent_with_spaces() -> None:
    assert problem_of("title: T\nactivities:\n  - kind: poll\n\ttitle: A\n") == (
        4,
        "a tab is used here: indent with spaces only",
    )


def test_bad_indentation_says_so() -> None:
    line, message = problem_of("title: T\nactivities:\n  - kind: poll\n    title: A\n   options: [a, b]\n")
    assert line == 5 and message.startswith("the indentation does not line up")


@pytest.mark.parametrize("quote", ['"', "'"])
def test_an_unclosed_quote_points_at_where_it_opens(quote: str) -> None:
    line, message = problem_of(f"language: en\ntitle: {quote}Roles\nactivities: []\n")
    assert line == 2 and message.startswith("a quote is opened here and never closed")


def test_an_unclosed_list_says_so() -> None:
    line, message = problem_of("title: T\noptions: [a, b\nnext: x\n")
    assert line == 2 and message.startswith("a list in [brackets] is not closed")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("title: @me\n", "text cannot start with @: put the text in quotes"),
        ("title: *me\n", "a * at the start of text is read as an alias"),
        ('title: "a\\q"\n', 'a backslash in "double quotes" starts an escape'),
        ("title: !!python/object/apply:os.system [ls]\n", "the tag !!python/object/apply:os.system is not allowed"),
        ("title: !custom x\n", "the tag !custom is not allowed"),
        ("a: 1\n---\nb: 2\n", "a deck is one document"),
        ("title: a\x07b\n", "the character U+0007 cannot be in a deck"),
    ],
)
def test_other_yaml_errors_in_plain_words(text: str, words: str) -> None:
    assert words in problem_of(text)[1]


def test_a_billion_laughs_is_refused_without_being_built() -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    line, message = problem_of("\n".join(lines) + "\n")
    assert f"stand for more than {MAX_NODES:,} values" in message
    with pytest.raises(DeckInvalid, match="stand for more than"):
        parse_deck("\n".join(lines) + "\n", registry)


def test_an_alias_of_itself_is_refused() -> None:
    assert "stand for more than" in problem_of("a: &a [x, *a]\n")[1]


def test_a_few_aliases_are_fine() -> None:
    assert deck_document("a: &a [x, y]\nb: *a\n") == {"a": ["x", "y"], "b": ["x", "y"]}


def test_brackets_nested_deeper_than_the_parser_goes_are_refused() -> None:
    assert problem_of("[" * 20_000 + "]" * 20_000)[1] == "lists and mappings nest too deeply"
