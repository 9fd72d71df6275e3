"""The kit of text helpers every kind that takes typed text shares, so kinds depend on it and never on each other.

Two shapes of typed text: one line (`tidy`: a word-cloud entry, a name, a title) and long text (`tidy_long`: an open
answer, a question, a note, typed in a textarea), whose line breaks are kept. Neither ever deletes a line break: in
one line it becomes a space, so "first line" and "second" never run together as "first linesecond".
"""

from __future__ import annotations

import re
import unicodedata

# A run of characters without a space longer than this gets break opportunities, so it cannot overflow a card.
UNBROKEN_RUN = 24
_LONG_RUN = re.compile(rf"\S{{{UNBROKEN_RUN + 1},}}")
# What goes, whatever the shape: control characters (other than spacing ones, which become spaces) and invisible
# format characters (zero-width spaces and joiners, soft hyphens, bidi embeddings, overrides and isolates).
_INVISIBLE = frozenset({"Cc", "Cf"})
# Unicode's mandatory line breaks (UAX #14: BK, CR, LF, NL); a CR LF pair is one break.
_LINE_BREAK = re.compile("\r\n|[\n\v\f\r\x85\u2028\u2029]")


def tidy(text: str) -> str:
    """One line: canonical Unicode, no control or invisible formatting characters, every run of spaces, tabs and
    line breaks one space, trimmed."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join("".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE).split())


def same_text(text: str) -> str:
    """What two texts participants wrote are compared by, to count them as one (an open answer's card, a question):
    tidied to one line and case-folded, so "Grading" and "grading " are the same answer however they were typed."""
    return tidy(text).casefold()


def fold_accents(text: str) -> str:
    """'Éducation' -> 'Education': combining marks dropped after decomposition (NFKD)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def tidy_long(text: str) -> str:
    """Long text: each line tidied as `tidy` does (so no spaces at its ends), every line break (\\r\\n, \\r, U+2028,
    U+2029, ...) stored as "\\n", at most one blank line in a row and none at either end."""
    lines: list[str] = []
    for line in _LINE_BREAK.split(text):
        tidied = tidy(line)
        if tidied or (lines and lines[-1]):
            lines.append(tidied)
    return "\n".join(lines).rstrip("\n")


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
