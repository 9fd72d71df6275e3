"""`wordcloud`: the three-word prompt. Counts people, not submissions; drawn live as a cloud and a top list."""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, JsonValue, ValidationInfo, field_validator

from activities.base import (
    ActivityKind,
    Asset,
    FormFields,
    KindConfig,
    KindSubmission,
    ListItem,
    Offload,
    Screening,
    SubmissionInvalid,
    Tally,
    digest,
    field_values,
    shown,
)
from activities.i18n import N_, _
from activities.text import tidy
from activities.wordcloud.api import WordcloudAnswer, WordcloudModeration, WordcloudResults
from activities.wordcloud.image import draw
from activities.wordcloud.normalise import LANGUAGES, surface_form, word_key

MAX_ENTRIES = 10
MAX_ENTRY_LENGTH = 60
CLOUD_WORDS = 150
# The picture is drawn from size levels, not raw counts: a vote that does not move a word to another level
# leaves the picture (and its layout) exactly as it was. The top-words list beside it shows exact counts.
CLOUD_LEVELS = 6
IMAGE_CACHE_SIZE = 64
# A printed report lists this many top words under the cloud, with how many people gave each.
LISTED_WORDS = 20


class WordcloudConfig(KindConfig):
    entries: int = Field(default=3, ge=1, le=MAX_ENTRIES, description=N_("Entries per participant"))
    max_length: int = Field(default=25, ge=1, le=MAX_ENTRY_LENGTH, description=N_("Characters per entry"))
    fold_accents: bool = Field(default=False, description=N_("Count words that differ only by accents as one"))
    lemmatise: bool = Field(default=False, description=N_("Count forms of one word as one (lead, leading, leads)"))
    language: str = Field(
        default="en",
        description=N_("The language of the answers, for counting word forms"),
        json_schema_extra={"enum": list[JsonValue](sorted(LANGUAGES))},
    )

    @field_validator("language")
    @classmethod
    def _known_language(cls, language: str) -> str:
        if language not in LANGUAGES:
            raise ValueError(_("language must be one of {languages}").format(languages=", ".join(sorted(LANGUAGES))))
        return language


class Word(BaseModel):
    key: str
    text: str


class WordcloudSubmission(KindSubmission):
    words: list[Word]

    @field_validator("words", mode="before")
    @classmethod
    def _normalise(cls, raw: Any, info: ValidationInfo) -> Any:
        context = info.context or {}
        if context.get("stored"):
            return raw
        config: WordcloudConfig = context["config"]
        return normalise_entries(config, raw)

    def free_text(self) -> list[tuple[str, str]]:
        return [(word.key, word.text) for word in self.words]


def normalise_entries(config: WordcloudConfig, entries: list[str]) -> list[Word]:
    """What a participant typed as the words that count: tidied, checked, keyed, de-duplicated."""
    entries = [tidy(entry) for entry in entries if tidy(entry)]
    if not entries:
        raise ValueError(_("Type at least one word."))
    if len(entries) > config.entries:
        raise ValueError(_("At most {count} entries, please.").format(count=config.entries))
    words: dict[str, Word] = {}
    for entry in entries:
        if len(entry) > config.max_length:
            raise ValueError(
                _("Keep each entry to {limit} characters: {entry}…").format(
                    limit=config.max_length, entry=entry[: config.max_length]
                )
            )
        surface = surface_form(entry)
        if not surface:
            raise ValueError(_("An entry needs letters or digits, not only punctuation."))
        key = word_key(surface, accents=config.fold_accents, lemmatise=config.lemmatise, language=config.language)
        words.setdefault(key, Word(key=key, text=surface))
    return list(words.values())


class WordcloudTally(Tally[WordcloudConfig, WordcloudSubmission]):
    submission_model = WordcloudSubmission

    def clear(self) -> None:
        self.people: Counter[str] = Counter()
        self.forms: dict[str, Counter[str]] = {}

    def add(self, submission: WordcloudSubmission) -> None:
        for word in submission.words:
            self.people[word.key] += 1
            self.forms.setdefault(word.key, Counter())[word.text] += 1

    def retract(self, submission: WordcloudSubmission) -> None:
        for word in submission.words:
            self.people[word.key] -= 1
            self.forms[word.key][word.text] -= 1
            if self.people[word.key] <= 0:
                del self.people[word.key], self.forms[word.key]

    def label(self, key: str) -> str:
        """The most common way people wrote a key; ties go to the alphabetically first."""
        forms = self.forms[key]
        return min((form for form, n in forms.items() if n > 0), key=lambda form: (-forms[form], form))

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        """The words the room sees (`words`, drawn in `cloud`), and for the presenter those hidden and those the
        profanity filter holds back (`filtered`, each left out of the cloud until the presenter shows it)."""
        hidden = set(moderation.get("hidden", ()))
        screening = Screening.of(moderation)
        ranked = sorted(self.people.items(), key=lambda item: (-item[1], item[0]))
        words: list[dict[str, Any]] = [{"key": key, "text": self.label(key), "count": n} for key, n in ranked]
        held = {word["key"] for word in words if word["key"] not in hidden and screening.holds(word["key"])}
        room = [word for word in words if word["key"] not in hidden and word["key"] not in held]
        cloud = cloud_levels(room[:CLOUD_WORDS])
        return {
            "respondents": self.respondents,
            "words": room,
            "hidden": [word for word in words if word["key"] in hidden],
            "filtered": [word for word in words if word["key"] in held],
            "top": max((word["count"] for word in room), default=0),
            "cloud": cloud,
            "cloud_digest": digest(cloud),
        }


def cloud_levels(words: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(text, level 1..CLOUD_LEVELS) for the picture, biggest first, ties in alphabetical order."""
    top = max((word["count"] for word in words), default=0)
    levels = [(word["text"], -(-word["count"] * CLOUD_LEVELS // top)) for word in words]
    return sorted(levels, key=lambda item: (-item[1], item[0]))


class Wordcloud(ActivityKind[WordcloudConfig, WordcloudSubmission]):
    name = "wordcloud"
    label = N_("Word cloud")
    description = N_("A few words from everyone, shown as a cloud and a list of the most given words.")
    config_model = WordcloudConfig
    submission_model = WordcloudSubmission
    tally_class = WordcloudTally
    answer_model = WordcloudAnswer
    moderation_model = WordcloudModeration
    results_model = WordcloudResults
    moderation_actions = frozenset({"hide", "show"})
    assets = frozenset({"cloud.png", "cloud.svg"})

    def __init__(self) -> None:
        self._images: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
        self._drawing: dict[tuple[str, int, str], asyncio.Future[bytes]] = {}

    def submission_from_form(self, config: WordcloudConfig, form: FormFields) -> dict[str, Any]:
        return {"words": field_values(form, "word")}

    def entries(self, submission: WordcloudSubmission) -> int:
        return len(submission.words)

    def moderate(self, moderation: dict[str, Any], action: str, form: FormFields) -> dict[str, Any]:
        keys = field_values(form, "word")
        if action not in self.moderation_actions or len(keys) != 1:
            raise SubmissionInvalid("Choose one word to hide or show.")
        if action == "show":
            return shown(moderation, keys[0])
        hidden = [key for key in moderation.get("hidden", []) if key != keys[0]]
        return {**moderation, "hidden": sorted([*hidden, keys[0]])}

    async def render_asset(self, name: str, snapshot: Mapping[str, Any], seed: int, offload: Offload) -> Asset:
        """The cloud image, drawn off the event loop; one drawing per table, shared by every viewer."""
        fmt = name.rsplit(".", 1)[-1]
        if name not in self.assets:
            raise KeyError(name)
        key = (fmt, seed, snapshot["cloud_digest"])
        media_type = "image/svg+xml" if fmt == "svg" else "image/png"
        if key in self._images:
            self._images.move_to_end(key)
            return Asset(self._images[key], media_type)
        if key not in self._drawing:
            self._drawing[key] = asyncio.ensure_future(offload(draw, list(snapshot["cloud"]), seed, fmt))
        try:
            body = await asyncio.shield(self._drawing[key])
        finally:
            self._drawing.pop(key, None)
        self._images[key] = body
        while len(self._images) > IMAGE_CACHE_SIZE:
            self._images.popitem(last=False)
        return Asset(body, media_type)

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        people = int(snapshot.get("respondents") or 0)
        return [
            {
                "line": "word",
                "label": word["text"],
                "count": word["count"],
                "share": round(100 * word["count"] / people) if people else "",
            }
            for word in snapshot.get("words", [])
        ]

    def export_rows(self, config: WordcloudConfig, submission: WordcloudSubmission) -> list[dict[str, Any]]:
        return [{"entry": word.text, "normalised": word.key} for word in submission.words]

    def listing(self, config: WordcloudConfig, snapshot: Mapping[str, Any]) -> list[ListItem]:
        """The top words the room saw (hidden ones left out), most people first."""
        return [
            ListItem(word["text"], f"{word['count']} {'person' if word['count'] == 1 else 'people'}")
            for word in snapshot["words"][:LISTED_WORDS]
        ]


kind = Wordcloud()
