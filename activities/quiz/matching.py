"""When a typed answer counts as right: the rule docs/kinds.md states ("Points"), as pure functions."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from activities.text import fold_accents, tidy

# An accepted answer this long (letters and digits, spaces left out) forgives one typo; a shorter one must be exact.
TYPO_FROM = 5


def answer_key(text: str) -> str:
    """What is compared: case folded, accents dropped (NFKD), punctuation and symbols dropped, spaces collapsed;
    "  São Paulo! " -> "sao paulo"."""
    folded = fold_accents(tidy(text)).casefold()
    kept = (" " if unicodedata.category(ch)[0] in "PSZ" else ch for ch in folded)
    return " ".join("".join(kept).split())


def one_typo_apart(a: str, b: str) -> bool:
    """Whether `a` and `b` are equal or one edit apart: a character added, dropped or changed, or two neighbours
    swapped (Damerau-Levenshtein distance at most 1), in time linear in their length."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) < len(b):
        a, b = b, a
    first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(b))
    if len(a) > len(b):
        return a[first + 1 :] == b[first:]
    if a[first + 1 :] == b[first + 1 :]:
        return True
    swapped = first + 1 < len(a) and a[first] == b[first + 1] and a[first + 1] == b[first]
    return swapped and a[first + 2 :] == b[first + 2 :]


def accepts(accepted: Iterable[str], typed: str) -> bool:
    """Whether `typed` matches one of the `accepted` answers, by the rule above."""
    key = answer_key(typed)
    if not key:
        return False
    for answer in accepted:
        right = answer_key(answer)
        if key == right:
            return True
        if len(right.replace(" ", "")) >= TYPO_FROM and one_typo_apart(key, right):
            return True
    return False
