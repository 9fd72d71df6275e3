"""Decks: YAML files of activities, checked with every problem pointing at its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from activities import registry
from server.cli import main
from server.decks import MAX_ACTIVITIES, DeckInvalid, DeckProblem, deck_files, parse_deck, slugify
from server.models import ResultsMode
from tests.factories import DECK

GOOD = """\
title: Influence
activities:
  - kind: wordcloud
    title: Three words
    prompt: What does influence mean?
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
    results: hidden
"""

KNOWN = ", ".join(registry.names())  # the unknown-kind message lists every kind there is


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(DeckInvalid) as caught:
        parse_deck(textwrap.dedent(text), registry)
    return [(p.line, p.path, p.message) for p in caught.value.problems]


# --- parse_deck ---------------------------------------------------------------------------------------------------


def test_parse_deck_reads_the_shipped_example_deck() -> None:
    deck = parse_deck(DECK.read_text(encoding="utf-8"), registry)
    assert deck.title == "Transforming Schools Through Distributed Leadership"
    assert [a.kind for a in deck.activities] == [
        "wordcloud",
        "poll",
        "wordcloud",
        "wordcloud",
        "poll",
        "poll",
        "poll",
        "poll",
        "sort",
        "points",
        "scale",
        "ranking",
        "resources",
        "open",
        "wordcloud",
        "grid",
        "number",
        "pin",
        "quiz",
        "quiz",
        "quiz",
        "qa",
        "slide",
    ]
    assert sorted({a.kind for a in deck.activities}) == registry.names()  # the example shows every kind
    assert deck.activities[0].config["lemmatise"] is True
    assert deck.activities[1].config["options"] == [
        "Putting out fires",
        "Maintaining the organization",
        "Engaging in improvement",
    ]
    assert deck.activities[5].config["max_choices"] == 2
    assert deck.activities[6].results == ResultsMode.hidden


def test_parse_deck_fills_in_each_kinds_defaults() -> None:
    deck = parse_deck(GOOD, registry)
    assert deck.activities[0].prompt == "What does influence mean?"
    assert deck.activities[0].config == {
        "entries": 3,
        "max_length": 25,
        "fold_accents": False,
        "lemmatise": False,
        "language": "en",
    }
    assert deck.activities[1].config == {
        "options": ["Fires", "Maintenance", "Improvement"],
        "multiple": False,
        "max_choices": None,
    }
    assert deck.activities[1].results == ResultsMode.hidden


def test_parse_deck_points_at_an_unknown_kind_and_lists_the_known_ones() -> None:
    assert problems("""\
        title: T
        activities:
          - kind: poll
            title: A
            options: [a, b]
          - kind: trivia
            title: B
        """) == [(6, "activities[1].kind", f"unknown kind 'trivia' ({KNOWN})")]


def test_parse_deck_points_at_a_missing_kind() -> None:
    assert problems("""\
        title: T
        activities:
          - title: A
        """) == [(3, "activities[0].kind", f"unknown kind None ({KNOWN})")]


def test_parse_deck_points_at_a_kind_that_is_not_text() -> None:
    assert problems("""\
        title: T
        activities:
          - kind: [poll]
            title: A
        """)[0][:2] == (3, "activities[0].kind")


def test_parse_deck_points_at_each_bad_config_value() -> None:
    assert problems("""\
        title: T
        activities:
          - kind: poll
            title: A
            options:
              - a
              - A
          - kind: wordcloud
            title: W
            entries: 99
        """) == [
        (5, "activities[0].options", "two options are the same"),
        (10, "activities[1].entries", "Input should be less than or equal to 10"),
    ]


def test_parse_deck_points_at_a_missing_config_value_by_its_activity() -> None:
    assert problems("""\
        title: T
        activities:
          - kind: wordcloud
            title: W
          - kind: poll
            title: A
        """) == [(5, "activities[1].options", "Field required")]


def test_parse_deck_points_at_unknown_keys_of_the_deck_and_of_an_activity() -> None:
    assert problems("""\
        title: T
        colour: red
        activities:
          - kind: wordcloud
            title: W
            colour: blue
        """) == [(2, "colour", "unknown key"), (6, "activities[0].colour", "Extra inputs are not permitted")]


def test_parse_deck_reports_a_missing_deck_title() -> None:
    found = problems("""\
        activities:
          - kind: wordcloud
            title: W
        """)
    assert found == [(None, "title", "a title of 1 to 200 characters is required")]
    assert str(DeckProblem(*found[0])) == "deck: title: a title of 1 to 200 characters is required"


def test_parse_deck_points_at_an_empty_deck_title() -> None:
    assert problems("""\
        title: "  "
        activities:
          - kind: wordcloud
            title: W
        """) == [(1, "title", "a title of 1 to 200 characters is required")]


def test_parse_deck_points_a_missing_activity_title_at_its_activity() -> None:
    assert problems("""\
        title: T
        activities:
          - kind: wordcloud
            title: W
          - kind: wordcloud
            prompt: no title here
        """) == [(5, "activities[1].title", "a title of 1 to 200 characters")]


def test_parse_deck_points_at_a_results_mode_it_does_not_know() -> None:
    assert problems("""\
        title: T
        activities:
          - kind: wordcloud
            title: W
            results: later
        """) == [(5, "activities[0].results", "'live' or 'hidden'")]


def test_parse_deck_points_at_a_results_mode_that_is_not_text() -> None:
    assert problems("""\
        title: T
        activities:
          - kind: wordcloud
            title: W
            results: [live]
        """) == [(5, "activities[0].results", "'live' or 'hidden'")]


def test_parse_deck_points_at_invalid_yaml() -> None:
    found = problems("""\
        title: T
        activities:
          - kind: poll
            title: A
            options: [a, b
          - kind: wordcloud
        """)
    assert found == [
        (
            5,
            "",
            "not valid YAML: a list in [brackets] is not closed, or an item in it has a colon: end the list with ], "
            "and put text with commas or colons in quotes",
        )
    ]


def test_parse_deck_points_at_a_badly_indented_line() -> None:
    [(line, _, message)] = problems("title: T\nactivities:\n  - kind: poll\n    title: A\n   options: [a, b]\n")
    assert line == 5
    assert message.startswith("not valid YAML: ")


def test_parse_deck_points_at_a_tab_used_for_indentation() -> None:
    [(line, _, message)] = problems("title: T\nactivities:\n  - kind: poll\n\ttitle: A\n")
    assert line == 4
    assert message.startswith("not valid YAML")


@pytest.mark.parametrize("text", ["", "just text", "- a\n- b\n"])
def test_parse_deck_needs_a_mapping(text: str) -> None:
    assert problems(text) == [(1, "", "a deck is a mapping with 'title' and 'activities'")]


def test_parse_deck_needs_at_least_one_activity() -> None:
    assert problems("title: T\nactivities: []\n") == [(2, "activities", "a list of at least one activity")]


def test_parse_deck_refuses_more_activities_than_the_limit() -> None:
    many = "".join(f"  - {{kind: wordcloud, title: W{i}}}\n" for i in range(MAX_ACTIVITIES + 1))
    assert (2, "activities", f"at most {MAX_ACTIVITIES} activities") in problems("title: T\nactivities:\n" + many)


def test_parse_deck_refuses_a_deck_over_the_size_limit() -> None:
    assert problems("title: T\n#" + "x" * 300_000 + "\n") == [(None, "", "a deck may be at most 256 KiB")]


def test_parse_deck_lists_every_problem_at_once() -> None:
    found = problems("""\
        title: T
        activities:
          - kind: trivia
            title: A
          - kind: poll
            title: B
            options: [a]
          - kind: wordcloud
        """)
    assert [(line, path) for line, path, _ in found] == [
        (3, "activities[0].kind"),
        (7, "activities[1].options"),
        (8, "activities[2].title"),
    ]


def test_deck_invalid_message_lists_each_problem_on_its_line() -> None:
    with pytest.raises(DeckInvalid) as caught:
        parse_deck("title: T\nactivities:\n  - kind: trivia\n    title: A\n", registry)
    assert str(caught.value) == f"line 3: activities[0].kind: unknown kind 'trivia' ({KNOWN})"


def test_slugify_makes_url_safe_names() -> None:
    assert slugify("Spring Institute 2017") == "spring-institute-2017"
    assert slugify("Éducation & Équité!") == "education-equite"
    assert slugify("!!!") == "deck"


def test_deck_files_lists_yaml_files_by_name(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yml", "notes.txt"):
        (tmp_path / name).write_text("")
    assert [p.name for p in deck_files(tmp_path)] == ["a.yml", "b.yaml"]
    assert deck_files(None) == []
    assert deck_files(tmp_path / "missing") == []


# --- handsup deck check ---------------------------------------------------------------------------------------------


def test_deck_check_accepts_the_example_deck(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deck", "check", str(DECK)]) == 0
    out, err = capsys.readouterr()
    count = len(parse_deck(DECK.read_text(), registry).activities)
    assert out == f"{DECK}: ok ('Transforming Schools Through Distributed Leadership', {count} activities)\n"
    assert err == ""


def test_deck_check_prints_each_problem_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "title: T\nactivities:\n  - kind: trivia\n    title: A\n  - kind: poll\n    title: B\n    options: [a]\n"
    )
    assert main(["deck", "check", str(broken)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{broken}:3: activities[0].kind: unknown kind 'trivia' ({KNOWN})",
        f"{broken}:7: activities[1].options: List should have at least 2 items after validation, not 1",
    ]


def test_deck_check_fails_if_any_file_fails_and_still_checks_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("activities: []\n")
    assert main(["deck", "check", str(broken), str(DECK)]) == 1
    out, err = capsys.readouterr()
    assert f"{DECK}: ok" in out
    assert f"{broken}: title: a title of 1 to 200 characters is required" in err
    assert f"{broken}:1: activities: a list of at least one activity" in err


def test_deck_check_says_when_a_file_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.yaml"
    assert main(["deck", "check", str(missing)]) == 1
    assert capsys.readouterr().err == f"{missing}: cannot read: No such file or directory\n"


def test_deck_check_says_when_a_file_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("title: Éducation\nactivities:\n  - kind: wordcloud\n    title: W\n".encode("latin-1"))
    assert main(["deck", "check", str(latin1)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{latin1}: ")
    assert "UTF-8" in err


def test_deck_check_needs_at_least_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["deck", "check"])
    assert exited.value.code == 2
    assert "files" in capsys.readouterr().err


def test_quoted_yes_no_options_are_taken_as_written() -> None:
    deck = parse_deck(
        'title: T\nactivities:\n  - kind: poll\n    title: A\n    options: ["Yes", "No", "1"]\n', registry
    )
    assert deck.activities[0].config["options"] == ["Yes", "No", "1"]


def test_unquoted_number_options_are_reported_at_their_line_as_docs_decks_md_says() -> None:
    assert problems("title: T\nactivities:\n  - kind: poll\n    title: A\n    options: [1, 2]\n") == [
        (5, "activities[0].options.0", "Input should be a valid string"),
        (5, "activities[0].options.1", "Input should be a valid string"),
    ]


def test_yes_no_on_and_off_stay_text_while_true_and_false_are_booleans() -> None:
    text = "title: Words\nactivities:\n  - kind: poll\n    title: Agree?\n    multiple: true\n"
    deck = parse_deck(text + "    options: [Yes, No, On, off]\n", registry)
    assert deck.activities[0].config["options"] == ["Yes", "No", "On", "off"]
    assert deck.activities[0].config["multiple"] is True


# --- texts in several languages -----------------------------------------------------------------------------------


BILINGUAL = """\
title: Influence
activities:
  - kind: poll
    title: {en: "Where does the week go?", es: "¿En qué se va la semana?"}
    prompt:
      en: Pick one.
      es: "  Elige una.  "
    options:
      - {en: Fires, es: Incendios}
      - Maintenance
      - {en: "Improvement   work", es: "Trabajo   de mejora"}
"""


def test_the_example_deck_gives_every_participant_text_in_spanish() -> None:
    deck = parse_deck(DECK.read_text(encoding="utf-8"), registry)
    assert deck.language == "en"
    for activity in deck.activities:
        spanish = activity.texts["es"]
        assert spanish["title"] and (spanish.get("prompt") or not activity.prompt), activity.title
        for key in registry[activity.kind].translatable & set(activity.config):
            if isinstance(activity.config[key], list) and activity.config[key]:
                assert len(spanish[key]) == len(activity.config[key]), (activity.title, key)
            elif activity.config[key]:
                assert spanish[key].strip(), (activity.title, key)  # a text (a slide's body) has its translation
    assert deck.activities[8].texts["es"]["bins"] == ["Influencia", "Autoridad"]


def test_a_text_may_be_a_mapping_by_language_falling_back_to_the_decks_language() -> None:
    poll = parse_deck(BILINGUAL, registry).activities[0]
    assert (poll.title, poll.prompt) == ("Where does the week go?", "Pick one.")
    assert poll.config["options"] == ["Fires", "Maintenance", "Improvement work"]
    # An item without Spanish keeps the deck's text; spaces are tidied as the kind tidies its own.
    assert poll.texts == {
        "es": {
            "title": "¿En qué se va la semana?",
            "prompt": "Elige una.",
            "options": ["Incendios", "Maintenance", "Trabajo de mejora"],
        }
    }


def test_a_deck_in_spanish_falls_back_to_spanish() -> None:
    deck = parse_deck(BILINGUAL.replace("title: Influence", "title: Influencia\nlanguage: es"), registry)
    poll = deck.activities[0]
    assert poll.title == "¿En qué se va la semana?"
    assert poll.texts["en"]["options"] == ["Fires", "Maintenance", "Improvement work"]
    assert poll.config["options"] == ["Incendios", "Maintenance", "Trabajo de mejora"]


def test_a_mapping_without_the_decks_language_is_pointed_at() -> None:
    assert problems("""\
        title: T
        activities:
          - kind: poll
            title: {es: Tres palabras}
            options: [A, B]
    """) == [
        (4, "activities[0].title", "give the text in the deck's language (en) too: other languages fall back to it")
    ]


def test_a_bad_language_mapping_is_pointed_at_its_key() -> None:
    found = problems("""\
        title: T
        language: english
        activities:
          - kind: poll
            title: {en: Week, Spanish: Semana}
            options:
              - {en: A, es: [no]}
              - B
    """)
    assert (2, "language", "a language code, such as en or es") in found
    assert (5, "activities[0].title", "'Spanish' is not a language code, such as en or es") in found
    assert (7, "activities[0].options[0].es", "text, in that language") in found


def test_only_texts_people_read_may_be_translated() -> None:
    assert problems("""\
        title: T
        activities:
          - kind: resources
            title: Share
            types: [{en: tool, es: herramienta}, video]
          - kind: poll
            title: Week
            multiple: {en: true}
            options: [A, B]
    """) == [
        (5, "activities[0].types", "a resources activity's types cannot be given in several languages"),
        (8, "activities[1].multiple", "only options, prompt, title may be given in several languages"),
    ]


def test_a_translation_is_held_to_the_kinds_rules() -> None:
    found = problems("""\
        title: T
        activities:
          - kind: poll
            title: {en: Week, es: ""}
            options:
              - {en: A, es: Igual}
              - {en: B, es: igual}
    """)
    assert (4, "activities[0].title.es", "text of 1 to 200 characters") in found
    assert any(
        path == "activities[0].options" and message.startswith("in es: two options are the same")
        for _, path, message in found
    ), found
