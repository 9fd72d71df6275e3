"""`scale`: statements rated on a labelled scale (skill self-assessments), shown as a distribution and a mean."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from activities.base import (
    ActivityKind,
    Chart,
    ChartRow,
    FormFields,
    KindConfig,
    KindSubmission,
    SignedTally,
    distinct_labels,
    field_values,
    whole_number,
)
from activities.i18n import N_, _
from activities.scale.api import ScaleAnswer, ScaleResults

MAX_STATEMENTS = 20
MAX_STATEMENT_LENGTH = 160
MIN_POINTS = 2
MAX_POINTS = 11
MAX_LABEL_LENGTH = 30
# How far from zero the ends of a scale may sit: wide enough for 0..10 or -5..5, narrow enough to mean something.
MAX_SCALE_END = 100
SKIP = "skip"
MEAN_DECIMALS = 2


def _tidy(text: str) -> str:
    return " ".join(text.split())


class ScaleConfig(KindConfig):
    statements: list[str] = Field(
        min_length=1, max_length=MAX_STATEMENTS, description=N_("What people rate, one by one")
    )
    min: int = Field(default=1, ge=-MAX_SCALE_END, le=MAX_SCALE_END, description=N_("The lowest point of the scale"))
    max: int = Field(default=5, ge=-MAX_SCALE_END, le=MAX_SCALE_END, description=N_("The highest point of the scale"))
    labels: list[str] = Field(
        default_factory=list, max_length=MAX_POINTS, description=N_("A word for each point, lowest first (optional)")
    )
    allow_skip: bool = Field(default=True, description=N_("People may leave a statement unrated"))

    @field_validator("statements")
    @classmethod
    def _distinct_statements(cls, statements: list[str]) -> list[str]:
        return distinct_labels(statements, "statement", MAX_STATEMENT_LENGTH)

    @field_validator("labels")
    @classmethod
    def _short_labels(cls, labels: list[str]) -> list[str]:
        cleaned = [_tidy(label) for label in labels]
        if any(not label for label in cleaned):
            raise ValueError("a label is empty")
        if any(len(label) > MAX_LABEL_LENGTH for label in cleaned):
            raise ValueError(f"a label is longer than {MAX_LABEL_LENGTH} characters")
        return cleaned

    @model_validator(mode="after")
    def _labels_fit_the_scale(self) -> ScaleConfig:
        points = self.max - self.min + 1
        if not MIN_POINTS <= points <= MAX_POINTS:
            raise ValueError(
                f"a scale has {MIN_POINTS} to {MAX_POINTS} points; min {self.min} and max {self.max} give {points}"
            )
        if self.labels and len(self.labels) not in (2, points):
            raise ValueError(
                f"labels: give one label per point ({points}) or just the two end labels, not {len(self.labels)}"
            )
        return self

    @property
    def points(self) -> list[int]:
        """Every point of the scale, lowest first."""
        return list(range(self.min, self.max + 1))

    @property
    def end_labels(self) -> tuple[str, str]:
        """The labels of the lowest and the highest point ("" when the deck gives none)."""
        return (self.labels[0], self.labels[-1]) if self.labels else ("", "")

    def label_of(self, point: int) -> str:
        """A point's own label: from per-point labels, or the end labels at the ends, else ""."""
        if len(self.labels) == len(self.points):
            return self.labels[point - self.min]
        low, high = self.end_labels
        return low if point == self.min else high if point == self.max else ""


class ScaleSubmission(KindSubmission):
    answers: list[int | None] = Field(description="The point given to each statement, in order; null where skipped")

    @field_validator("answers", mode="before")
    @classmethod
    def _read_answers(cls, raw: Any, info: ValidationInfo) -> Any:
        context = info.context or {}
        if context.get("stored"):
            return raw
        return read_answers(context["config"], raw)


def read_answers(config: ScaleConfig, raw: Sequence[Any]) -> list[int | None]:
    """Each statement's answer (a form's list of values, a point, or None for skipped), checked against the scale."""
    if len(raw) != len(config.statements):
        raise ValueError(_("This form does not match the statements; reload the page and answer again."))
    answers = [_read_answer(config, statement, value) for statement, value in zip(config.statements, raw, strict=True)]
    if all(answer is None for answer in answers) and all(value == [] for value in raw):
        raise ValueError(_("Rate at least one statement before sending."))
    return answers


def _read_answer(config: ScaleConfig, statement: str, value: Any) -> int | None:
    if isinstance(value, list):
        if len(value) > 1:
            raise ValueError(_("Give one rating to “{statement}”.").format(statement=statement))
        value = value[0] if value else None
        if value is None and not config.allow_skip:
            raise ValueError(
                _("Rate every statement before sending: “{statement}” has no rating yet.").format(statement=statement)
            )
    if value is None or value == SKIP:
        if not config.allow_skip:
            message = _("Every statement needs a rating here: rate “{statement}” instead of skipping it.")
            raise ValueError(message.format(statement=statement))
        return None
    point = value if isinstance(value, int) and not isinstance(value, bool) else _point(str(value))
    if point is None or not config.min <= point <= config.max:
        raise ValueError(
            _("Rate “{statement}” from {low} to {high}.").format(statement=statement, low=config.min, high=config.max)
        )
    return point


def _point(text: str) -> int | None:
    """A form value as a whole number ("-2" included), or None if it is none."""
    negative = text.startswith("-")
    number = whole_number(text.removeprefix("-"), 3)
    return None if number is None else -number if negative else number


class ScaleTally(SignedTally[ScaleConfig, ScaleSubmission]):
    submission_model = ScaleSubmission

    def clear(self) -> None:
        statements = len(self.config.statements)
        self.counts = [[0] * len(self.config.points) for _ in range(statements)]
        # Exact integer sums, so adding and retracting never drifts; the mean is divided out only in the snapshot.
        self.sums = [0] * statements
        self.skips = [0] * statements

    def count(self, submission: ScaleSubmission, sign: int) -> None:
        for index, answer in enumerate(submission.answers):
            if answer is None:
                self.skips[index] += sign
            else:
                self.counts[index][answer - self.config.min] += sign
                self.sums[index] += sign * answer

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        config = self.config
        low, high = config.end_labels
        return {
            "respondents": self.respondents,
            "min": config.min,
            "max": config.max,
            "low_label": low,
            "high_label": high,
            "statements": [
                self._statement(text, counts, total, skips)
                for text, counts, total, skips in zip(
                    config.statements, self.counts, self.sums, self.skips, strict=True
                )
            ],
        }

    def _statement(self, text: str, counts: list[int], total: int, skips: int) -> dict[str, Any]:
        answers = sum(counts)
        return {
            "text": text,
            "answers": answers,
            "skips": skips,
            "mean": round(total / answers, MEAN_DECIMALS) if answers else None,
            "top": max(counts),
            "distribution": [
                {"point": point, "label": self.config.label_of(point), "count": count}
                for point, count in zip(self.config.points, counts, strict=True)
            ],
        }


class Scale(ActivityKind[ScaleConfig, ScaleSubmission]):
    name = "scale"
    label = N_("Rating scale")
    description = N_("Statements rated on a scale (agree to disagree, 1 to 5), shown as stacked bars.")
    translatable = frozenset({"statements", "labels"})
    config_model = ScaleConfig
    submission_model = ScaleSubmission
    tally_class = ScaleTally
    answer_model = ScaleAnswer
    results_model = ScaleResults

    def submission_from_form(self, config: ScaleConfig, form: FormFields) -> dict[str, Any]:
        # Each statement's values as a list, so an unanswered one ([]) and a doubled one are told apart.
        return {"answers": [field_values(form, f"statement-{index}") for index in range(len(config.statements))]}

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows = []
        for statement in snapshot.get("statements", []):
            spread = " ".join(f"{point['point']}:{point['count']}" for point in statement["distribution"])
            skips = f"; skipped:{statement['skips']}" if statement["skips"] else ""
            rows.append(
                {
                    "line": "statement",
                    "label": statement["text"],
                    "detail": spread + skips,
                    "count": statement["answers"],
                    "mean": statement["mean"],
                }
            )
        return rows

    def export_rows(self, config: ScaleConfig, submission: ScaleSubmission) -> list[dict[str, Any]]:
        return [
            {"statement": statement, "value": "skipped" if answer is None else answer}
            for statement, answer in zip(config.statements, submission.answers, strict=True)
        ]

    def chart(self, config: ScaleConfig, snapshot: Mapping[str, Any]) -> Chart:
        """Per statement, how many people gave each point (lowest first) and the mean."""
        series = tuple(f"{point} {config.label_of(point)}".strip() for point in config.points)
        rows = tuple(
            ChartRow(
                statement["text"],
                tuple(float(point["count"]) for point in statement["distribution"]),
                _mean_note(statement),
            )
            for statement in snapshot["statements"]
        )
        return Chart(rows, unit="people", series=series, ordered=True)


def _mean_note(statement: Mapping[str, Any]) -> str:
    """'mean 3.4', and how many skipped the statement."""
    note = f"mean {statement['mean']}" if statement["mean"] is not None else "no ratings"
    return f"{note}, {statement['skips']} skipped" if statement["skips"] else note


kind = Scale()
