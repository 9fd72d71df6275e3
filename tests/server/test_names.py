"""Nicknames, generated names and teams (server/names.py): what a phone may be called, and what it is called
when it chose nothing."""

from __future__ import annotations

import pytest

from activities import registry
from activities.i18n import CATALOGUE
from server.decks import DeckInvalid, parse_deck
from server.names import (
    ADJECTIVES,
    ANIMALS,
    NAMES,
    NICKNAME_MAX,
    NameRefused,
    TeamsInvalid,
    check_nickname,
    check_teams,
    generated_name,
    name_key,
    profane,
)
from server.web.i18n import catalogues


def test_a_nickname_is_tidied_and_kept_as_typed() -> None:
    assert check_nickname("  Ana\u200b  Sofía \n") == "Ana Sofía"
    assert check_nickname("J.R. O'Neil-2") == "J.R. O'Neil-2"
    assert check_nickname("Zoë") == "Zoë"
    assert check_nickname("李小龙") == "李小龙"  # letters of any script


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("A", "2 to 24 characters"),
        ("   ", "2 to 24 characters"),
        ("x" * (NICKNAME_MAX + 1), "2 to 24 characters"),
        ("<script>x</script>", "letters, numbers, spaces"),
        ("<b>Bold</b>", "letters, numbers, spaces"),
        ("smile 😀", "letters, numbers, spaces"),
        ("Z\u0351\u0352\u0353algo", "letters, numbers, spaces"),  # marks piled on a letter spill over the board
        ("fuck", "another nickname"),
        ("f.u.c.k", "another nickname"),
        ("Sh1t Happens", "another nickname"),
        ("pendejo", "another nickname"),  # the Spanish list too
        ("mierda", "another nickname"),
    ],
)
def test_a_nickname_the_rules_refuse_says_why(typed: str, why: str) -> None:
    with pytest.raises(NameRefused, match=why):
        check_nickname(typed)


def test_invisible_formatting_never_reaches_the_leaderboard() -> None:
    assert check_nickname("Ev\u202eil\u200d Twin") == "Evil Twin"  # a bidi override and a joiner dropped


def test_the_refusal_is_in_the_phones_language() -> None:
    token = CATALOGUE.set(catalogues().catalogue("es"))
    try:
        with pytest.raises(NameRefused) as refused:
            check_nickname("x")
    finally:
        CATALOGUE.reset(token)
    assert "apodo" in str(refused.value)


def test_innocent_names_pass_the_profanity_filter() -> None:
    for name in ("Scunthorpe", "Cassandra", "Dick Grayson"[:4] + "ens", "Analisa", "Cockburn"[:4] + "pit"):
        assert check_nickname(name)


def test_the_same_name_ignores_case_accents_and_spacing() -> None:
    assert name_key("José  María") == name_key("jose maria") == name_key("JOSÉ MARÍA")
    assert name_key("Ana") != name_key("Anna")


def test_teams_are_tidied_and_blank_lines_skipped() -> None:
    assert check_teams(["  Phoenix ", "", "Dragón\t Azul", "   "]) == ["Phoenix", "Dragón Azul"]
    assert check_teams([]) == []


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        ([f"Team {n}" for n in range(13)], "at most 12 teams"),
        (["x" * 61], "at most 60 characters"),
        (["Phoenix", "PHOENIX"], "same name"),
        (["Dragón", "dragon"], "same name"),
        (["Phoenix", "Shit Squad"], "profanity filter"),
    ],
)
def test_teams_the_rules_refuse_say_why(lines: list[str], why: str) -> None:
    with pytest.raises(TeamsInvalid, match=why):
        check_teams(lines)


def test_a_generated_name_is_the_same_every_time_and_on_every_worker() -> None:
    assert generated_name(7, 1234) == generated_name(7, 1234)
    assert generated_name(7, 1234) != generated_name(8, 1234)  # another session, another pick
    adjective, animal = generated_name(7, 1234).split(" ")
    assert any(adjective == one[0] for one in ADJECTIVES) and any(animal == one[0] for one in ANIMALS)


def test_no_two_of_a_sessions_first_participants_share_a_generated_name() -> None:
    for session in (1, 2, 99):
        first = [generated_name(session, pid) for pid in range(500, 500 + 200)]
        assert len(set(first)) == 200
        # The stated bound: any NAMES consecutive participant ids, in either language.
        every = {generated_name(session, pid) for pid in range(10_000, 10_000 + NAMES)}
        assert len(every) == NAMES
        assert len({generated_name(session, pid, "es") for pid in range(10_000, 10_000 + NAMES)}) == NAMES


def test_a_spanish_generated_name_agrees_with_its_animal() -> None:
    names = {generated_name(3, pid, "es") for pid in range(NAMES)}
    assert "Nutria Curiosa" in names and "Zorro Curioso" in names
    assert "Nutria Curioso" not in names and "Zorro Curiosa" not in names
    assert generated_name(3, 42, "es_MX") == generated_name(3, 42, "es")


def test_the_word_lists_are_friendly_and_unambiguous() -> None:
    for column in range(3):
        words = [adjective[column] for adjective in ADJECTIVES]
        if column == 0:
            assert len(set(words)) == len(words)
    assert len({a[1] for a in ADJECTIVES}) == len(ADJECTIVES)  # no two adjectives alike in Spanish
    assert len({a[0] for a in ANIMALS}) == len({a[1] for a in ANIMALS}) == len(ANIMALS)
    assert all(gender in ("m", "f") for _, _, gender in ANIMALS)
    for session, pid in [(1, n) for n in range(NAMES)]:
        assert not profane(generated_name(session, pid)) and not profane(generated_name(session, pid, "es"))


def test_a_deck_may_carry_names_teams_and_the_streak_bonus() -> None:
    base = "title: Quiz\nactivities:\n  - kind: poll\n    title: Q\n    options: [a, b]\n"
    spec = parse_deck(base + "nicknames: true\nstreak: true\nteams: [' Phoenix ', Dragon]\n", registry)
    assert (spec.nicknames, spec.teams, spec.streak) == (True, ["Phoenix", "Dragon"], True)
    plain = parse_deck(base, registry)
    assert (plain.nicknames, plain.teams, plain.streak) == (False, [], False)
    for extra, why in [
        ("nicknames: yes please\n", "true or false"),
        ("teams: Phoenix\n", "a list of team names"),
        ("teams: [Phoenix, phoenix]\n", "same name"),
    ]:
        with pytest.raises(DeckInvalid, match=why):
            parse_deck(base + extra, registry)
