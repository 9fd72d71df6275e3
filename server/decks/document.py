"""A deck as the editor edits it, a "document": exactly the mapping its YAML loads to (texts in several languages
as `{en: ..., es: ...}` mappings, as in YAML), and back to YAML that loads to the same document.

`deck_document(deck_yaml(d)) == d` for every JSON document (strings, whole numbers, booleans, null, lists and
mappings with text keys), and `deck_yaml` is stable: keys in the document's order, text as itself, block style,
text with line breaks as `|` blocks, and quotes only where the deck loader would read the text as something else.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from server.decks.loading import DeckInvalid, DeckLoader, DeckProblem, load_yaml


def deck_document(source: str) -> dict[str, Any]:
    """The document a deck's YAML text loads to; DeckInvalid (with the line) for text that is not YAML, or that
    is YAML but not a mapping of values JSON can carry."""
    _text, data = load_yaml(source)
    if not isinstance(data, dict):
        raise DeckInvalid([DeckProblem(1, "", "a deck is a mapping with 'title' and 'activities'")])
    document: dict[str, Any] = _json_like(data, "")
    return document


def _json_like(value: Any, path: str) -> Any:
    """The loaded value as JSON carries it: mapping keys as text (`1: one` has the key "1"); a value JSON has no
    word for (a set, binary data, an infinite number) is a problem."""
    if isinstance(value, dict):
        return {_key(key): _json_like(item, _join(path, _key(key))) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_like(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise DeckInvalid([DeckProblem(None, path, "a deck holds text, numbers, lists and mappings: put this in quotes")])


def _key(key: Any) -> str:
    """A mapping key as text, as YAML writes it (`true: x` has the key "true", `null: x` the key "null")."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def deck_yaml(document: dict[str, Any]) -> str:
    """A document as readable YAML that `deck_document` loads back to the same document."""
    return yaml.dump(
        document,
        Dumper=DeckDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=2**31 - 1,  # a long text stays on its line: folding it is correct YAML, but not what people wrote
        indent=2,
    )


class DeckDumper(yaml.SafeDumper):
    """Writes decks as people write them: lists indented under their key, text with line breaks as `|` blocks,
    and plain text wherever the deck loader reads it back as text (so `Yes` and `On` need no quotes, but `true`,
    `1.0`, `null`, `~` and `2026-12-07` get them)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


DeckDumper.yaml_implicit_resolvers = {first: list(found) for first, found in DeckLoader.yaml_implicit_resolvers.items()}


# Line breaks other than \n: YAML reads them as line breaks (folding them to a space or \n) unless escaped.
_OTHER_BREAKS = frozenset("\r\x85\u2028\u2029")


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = None
    if not _OTHER_BREAKS.isdisjoint(text):
        style = '"'  # escaped: \N, \L, \P, \r
    elif "\n" in text.rstrip("\n"):
        style = "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


DeckDumper.add_representer(str, _text)
