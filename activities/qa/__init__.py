"""`qa`: audience questions beside any activity; people ask, upvote others' questions, and the presenter moderates.

A participant's answer is their whole Q&A state (the questions they asked and the keys they upvoted); each form
carries one change to it (ask, upvote or un-upvote, withdraw), applied to the answer they last had acknowledged.
The same question asked by two people is one question: its key is a digest of its tidied, case-folded text.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from activities.base import (
    CHART_ROWS,
    KEY,
    ActivityKind,
    Chart,
    ChartRow,
    FormFields,
    KindConfig,
    KindSubmission,
    ListItem,
    Screening,
    SignedTally,
    SubmissionInvalid,
    digest,
    field_values,
    moderation_key,
    most_common,
    shown,
    toggled,
)
from activities.i18n import N_, _, ngettext
from activities.qa.api import QaAnswer, QaModeration, QaResults
from activities.text import pieces, same_text, tidy, tidy_long

DEFAULT_LENGTH = 200
MIN_LENGTH_LIMIT = 40
MAX_LENGTH_LIMIT = 500
DEFAULT_QUESTIONS = 5
MAX_QUESTIONS_LIMIT = 20
MAX_NAME = 40
# More upvotes than this in one answer is a forged form: nobody taps two hundred buttons in one session.
MAX_UPVOTES = 200
# The projector shows the highlighted question and at most this many others (highest score first).
MAX_PROJECTED = 12
# Phones are pushed at most this many questions (the push goes to every phone on the Q&A).
MAX_SHARED = 50
# Which moderation list each presenter verb adds its question to (True) or removes it from (False).
VERBS: dict[str, tuple[str, bool]] = {
    "approve": ("approved", True),
    "hide": ("hidden", True),
    "show": ("hidden", False),
    "answer": ("answered", True),
    "reopen": ("answered", False),
    "highlight": ("highlighted", True),
    "unhighlight": ("highlighted", False),
}
# Verbs that also take the question off the "now answering" spot.
ENDS_HIGHLIGHT = frozenset({"hide", "answer"})


class QaConfig(KindConfig):
    moderated: bool = Field(
        default=True, description=N_("Questions reach the projector and other phones only once the presenter approves")
    )
    names: bool = Field(default=True, description=N_("Participants may sign a question with a name"))
    max_length: int = Field(
        default=DEFAULT_LENGTH, ge=MIN_LENGTH_LIMIT, le=MAX_LENGTH_LIMIT, description=N_("Characters per question")
    )
    max_questions: int = Field(
        default=DEFAULT_QUESTIONS, ge=1, le=MAX_QUESTIONS_LIMIT, description=N_("Questions per participant")
    )


def question_key(text: str) -> str:
    """The key of a question: a digest of its text tidied to one line ignoring case, so the same question asked
    twice is one, however its lines were broken."""
    return digest(same_text(text))


class Question(BaseModel):
    """One question a participant asked, signed with a name or anonymous."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=MAX_LENGTH_LIMIT)
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)

    @property
    def key(self) -> str:
        return question_key(self.text)

    @property
    def pieces(self) -> list[str]:
        """The text cut where a line may break (as the tally's questions are, for the same templates)."""
        return pieces(self.text)


class QaSubmission(KindSubmission):
    """A participant's Q&A: the questions they asked (in asking order) and the questions they upvoted."""

    questions: tuple[Question, ...] = Field(default=(), max_length=MAX_QUESTIONS_LIMIT)
    upvotes: tuple[str, ...] = Field(default=(), max_length=MAX_UPVOTES)

    @model_validator(mode="before")
    @classmethod
    def _change(cls, raw: Any, info: ValidationInfo) -> Any:
        """A form's change (ask, upvote, withdraw) applied to the participant's previous answer."""
        context = info.context or {}
        if context.get("stored") or "config" not in context or not isinstance(raw, dict):
            return raw
        return changed(context["config"], context.get("previous"), raw)

    @property
    def keys(self) -> list[str]:
        """The keys of this participant's own questions, in asking order."""
        return [question.key for question in self.questions]

    def free_text(self) -> list[tuple[str, str]]:
        """Each question's text and the name it is signed with (both are on the projector), under its key."""
        texts = [(question.key, question.text) for question in self.questions]
        return texts + [(question.key, question.name) for question in self.questions if question.name]


def changed(config: QaConfig, previous: QaSubmission | None, form: Mapping[str, Any]) -> dict[str, Any]:
    """The participant's Q&A after one change; ValueError with a message for them when it cannot be made."""
    questions = list(previous.questions) if previous is not None else []
    upvotes = set(previous.upvotes) if previous is not None else set()
    own = [question.key for question in questions]
    withdraw: list[str] = list(form.get("withdraw") or [])
    upvote: list[str] = list(form.get("upvote") or [])
    if withdraw:
        if len(withdraw) != 1 or withdraw[0] not in own:
            raise ValueError(_("You can only withdraw your own questions."))
        questions = [question for question in questions if question.key != withdraw[0]]
    elif upvote:
        key = upvote[0]
        if len(upvote) != 1 or not KEY.fullmatch(key):
            raise ValueError(_("Upvote a question from the list."))
        if key in own:
            raise ValueError(_("You cannot upvote your own question."))
        if key in upvotes:
            upvotes.discard(key)
        elif len(upvotes) >= MAX_UPVOTES:
            raise ValueError(_("You can upvote at most {count} questions.").format(count=MAX_UPVOTES))
        else:
            upvotes.add(key)
    else:
        question = _asked(config, str(form.get("question") or ""), str(form.get("name") or ""))
        if question.key in own:
            raise ValueError(_("You have asked this already."))
        if len(questions) >= config.max_questions:
            most = ngettext(
                "You can ask at most one question; withdraw one to ask another.",
                "You can ask at most {count} questions; withdraw one to ask another.",
                config.max_questions,
            )
            raise ValueError(most.format(count=config.max_questions))
        questions.append(question)
        upvotes.discard(question.key)  # asking it yourself counts you already
    return {"questions": [question.model_dump() for question in questions], "upvotes": sorted(upvotes)}


def _asked(config: QaConfig, typed: str, typed_name: str) -> Question:
    text = tidy_long(typed)  # typed in a textarea: its line breaks are kept
    if not text:
        raise ValueError(_("Write a question before sending."))
    if len(text) > config.max_length:
        message = _("Keep your question to {limit} characters; it has {count}.")
        raise ValueError(message.format(limit=config.max_length, count=len(text)))
    name = tidy(typed_name) if config.names else ""
    if len(name) > MAX_NAME:
        raise ValueError(
            _("Keep your name to {limit} characters; it has {count}.").format(limit=MAX_NAME, count=len(name))
        )
    return Question(text=text, name=name or None)


def _bump(counter: Counter[str], key: str, by: int) -> None:
    counter[key] += by
    if counter[key] <= 0:
        del counter[key]


class QaTally(SignedTally[QaConfig, QaSubmission]):
    submission_model = QaSubmission

    def clear(self) -> None:
        self.askers: Counter[str] = Counter()  # question key -> people who asked it
        self.upvoters: Counter[str] = Counter()  # question key -> people who upvoted it (not its askers)
        self.texts: dict[str, Counter[str]] = defaultdict(Counter)  # key -> its texts, one per asker
        self.names: dict[str, Counter[str]] = defaultdict(Counter)  # key -> the names its askers gave
        self.asking = 0  # people with at least one question

    def count(self, submission: QaSubmission, by: int) -> None:
        own: set[str] = set()
        for question in submission.questions:
            key = question.key
            if key in own:  # a stored answer has distinct keys; were it not so, a person still counts once
                continue
            own.add(key)
            _bump(self.askers, key, by)
            _bump(self.texts[key], question.text, by)
            if not self.texts[key]:
                del self.texts[key]
            if question.name:
                _bump(self.names[key], question.name, by)
            if not self.names[key]:
                del self.names[key]
        for key in set(submission.upvotes) - own:
            _bump(self.upvoters, key, by)
        if own:
            self.asking += by

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        """Questions ordered highlighted first, then unanswered by score, then answered; ties by text, so the
        order never depends on the order answers arrived in. Upvotes of keys nobody asked are ignored."""
        hidden = set(moderation.get("hidden", ()))
        approved = set(moderation.get("approved", ()))
        answered = set(moderation.get("answered", ()))
        highlighted = set(moderation.get("highlighted", ()))
        screening = Screening.of(moderation)
        questions = [
            self._question(key, askers, hidden, approved, answered, highlighted, screening.holds(key))
            for key, askers in self.askers.items()
        ]
        questions.sort(
            key=lambda q: (not q["highlighted"], q["answered"], -q["score"], q["text"].casefold(), q["text"], q["key"])
        )
        visible = [question for question in questions if question["visible"]]
        top = next((question for question in visible if question["highlighted"]), None)
        waiting = [question for question in visible if question is not top and not question["answered"]]
        return {
            "respondents": self.respondents,
            "moderated": self.config.moderated,
            "asked": len(questions),
            "people": self.asking,
            "questions": questions,
            "visible": visible[:MAX_SHARED],
            "more_visible": max(0, len(visible) - MAX_SHARED),
            "highlighted": top,
            "projected": waiting[:MAX_PROJECTED],
            "more": max(0, len(waiting) - MAX_PROJECTED),
            "answered": sum(question["answered"] for question in visible),
            "pending": sum(question["pending"] and not question["hidden"] for question in questions),
        }

    def _question(
        self,
        key: str,
        askers: int,
        hidden: set[str],
        approved: set[str],
        answered: set[str],
        highlighted: set[str],
        filtered: bool,
    ) -> dict[str, Any]:
        text = most_common(self.texts[key])  # the most common wording
        upvoters = self.upvoters.get(key, 0)
        pending = self.config.moderated and key not in approved
        return {
            "key": key,
            "text": text,
            "pieces": pieces(text),
            "names": sorted(self.names.get(key, ()), key=lambda name: (name.casefold(), name)),
            "askers": askers,
            "upvoters": upvoters,
            "score": askers + upvoters,
            "approved": key in approved,
            "hidden": key in hidden,
            "answered": key in answered,
            "highlighted": key in highlighted,
            "pending": pending,
            "filtered": filtered,  # held back by the profanity filter, as an unapproved question is
            "visible": key not in hidden and not pending and not filtered,
        }


class Qa(ActivityKind[QaConfig, QaSubmission]):
    name = "qa"
    label = N_("Q&A")
    description = N_("Questions from the room, which people upvote; open beside the other activities.")
    config_model = QaConfig
    submission_model = QaSubmission
    tally_class = QaTally
    answer_model = QaAnswer
    moderation_model = QaModeration
    results_model = QaResults
    moderation_actions = frozenset(VERBS)
    ambient = True
    shares_results = True

    def submission_from_form(self, config: QaConfig, form: FormFields) -> dict[str, Any]:
        # Repeated text fields (a forged form) are joined, then held to the same limits as one.
        return {
            "question": " ".join(form.get("question", ())),
            "name": " ".join(form.get("name", ())),
            "upvote": field_values(form, "upvote"),
            "withdraw": field_values(form, "withdraw"),
        }

    def entries(self, submission: QaSubmission) -> int:
        return len(submission.questions)  # upvotes are taps on others' questions, not entries

    def moderate(self, moderation: dict[str, Any], action: str, form: FormFields) -> dict[str, Any]:
        if action not in VERBS:
            raise SubmissionInvalid("Choose approve, hide, show, answer, reopen, highlight or unhighlight.")
        key = moderation_key(form, "question", "question", action)
        if action == "show":
            return shown(moderation, key)
        if action == "highlight":  # one question is answered at a time: highlighting replaces the last one
            return {**moderation, "highlighted": [key]}
        name, present = VERBS[action]
        state = toggled(moderation, name, key, present)
        if action in ENDS_HIGHLIGHT:
            state = toggled(state, "highlighted", key, False)
        return state

    def without_people(self, snapshot: Mapping[str, Any]) -> dict[str, Any]:
        """Questions keep their text and counts; the names they were signed with go."""

        def unsigned(value: Any) -> Any:
            if isinstance(value, dict):
                return {key: [] if key == "names" else unsigned(item) for key, item in value.items()}
            if isinstance(value, list):
                return [unsigned(item) for item in value]
            return value

        result: dict[str, Any] = unsigned(dict(snapshot))
        return result

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {"line": "question", "label": question["text"], "count": question["score"]}
            for question in snapshot.get("questions", [])
            if question["visible"]
        ]

    def export_rows(self, config: QaConfig, submission: QaSubmission) -> list[dict[str, Any]]:
        """One row per question asked, and one of the upvotes (also when nothing else is left to show)."""
        rows = [
            {"key": question.key, "question": question.text, "name": question.name or "", "upvoted": ""}
            for question in submission.questions
        ]
        if submission.upvotes or not rows:
            rows.append({"key": "", "question": "", "name": "", "upvoted": " ".join(submission.upvotes)})
        return rows

    def chart(self, config: QaConfig, snapshot: Mapping[str, Any]) -> Chart | None:
        """The questions the room saw with the most votes (askers, then upvoters); None when there were none."""
        shown = _by_votes(snapshot)
        if not shown:
            return None
        rows = tuple(
            ChartRow(tidy(question["text"]), (question["askers"], question["upvoters"]), f"{question['score']} votes")
            for question in shown[:CHART_ROWS]
        )
        return Chart(rows, unit="people", series=("asked it", "upvoted it"))

    def listing(self, config: QaConfig, snapshot: Mapping[str, Any]) -> list[ListItem]:
        """Every question the room saw (approved, not hidden), most votes first, with who signed it."""
        items = []
        for question in _by_votes(snapshot):
            note = f"asked by {question['askers']}, upvoted by {question['upvoters']}"
            if question["names"]:
                note += f" ({', '.join(question['names'])})"
            items.append(ListItem(question["text"], note + (", answered" if question["answered"] else "")))
        return items


def _by_votes(snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
    questions = [question for question in snapshot["questions"] if question["visible"]]
    return sorted(questions, key=lambda q: (-q["score"], q["text"].casefold(), q["text"]))


kind = Qa()
