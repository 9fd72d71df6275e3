"""The hostile input corpus: one named list of payloads that the suites send through every free-text field, and
the checks that what comes back out (pages, fragments, CSV, workbook, SVG) holds them as inert text.

Payloads that would run script if they ever reached a page as markup or a link open a dialog (`alert`) or set
`window.__pwned`, so a browser test can tell. The others aim past the page: spreadsheets (formula cells), other
renderers (templates, Markdown), storage (NUL, SQL-like text, half of a surrogate pair), and text layout (bidi
overrides, zero-width and combining marks, very long words).

The tables below list every field a person types text into: each kind's answer fields (walked from its Submission
model, so a new kind's text field cannot go unlisted) and the text of decks (walked from each kind's Config).
"""

from __future__ import annotations

import csv
import io
import re
import types
import typing
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree

from pydantic import BaseModel

from activities import Registry
from activities.grid import MAX_AXIS_LENGTH as GRID_AXIS
from activities.grid import MAX_ITEM_LENGTH as GRID_ITEM
from activities.grid import MAX_ITEMS as GRID_ITEMS
from activities.grid import MAX_QUADRANT_LENGTH as GRID_QUADRANT
from activities.images import ImageRef
from activities.open import MAX_LENGTH_LIMIT as OPEN_LIMIT
from activities.points import MAX_ITEM_LENGTH as POINTS_ITEM
from activities.points import MAX_ITEMS as POINTS_ITEMS
from activities.poll import MAX_OPTION_LENGTH, MAX_OPTIONS
from activities.qa import MAX_LENGTH_LIMIT as QA_LIMIT
from activities.qa import MAX_NAME
from activities.quiz import MAX_OPTION_LENGTH as QUIZ_OPTION
from activities.quiz import MAX_OPTIONS as QUIZ_OPTIONS
from activities.ranking import MAX_ITEM_LENGTH as RANKING_ITEM
from activities.ranking import MAX_ITEMS as RANKING_ITEMS
from activities.resources import MAX_LINK, MAX_NOTE, MAX_TITLE, MAX_TYPE_LENGTH, MAX_TYPES, normalise_link
from activities.scale import MAX_LABEL_LENGTH, MAX_POINTS, MAX_STATEMENT_LENGTH, MAX_STATEMENTS
from activities.slide import MAX_BODY as SLIDE_BODY
from activities.sort import MAX_BIN_LENGTH, MAX_BINS, MAX_CARD_LENGTH, MAX_CARDS
from activities.text import tidy, tidy_long
from activities.wordcloud import MAX_ENTRY_LENGTH
from activities.wordcloud.normalise import surface_form

MARKER = "__pwned"
"""What an executing payload sets on `window` (the others call `alert`): a browser test reads it back."""


@dataclass(frozen=True)
class Payload:
    name: str
    text: str
    runs: bool = False  # would run script (alert, window.__pwned) if it ever became markup, a link or a style
    formula: bool = False  # a spreadsheet would run it as a formula if a cell held it as it is


CORPUS: tuple[Payload, ...] = (
    Payload("script_tag", "<script>alert(1)</script>", runs=True),
    Payload("img_onerror", '<img src=x onerror="window.__pwned=1">', runs=True),
    Payload("svg_onload", "<svg onload=window.__pwned=1>", runs=True),
    Payload("attribute_breakout", '"><b onmouseover=window.__pwned=1>hover</b>', runs=True),
    Payload("attribute_breakout_single", "' autofocus onfocus='window.__pwned=1' x='", runs=True),
    Payload("url_breakout", 'https://example.org/"><svg/onload=window.__pwned=1>', runs=True),
    Payload("template_injection", "{{7*7}} {% print 7*7 %} ${7*7} #{7*7}"),
    Payload("htmx_attrs", '<div hx-get="/logout" hx-trigger="load" hx-on:htmx:load="window.__pwned=1">x</div>', True),
    Payload("javascript_link", "javascript:window.__pwned=1", runs=True),
    Payload("data_link", "data:text/html,<script>window.__pwned=1</script>", runs=True),
    Payload("vbscript", "vbscript:window.__pwned=1", runs=True),
    Payload("markdown_link", "[click me](javascript:window.__pwned=1)", runs=True),
    Payload("css_expression", '<p style="width:expression(window.__pwned=1);background:url(javascript:1)">', True),
    Payload("bidi_override", "left \u202eright\u202c and \u2067isolated"),
    Payload("zero_width", "zero\u200bwidth\u2060joiner\ufeffmarks"),
    Payload("combining_marks", "Z\u0351\u0334\u0321a\u0360\u0338\u0322l\u035b\u0337g\u0344\u0336o" + "\u0300" * 40),
    Payload(
        "emoji_zwj",
        "family \U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 flag \U0001f3f3\ufe0f\u200d\U0001f308",
    ),
    Payload("very_long_word", ("Pneumonoultramicroscopicsilicovolcanoconiosis" * 12)[:500]),
    Payload("nul_and_controls", "nul\x00bell\x07escape\x1b[31mred\x7fdel\x85next"),
    Payload("lone_surrogate", "half \ud800 of a pair"),  # JSON carries it as "\ud800"; UTF-8 cannot hold it
    Payload("formula_hyperlink", '=HYPERLINK("http://evil.example","click")', formula=True),
    Payload("formula_cmd", "=cmd|' /C calc'!A0", formula=True),
    Payload("formula_plus", "+1+cmd|' /C calc'!A0", formula=True),
    Payload("formula_minus", "-2+3+cmd|' /C calc'!A0", formula=True),
    Payload("formula_at", "@SUM(1+9)*cmd|' /C calc'!A0", formula=True),
    Payload("formula_tab", "\t=1+1", formula=True),
    Payload("formula_cr", "\r=1+1", formula=True),
    Payload("sql_like", "'; DROP TABLE response; --"),
)
PAYLOADS: dict[str, str] = {payload.name: payload.text for payload in CORPUS}
RUNS = tuple(payload for payload in CORPUS if payload.runs)
# Bidi embeddings, overrides and isolates: removed from everything people type and from deck text.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def oversized(limit: int) -> str:
    """Text of `limit + 1` characters in words (not one long run), whatever a field's normalising keeps."""
    text = ("much too long " * (limit // 14 + 2))[: limit + 1]
    return text[:-1] + "x" if text.endswith(" ") else text


def is_text(text: str) -> bool:
    """Whether text can be stored and shown as it is: UTF-8 can hold it and it carries no control character."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text)


# --- answer fields: every field a participant types text into -------------------------------------------------


@dataclass(frozen=True)
class AnswerField:
    """One text field of one kind's answer form, and what a stored answer shows of it."""

    kind: str
    name: str  # the form field
    stored_as: str  # where it lands in the Submission model ("questions.name")
    config: dict[str, Any]  # the suite's activity config (limits as high as a deck may set them)
    limit: int  # the most characters the field takes with that config
    normalise: Callable[[str], str]  # what is stored of a typed text
    others: dict[str, str] = field(default_factory=dict)  # the other fields its form needs ({n}: whose)
    complete_in_report: bool = True  # the printed report lists every answer (a word cloud: the top words only)

    @property
    def id(self) -> str:
        return f"{self.kind}.{self.name}"

    def shown(self, payload: Mapping[str, Any]) -> list[str]:
        """The texts of a stored payload this field put there (what the pages must show as text)."""
        return [str(value) for value in _at(payload, self.stored_as.split(".")) if value]


def _at(data: Any, path: list[str]) -> list[Any]:
    if not path:
        return [data]
    if isinstance(data, list):
        return [found for item in data for found in _at(item, path)]
    if isinstance(data, Mapping) and path[0] in data:
        return _at(data[path[0]], path[1:])
    return []


RESOURCE = {"type": "tool"}
ANSWER_FIELDS: tuple[AnswerField, ...] = (
    AnswerField(
        "wordcloud",
        "word",
        "words.text",
        {"max_length": MAX_ENTRY_LENGTH},
        MAX_ENTRY_LENGTH,
        surface_form,
        complete_in_report=False,
    ),
    AnswerField("open", "text", "text", {"max_length": OPEN_LIMIT}, OPEN_LIMIT, tidy_long),
    AnswerField("qa", "question", "questions.text", {"moderated": False, "max_length": QA_LIMIT}, QA_LIMIT, tidy_long),
    AnswerField(
        "qa", "name", "questions.name", {"moderated": False}, MAX_NAME, tidy, others={"question": "Who signs this?"}
    ),
    AnswerField("resources", "title", "title", {"moderated": False}, MAX_TITLE, tidy, others=RESOURCE),
    AnswerField(
        "resources",
        "link",
        "link",
        {"moderated": False},
        MAX_LINK,
        normalise_link,
        others={**RESOURCE, "title": "Link {n}"},
    ),
    AnswerField(
        "resources", "note", "note", {"moderated": False}, MAX_NOTE, tidy_long, others={**RESOURCE, "title": "Note {n}"}
    ),
)
NOT_TYPED: dict[str, str] = {
    "wordcloud.words.key": "the word's key, made from its text",
    "qa.upvotes": "keys of listed questions (16 hex digits), checked",
    "resources.upvotes": "keys of listed resources (16 hex digits), checked",
    "resources.type": "one of the deck's types, chosen from a list",
}
"""Text fields of answer models that nobody types, and what they are instead."""
UNREAD_ANSWERS: dict[str, str] = {
    "quiz.answer": "a quiz's typed answer: the room reads only right or wrong, never the text, so it is no "
    "ANSWER_FIELD (the projector would show none); tests/activities/test_quiz_hostile.py sends every payload as one",
}
"""Text fields people type that the room never reads, and where each is proven inert."""


def text_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every field of a model (nested models and lists of them walked) that holds text: `questions.name`."""
    found: set[str] = set()
    for name, info in model.model_fields.items():
        for leaf in _leaves(info.annotation):
            if leaf is str:
                found.add(prefix + name)
            elif isinstance(leaf, type) and issubclass(leaf, BaseModel):
                found |= text_paths(leaf, f"{prefix}{name}.")
    return found


def _leaves(annotation: Any) -> Iterable[Any]:
    """The types an annotation bottoms out in: `tuple[Question, ...] | None` -> Question."""
    origin = typing.get_origin(annotation)
    if origin is None:
        return [annotation]
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset) or origin is typing.Annotated:
        return [leaf for argument in typing.get_args(annotation) for leaf in _leaves(argument) if leaf is not ...]
    return [annotation]


def answer_text_fields(registry: Registry) -> set[str]:
    """`kind.path` of every text field in every kind's answer model."""
    return {f"{kind.name}.{path}" for kind in registry.all() for path in text_paths(kind.submission_model)}


# --- deck text: every field an organizer types text into --------------------------------------------------------


@dataclass(frozen=True)
class DeckField:
    """One list of labels in a kind's config: how many it holds, how long each may be, what else the config needs."""

    kind: str
    name: str
    most: int
    least: int
    limit: int
    base: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.kind}.{self.name}"


DECK_FIELDS: tuple[DeckField, ...] = (
    DeckField("poll", "options", MAX_OPTIONS, 2, MAX_OPTION_LENGTH, {}),
    DeckField("sort", "bins", MAX_BINS, 2, MAX_BIN_LENGTH, {"cards": ["A card"]}),
    DeckField("sort", "cards", MAX_CARDS, 1, MAX_CARD_LENGTH, {}),
    DeckField("scale", "statements", MAX_STATEMENTS, 1, MAX_STATEMENT_LENGTH, {}),
    DeckField("scale", "labels", MAX_POINTS, 2, MAX_LABEL_LENGTH, {"statements": ["A statement"]}),
    DeckField("points", "items", POINTS_ITEMS, 2, POINTS_ITEM, {}),
    DeckField("ranking", "items", RANKING_ITEMS, 2, RANKING_ITEM, {}),
    DeckField("resources", "types", MAX_TYPES, 1, MAX_TYPE_LENGTH, {}),
    DeckField("grid", "items", GRID_ITEMS, 1, GRID_ITEM, {}),
    DeckField("grid", "quadrants", 4, 4, GRID_QUADRANT, {"items": ["A role"]}),
    DeckField("quiz", "options", QUIZ_OPTIONS, 2, QUIZ_OPTION, {"correct": [1]}),
)
NOT_DECK_TEXT: dict[str, str] = {
    "wordcloud.language": "one of the languages the lemmatiser knows",
    "slide.image.media": "a stored image's name (its SHA-256 and extension), checked by pattern",
}
"""Text fields of kinds' configs that are not shown to anyone, and what they are instead."""
DECK_TEXTS: dict[str, str] = {
    "slide.body": "Markdown: hostile_deck gives every payload as a slide's body; tests/activities/slide renders each",
    "slide.image.alt": "an image's description: tests/activities/slide/test_hostile.py shows every payload as one",
    "number.unit": "shown after every number: tests/activities/test_number.py shows every payload as one",
    "pin.areas.label": "a pin area's label: tests/activities/test_pin.py shows every payload as one",
    **{
        f"grid.{axis}": f"a grid's axis names and end labels (up to {GRID_AXIS} characters): "
        "tests/activities/test_grid.py renders every payload as each of them"
        for axis in ("x_label", "x_low", "x_high", "y_label", "y_low", "y_high")
    },
    "quiz.accepted": "a quiz's right answers, secret until the reveal: tests/activities/test_quiz_hostile.py "
    "reveals every payload as one",
}
"""Single texts of kinds' configs (not lists of labels), and where each is proven inert."""
TITLE_LIMIT, PROMPT_LIMIT = 200, 1000  # server/decks.py: the common keys of every activity


def deck_text_fields(registry: Registry) -> set[str]:
    """`kind.field` of every text field in every kind's config model."""
    return {f"{kind.name}.{path}" for kind in registry.all() for path in text_paths(kind.config_model)}


def image_text_fields(registry: Registry) -> set[str]:
    """`kind.path.media` and `kind.path.alt` of every image a kind's config holds (activities/images.py): the name
    is held to its pattern (no other text gets in) and the alt text is shown as the picture's `alt` attribute;
    tests/server/test_hostile_input.py sends every payload as alt text."""
    return {f"{kind.name}.{path}" for kind in registry.all() for path in _image_paths(kind.config_model)}


def _image_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for name, info in model.model_fields.items():
        for leaf in _leaves(info.annotation):
            if leaf is ImageRef:
                found |= {f"{prefix}{name}.{field}" for field in ImageRef.model_fields}
            elif isinstance(leaf, type) and issubclass(leaf, BaseModel):
                found |= _image_paths(leaf, f"{prefix}{name}.")
    return found


def deck_text(text: str) -> str:
    """Deck text as a deck stores it: bidi controls out, runs of spaces collapsed."""
    return " ".join("".join(ch for ch in text if ch not in BIDI_CONTROLS).split())


def hostile_deck(texts: Iterable[str]) -> dict[str, Any]:
    """A deck whose every text holds the texts: each list of labels (cut to its length, packed into as many
    activities as it takes), every activity's title and prompt (more open questions when titles run short), and the
    deck's title and description. Labels that would clash within one list (the same ignoring case and spaces) are
    left out of it: a deck refuses those for what they are, not for being hostile."""
    texts = list(texts)
    activities: list[dict[str, Any]] = []
    for deck_field in DECK_FIELDS:
        labels = _distinct([text[: deck_field.limit] for text in texts])
        for start in range(0, len(labels), deck_field.most):
            chunk = labels[start : start + deck_field.most]
            chunk += [f"Filler {n}" for n in range(deck_field.least - len(chunk))]
            config = {**deck_field.base, deck_field.name: chunk}
            if deck_field.id == "scale.labels":
                config |= {"min": 1, "max": len(chunk)}
            activities.append({"kind": deck_field.kind, **config})
    for kind in ("wordcloud", "open", "qa"):
        activities.append({"kind": kind})
    activities.append({"kind": "slide", "body": "\n\n".join(texts)[:SLIDE_BODY]})  # Markdown of every text
    while len(activities) < len(texts):
        activities.append({"kind": "open"})
    for n, activity in enumerate(activities):
        text = texts[n % len(texts)]
        activity["title"] = text[:TITLE_LIMIT] if deck_text(text[:TITLE_LIMIT]) else f"Title {n}"
        activity["prompt"] = texts[(n + 1) % len(texts)][:PROMPT_LIMIT]
    return {
        "title": texts[0][:TITLE_LIMIT],
        "description": " ".join(texts),
        "pace": "audience",
        "activities": activities,
    }


def _distinct(labels: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for label in labels:
        folded = deck_text(label).casefold()
        if folded and folded not in seen and folded != "unsure":
            seen.add(folded)
            kept.append(label)
    return kept


# --- what comes back out: inert HTML, guarded cells, clean SVG --------------------------------------------------

URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "poster", "xlink:href", "ws-connect"})
# Attributes that hold text for people (or for script that shows it as text): they may carry a payload, escaped.
TEXT_ATTRIBUTES = frozenset({"value", "aria-label", "title", "alt", "placeholder", "data-alt", "content"})
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:")
EXECUTING = re.compile(r"__pwned|alert\(", re.IGNORECASE)


class Page(HTMLParser):
    """A page or fragment read the way a browser reads markup: its elements, attributes and text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.texts: list[str] = []
        self.values: list[str] = []  # text-bearing attributes (a pre-filled answer is a value)
        self.links: list[str] = []  # where links and forms go
        self._raw: str | None = None  # inside <script> or <style>
        self.feed(html)
        self.close()

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def shows(self, text: str) -> bool:
        """Whether the text is on the page as text: content, or a pre-filled field's value."""
        return text in self.text or any(text in value for value in self.values)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>: an event handler attribute")
            if EXECUTING.search(name):
                self.problems.append(f"<{tag} {name}>: an attribute made of a payload")
            if name in TEXT_ATTRIBUTES:
                self.values.append(value)
            elif name in URL_ATTRIBUTES:  # a web link may hold odd characters; its scheme is what runs
                self.links.append(value)
                if _scheme_is_dangerous(value):
                    self.problems.append(f"<{tag} {name}={value[:60]!r}>: a link that runs or hides a document")
            elif EXECUTING.search(value):
                self.problems.append(f"<{tag} {name}={value[:60]!r}>: a payload in an attribute that is not text")
            if name.startswith(("hx-", "ws-")) and "logout" in value:
                self.problems.append(f"<{tag} {name}={value[:60]!r}>: an htmx request made of a payload")
            if name == "style":
                self.problems.append(f"<{tag} style=...>: an inline style")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                self.problems.append(f"<script src={src!r}>: a script that is not ours")
        if tag in {"script", "style"}:
            self._raw = tag
        if tag in {"iframe", "object", "embed", "base", "frame", "frameset"}:
            self.problems.append(f"<{tag}>: an element no page of ours has")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in {"script", "style"}:
            self._raw = None

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data: str) -> None:
        if self._raw == "script" and data.strip():
            self.problems.append(f"<script> with inline content: {data.strip()[:60]!r}")
        if self._raw == "style" and EXECUTING.search(data):  # the printed report brings its own stylesheet
            self.problems.append(f"<style> made of a payload: {data.strip()[:60]!r}")
        if self._raw is not None:
            return
        self.texts.append(data)


def _scheme_is_dangerous(url: str) -> bool:
    """Whether a URL (as a browser reads it: control characters and spaces ignored, any case) runs script or
    opens a document of its own; pictures inlined as data:image/... are ours (the report's word cloud)."""
    squeezed = "".join(ch for ch in url if ch > " " and ch != "\x7f").lower()
    return squeezed.startswith(DANGEROUS_SCHEMES) and not squeezed.startswith(
        ("data:image/png;", "data:image/svg+xml;")
    )


def inert(html: str) -> Page:
    """The page parsed; fails the test, listing what is wrong, when any markup, handler or link came from input."""
    page = Page(html)
    assert not page.problems, "\n".join(page.problems)
    return page


def unguarded_cells(text: str) -> list[str]:
    """The CSV cells a spreadsheet would run as formulas (a guarded cell starts with an apostrophe)."""
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row if cell.startswith(FORMULA_STARTS)]


def unguarded(cell: str) -> str:
    """A CSV cell's text as it was before the formula guard."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def svg_problems(body: bytes) -> list[str]:
    """What in an SVG picture could run: script, foreign HTML, event handlers, links. Empty when it is clean."""
    root = ElementTree.fromstring(body)
    problems = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in {"script", "foreignObject", "iframe", "a"}:
            problems.append(f"<{tag}> in a picture")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1]
            if local.startswith("on") or (local == "href" and not value.startswith("#")):
                problems.append(f"<{tag} {local}={value[:60]!r}> in a picture")
    return problems
