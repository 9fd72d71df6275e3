"""`number`: guess the number. One numeric answer within bounds; the room sees the distribution, the median and,
once the answers are in, the correct value with the closest answers."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from activities.base import (
    ActivityKind,
    Chart,
    ChartRow,
    FormFields,
    KindConfig,
    KindSubmission,
    ListItem,
    Tally,
    field_values,
)
from activities.i18n import N_, _, ngettext
from activities.number.api import NumberAnswer, NumberResults
from activities.scoring import clocked, elapsed_field, points_field, time_limit_field, timed_points
from activities.text import tidy

# Bounds and decimals are kept where a float holds every step exactly (10**9 * 10**4 < 2**53), so a stored answer
# reads back as the number typed and sums of answers never drift.
MAX_MAGNITUDE = 1_000_000_000
MAX_DECIMALS = 4
MAX_UNIT_LENGTH = 20
# A typed value is echoed back in a refusal; this keeps a pasted novel out of the message.
MAX_ECHO = 24
MAX_TYPED = 40
# The histogram: one column per possible value while they are this few, else at most this many bins of a round width.
MAX_BINS = 12
CLOSEST = 3
NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")


def exact(value: float | int | Decimal) -> Decimal:
    """A number as the decimal people wrote (0.1 is 0.1, not its binary neighbour)."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def decimals_of(value: float | Decimal) -> int:
    """How many digits after the point a number needs (3.50 needs 1)."""
    exponent = exact(value).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def shown(value: float | Decimal | None) -> str:
    """A number as the room reads it: no trailing zeros, no exponent ("2.5", "1000000")."""
    if value is None:
        return ""
    text = format(exact(value).normalize(), "f")
    return "0" if text in ("-0", "+0") else text


class NumberConfig(KindConfig):
    min: float = Field(
        ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False, description=N_("The smallest answer people may give")
    )
    max: float = Field(
        ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False, description=N_("The largest answer people may give")
    )
    decimals: int = Field(
        default=0,
        ge=0,
        le=MAX_DECIMALS,
        description=N_("Digits people may give after the decimal point (0: whole numbers)"),
    )
    unit: str = Field(
        default="", max_length=MAX_UNIT_LENGTH, description=N_("What the number counts, shown after it (%, years...)")
    )
    correct: float | None = Field(
        default=None,
        allow_inf_nan=False,
        description=N_(
            "The right answer (optional): shown with the closest answers once voting closes or results are revealed"
        ),
    )
    tolerance: float = Field(
        default=0,
        ge=0,
        allow_inf_nan=False,
        description=N_("How far from the right answer still counts as right (0: exactly)"),
    )
    points: bool = points_field(
        N_("Right answers score points towards the leaderboard, faster ones more (needs the right answer)")
    )
    time_limit: int = time_limit_field()

    @field_validator("unit")
    @classmethod
    def _one_line_unit(cls, unit: str) -> str:
        return tidy(unit)

    @model_validator(mode="after")
    def _coherent(self) -> NumberConfig:
        if not self.min < self.max:
            raise ValueError(
                _("min ({low}) must be smaller than max ({high})").format(low=shown(self.min), high=shown(self.max))
            )
        for name in ("min", "max", "correct"):
            value = getattr(self, name)
            if value is not None and decimals_of(value) > self.decimals:
                raise ValueError(
                    _(
                        "{name} ({value}) has more decimals than the {decimals} answers may have; "
                        "raise decimals or round it"
                    ).format(name=name, value=shown(value), decimals=self.decimals)
                )
        if self.correct is not None and not self.min <= self.correct <= self.max:
            raise ValueError(
                _("correct ({value}) must be between min ({low}) and max ({high})").format(
                    value=shown(self.correct), low=shown(self.min), high=shown(self.max)
                )
            )
        if self.tolerance > self.max - self.min:
            raise ValueError(
                _("tolerance ({value}) is wider than the range from min to max").format(value=shown(self.tolerance))
            )
        if self.points and self.correct is None:
            raise ValueError(_("points: give the right answer (correct) for answers to score"))
        return self

    def judge(self, submission: NumberSubmission) -> tuple[bool, int]:
        """Whether an answer is right, and its points (for the phone's own result after the reveal)."""
        right = is_correct(self, submission)
        return right, timed_points(right and self.points, submission.elapsed, self.time_limit)

    @property
    def step(self) -> Decimal:
        """The smallest difference between two answers (1, 0.1, 0.01...)."""
        return Decimal(1).scaleb(-self.decimals)

    @property
    def shown_min(self) -> str:
        return shown(self.min)

    @property
    def shown_max(self) -> str:
        return shown(self.max)

    @property
    def low(self) -> Decimal:
        return exact(self.min)

    @property
    def high(self) -> Decimal:
        return exact(self.max)


class NumberSubmission(KindSubmission):
    value: float = Field(allow_inf_nan=False, description="The number given, within the activity's bounds")
    elapsed: float | None = elapsed_field()

    @model_validator(mode="before")
    @classmethod
    def _timed_when_scored(cls, data: Any, info: ValidationInfo) -> Any:
        config = (info.context or {}).get("config")
        return clocked(data, info, isinstance(config, NumberConfig) and config.points)

    @field_validator("value", mode="before")
    @classmethod
    def _read_value(cls, raw: Any, info: ValidationInfo) -> Any:
        context = info.context or {}
        if context.get("stored"):
            return raw
        return float(read_number(context["config"], raw))

    @property
    def shown(self) -> str:
        """The answer as it was typed, without trailing zeros ("3.5", not "3.50")."""
        return shown(self.value)


def read_number(config: NumberConfig, raw: Any) -> Decimal:
    """The number a participant gave (typed text, or a number from the JSON API), checked against the config."""
    if isinstance(raw, list):
        if len(raw) > 1:
            raise ValueError(_("Give one number."))
        raw = raw[0] if raw else ""
    if isinstance(raw, bool):
        raise ValueError(_("Type a number, like 42 or 3.5."))
    if isinstance(raw, int | float):
        if isinstance(raw, float) and not math.isfinite(raw):
            raise ValueError(_("Type a number, like 42 or 3.5."))
        number = exact(raw)
    else:
        number = _typed_number(str(raw))
    if not config.low <= number <= config.high:
        raise ValueError(
            _("Give a number from {low} to {high}.").format(low=shown(config.low), high=shown(config.high))
        )
    if decimals_of(number) > config.decimals:
        if config.decimals == 0:
            raise ValueError(_("Give a whole number (no decimals)."))
        message = ngettext(
            "Give at most {decimals} digit after the decimal point.",
            "Give at most {decimals} digits after the decimal point.",
            config.decimals,
        )
        raise ValueError(message.format(decimals=config.decimals))
    return number


def _typed_number(typed: str) -> Decimal:
    """What a participant typed as a number: a point or a comma before the decimals ("3,5" is 3.5 for Spanish
    keyboards), a minus sign of either kind, no thousands separators."""
    text = "".join(typed.split()).replace("\u2212", "-")
    if not text:
        raise ValueError(_("Type your answer first."))
    # What the refusal quotes back: one short line of characters a page can hold (no lone surrogate halves).
    echo = "".join(ch for ch in tidy(typed) if unicodedata.category(ch) != "Cs")[:MAX_ECHO]
    if len(text) > MAX_TYPED or not NUMBER.fullmatch(text):
        raise ValueError(_("“{typed}” is not a number: type one like 42 or 3.5.").format(typed=echo))
    if THOUSANDS.fullmatch(text):
        raise ValueError(
            _(
                "Write “{typed}” without the comma: digits only for thousands, a comma or point only before decimals."
            ).format(typed=echo)
        )
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        raise ValueError(_("“{typed}” is not a number: type one like 42 or 3.5.").format(typed=echo)) from None


def is_correct(config: NumberConfig, submission: NumberSubmission) -> bool:
    """Whether an answer counts as right: within `tolerance` of `correct` (never, when the deck gives no `correct`)."""
    if config.correct is None:
        return False
    return abs(exact(submission.value) - exact(config.correct)) <= exact(config.tolerance)


class NumberTally(Tally[NumberConfig, NumberSubmission]):
    submission_model = NumberSubmission

    def clear(self) -> None:
        # How many gave each value, in exact decimals: the median, the bins and the closest answers come from it.
        self.values: Counter[Decimal] = Counter()

    def add(self, submission: NumberSubmission) -> None:
        self.values[exact(submission.value)] += 1

    def retract(self, submission: NumberSubmission) -> None:
        value = exact(submission.value)
        self.values[value] -= 1
        if self.values[value] <= 0:
            del self.values[value]

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        config = self.config
        ordered = sorted(self.values.items())
        answers = sum(self.values.values())
        total = sum((value * count for value, count in ordered), Decimal(0))
        bins = histogram(config, ordered)
        middle = median(ordered, answers) if answers else None
        return {
            "respondents": self.respondents,
            "answers": answers,
            "min": shown(config.low),
            "max": shown(config.high),
            "unit": config.unit,
            "median": shown(middle) if middle is not None else None,
            "median_column": column_of(config, middle) if middle is not None else None,
            "mean": shown(round(total / answers, config.decimals + 2)) if answers else None,
            "bins": bins,
            "top": max((one["count"] for one in bins), default=0),
            "correct": None if config.correct is None else _correct_part(config, ordered, answers),
        }


def median(ordered: list[tuple[Decimal, int]], answers: int) -> Decimal:
    """The middle answer (the mean of the two middle ones when there is an even number)."""
    middle = [(answers - 1) // 2, answers // 2]
    found: list[Decimal] = []
    seen = 0
    for value, count in ordered:
        while middle and middle[0] < seen + count:
            found.append(value)
            middle.pop(0)
        seen += count
    return (found[0] + found[1]) / 2


def bin_width(config: NumberConfig) -> Decimal | None:
    """A round width (1, 2, 2.5 or 5 times a power of ten, a whole number of steps) giving at most MAX_BINS bins;
    None when one column per possible value fits."""
    span = config.high - config.low
    if span / config.step + 1 <= MAX_BINS:
        return None
    magnitude = Decimal(1).scaleb(math.floor(math.log10(span / MAX_BINS)))
    for factor in ("1", "2", "2.5", "5", "10", "20", "25", "50"):
        width = magnitude * Decimal(factor)
        if width < config.step or (width / config.step) % 1:
            continue
        if _bin_count(config, width) <= MAX_BINS:
            return width
    raise AssertionError("a width of 50 times the magnitude always fits")  # pragma: no cover


def _floor_to(value: Decimal, width: Decimal) -> Decimal:
    return (value / width).to_integral_value(rounding=ROUND_FLOOR) * width


def _bin_count(config: NumberConfig, width: Decimal) -> int:
    """How many bins of `width`, from a multiple of it at or under min, cover min to max (max in the last one)."""
    span = config.high - _floor_to(config.low, width)
    return max(1, int((span / width).to_integral_value(rounding=ROUND_FLOOR)) + (1 if span % width else 0))


def histogram(config: NumberConfig, ordered: list[tuple[Decimal, int]]) -> list[dict[str, Any]]:
    """How many answers fall in each bin, lowest first: bins that cover min to max, each labelled with the lowest
    and highest answer it holds ("10–19"), max counted in the last one."""
    width = bin_width(config)
    if width is None:
        given = dict(ordered)
        steps = int((config.high - config.low) / config.step)
        values = [config.low + config.step * index for index in range(steps + 1)]
        return [{"label": shown(value), "count": given.get(value, 0)} for value in values]
    start, size = _floor_to(config.low, width), _bin_count(config, width)
    counts = [0] * size
    for value, count in ordered:
        counts[min(size - 1, int((value - start) // width))] += count
    bins = []
    for index, count in enumerate(counts):
        lowest = max(start + width * index, config.low)
        highest = config.high if index == size - 1 else min(start + width * (index + 1) - config.step, config.high)
        dash = " – " if lowest < 0 or highest < 0 else "–"
        label = shown(lowest) if lowest == highest else f"{shown(lowest)}{dash}{shown(highest)}"
        bins.append({"label": label, "count": count})
    return bins


def column_of(config: NumberConfig, value: Decimal) -> float:
    """Where a value stands along the histogram, in columns from its left edge (a column's middle is its value)."""
    width = bin_width(config)
    if width is None:
        return float((value - config.low) / config.step) + 0.5
    return min(float((value - _floor_to(config.low, width)) / width), float(_bin_count(config, width)))


def _correct_part(config: NumberConfig, ordered: list[tuple[Decimal, int]], answers: int) -> dict[str, Any]:
    correct, tolerance = exact(config.correct or 0), exact(config.tolerance)
    nearest = sorted(ordered, key=lambda pair: (abs(pair[0] - correct), pair[0]))[:CLOSEST]
    within = sum(count for value, count in ordered if abs(value - correct) <= tolerance)
    return {
        "value": shown(correct),
        "tolerance": shown(tolerance) if tolerance else None,
        "within": within,
        "share": round(100 * within / answers) if answers else 0,
        "column": column_of(config, correct),
        "closest": [
            {"value": shown(value), "count": count, "right": abs(value - correct) <= tolerance}
            for value, count in nearest
        ],
    }


class Number(ActivityKind[NumberConfig, NumberSubmission]):
    name = "number"
    label = N_("Guess the number")
    description = N_("One number within bounds; the room sees the distribution, the median and the right answer.")
    translatable = frozenset({"unit"})
    config_model = NumberConfig
    submission_model = NumberSubmission
    tally_class = NumberTally
    answer_model = NumberAnswer
    results_model = NumberResults

    def submission_from_form(self, config: NumberConfig, form: FormFields) -> dict[str, Any]:
        return {"value": field_values(form, "value")}

    def is_correct(self, config: NumberConfig, submission: NumberSubmission) -> bool:
        """Whether an answer counts as right in a quiz (see the module's `is_correct`)."""
        return is_correct(config, submission)

    def scored(self, config: NumberConfig) -> bool:
        return config.points

    def export_rows(self, config: NumberConfig, submission: NumberSubmission) -> list[dict[str, Any]]:
        row: dict[str, Any] = {"value": shown(submission.value), "unit": config.unit}
        if config.correct is not None:
            row["correct"] = "yes" if is_correct(config, submission) else "no"
        if config.points:
            row["seconds"] = submission.elapsed
            row["points"] = config.judge(submission)[1]
        return [row]

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        answers = snapshot.get("answers", 0)
        rows: list[dict[str, Any]] = [
            {
                "line": "bin",
                "label": one["label"],
                "count": one["count"],
                "share": round(100 * one["count"] / answers) if answers else 0,
            }
            for one in snapshot.get("bins", [])
        ]
        rows.append(
            {
                "line": "median",
                "label": "median",
                "detail": snapshot.get("median"),
                "count": answers,
                "mean": snapshot.get("mean"),
            }
        )
        correct = snapshot.get("correct")
        if correct:
            rows.append(
                {
                    "line": "correct",
                    "label": correct["value"],
                    "detail": _within(correct),
                    "count": correct["within"],
                    "share": correct["share"],
                }
            )
        return rows

    def chart(self, config: NumberConfig, snapshot: Mapping[str, Any]) -> Chart:
        """How many people gave an answer in each bin, lowest first."""
        rows = tuple(
            ChartRow(f"{one['label']} {config.unit}".strip(), (float(one["count"]),), str(one["count"]))
            for one in snapshot["bins"]
        )
        return Chart(rows, unit="people")

    def listing(self, config: NumberConfig, snapshot: Mapping[str, Any]) -> list[ListItem]:
        """The median and mean, and the right answer with how many were within the tolerance."""
        if not snapshot.get("answers"):
            return []
        unit = f" {config.unit}" if config.unit else ""
        items = [ListItem(f"Median {snapshot['median']}{unit}", f"mean {snapshot['mean']}{unit}")]
        correct = snapshot.get("correct")
        if correct:
            closest = ", ".join(f"{one['value']} ({one['count']})" for one in correct["closest"])
            items.append(ListItem(f"Correct {correct['value']}{unit}", f"{_within(correct)}; closest: {closest}"))
        return items


def _within(correct: Mapping[str, Any]) -> str:
    """'5 within ±2 (42%)', or 'exactly' without a tolerance."""
    margin = f"within ±{correct['tolerance']}" if correct["tolerance"] else "exactly right"
    return f"{correct['within']} {margin} ({correct['share']}%)"


kind = Number()
