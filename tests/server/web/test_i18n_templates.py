"""Every page in the catalogues (issue 17): no template under client/templates shows text a person reads, nor a
user-visible attribute, that bypasses `_()` / `ngettext()`.

Each template is read as Jinja's lexer reads it: the literal text between tags is kept, every `{{ ... }}` becomes a
placeholder and every `{% ... %}` and `{# ... #}` is dropped; the result is parsed as HTML, and each text node and each
visible attribute (title, aria-label, placeholder, alt, a button's value) must be empty once placeholders, symbols,
numbers and the few words of ALLOWED are taken out. A message's Spanish translation is checked by test_i18n.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "client" / "templates"
PLACEHOLDER = "\ue000"  # stands for a {{ ... }}: its output is the code's (already translated, or data)

# Words a page may show as they are, in every language: the product's name. Anything else with a letter in it is text
# for the catalogue. Symbols and numbers ("·", "–", "123 456") have no letter and pass by themselves.
ALLOWED = {"Handsup"}
# An example address (a URL, an email) reads the same in every language: a placeholder may show one as it is.
ADDRESS = re.compile(r"\bhttps?://\S*|\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")

# Attributes a person reads or hears (screen readers), whatever the element.
VISIBLE_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "aria-description", "aria-roledescription"}
# base.html's blocks that fill in a tag's class or attributes: code, not text.
ATTRIBUTE_BLOCKS = ("body_class", "body_attrs")
# Elements whose content is code, not text: scripts, styles, and literal syntax a reader types as it is (a header).
CODE_ELEMENTS = {"script", "style", "code"}

LETTER = re.compile(r"[^\W\d_]")


def literal_html(source: str) -> str:
    """The template's own markup and text: expressions as placeholders, statements and comments gone; the text of a
    `{% trans %}` block is the catalogue's, and a block of ATTRIBUTE_BLOCKS is markup, so they go too."""
    out: list[str] = []
    depth = 0  # inside a {% trans %} or a block of attributes
    opened: list[bool] = []  # the blocks open, each True when its text is skipped
    tokens = iter(Environment(extensions=["jinja2.ext.i18n"]).lex(source))
    for _line, kind, value in tokens:
        if kind == "data":
            if not depth:
                out.append(value)
        elif kind == "variable_begin":
            for _line, kind, _value in tokens:
                if kind == "variable_end":
                    break
            out.append(PLACEHOLDER)
        elif kind == "block_begin":
            names = []
            for _line, kind, value in tokens:
                if kind == "block_end":
                    break
                if kind == "name":
                    names.append(value)
            if names[:1] == ["trans"] or names[:2] in (["block", name] for name in ATTRIBUTE_BLOCKS):
                depth += 1
                out.append(PLACEHOLDER)
            elif names[:1] == ["endtrans"] or (names[:1] == ["endblock"] and depth and opened[-1]):
                depth -= 1
            if names[:1] in (["block"], ["trans"]):
                opened.append(names[:1] == ["trans"] or names[1:2] in ([name] for name in ATTRIBUTE_BLOCKS))
            elif names[:1] in (["endblock"], ["endtrans"]) and opened:
                opened.pop()
    return "".join(out)


def untranslated(text: str) -> str:
    """What is left of a text node or attribute once placeholders and allowed words are out, if it has a letter."""
    rest = ADDRESS.sub(" ", text.replace(PLACEHOLDER, " "))
    for word in ALLOWED:
        rest = re.sub(rf"\b{re.escape(word)}\b", " ", rest)
    rest = " ".join(rest.split())
    return rest if LETTER.search(rest) else ""


class Finder(HTMLParser):
    """Collects the visible text and attributes no catalogue has seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in CODE_ELEMENTS:
            self._code += 1
        values = dict(attrs)
        shown = set(VISIBLE_ATTRIBUTES)
        if tag == "button" or (tag == "input" and (values.get("type") or "") in ("submit", "button", "reset")):
            shown.add("value")
        for name, value in attrs:
            if name in shown and value and (left := untranslated(value)):
                self.found.append(f'<{tag} {name}="{left}">')

    def handle_endtag(self, tag: str) -> None:
        if tag in CODE_ELEMENTS and self._code:
            self._code -= 1

    def handle_data(self, data: str) -> None:
        if not self._code and (left := untranslated(data)):
            self.found.append(left)


def untranslated_text(template: Path) -> list[str]:
    finder = Finder()
    finder.feed(literal_html(template.read_text(encoding="utf-8")))
    finder.close()
    return finder.found


# The pages' templates, and every kind's own (activities/<kind>/templates), by their path from the project's root.
ALL = sorted(
    path.relative_to(ROOT).as_posix()
    for path in [*TEMPLATES.rglob("*.html"), *(ROOT / "activities").glob("*/templates/**/*.html")]
)


@pytest.mark.parametrize("name", ALL)
def test_every_text_of_a_template_goes_through_the_catalogue(name: str) -> None:
    found = untranslated_text(ROOT / name)
    assert not found, f"{name} shows text that is not marked with _() or ngettext(): {found[:8]}"


# --- the finder itself --------------------------------------------------------------------------------------------


def check(source: str) -> list[str]:
    finder = Finder()
    finder.feed(literal_html(source))
    finder.close()
    return finder.found


def test_the_finder_sees_bare_text_and_visible_attributes() -> None:
    assert check("<p>Hello {{ name }}</p>") == ["Hello"]
    assert check('<a title="Open it" href="/x">{{ _("Open") }}</a>') == ['<a title="Open it">']
    assert check('<input type="submit" value="Send">') == ['<input value="Send">']
    assert check('<img alt="A chart" src="{{ url }}">') == ['<img alt="A chart">']
    named = '<input placeholder="Your name" aria-label="{{ _(\'Name\') }}">'
    assert check(named) == ['<input placeholder="Your name">']
    assert check("<li>{{ n }} session{{ 's' if n != 1 }}</li>") == ["session"]  # a home-made plural is English only


def test_the_finder_lets_marked_text_symbols_numbers_and_code_pass() -> None:
    assert check('<input placeholder="https://example.org/hook"><input placeholder="ana@example.org">') == []
    assert check('<input placeholder="e.g. https://example.org/hook">') == ['<input placeholder="e.g.">']
    assert check('<p>{{ _("Hello %(name)s", name=name) }} · 123 – {{ n }}%</p>') == []
    assert check("{% trans %}Hello {{ name }}{% endtrans %}") == []
    assert check('<h1 class="brand">Handsup</h1><input type="hidden" value="abc" name="csrf_token">') == []
    assert check("<script>const go = 'now';</script><style>p { color: red }</style>{# A note #}") == []
    assert check('{% if open %}<p class="x">{{ _("Open") }}</p>{% endif %}') == []
