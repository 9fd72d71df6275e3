"""Decks: reusable lists of activities, stored as YAML text.

- `loading`: YAML as decks are written, bounded, its errors in plain words at their line;
- `parse`: a deck's text checked as a deck (`parse_deck`: every problem with its line and path);
- `document`: the editor's document (the mapping the YAML loads to) and back to readable YAML;
- `store`: stored decks, who may view and edit them, versioned saves, the library's actions.
"""

from server.decks.document import deck_document, deck_yaml
from server.decks.loading import MAX_DECK_BYTES, DeckInvalid, DeckLoader, DeckProblem
from server.decks.parse import (
    COMMON_KEYS,
    MAX_ACTIVITIES,
    MAX_COUNTDOWN,
    MIN_COUNTDOWN,
    ActivitySpec,
    DeckSpec,
    parse_deck,
    structured_keys,
)
from server.decks.store import deck_files, free_slug, slugify, stored_decks

__all__ = [
    "COMMON_KEYS",
    "MAX_ACTIVITIES",
    "MAX_COUNTDOWN",
    "MAX_DECK_BYTES",
    "MIN_COUNTDOWN",
    "ActivitySpec",
    "DeckInvalid",
    "DeckLoader",
    "DeckProblem",
    "DeckSpec",
    "deck_document",
    "deck_files",
    "deck_yaml",
    "free_slug",
    "parse_deck",
    "slugify",
    "stored_decks",
    "structured_keys",
]
