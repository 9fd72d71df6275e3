"""What every activity kind provides: config and submission models, a tally, templates, export rows."""

from __future__ import annotations

import hashlib
import json
import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter, ValidationError
from pydantic.types import JsonValue

from activities.i18n import N_, _

FormFields = Mapping[str, Sequence[str]]
"""A submitted form, each field a list of values (HTML forms repeat names for checkboxes)."""

Offload = Callable[..., Awaitable[Any]]
"""Runs a CPU-bound, picklable function away from the event loop: `await offload(fn, *args)`; raises OffloadFailed
when the worker died doing it."""


class OffloadFailed(RuntimeError):
    """The worker process running offloaded work died (killed for memory, crashed) before it answered. The work is
    lost, not the worker: the next call gets a fresh one."""


class SubmissionInvalid(ValueError):
    """A submission a participant must correct; the message is shown to them as it is."""


class KindConfig(BaseModel):
    """Base of every kind's Config: unknown keys are errors, so a deck typo is caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class KindSubmission(BaseModel):
    """Base of every kind's Submission (validated with the activity's config in the context)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def free_text(self) -> list[tuple[str, str]]:
        """The texts a participant wrote in this answer that the room would read, each with the moderation key of
        the item that would show it (a word, an answer card, a question): (key, text). The server screens them
        with its profanity filter and names the keys it flags under `filtered` in the moderation a snapshot is
        taken with (see Screening). Kinds of choices have none."""
        return []


# --- What a kind documents in the JSON API (the OpenAPI description) --------------------------------------------------


FormValue = StrictStr | StrictInt | list[StrictStr | StrictInt]
"""A form field's value in an answer: a text, a whole number (read as its decimal text), or a list of them (a form's
repeated field): what the JSON API takes in any field of an answer."""


class KindAnswer(BaseModel):
    """Base of a kind's `answer_model`: the fields an answer to it carries, as `answer` in `POST /api/v1/responses` and
    as the members of a participant socket's frame beside `activity` (the phone's form fields, by name). It documents
    what the server takes, with examples that the tests send; the kind's Submission decides (its message is what a
    refused answer says). A field shown as a list may be sent as one value, as a form sends it, and other fields are
    accepted and ignored (a kind reads only its own), so every kind's model takes what the API has always taken."""

    model_config = ConfigDict(extra="allow")

    __pydantic_extra__: dict[str, FormValue] = Field(init=False)


class KindModeration(BaseModel):
    """Base of a kind's `moderation_model`: the `fields` of a presenter's `moderate` control for this kind (`verb`,
    one of the kind's `moderation_actions`, and what it acts on)."""

    model_config = ConfigDict(extra="forbid")


class KindResults(BaseModel):
    """Base of a kind's `results_model`: the shape of its moderated snapshot, which the JSON API's tally serves as
    `results` (and the live views render). The tests hold every kind's real snapshots to it: a key it does not name
    is an error, so the description cannot drift from the tally."""

    model_config = ConfigDict(extra="forbid")


FORM_VALUE: dict[str, Any] = TypeAdapter(FormValue).json_schema()
"""The JSON schema of a FormValue."""


def numbered_fields(pattern: str, description: str, examples: list[JsonValue]) -> ConfigDict:
    """The model config of an answer whose fields are numbered after the deck's items (`card-0`, `rank-2`...): field
    names matching `pattern` (a regular expression), each holding what `description` says."""
    value = {**FORM_VALUE, "description": description}
    return ConfigDict(extra="allow", json_schema_extra={"examples": examples, "patternProperties": {pattern: value}})


@dataclass(frozen=True)
class ResponseEvent:
    """One committed response, as published on the backplane and folded into tallies."""

    activity_id: int
    participant_id: int
    epoch: int
    version: int
    payload: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "activity": self.activity_id,
            "participant": self.participant_id,
            "epoch": self.epoch,
            "version": self.version,
            "payload": self.payload,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResponseEvent:
        return cls(
            activity_id=int(data["activity"]),
            participant_id=int(data["participant"]),
            epoch=int(data["epoch"]),
            version=int(data["version"]),
            payload=dict(data["payload"]),
        )


SubmissionT = TypeVar("SubmissionT", bound=KindSubmission)
ConfigT = TypeVar("ConfigT", bound=KindConfig)


class Tally(ABC, Generic[ConfigT, SubmissionT]):
    """The live aggregate of one activity's responses.

    Folding is idempotent and order-insensitive: for each participant only the response with the highest
    (epoch, version) counts, a replaced answer is retracted before the new one is added, and a response of an
    epoch older than the tally's (one from before a reset) is ignored. So folding any permutation of events,
    with repeats, gives the same tally as a recompute from the stored responses.
    """

    submission_model: ClassVar[type[KindSubmission]]

    def __init__(self, config: ConfigT) -> None:
        self.config = config
        self.epoch = 0
        self._latest: dict[int, tuple[int, SubmissionT]] = {}
        # (key, text) of every free text the counted answers carry, with how many carry it: what the server screens.
        self.free_texts: Counter[tuple[str, str]] = Counter()
        self.clear()

    @abstractmethod
    def clear(self) -> None:
        """Forget every contribution (the per-participant record is reset by the caller)."""

    @abstractmethod
    def add(self, submission: SubmissionT) -> None:
        """Count one participant's submission."""

    @abstractmethod
    def retract(self, submission: SubmissionT) -> None:
        """Undo `add` of the same submission."""

    @abstractmethod
    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        """The aggregate as plain data for templates and the JSON API, with moderation applied."""

    def fold(self, event: ResponseEvent, submission: SubmissionT | None = None) -> bool:
        """Apply one response event; returns whether the tally changed. `submission` is the event's payload as the
        kind's Submission when the caller has it already (the one `respond` validated): not parsed a second time."""
        if event.epoch < self.epoch:
            return False
        if event.epoch > self.epoch:
            self.reset(event.epoch)
        current = self._latest.get(event.participant_id)
        if current is not None and current[0] >= event.version:
            return False
        if submission is None:
            submission = self.parse_payload(event.payload)
        if current is not None:
            self.retract(current[1])
            self._count_texts(current[1], -1)
        self.add(submission)
        self._count_texts(submission, 1)
        self._latest[event.participant_id] = (event.version, submission)
        return True

    def _count_texts(self, submission: SubmissionT, by: int) -> None:
        for pair in set(submission.free_text()):
            self.free_texts[pair] += by
            if self.free_texts[pair] <= 0:
                del self.free_texts[pair]

    def reset(self, epoch: int) -> bool:
        """Drop every response older than `epoch`; returns whether anything changed."""
        if epoch <= self.epoch:
            return False
        self.epoch = epoch
        self._latest.clear()
        self.free_texts.clear()
        self.clear()
        return True

    def parse_payload(self, payload: Mapping[str, Any]) -> SubmissionT:
        """A stored payload back as the kind's Submission (already validated once, so trusted)."""
        return self.submission_model.model_validate(payload, context={"config": self.config, "stored": True})  # type: ignore[return-value]

    def answer_of(self, participant_id: int) -> SubmissionT | None:
        """The participant's counted submission, if any."""
        current = self._latest.get(participant_id)
        return None if current is None else current[1]

    def counted_answers(self) -> dict[int, SubmissionT]:
        """Every counted submission, by participant id."""
        return {participant: submission for participant, (_version, submission) in self._latest.items()}

    @property
    def respondents(self) -> int:
        """How many people have a counted response."""
        return len(self._latest)


class SignedTally(Tally[ConfigT, SubmissionT]):
    """A tally whose `retract` is its `add` with the sign turned: one `count(submission, sign)` does both, so the two
    can never disagree (the fold's property test checks that they do not)."""

    @abstractmethod
    def count(self, submission: SubmissionT, sign: int) -> None:
        """Add (`sign` 1) or take away (`sign` -1) one submission's contribution."""

    def add(self, submission: SubmissionT) -> None:
        self.count(submission, 1)

    def retract(self, submission: SubmissionT) -> None:
        self.count(submission, -1)


@dataclass(frozen=True)
class Asset:
    """A rendered file a kind offers beside its HTML (a word-cloud image, a chart)."""

    body: bytes
    media_type: str


# Charts of texts (answers, questions, resources) show the top this many; the report lists them all.
CHART_ROWS = 10


@dataclass(frozen=True)
class ChartRow:
    """One labelled row of a chart: a single bar (one value) or a stacked bar (one value per series)."""

    label: str
    values: tuple[float, ...]
    note: str = ""  # said at the end of the row: "12 (40%)", "mean 3.4"


@dataclass(frozen=True)
class Chart:
    """A kind's results as labelled bars, for archives and printed reports; one renderer draws every kind's, so a
    kind says what to draw (rows, a legend, a unit), never how."""

    rows: tuple[ChartRow, ...]
    unit: str  # what a bar's length counts: "people", "% of the points", "average rank (1 is first)"
    series: tuple[str, ...] = ()  # the legend of stacked bars, one name per value; empty for single bars
    scale: float | None = None  # the value a full-length bar stands for; None: the longest row's total
    ordered: bool = False  # the series run low to high (points of a rating scale): shades of one hue


@dataclass(frozen=True)
class ListItem:
    """One text the room was shown (an answer, a question, a resource), as a printed report lists it."""

    text: str
    note: str = ""
    link: str | None = None


@dataclass(frozen=True)
class PoolCohort:
    """A cohort as an institute-wide pool names it."""

    id: int
    slug: str
    name: str
    site: str


@dataclass(frozen=True)
class PoolSource:
    """One activity of a pooled kind as one cohort's session let the room see it: its moderated results (or, once
    participant-level data was deleted, the results it kept)."""

    cohort: PoolCohort
    results: Mapping[str, Any]


@dataclass(frozen=True)
class PoolTable:
    """A pool as CSV: its columns, and one row (column -> value) per item."""

    columns: list[str]
    rows: list[dict[str, Any]]


class ActivityKind(ABC, Generic[ConfigT, SubmissionT]):
    """One kind of activity. A kind owns its models, tally, templates and export rows; the server knows none."""

    name: ClassVar[str]
    # What people call it, in plain words ("Word cloud"); a kind that names none gets one made from its `name`.
    label: ClassVar[str]
    # One sentence a facilitator reads when choosing a kind to add (the deck editor's palette).
    description: ClassVar[str] = ""
    config_model: ClassVar[type[KindConfig]]
    submission_model: ClassVar[type[KindSubmission]]
    tally_class: ClassVar[type[Tally[Any, Any]]]
    # Moderation actions the presenter may take, each mapped to the form field it reads.
    moderation_actions: ClassVar[frozenset[str]] = frozenset()
    assets: ClassVar[frozenset[str]] = frozenset()
    # Documents the kind offers beside the CSV of responses: file extension -> media type.
    documents: ClassVar[dict[str, str]] = {}
    # Participants may open an ambient activity (Q&A) whenever its voting is open, whatever the presenter shows.
    ambient: ClassVar[bool] = False
    # Participants looking at an activity of a sharing kind are pushed `<kind>/shared.html` as its results move
    # (rendered once for all of them; the participant's own marks come with their stage and their receipts).
    shares_results: ClassVar[bool] = False
    # A kind whose participant form lists what the room may see (the resources to upvote) is rendered with the
    # moderated `results`; other kinds' phones get none: participants are not sent the room's answers.
    participant_results: ClassVar[bool] = False
    # Config keys whose text participants and the room read (options, cards...), which a deck may give in several
    # languages (server/decks.py). A translation has the same number of items, so an answer's indexes mean the same
    # thing in every language; keys whose text is an answer's value (a resource's type) are not translatable.
    translatable: ClassVar[frozenset[str]] = frozenset()
    # Whether participants answer it. A kind that takes none (a content slide) is shown, never answered: the server
    # refuses responses to it, steps past it at the audience's pace, leaves it out of completion, voting controls,
    # response exports, archives' CSVs and reports, and cohort comparisons.
    takes_answers: ClassVar[bool] = True
    # A kind that names a pool offers an institute-wide view over its activities in every cohort (the resources kind's
    # library): the server gathers each run's results (PoolSource) and serves what `pool` makes of them, as a page
    # (with `<kind>/pool.html` inside it), as JSON, as CSV (`pool_table`) and as the kind's `documents`.
    pool_label: ClassVar[str | None] = None
    # The kind's typed models in the JSON API's description (see KindAnswer, KindModeration, KindResults): the server
    # joins every registered kind's into the schemas of an answer, a `moderate` control and a tally, so a kind,
    # a plug-in's included, documents itself. A kind that names none is described by the generic form fields and an
    # object of results.
    answer_model: ClassVar[type[KindAnswer] | None] = None
    moderation_model: ClassVar[type[KindModeration] | None] = None
    results_model: ClassVar[type[KindResults] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "label" not in cls.__dict__ and isinstance(cls.__dict__.get("name"), str):
            cls.label = cls.__dict__["name"].replace("_", " ").replace("-", " ").capitalize()

    @property
    def takes_free_text(self) -> bool:
        """Whether participants type text the room reads (the kind's Submission declares its `free_text`), so the
        server's profanity filter applies to this kind."""
        return self.submission_model.free_text is not KindSubmission.free_text

    @property
    def templates_dir(self) -> Path:
        """Where this kind's templates live: `<kind>/participant.html`, `presenter.html`, `projector.html`."""
        import sys

        return Path(sys.modules[type(self).__module__].__file__ or "").parent / "templates"

    @property
    def static_dir(self) -> Path:
        """Where this kind's own CSS and JS live (beside its templates), served at `/static/kinds/<kind>/`: pages
        where the kind appears load its `.css` and `.js` files, so no kind's behaviour has to live in static/."""
        return self.templates_dir.parent / "static"

    def parse_config(self, raw: Mapping[str, Any]) -> ConfigT:
        """The kind's config from a deck; raises pydantic's ValidationError with the location of each error."""
        return self.config_model.model_validate(raw)  # type: ignore[return-value]

    def new_tally(self, config: ConfigT) -> Tally[ConfigT, SubmissionT]:
        return self.tally_class(config)

    @abstractmethod
    def submission_from_form(self, config: ConfigT, form: FormFields) -> dict[str, Any]:
        """Pick this kind's fields out of a submitted form (no validation yet)."""

    def validate_submission(
        self, config: ConfigT, form: FormFields, previous: SubmissionT | None = None, *, elapsed: float | None = None
    ) -> SubmissionT:
        """A valid submission from the form, or SubmissionInvalid with a message for the participant.

        `previous` is the participant's counted answer (in the validation context), for kinds whose form carries a
        change rather than the whole answer (ask one more question, upvote one); answers of one participant are
        taken one at a time, so the change always applies to the answer they last had acknowledged.

        `elapsed` (in the context too) is how many seconds, by the server's clock, the answer took: from when the room
        was shown the activity open for answers to when the server received it; None when it was never shown so. A
        timed kind keeps it in its submission (never from the form: a phone cannot claim a time), so the stored
        payload, and every tally rebuilt from it, scores the answer the same.
        """
        raw = self.submission_from_form(config, form)
        context = {"config": config, "previous": previous, "elapsed": elapsed}
        try:
            return self.submission_model.model_validate(raw, context=context)  # type: ignore[return-value]
        except ValidationError as error:
            raise SubmissionInvalid(_first_message(error)) from None

    def entries(self, submission: SubmissionT) -> int:
        """How many entries of their own a participant's answer holds (questions asked, words given), which the
        server caps for every kind (entries_per_participant); an answer that is one thing is one entry."""
        return 1

    def moderate(self, moderation: dict[str, Any], action: str, form: FormFields) -> dict[str, Any]:
        """The activity's moderation state after a presenter's action (e.g. hide a word)."""
        raise SubmissionInvalid(f"{self.label} has no moderation action {action!r}.")

    async def render_asset(self, name: str, snapshot: Mapping[str, Any], seed: int, offload: Offload) -> Asset:
        """Render one of `assets` for the current snapshot."""
        raise KeyError(name)

    def chart(self, config: ConfigT, snapshot: Mapping[str, Any]) -> Chart | None:
        """The moderated results as bars, for archives and reports; None when there is nothing to chart or the kind
        draws its own picture (its `assets`, like the word cloud)."""
        return None

    def listing(self, config: ConfigT, snapshot: Mapping[str, Any]) -> list[ListItem]:
        """The texts the room was shown (approved, not hidden), for a printed report; none for kinds of choices."""
        return []

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The moderated results as CSV lines for comparing cohorts: `line` (what a row is: option, word, card...),
        `label`, and as they apply `detail`, `count`, `share` (percent) and `mean`. Only what the room may see."""
        return []

    @abstractmethod
    def export_rows(self, config: ConfigT, submission: SubmissionT) -> list[dict[str, Any]]:
        """CSV rows (column -> value) describing one response."""

    def render_document(self, extension: str, title: str, snapshot: Mapping[str, Any]) -> str:
        """One of `documents`, from the activity's moderated snapshot."""
        raise KeyError(extension)

    def pool(self, sources: Sequence[PoolSource], cohorts: Sequence[PoolCohort], choice: str | None) -> BaseModel:
        """The institute-wide pool of `sources` (cohorts in the institute's order), narrowed by `choice` (one type of
        item) where the kind offers that. Only kinds with a `pool_label` have one."""
        raise NotImplementedError(f"{self.label} offers no pool.")

    def pool_table(self, pool: BaseModel) -> PoolTable:
        """The pool as CSV."""
        raise NotImplementedError(f"{self.label} offers no pool.")

    def pool_document(self, extension: str, institute: str, pool: BaseModel) -> str:
        """The pool as one of the kind's `documents`, titled with the `institute`'s name."""
        raise NotImplementedError(f"{self.label} offers no pool.")

    def scored(self, config: ConfigT) -> bool:
        """Whether this activity's answers score points (`scores`) towards the session's standings (the
        leaderboard): a quiz question with points, a guess-the-number or a pin with a right answer and points on.
        Such an activity's phones see their points and rank once it is revealed (activities/scoring.py)."""
        return False

    def closes_on_reveal(self, config: ConfigT) -> bool:
        """Whether revealing this activity closes voting on it: when the reveal gives the answer away (a scored
        activity's right answer), no answer may come after it."""
        return self.scored(config)

    def scores(self, tally: Tally[ConfigT, SubmissionT]) -> dict[int, int]:
        """The points each participant's counted answer scored (participant id -> points), for an activity that is
        `scored`; the session's standings add them up over its scored activities. A pure function of the tally,
        so standings fold idempotently and are rebuilt identically from the database. By default, the points its
        config's `judge(submission) -> (right, points)` gives (activities/scoring.py), which a kind that scores
        offers on its config (the phone's own result shows the same)."""
        if not self.scored(tally.config):
            return {}
        judge: Callable[[SubmissionT], tuple[bool, int]] = getattr(tally.config, "judge")  # noqa: B009
        return {participant: judge(answer)[1] for participant, answer in tally.counted_answers().items()}

    def without_people(self, snapshot: Mapping[str, Any]) -> dict[str, Any]:
        """The snapshot as it is kept once participant-level data is deleted: nothing that names a person (a
        kind whose results carry names, like signed questions, leaves them out). Counts and texts stay."""
        return dict(snapshot)


def _first_message(error: ValidationError) -> str:
    first = error.errors()[0]
    message = str(first.get("msg", _("This answer is not valid.")))
    return message.removeprefix("Value error, ")


def digest(data: Any) -> str:
    """A short, stable fingerprint of JSON-able data (cache keys, asset versions)."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.blake2s(blob, digest_size=8).hexdigest()


KEY = re.compile(r"[0-9a-f]{16}")
"""The shape of a `digest`: what moderation and upvote keys look like."""


def moderation_key(form: FormFields, field: str, what: str, action: str) -> str:
    """The one item key a presenter's moderation form names in `field`; SubmissionInvalid ("Choose one answer to
    hide.") when there is none, more than one, or it is not key-shaped."""
    keys = field_values(form, field)
    if len(keys) != 1 or not KEY.fullmatch(keys[0]):
        raise SubmissionInvalid(f"Choose one {what} to {action}.")
    return keys[0]


FILTERED = "filtered"
"""The moderation list of keys whose text the server's profanity filter flags: added by the server to the moderation
each snapshot is taken with, never stored."""
ALLOWED = "allowed"
"""The moderation list of keys the presenter let through the filter (with "show"); approved keys pass it too."""


@dataclass(frozen=True)
class Screening:
    """What the profanity filter holds back in one snapshot: the items whose text it flagged, unless the presenter
    let them through (showed or approved them: they have read the text and chosen the room may see it)."""

    flagged: frozenset[str]
    passed: frozenset[str]

    @classmethod
    def of(cls, moderation: Mapping[str, Any]) -> Screening:
        passed = {*moderation.get(ALLOWED, ()), *moderation.get("approved", ())}
        return cls(frozenset(moderation.get(FILTERED, ())), frozenset(passed))

    def holds(self, key: str, *merged: str) -> bool:
        """Whether the item `key` is held back: its text was flagged, or that of an answer `merged` into it."""
        if key in self.passed:
            return False
        return key in self.flagged or any(other in self.flagged for other in merged)


def moderated_as(moderation: Mapping[str, Any], key: str, earlier: Collection[str] = ()) -> tuple[bool, bool]:
    """Whether the item `key` is (hidden, approved), by its key or by the `earlier` keys it had before its kind
    changed how it compares items (what a stored session's moderation still names): an earlier key's hide holds until
    the presenter shows the item (which lets its key through: ALLOWED), an earlier key's approval holds."""
    hidden_keys, approved_keys = set(moderation.get("hidden", ())), set(moderation.get("approved", ()))
    hidden = key in hidden_keys or (not hidden_keys.isdisjoint(earlier) and key not in moderation.get(ALLOWED, ()))
    return hidden, key in approved_keys or not approved_keys.isdisjoint(earlier)


def shown(moderation: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Moderation after the presenter's "show": `key` is not hidden, and the profanity filter no longer holds it."""
    return toggled(toggled(moderation, "hidden", key, False), ALLOWED, key, True)


def toggled(moderation: Mapping[str, Any], name: str, key: str, present: bool) -> dict[str, Any]:
    """Moderation with `key` added to (present) or removed from its sorted list `name` (hidden, approved...)."""
    keys = [other for other in moderation.get(name, []) if other != key]
    if present:
        keys.append(key)
    return {**moderation, name: sorted(keys)}


def most_common(counts: Counter[str]) -> str:
    """The most frequent value; ties go to the alphabetically first, so the choice never depends on fold order."""
    return min(counts, key=lambda value: (-counts[value], value.casefold(), value))


def distinct_labels(labels: list[str], what: str, limit: int) -> list[str]:
    """Deck labels (options, items, cards...) with runs of spaces collapsed; refuses empty, too long and repeated
    (ignoring case) ones, naming `what` they are: "two items are the same"."""
    cleaned = [" ".join(label.split()) for label in labels]
    one = f"{'an' if what[:1] in 'aeiou' else 'a'} {what}"
    if any(not label for label in cleaned):
        raise ValueError(_in_other_languages(LABEL_EMPTY) or f"{one} is empty")
    if any(len(label) > limit for label in cleaned):
        raise ValueError(_in_other_languages(LABEL_TOO_LONG, limit=limit) or f"{one} is longer than {limit} characters")
    if len({label.casefold() for label in cleaned}) != len(cleaned):
        raise ValueError(_in_other_languages(LABELS_REPEATED) or f"two {what}s are the same")
    return cleaned


# A list's refusals where the English names the kind's noun ("two options are the same", built from `what`): another
# language says them of the list, which its problem names already ("Opciones: hay uno vacío").
LABEL_EMPTY = N_("one of them is empty")
LABEL_TOO_LONG = N_("one of them is longer than {limit} characters")
LABELS_REPEATED = N_("two of them are the same")


def _in_other_languages(message: str, **values: Any) -> str | None:
    """`message` as the current catalogue translates it, or None where it does not (English: the caller's words)."""
    translated = _(message)
    return translated.format(**values) if translated != message else None


def whole_number(text: str, digits: int = 9) -> int | None:
    """`text` as a non-negative integer if it is 1 to `digits` ASCII digits ('²' and '١' are not), else None."""
    return int(text) if 0 < len(text) <= digits and text.isascii() and text.isdigit() else None


def field_values(form: FormFields, name: str) -> list[str]:
    """A form field's values, each stripped, blanks left out."""
    return [value.strip() for value in form.get(name, ()) if value.strip()]
