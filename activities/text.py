"""The kit of text helpers every kind that takes typed text shares, so kinds depend on it and never on each other."""

from __future__ import annotations

import re
import unicodedata

# A run of characters without a space longer than this gets break opportunities, so it cannot overflow a card.
UNBROKEN_RUN = 24
_LONG_RUN = re.compile(rf"\S{{{UNBROKEN_RUN + 1},}}")


def tidy(text: str) -> str:
    """Canonical Unicode, no control or invisible formatting characters, single spaces, trimmed."""
    text = unicodedata.normalize("NFKC", text)
    kept = "".join(" " if ch.isspace() else ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf"})
    return " ".join(kept.split())


def pieces(text: str) -> list[str]:
    """The text cut where a card may break a line: long runs without spaces are split every UNBROKEN_RUN."""
    out: list[str] = []
    start = 0
    for run in _LONG_RUN.finditer(text):
        out.append(text[start : run.start()])
        word = run.group()
        out += [word[i : i + UNBROKEN_RUN] for i in range(0, len(word), UNBROKEN_RUN)]
        start = run.end()
    out.append(text[start:])
    return [piece for piece in out if piece]
