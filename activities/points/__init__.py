"""`points`: each participant spreads a budget of points across items; the room sees each item's mean share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from activities.base import (
    ActivityKind,
    Chart,
    ChartRow,
    FormFields,
    KindConfig,
    KindSubmission,
    Tally,
    distinct_labels,
    field_values,
)
from activities.i18n import N_, _
from activities.points.api import PointsAnswer, PointsResults

MIN_ITEMS = 2
MAX_ITEMS = 12
MAX_ITEM_LENGTH = 120
MIN_TOTAL = 10
MAX_TOTAL = 1000
DEFAULT_TOTAL = 100
# A typed value is echoed back in a refusal; this keeps a pasted novel out of the message.
MAX_ECHO = 12


class PointsConfig(KindConfig):
    items: list[str] = Field(min_length=MIN_ITEMS, max_length=MAX_ITEMS, description=N_("What the points go to"))
    total: int = Field(default=DEFAULT_TOTAL, ge=MIN_TOTAL, le=MAX_TOTAL, description=N_("Points per participant"))

    @field_validator("items")
    @classmethod
    def _distinct_items(cls, items: list[str]) -> list[str]:
        return distinct_labels(items, "item", MAX_ITEM_LENGTH)


class PointsSubmission(KindSubmission):
    points: list[int] = Field(description="Points given to each item, in the deck's order")

    @field_validator("points", mode="before")
    @classmethod
    def _read_typed_points(cls, raw: Any, info: ValidationInfo) -> Any:
        context = info.context or {}
        if context.get("stored") or not isinstance(raw, list):
            return raw
        config: PointsConfig = context["config"]
        if len(raw) != len(config.items):
            raise ValueError(_("Give points for every item."))
        return [read_points(config, item, value) for item, value in zip(config.items, raw, strict=True)]

    @model_validator(mode="after")
    def _spends_the_whole_budget(self, info: ValidationInfo) -> PointsSubmission:
        config: PointsConfig = (info.context or {})["config"]
        if len(self.points) != len(config.items):
            raise ValueError(_("Give points for every item."))
        if any(not 0 <= points <= config.total for points in self.points):
            raise ValueError(_("Give each item between 0 and {total} points.").format(total=config.total))
        spent = sum(self.points)
        if spent == 0:
            raise ValueError(_("Spread {total} points across the items first.").format(total=config.total))
        if spent < config.total:
            message = _("Your points add up to {spent}; add {more} more to make {total}.")
            raise ValueError(message.format(spent=spent, more=config.total - spent, total=config.total))
        if spent > config.total:
            message = _("Your points add up to {spent}; take {less} away to make {total}.")
            raise ValueError(message.format(spent=spent, less=spent - config.total, total=config.total))
        return self


def read_points(config: PointsConfig, item: str, value: Any) -> int:
    """One item's points as typed (blank is 0), or ValueError saying what is wrong with them."""
    text = str(value).strip()
    if not text:
        return 0
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(_("Use whole numbers of points: “{item}” has {text}.").format(item=item, text=text[:MAX_ECHO]))
    if text.startswith("-") and digits.strip("0"):
        raise ValueError(_("Points cannot be negative: “{item}” has {text}.").format(item=item, text=text[:MAX_ECHO]))
    # A number longer than any budget is over it whatever its digits; no need to convert it.
    number = int(digits) if len(digits) <= len(str(MAX_TOTAL)) else MAX_TOTAL + 1
    if number > config.total:
        message = _("“{item}” has {text} points; one item can take at most {total}.")
        raise ValueError(message.format(item=item, text=text[:MAX_ECHO], total=config.total))
    return number


class PointsTally(Tally[PointsConfig, PointsSubmission]):
    submission_model = PointsSubmission

    def clear(self) -> None:
        self.sums = [0] * len(self.config.items)

    def add(self, submission: PointsSubmission) -> None:
        for index, points in enumerate(submission.points):
            self.sums[index] += points

    def retract(self, submission: PointsSubmission) -> None:
        for index, points in enumerate(submission.points):
            self.sums[index] -= points

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        """Items in deck order with their summed points, mean per respondent and that mean as % of the budget."""
        people = self.respondents
        top = max(self.sums, default=0)
        budget = people * self.config.total
        return {
            "respondents": people,
            "total": self.config.total,
            "items": [
                {
                    "label": label,
                    "points": points,
                    "mean": round(points / people, 1) if people else 0.0,
                    "percent": round(100 * points / budget, 1) if budget else 0.0,
                    "leading": points == top and points > 0,
                }
                for label, points in zip(self.config.items, self.sums, strict=True)
            ],
        }


class Points(ActivityKind[PointsConfig, PointsSubmission]):
    name = "points"
    label = N_("Points")
    description = N_("Everyone shares out a budget of points between items; the room sees where the points went.")
    translatable = frozenset({"items"})
    config_model = PointsConfig
    submission_model = PointsSubmission
    tally_class = PointsTally
    answer_model = PointsAnswer
    results_model = PointsResults

    def submission_from_form(self, config: PointsConfig, form: FormFields) -> dict[str, Any]:
        # A field sent twice keeps its values joined, so the Submission refuses it as not a whole number.
        return {"points": [" ".join(field_values(form, field_name(i))) for i in range(len(config.items))]}

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "line": "item",
                "label": item["label"],
                "count": item["points"],
                "share": item["percent"],
                "mean": item["mean"],
            }
            for item in snapshot.get("items", [])
        ]

    def export_rows(self, config: PointsConfig, submission: PointsSubmission) -> list[dict[str, Any]]:
        return [{"item": item, "points": n} for item, n in zip(config.items, submission.points, strict=True)]

    def chart(self, config: PointsConfig, snapshot: Mapping[str, Any]) -> Chart:
        """Each item's mean share of the points, in deck order."""
        rows = tuple(
            ChartRow(item["label"], (item["percent"],), f"{item['percent']}% (mean {item['mean']})")
            for item in snapshot["items"]
        )
        return Chart(rows, unit=f"% of the {config.total} points (mean share)", scale=100)


def field_name(index: int) -> str:
    """The form field of the item at `index`."""
    return f"item-{index}"


kind = Points()
