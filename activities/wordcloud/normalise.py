"""Turning what a participant typed into the key a word cloud counts."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from activities.text import fold_accents, tidy

# Dashes, connectors and slashes separate words ("well-being" -> "well being"); other punctuation just goes.
_SEPARATORS = {"Pd", "Pc"}
_SEPARATOR_CHARS = frozenset("/\\")
LANGUAGES = frozenset({"en", "es", "fr", "de", "pt", "it", "nl"})


def surface_form(text: str) -> str:
    """Case-folded, punctuation stripped: how an entry is shown in the cloud."""
    out = []
    for ch in tidy(text):
        category = unicodedata.category(ch)
        if category in _SEPARATORS or ch in _SEPARATOR_CHARS:
            out.append(" ")
        elif not category.startswith("P"):
            out.append(ch)
    return " ".join("".join(out).casefold().split())


@lru_cache(maxsize=50_000)
def lemma(token: str, language: str) -> str:
    """The dictionary form of one word ('schools' -> 'school'), by simplemma; the word itself if unknown."""
    import simplemma  # loaded on first use: its dictionaries take a moment

    return str(simplemma.lemmatize(token, lang=language))


def word_key(surface: str, *, accents: bool, lemmatise: bool, language: str) -> str:
    """The key entries are merged by: the surface form, lemmatised and accent-folded as configured."""
    key = surface
    if lemmatise:
        key = " ".join(lemma(token, language) for token in key.split())
    if accents:
        key = fold_accents(key)
    return key
