"""The participant page's critical stylesheet (server/web/critical.py): a faithful copy of part of handsup.css, and
inlined only as bytes whose hash a browser computes the same way."""

from __future__ import annotations

import re

import pytest

from server import ROOT
from server.web.critical import CRITICAL_CSS, CRITICAL_CSS_FILE, CRITICAL_CSS_SOURCE, load

COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def rules(css: str) -> set[tuple[str, str]]:
    """Each style rule as (the at-rule it sits in, or "", the rule with its whitespace normalised)."""
    found: set[tuple[str, str]] = set()
    text = " ".join(COMMENT.sub(" ", css).split())
    context: list[str] = []  # the at-rules the text is inside
    opened: list[bool] = []  # for each open brace: whether it opened an at-rule's block
    start = 0
    for at, char in enumerate(text):
        if char == "{":
            prelude = text[start:at].strip()
            is_at_rule = prelude.startswith("@")
            opened.append(is_at_rule)
            if is_at_rule:
                context.append(prelude)
                start = at + 1
        elif char == "}":
            if opened.pop():
                context.pop()
            else:
                found.add((" ".join(context), text[start : at + 1].strip()))
            start = at + 1
    return found


def test_every_critical_rule_is_a_rule_of_handsup_css() -> None:
    """When handsup.css arrives it changes nothing the critical rules laid out: it holds each of them, word for word
    (in the same @media), and it comes later, so it wins where it says more."""
    critical = rules(CRITICAL_CSS_FILE.read_text(encoding="utf-8"))
    full = rules((ROOT / "static" / "css" / "handsup.css").read_text(encoding="utf-8"))
    assert len(critical) > 40
    assert critical - full == set()


def test_the_inlined_text_is_the_file_and_its_hash_is_the_files() -> None:
    text = CRITICAL_CSS_FILE.read_text(encoding="utf-8")
    assert str(CRITICAL_CSS) == text
    assert CRITICAL_CSS_SOURCE == load(text)[1]
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", CRITICAL_CSS_SOURCE)
    assert len(text.encode()) < 10 * 1024  # small: it is in every participant page


@pytest.mark.parametrize("text", ["a { color: red; }\r\n", "a::after { content: '</style>'; }"])
def test_text_a_browser_would_hash_or_end_differently_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="carriage return"):
        load(text)
