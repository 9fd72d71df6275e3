"""`open`: short open-ended answers, shown as cards; the presenter may hide, highlight, or approve each first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from activities.base import (
    CHART_ROWS,
    ActivityKind,
    Chart,
    ChartRow,
    FormFields,
    KindConfig,
    KindSubmission,
    ListItem,
    Screening,
    SubmissionInvalid,
    Tally,
    digest,
    moderated_as,
    moderation_key,
    most_common,
    shown,
    toggled,
)
from activities.i18n import N_, _
from activities.open.api import OpenAnswer, OpenModeration, OpenResults
from activities.text import pieces, same_text, tidy, tidy_long

DEFAULT_LENGTH = 280
MIN_LENGTH_LIMIT = 20
MAX_LENGTH_LIMIT = 1000
# The projector shows at most this many cards (highlighted and newest first); the rest are counted.
MAX_PROJECTED = 24
# Which moderation list each presenter verb adds its answer to (True) or removes it from (False).
VERBS: dict[str, tuple[str, bool]] = {
    "hide": ("hidden", True),
    "show": ("hidden", False),
    "highlight": ("highlighted", True),
    "unhighlight": ("highlighted", False),
    "approve": ("approved", True),
}


class OpenConfig(KindConfig):
    max_length: int = Field(
        default=DEFAULT_LENGTH, ge=MIN_LENGTH_LIMIT, le=MAX_LENGTH_LIMIT, description=N_("Characters per answer")
    )
    moderated: bool = Field(
        default=False, description=N_("Answers reach the projector only once the presenter approves")
    )


class OpenSubmission(KindSubmission):
    text: str = Field(max_length=MAX_LENGTH_LIMIT)

    @field_validator("text", mode="before")
    @classmethod
    def _tidy(cls, raw: Any, info: ValidationInfo) -> Any:
        context = info.context or {}
        if context.get("stored") or not isinstance(raw, str):
            return raw
        config: OpenConfig = context["config"]
        text = tidy_long(raw)  # typed in a textarea: its line breaks are kept
        if not text:
            raise ValueError(_("Write an answer before sending."))
        if len(text) > config.max_length:
            raise ValueError(
                _("Keep your answer to {limit} characters; it has {count}.").format(
                    limit=config.max_length, count=len(text)
                )
            )
        return text

    def free_text(self) -> list[tuple[str, str]]:
        return [(answer_key(self.text), self.text)]


def answer_key(text: str) -> str:
    """The moderation key of an answer: a digest of its text as answers are compared (`same_text`: ignoring case and
    how its lines were broken, as Q&A's questions are), so answers that differ only so are one card, and an edited
    answer is a new one. (An answer in lower case on one line keeps the key it had before case was ignored.)"""
    return digest(same_text(text))


class OpenTally(Tally[OpenConfig, OpenSubmission]):
    submission_model = OpenSubmission

    def clear(self) -> None:
        # Per card (answer_key): how many people gave it, and each wording they gave it in (the most common is shown).
        self.people: Counter[str] = Counter()
        self.texts: dict[str, Counter[str]] = {}

    def add(self, submission: OpenSubmission) -> None:
        key = answer_key(submission.text)
        self.people[key] += 1
        self.texts.setdefault(key, Counter())[submission.text] += 1

    def retract(self, submission: OpenSubmission) -> None:
        key = answer_key(submission.text)
        self.people[key] -= 1
        self.texts[key][submission.text] -= 1
        if self.texts[key][submission.text] <= 0:
            del self.texts[key][submission.text]
        if self.people[key] <= 0:
            del self.people[key]
            del self.texts[key]

    def newest_versions(self) -> dict[str, int]:
        """Each card's newest version (people who wrote the same answer share one card)."""
        newest: dict[str, int] = {}
        for version, submission in self._latest.values():
            key = answer_key(submission.text)
            newest[key] = max(version, newest.get(key, 0))
        return newest

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        """Cards ordered highlighted first, then newest first, then by text: the same whatever the fold order. A card
        the profanity filter holds back (`filtered`) waits for the presenter as an unapproved one does."""
        screening = Screening.of(moderation)
        highlighted = set(moderation.get("highlighted", ()))
        newest = self.newest_versions()
        cards: list[dict[str, Any]] = []
        for key, count in self.people.items():
            text = most_common(self.texts[key])  # the wording most people gave (ties: alphabetically first)
            # Before answers were compared ignoring case, a wording's key was the digest of its text as typed.
            hidden, approved = moderated_as(moderation, key, {digest(wording) for wording in self.texts[key]})
            pending = self.config.moderated and not approved
            filtered = screening.holds(key)
            cards.append(
                {
                    "key": key,
                    "text": text,
                    "pieces": pieces(text),
                    "count": count,
                    "version": newest.get(key, 0),
                    "hidden": hidden,
                    "highlighted": key in highlighted,
                    "pending": pending,
                    "filtered": filtered,
                    "visible": not hidden and not pending and not filtered,
                }
            )
        cards.sort(key=lambda card: (not card["highlighted"], -card["version"], card["text"]))
        visible = [card for card in cards if card["visible"]]
        return {
            "respondents": self.respondents,
            "moderated": self.config.moderated,
            "cards": cards,
            "visible": visible[:MAX_PROJECTED],
            "more": max(0, len(visible) - MAX_PROJECTED),
            "pending": sum(card["pending"] and not card["hidden"] for card in cards),
        }


class Open(ActivityKind[OpenConfig, OpenSubmission]):
    name = "open"
    label = N_("Open question")
    description = N_("Short open answers, shown as cards you can hide, highlight or approve first.")
    config_model = OpenConfig
    submission_model = OpenSubmission
    tally_class = OpenTally
    answer_model = OpenAnswer
    moderation_model = OpenModeration
    results_model = OpenResults
    moderation_actions = frozenset(VERBS)

    def submission_from_form(self, config: OpenConfig, form: FormFields) -> dict[str, Any]:
        # Several "text" fields (a forged form) are joined, then held to the same limit as one.
        return {"text": " ".join(form.get("text", ()))}

    def moderate(self, moderation: dict[str, Any], action: str, form: FormFields) -> dict[str, Any]:
        if action not in VERBS:
            raise SubmissionInvalid("Choose hide, show, highlight, unhighlight or approve.")
        key = moderation_key(form, "answer", "answer", action)
        if action == "show":
            return shown(moderation, key)
        name, present = VERBS[action]
        return toggled(moderation, name, key, present)

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {"line": "answer", "label": card["text"], "count": card["count"]}
            for card in snapshot.get("cards", [])
            if card["visible"]
        ]

    def export_rows(self, config: OpenConfig, submission: OpenSubmission) -> list[dict[str, Any]]:
        return [{"text": submission.text}]

    def chart(self, config: OpenConfig, snapshot: Mapping[str, Any]) -> Chart | None:
        """The answers the room saw that several people gave, most people first; None when every one is unique."""
        shown = _by_people(snapshot)
        if not any(card["count"] > 1 for card in shown):
            return None
        rows = tuple(ChartRow(tidy(card["text"]), (card["count"],), str(card["count"])) for card in shown[:CHART_ROWS])
        return Chart(rows, unit="people who gave the answer")

    def listing(self, config: OpenConfig, snapshot: Mapping[str, Any]) -> list[ListItem]:
        """Every answer the room saw (approved, not hidden), most people first."""
        return [
            ListItem(card["text"], f"{card['count']} people" if card["count"] > 1 else "")
            for card in _by_people(snapshot)
        ]


def _by_people(snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
    cards = [card for card in snapshot["cards"] if card["visible"]]
    return sorted(cards, key=lambda card: (-card["count"], card["text"].casefold(), card["text"]))


kind = Open()
