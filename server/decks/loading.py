"""Reading a deck's YAML: the loader presenters' text needs, bounds on what a text may make, and YAML's errors in
plain words at their line."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from activities.i18n import _

MAX_DECK_BYTES = 256 * 1024
# The most values (mappings, lists and texts) a deck may stand for once its aliases are followed: a deck's text
# is at most 256 KiB, but a few lines of anchors and aliases ("billion laughs") can stand for billions of values.
MAX_NODES = 100_000


@dataclass(frozen=True)
class DeckProblem:
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = _("line {line}").format(line=self.line) if self.line else _("deck")
        return f"{where}: {self.path + ': ' if self.path else ''}{self.message}"


class DeckInvalid(ValueError):
    """A deck with one or more problems, each with its line."""

    def __init__(self, problems: Sequence[DeckProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class DeckLoader(yaml.SafeLoader):
    """YAML as presenters write it: only true and false are booleans, so `options: [Yes, No]` or a card called
    "On" stays text (YAML 1.1 would turn yes/no/on/off into booleans); a date stays the text it is written as."""


DeckLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
DeckLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
DeckLoader.add_constructor("tag:yaml.org,2002:timestamp", DeckLoader.construct_scalar)  # type: ignore[type-var]


def load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for lines) and the value of a deck's YAML text; DeckInvalid with the line and plain words for
    text that is not YAML, and for anchors and aliases that stand for more than MAX_NODES values."""
    try:
        root = yaml.compose(text, Loader=DeckLoader)
        _bounded(root)
        loader = DeckLoader(text)
        try:
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise DeckInvalid([yaml_problem(error, text)]) from None
    except RecursionError:  # brackets in brackets deeper than the parser goes
        raise DeckInvalid(
            [DeckProblem(1, "", _("not valid YAML: {reason}").format(reason=_("lists and mappings nest too deeply")))]
        ) from None
    return root, data


class _TooBig(yaml.YAMLError):
    def __init__(self, line: int | None) -> None:
        self.line = line


def _bounded(root: yaml.Node | None) -> None:
    """Refuse a node tree whose aliases make it stand for more than MAX_NODES values (or for itself, endlessly).
    Each node is counted once (aliases share their anchor's node), so this is as quick as the text is short."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:  # an anchor that contains an alias of itself
            raise _TooBig(node.start_mark.line + 1)
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        open_nodes.discard(key)
        sizes[key] = total
        if total > MAX_NODES:
            raise _TooBig(node.start_mark.line + 1)
        return total

    if root is not None:
        size(root)


def yaml_problem(error: yaml.YAMLError, text: str) -> DeckProblem:
    """A YAML error as a deck problem: its line and what to do about it, not the parser's words."""
    if isinstance(error, _TooBig):
        message = _(
            "anchors and aliases (&name, *name) here stand for more than {count} values: write the text out"
        ).format(count=f"{MAX_NODES:,}")
        return DeckProblem(error.line, "", _("not valid YAML: {reason}").format(reason=message))
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        message = (
            _("the character {code} cannot be in a deck: remove it").format(code=f"U+{error.character:04X}")
            if isinstance(error.character, int)
            else _("the text has a character that cannot be in a deck: remove it")
        )
        return DeckProblem(line, "", _("not valid YAML: {reason}").format(reason=message))
    problem = str(getattr(error, "problem", "") or "")
    context = str(getattr(error, "context", "") or "")
    problem_mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    where: int | None = problem_mark.line + 1 if problem_mark is not None else None
    lines = text.splitlines()
    plain = _plain(problem, context, lines[where - 1] if where and where <= len(lines) else "")
    unclosed = ("quoted scalar" in context and "end of stream" in problem) or "flow " in context
    if unclosed and context_mark is not None:
        where = context_mark.line + 1  # where the quote or bracket opened, not where the parser gave up
    return DeckProblem(where, "", _("not valid YAML: {reason}").format(reason=plain or problem or error))


_CANNOT_START = re.compile(r"found character '(.+)' that cannot start any token")


def _plain(problem: str, context: str, line_text: str) -> str | None:
    """What a parser's problem means for someone writing a deck, or None for one without plain words yet."""
    if problem == "mapping values are not allowed here":
        key, _colon, value = (part.strip() for part in line_text.strip().lstrip("- ").partition(":"))
        quoted = json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted text
        example = f"{key}: {quoted}" if key and value else 'title: "Roles: who decides?"'
        return _("a colon followed by a space is read as a new key; put the text in quotes: {example}").format(
            example=example
        )
    found = _CANNOT_START.search(problem)
    if found is not None:
        character = found.group(1)
        if character in ("\\t", "\t"):
            return _("a tab is used here: indent with spaces only")
        return _("text cannot start with {character}: put the text in quotes").format(character=character)
    if problem.startswith("expected <block end>") or "could not find expected ':'" in problem:
        return _(
            "the indentation does not line up: the keys of one activity start at the same column, and a text "
            "that goes on to a new line needs quotes"
        )
    if "end of stream" in problem and "quoted scalar" in context:
        return _("a quote is opened here and never closed: end the text with the same quote (\" or ')")
    if "expected ',' or ']'" in problem:
        return _(
            "a list in [brackets] is not closed, or an item in it has a colon: end the list with ], and put text "
            "with commas or colons in quotes"
        )
    if "expected ',' or '}'" in problem:
        return _("a mapping in {braces} is not closed: end it with }, and put text with commas or colons in quotes")
    if problem.startswith("could not determine a constructor for the tag"):
        tag = problem.rsplit(" ", 1)[-1].strip("'").replace("tag:yaml.org,2002:", "!!")
        return _("the tag {tag} is not allowed in a deck: remove it (or put the text in quotes)").format(tag=tag)
    if problem.startswith("found undefined alias"):
        return _("a * at the start of text is read as an alias: put the text in quotes")
    if problem.startswith("found unknown escape character"):
        return _(
            "a backslash in \"double quotes\" starts an escape: write \\\\ for a backslash, or use 'single quotes'"
        )
    if "but found another document" in problem:
        return _("a deck is one document: remove the line with --- and what follows, or make it a deck of its own")
    if context.startswith("found duplicate anchor"):
        return _("the same anchor (&name) is given twice: give each a name of its own")
    return None
