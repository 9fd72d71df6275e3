"""Turning what a participant typed into the key a word cloud counts."""

from __future__ import annotations

import pytest

from activities.wordcloud.normalise import LANGUAGES, fold_accents, lemma, surface_form, word_key


def test_surface_form_is_case_folded() -> None:
    assert surface_form("TRUST") == "trust"
    assert surface_form("Straße") == "strasse"


def test_surface_form_strips_punctuation() -> None:
    assert surface_form('"Trust!"') == "trust"
    assert surface_form("it's (really) great.") == "its really great"
    assert surface_form("¿Confianza?") == "confianza"


@pytest.mark.parametrize("typed", ["well-being", "well–being", "well—being", "well_being", "well/being", "well\\being"])
def test_surface_form_turns_dashes_connectors_and_slashes_into_spaces(typed: str) -> None:
    assert surface_form(typed) == "well being"


def test_surface_form_does_not_leave_double_or_edge_spaces() -> None:
    assert surface_form(" - trust -- / care - ") == "trust care"


def test_surface_form_keeps_letters_digits_and_symbols() -> None:
    assert surface_form("21st-century") == "21st century"
    assert surface_form("K–12") == "k 12"
    assert surface_form("❤️ care") == "❤️ care"


def test_surface_form_of_only_punctuation_is_empty() -> None:
    assert surface_form("?!...") == ""


def test_fold_accents_drops_combining_marks() -> None:
    assert fold_accents("éducation") == "education"
    assert fold_accents("Ñandú") == "Nandu"
    assert fold_accents("e\u0301quipe") == "equipe"


def test_fold_accents_keeps_letters_that_are_not_accented_forms() -> None:
    assert fold_accents("straße øre") == "straße øre"


def test_lemma_gives_the_dictionary_form() -> None:
    assert lemma("schools", "en") == "school"
    assert lemma("leaders", "en") == "leader"
    assert lemma("escuelas", "es") == "escuela"


def test_lemma_of_an_unknown_word_is_the_word() -> None:
    assert lemma("zzxqv", "en") == "zzxqv"


def test_word_key_is_the_surface_form_when_nothing_else_is_asked() -> None:
    assert word_key("schools", accents=False, lemmatise=False, language="en") == "schools"


def test_word_key_lemmatises_each_token_when_asked() -> None:
    assert word_key("caring schools", accents=False, lemmatise=True, language="en") == "care school"


def test_word_key_folds_accents_when_asked() -> None:
    assert word_key("équipe", accents=True, lemmatise=False, language="fr") == "equipe"
    assert word_key("équipe", accents=False, lemmatise=False, language="fr") == "équipe"


def test_word_key_folds_accents_after_lemmatising() -> None:
    assert word_key("écoles", accents=True, lemmatise=True, language="fr") == "ecole"


def test_every_language_offered_has_a_lemmatiser_dictionary() -> None:
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

    assert LANGUAGES <= SUPPORTED_LANGUAGES
