"""A deck's YAML checked as a deck: every problem with its line and path, in plain words."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from activities import Registry
from activities.base import ActivityKind
from activities.i18n import N_, _
from server.decks.loading import MAX_DECK_BYTES, DeckInvalid, DeckProblem, load_yaml
from server.models import Pace, ResultsMode
from server.names import TeamsInvalid, check_teams
from server.profanity import FilterSettings

MAX_ACTIVITIES = 200
COMMON_KEYS = {"kind", "title", "prompt", "results", "countdown", "filter", "notes"}
MAX_NOTES = 4000
MIN_COUNTDOWN, MAX_COUNTDOWN = 5, 3600
TEXT_KEYS = ("title", "prompt")  # every activity's texts a deck may give in several languages (and kinds' own keys)
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:_[A-Z]{2})?")  # as catalogue folders are named: en, es, pt_BR
# Bidi embeddings, overrides and isolates: one left open in a title or an option reorders the words around it wherever
# it is shown (the pages' own words, a CSV cell, a chart), so deck text loses them, as participants' text does.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


class ActivitySpec(BaseModel):
    kind: str
    title: str
    prompt: str = ""
    results: ResultsMode = ResultsMode.live
    countdown: int | None = None
    filter: FilterSettings = FilterSettings()
    config: dict[str, Any]
    # The presenter's notes: shown in the presenter view only.
    notes: str = ""
    # Other languages than the deck's: language -> key -> text (title, prompt) or list of texts (a kind's labels).
    texts: dict[str, dict[str, Any]] = {}


class DeckSpec(BaseModel):
    title: str
    description: str = ""
    pace: Pace = Pace.presenter
    language: str = "en"
    # Names, teams and scoring for the sessions started from it (server/names.py); a start form adds to them.
    nicknames: bool = False
    teams: list[str] = []
    streak: bool = False
    activities: list[ActivitySpec]


def parse_deck(text: str, registry: Registry) -> DeckSpec:
    """A checked deck from YAML text; raises DeckInvalid listing every problem with its line."""
    if len(text.encode()) > MAX_DECK_BYTES:
        raise DeckInvalid(
            [DeckProblem(None, "", _("a deck may be at most {size} KiB").format(size=MAX_DECK_BYTES // 1024))]
        )
    root, data = load_yaml(text)
    locate = _Locator(root)
    problems: list[DeckProblem] = []
    data = _text_only(data, (), locate, problems)
    if problems:
        raise DeckInvalid(problems)
    if not isinstance(data, dict):
        raise DeckInvalid([DeckProblem(1, "", _("a deck is a mapping with 'title' and 'activities'"))])
    known = {"title", "description", "pace", "language", "filter", "nicknames", "teams", "streak", "activities"}
    for key in sorted(set(data) - known, key=str):
        problems.append(DeckProblem(locate((key,)), str(key), _("unknown key")))
    title = data.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        problems.append(DeckProblem(locate(("title",)), "title", _("a title of 1 to 200 characters is required")))
        title = ""
    pace = data.get("pace", Pace.presenter.value)
    if not isinstance(pace, str) or pace not in {mode.value for mode in Pace}:
        problems.append(DeckProblem(locate(("pace",)), "pace", _("'presenter' or 'audience'")))
        pace = Pace.presenter.value
    language = data.get("language", "en")
    if not isinstance(language, str) or not LANGUAGE_CODE.fullmatch(language):
        problems.append(DeckProblem(locate(("language",)), "language", _("a language code, such as en or es")))
        language = "en"
    nicknames, streak = (_flag(data, key, locate, problems) for key in ("nicknames", "streak"))
    teams = _teams(data.get("teams", []), locate, problems)
    raw_activities = data.get("activities")
    if not isinstance(raw_activities, list) or not raw_activities:
        problems.append(DeckProblem(locate(("activities",)), "activities", _("a list of at least one activity")))
        raise DeckInvalid(problems)
    if len(raw_activities) > MAX_ACTIVITIES:
        problems.append(
            DeckProblem(
                locate(("activities",)), "activities", _("at most {count} activities").format(count=MAX_ACTIVITIES)
            )
        )
    deck_filter = _parse_filter(data.get("filter"), FilterSettings(), ("filter",), "filter", locate, problems)
    activities = []
    for index, raw in enumerate(raw_activities):
        spec = _parse_activity(index, raw, registry, locate, problems, deck_filter, language)
        if spec is not None:
            activities.append(spec)
    if problems:
        raise DeckInvalid(problems)
    return DeckSpec(
        title=title.strip(),
        description=str(data.get("description", "")),
        pace=Pace(pace),
        language=language,
        nicknames=nicknames,
        teams=teams,
        streak=streak,
        activities=activities,
    )


def _flag(data: dict[Any, Any], key: str, locate: _Locator, problems: list[DeckProblem]) -> bool:
    """A deck-level switch (`nicknames: true`); false when absent."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        problems.append(DeckProblem(locate((key,)), key, _("true or false")))
        return False
    return value


def _teams(value: Any, locate: _Locator, problems: list[DeckProblem]) -> list[str]:
    """The deck's teams, checked as a start form's are (server/names.py check_teams)."""
    if not isinstance(value, list) or not all(isinstance(team, str) for team in value):
        problems.append(DeckProblem(locate(("teams",)), "teams", _("a list of team names")))
        return []
    try:
        return check_teams(value)
    except TeamsInvalid as error:
        problems.append(DeckProblem(locate(("teams",)), "teams", str(error)))
        return []


def _parse_filter(
    raw: Any, base: FilterSettings, here: tuple[Any, ...], name: str, locate: _Locator, problems: list[DeckProblem]
) -> FilterSettings:
    """A `filter:` mapping over `base` (the deck's, for an activity): the keys it gives replace base's."""
    if raw is None:
        return base
    if not isinstance(raw, dict):
        problems.append(DeckProblem(locate(here), name, _("a mapping of profanity, languages and extra_words")))
        return base
    try:
        return FilterSettings.model_validate({**base.model_dump(), **raw})
    except ValidationError as error:
        problems.extend(_problems_of(error, here, name, locate))
        return base


def _parse_activity(
    index: int,
    raw: Any,
    registry: Registry,
    locate: _Locator,
    problems: list[DeckProblem],
    deck_filter: FilterSettings,
    language: str,
) -> ActivitySpec | None:
    here = ("activities", index)
    name = f"activities[{index}]"
    if not isinstance(raw, dict):
        problems.append(DeckProblem(locate(here), name, _("an activity is a mapping with 'kind' and 'title'")))
        return None
    kind_name = raw.get("kind")
    if not isinstance(kind_name, str) or kind_name not in registry:
        known = ", ".join(registry.names())
        problems.append(
            DeckProblem(
                locate((*here, "kind")),
                f"{name}.kind",
                _("unknown kind {kind} ({known})").format(kind=repr(kind_name), known=known),
            )
        )
        return None
    before = len(problems)
    raw, texts = _by_language(raw, registry[kind_name], language, here, name, locate, problems)
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        problems.append(DeckProblem(locate((*here, "title")), f"{name}.title", _("a title of 1 to 200 characters")))
        title = ""
    prompt = raw.get("prompt", "")
    if not isinstance(prompt, str) or len(prompt) > 1000:
        problems.append(
            DeckProblem(
                locate((*here, "prompt")), f"{name}.prompt", _("text of at most {count} characters").format(count=1000)
            )
        )
        prompt = ""
    results = raw.get("results", "live")
    if not isinstance(results, str) or results not in {mode.value for mode in ResultsMode}:
        problems.append(DeckProblem(locate((*here, "results")), f"{name}.results", _("'live' or 'hidden'")))
    countdown = raw.get("countdown")
    if countdown is not None and (
        not isinstance(countdown, int) or isinstance(countdown, bool) or not MIN_COUNTDOWN <= countdown <= MAX_COUNTDOWN
    ):
        where = locate((*here, "countdown"))
        problems.append(
            DeckProblem(
                where,
                f"{name}.countdown",
                _("seconds, from {low} to {high}").format(low=MIN_COUNTDOWN, high=MAX_COUNTDOWN),
            )
        )
    notes = raw.get("notes", "")
    if not isinstance(notes, str) or len(notes) > MAX_NOTES:
        where = locate((*here, "notes"))
        problems.append(
            DeckProblem(where, f"{name}.notes", _("text of at most {count} characters").format(count=MAX_NOTES))
        )
        notes = ""
    kind = registry[kind_name]
    screened = FilterSettings()  # kinds without free text keep the defaults: nothing of theirs is screened
    if kind.takes_free_text:
        screened = _parse_filter(raw.get("filter"), deck_filter, (*here, "filter"), f"{name}.filter", locate, problems)
    elif "filter" in raw:
        where = locate((*here, "filter"))
        problems.append(
            DeckProblem(
                where, f"{name}.filter", _("a {kind} has no text typed by people to filter").format(kind=kind_name)
            )
        )
    config = {key: value for key, value in raw.items() if key not in COMMON_KEYS}
    try:
        parsed = registry[kind_name].parse_config(config)
    except ValidationError as error:
        problems.extend(_problems_of(error, here, name, locate))
    if len(problems) > before:
        return None
    for other, fields in texts.items():
        _check_translation(kind, config, other, fields, here, name, locate, problems)
    if len(problems) > before:
        return None
    return ActivitySpec(
        kind=kind_name,
        title=title.strip(),
        prompt=prompt.strip(),
        results=ResultsMode(results),
        countdown=countdown,
        filter=screened,
        config=parsed.model_dump(mode="json"),
        notes=notes.strip("\n"),
        texts=texts,
    )


def _by_language(
    raw: dict[str, Any],
    kind: ActivityKind[Any, Any],
    language: str,
    here: tuple[Any, ...],
    name: str,
    locate: _Locator,
    problems: list[DeckProblem],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The activity with every text in the deck's `language`, and its texts in the other languages it gives.

    A text may be a mapping by language (`title: {en: Three words, es: Tres palabras}`), and so may each item of
    a kind's translatable list (`options: [{en: Yes, es: Sí}, ...]`); an item without a language falls back to the
    deck's language, so every language has as many items as the deck."""
    resolved = dict(raw)
    texts: dict[str, dict[str, Any]] = {}
    allowed = {*TEXT_KEYS, *kind.translatable}
    structured = structured_keys(kind)
    for key, value in raw.items():
        where, path = (*here, key), f"{name}.{key}"
        if key in structured:
            continue  # an image (activities/images.py) or another setting made of keys: the kind's Config checks it
        if isinstance(value, dict) and key != "filter":
            if key not in allowed:
                listed = ", ".join(sorted(allowed))
                problems.append(
                    DeckProblem(
                        locate(where), path, _("only {keys} may be given in several languages").format(keys=listed)
                    )
                )
                resolved[key] = _stand_in(value, language)
                continue
            resolved[key], others = _one_text(value, language, where, path, locate, problems)
            for other, text in others.items():
                texts.setdefault(other, {})[key] = text
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            if key not in kind.translatable:
                message = _("a {kind} activity's {key} cannot be given in several languages").format(
                    kind=kind.name, key=key
                )
                problems.append(DeckProblem(locate(where), path, message))
                resolved[key] = [_stand_in(item, language) if isinstance(item, dict) else item for item in value]
                continue
            items = [
                _one_text(item, language, (*where, i), f"{path}[{i}]", locate, problems)
                if isinstance(item, dict)
                else (item, {})
                for i, item in enumerate(value)
            ]
            resolved[key] = [text for text, _ in items]
            for other in sorted({other for _, others in items for other in others}):
                texts.setdefault(other, {})[key] = [others.get(other, text) for text, others in items]
    return resolved, texts


@cache
def structured_keys(kind: ActivityKind[Any, Any]) -> frozenset[str]:
    """A kind's settings whose values are mappings (an image's `media` and `alt`), or lists of them (an image per
    option): their keys are the setting's own, never languages."""
    schema = kind.config_model.model_json_schema()
    found = set()
    for key, field in schema.get("properties", {}).items():
        shapes = [field, *field.get("anyOf", []), field.get("items", {})]
        shapes += [item for shape in shapes for item in shape.get("anyOf", [])]
        shapes += [shape.get("items", {}) for shape in shapes]
        if any("$ref" in shape or shape.get("type") == "object" for shape in shapes):
            found.add(key)
    return frozenset(found)


def _one_text(
    mapping: dict[Any, Any],
    language: str,
    where: tuple[Any, ...],
    path: str,
    locate: _Locator,
    problems: list[DeckProblem],
) -> tuple[str, dict[str, str]]:
    """A text given by language: the deck language's, and the others'; a problem for a bad mapping."""
    others: dict[str, str] = {}
    for code, text in mapping.items():
        if not isinstance(code, str) or not LANGUAGE_CODE.fullmatch(code):
            problems.append(
                DeckProblem(
                    locate((*where, code)),
                    path,
                    _("{code} is not a language code, such as en or es").format(code=repr(code)),
                )
            )
        elif not isinstance(text, str):
            problems.append(DeckProblem(locate((*where, code)), f"{path}.{code}", _("text, in that language")))
        elif code != language:
            others[code] = text
    own = mapping.get(language)
    if not isinstance(own, str):
        message = _("give the text in the deck's language ({language}) too: other languages fall back to it").format(
            language=language
        )
        problems.append(DeckProblem(locate(where), path, message))
        return str(_stand_in(mapping, language)), others
    return own, others


def _stand_in(mapping: dict[Any, Any], language: str) -> Any:
    """What a mapping that is a problem already stands for while the rest is checked, so one mistake is not also
    reported as a missing or mistyped value: its deck-language value, else its first."""
    return mapping.get(language, next(iter(mapping.values()), ""))


def _check_translation(
    kind: ActivityKind[Any, Any],
    config: dict[str, Any],
    language: str,
    fields: dict[str, Any],
    here: tuple[Any, ...],
    name: str,
    locate: _Locator,
    problems: list[DeckProblem],
) -> None:
    """Hold an activity's texts in another language to the rules of the deck's own (lengths, no repeats), and tidy
    them as the kind tidies its own (runs of spaces)."""
    limits = {"title": 200, "prompt": 1000}
    for key in TEXT_KEYS:
        if key in fields:
            fields[key] = fields[key].strip()
            if (key == "title" and not fields[key]) or len(fields[key]) > limits[key]:
                where = locate((*here, key, language))
                problems.append(
                    DeckProblem(
                        where,
                        f"{name}.{key}.{language}",
                        _("text of 1 to {count} characters").format(count=limits[key]),
                    )
                )
    labels = {key: value for key, value in fields.items() if key in kind.translatable}
    if not labels:
        return
    try:
        translated = kind.parse_config({**config, **labels}).model_dump(mode="json")
    except ValidationError as error:
        problems.extend(_problems_of(error, here, name, locate, _("in {language}: ").format(language=language)))
        return
    fields.update({key: translated[key] for key in labels})


def _problems_of(
    error: ValidationError, here: tuple[Any, ...], name: str, locate: _Locator, prefix: str = ""
) -> list[DeckProblem]:
    """A model's validation errors as deck problems, each at the line of the key it names (or its parent's)."""
    found = []
    for item in error.errors():
        loc = tuple(item["loc"])
        line = locate((*here, *loc)) or locate((*here, *loc[:1])) or locate(here)
        path = ".".join(str(part) for part in loc)
        found.append(DeckProblem(line, f"{name}.{path}", prefix + validation_message(item)))
    return found


def validation_message(item: ErrorDetails) -> str:
    """What a model's validation error says, in the language being rendered: a kind's own refusal as it wrote it
    (translated where it was raised); pydantic's commonest errors in the catalogue's words where it translates them,
    else (English) in pydantic's own."""
    message = VALIDATION_MESSAGES.get(item["type"])
    translated = _(message) if message is not None else None
    if message is not None and translated is not None and translated != message:
        try:
            return translated.format(**(item.get("ctx") or {}))
        except (KeyError, IndexError):
            pass
    return item["msg"].removeprefix("Value error, ")


VALIDATION_MESSAGES = {
    "missing": N_("this is required"),
    "extra_forbidden": N_("unknown key"),
    "string_type": N_("text is needed here"),
    "string_too_short": N_("at least {min_length} characters"),
    "string_too_long": N_("at most {max_length} characters"),
    "too_short": N_("at least {min_length} items"),
    "too_long": N_("at most {max_length} items"),
    "list_type": N_("a list is needed here"),
    "int_parsing": N_("a whole number is needed here"),
    "int_type": N_("a whole number is needed here"),
    "int_from_float": N_("a whole number is needed here"),
    "float_parsing": N_("a number is needed here"),
    "float_type": N_("a number is needed here"),
    "bool_parsing": N_("true or false"),
    "bool_type": N_("true or false"),
    "greater_than_equal": N_("at least {ge}"),
    "less_than_equal": N_("at most {le}"),
    "greater_than": N_("more than {gt}"),
    "less_than": N_("less than {lt}"),
    "literal_error": N_("one of {expected}"),
    "enum": N_("one of {expected}"),
}
"""Pydantic's error types that decks meet most, as a facilitator reads them (placeholders: the error's context)."""


def _text_only(node: Any, path: tuple[Any, ...], locate: _Locator, problems: list[DeckProblem]) -> Any:
    """The loaded deck with bidi controls taken out of its texts; a text that cannot be stored or shown (YAML's
    escapes make control characters and halves of surrogate pairs) is a problem at its line."""
    if isinstance(node, dict):
        return {
            _text_only(key, path, locate, problems): _text_only(value, (*path, key), locate, problems)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_text_only(item, (*path, index), locate, problems) for index, item in enumerate(node)]
    if not isinstance(node, str):
        return node
    try:  # "\ud83d\ude00" is one emoji written as two escapes: join such pairs, refuse a half
        text = node.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        problems.append(
            DeckProblem(
                locate(path),
                _dotted(path),
                _(
                    "half of a surrogate pair (an escape from \\ud800 to \\udfff) is not text: "
                    "write the character itself"
                ),
            )
        )
        return ""
    control = next((ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r"), None)
    if control is not None:
        problems.append(
            DeckProblem(
                locate(path),
                _dotted(path),
                _("the control character {code} cannot be shown: remove it").format(code=f"U+{ord(control):04X}"),
            )
        )
        return ""
    return text.translate(BIDI_CONTROLS)


def _dotted(path: tuple[Any, ...]) -> str:
    """A path as problems name it: `activities[2].options[0]`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")


class _Locator:
    """Finds the line of a path (keys and list indexes) in the YAML node tree."""

    def __init__(self, root: yaml.Node | None) -> None:
        self._root = root

    def __call__(self, path: tuple[Any, ...]) -> int | None:
        node = self._root
        line = None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
                if match is None:
                    return line
                line = match[0].start_mark.line + 1
                node = match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line if line is not None else (node.start_mark.line + 1 if node is not None else None)
