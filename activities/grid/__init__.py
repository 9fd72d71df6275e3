"""`grid`: a 2x2. Everyone places each item on two labelled axes (influence and authority, say); the room sees each
item's mean with its spread, and the presenter can show any item's cloud of individual placements."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from math import sqrt
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
    SubmissionInvalid,
    distinct_labels,
    field_values,
    whole_number,
)
from activities.grid.api import GridAnswer, GridModeration, GridResults
from activities.i18n import N_, _
from activities.palette import OKABE_ITO

MAX_ITEMS = 12
MAX_ITEM_LENGTH = 60
MAX_AXIS_LENGTH = 40
MAX_END_LENGTH = 30
# Two quadrant labels share the width of the plot at the projector's type size: at 24 characters each they never meet.
MAX_QUADRANT_LENGTH = 24
MIN_POINTS = 3
MAX_POINTS = 21
MAX_SCALE_END = 100
DECIMALS = 2
ITEM_FIELD = "item-"
SKIP = "skip"
ALL = "all"
SHOW, HIDE = "show-cloud", "hide-cloud"
# Black (the palette's last) is kept for the axes: items take the seven hues, then repeat them (numbers tell apart).
ITEM_COLOURS = OKABE_ITO[:7]
# The number written on each item's dot: white on the dark blue, black on the rest (each reads at 4.5:1 or more).
INK = ("#fff", "#000", "#000", "#000", "#000", "#000", "#000")


def _tidy(text: str, what: str, limit: int, required: bool = True) -> str:
    cleaned = " ".join(text.split())
    if required and not cleaned:
        raise ValueError(f"{what} is empty")
    if len(cleaned) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    return cleaned


class GridConfig(KindConfig):
    items: list[str] = Field(
        min_length=1, max_length=MAX_ITEMS, description=N_("What people place on the grid (roles, practices...)")
    )
    x_label: str = Field(
        default="Influence",
        description=N_("What the horizontal axis measures"),
        json_schema_extra={"label": N_("Horizontal axis")},
    )
    x_low: str = Field(
        default="",
        description=N_("The word at the left end of the horizontal axis (optional)"),
        json_schema_extra={"label": N_("Left end")},
    )
    x_high: str = Field(
        default="",
        description=N_("The word at the right end of the horizontal axis (optional)"),
        json_schema_extra={"label": N_("Right end")},
    )
    y_label: str = Field(
        default="Authority",
        description=N_("What the vertical axis measures"),
        json_schema_extra={"label": N_("Vertical axis")},
    )
    y_low: str = Field(
        default="",
        description=N_("The word at the bottom end of the vertical axis (optional)"),
        json_schema_extra={"label": N_("Bottom end")},
    )
    y_high: str = Field(
        default="",
        description=N_("The word at the top end of the vertical axis (optional)"),
        json_schema_extra={"label": N_("Top end")},
    )
    min: int = Field(
        default=0,
        ge=-MAX_SCALE_END,
        le=MAX_SCALE_END,
        description=N_("The lowest point of both axes"),
        json_schema_extra={"label": N_("Lowest point")},
    )
    max: int = Field(
        default=10,
        ge=-MAX_SCALE_END,
        le=MAX_SCALE_END,
        description=N_("The highest point of both axes"),
        json_schema_extra={"label": N_("Highest point")},
    )
    quadrants: list[str] = Field(
        default_factory=list,
        max_length=4,
        description=N_("Names of the four quadrants, optional: top left, top right, bottom left, bottom right"),
        json_schema_extra={"label": N_("Quadrant names")},
    )

    @field_validator("items")
    @classmethod
    def _distinct_items(cls, items: list[str]) -> list[str]:
        return distinct_labels(items, "item", MAX_ITEM_LENGTH)

    @field_validator("x_label", "y_label")
    @classmethod
    def _axis_label(cls, text: str) -> str:
        return _tidy(text, "an axis label", MAX_AXIS_LENGTH)

    @field_validator("x_low", "x_high", "y_low", "y_high")
    @classmethod
    def _end_label(cls, text: str) -> str:
        return _tidy(text, "an end label", MAX_END_LENGTH, required=False)

    @field_validator("quadrants")
    @classmethod
    def _quadrant_labels(cls, labels: list[str]) -> list[str]:
        cleaned = [_tidy(label, "a quadrant label", MAX_QUADRANT_LENGTH) for label in labels]
        if cleaned and len(cleaned) != 4:
            raise ValueError(
                _("give four quadrant labels (top left, top right, bottom left, bottom right), not {count}").format(
                    count=len(cleaned)
                )
            )
        return cleaned

    @model_validator(mode="after")
    def _scale_fits(self) -> GridConfig:
        points = self.max - self.min + 1
        if not MIN_POINTS <= points <= MAX_POINTS:
            raise ValueError(
                _("each axis has {low} to {high} points; min {min} and max {max} give {points}").format(
                    low=MIN_POINTS, high=MAX_POINTS, min=self.min, max=self.max, points=points
                )
            )
        return self

    @property
    def middle(self) -> int:
        """Where a slider starts: the middle point of the scale (the lower of two middles)."""
        return (self.min + self.max) // 2


Placement = tuple[int, int]


class GridSubmission(KindSubmission):
    placements: list[Placement | None] = Field(
        description="Per item, in deck order: its (x, y) point, or null where the participant skipped it"
    )

    @model_validator(mode="before")
    @classmethod
    def _from_form(cls, data: Any, info: ValidationInfo) -> Any:
        """A form's `item-<index>-x`, `-y` and `-skip` fields as placements."""
        if not isinstance(data, dict) or "form" not in data:
            return data
        config: GridConfig = (info.context or {})["config"]
        fields: dict[str, list[str]] = data["form"]
        for name in fields:
            index, _dash, axis = name.removeprefix(ITEM_FIELD).partition("-")
            number = whole_number(index, 2)
            if number is None or number >= len(config.items) or axis not in ("x", "y", SKIP):
                raise ValueError(_("That item is not part of this grid."))
        placements = [_placement(config, fields, index, item) for index, item in enumerate(config.items)]
        if all(placement is None for placement in placements):
            raise ValueError(_("Place at least one item before sending."))
        return {"placements": placements}

    @model_validator(mode="after")
    def _fits_config(self, info: ValidationInfo) -> GridSubmission:
        config: GridConfig = (info.context or {})["config"]
        if len(self.placements) != len(config.items):
            raise ValueError(_("This form does not match the items; reload the page and answer again."))
        for item, placement in zip(config.items, self.placements, strict=True):
            if placement is not None and not all(config.min <= value <= config.max for value in placement):
                message = _("Place “{item}” from {low} to {high} on both axes.")
                raise ValueError(message.format(item=item, low=config.min, high=config.max))
        return self


def _placement(config: GridConfig, fields: Mapping[str, list[str]], index: int, item: str) -> Placement | None:
    """One item's point from its two fields, or None when skipped (or sent without either value)."""
    if fields.get(f"{ITEM_FIELD}{index}-{SKIP}"):
        return None
    x, y = fields.get(f"{ITEM_FIELD}{index}-x", []), fields.get(f"{ITEM_FIELD}{index}-y", [])
    if not x and not y:
        return None
    if len(x) != 1 or len(y) != 1:
        raise ValueError(_("Place “{item}” once on each axis, or skip it.").format(item=item))
    point = (_number(x[0]), _number(y[0]))
    if point[0] is None or point[1] is None:
        message = _("Place “{item}” from {low} to {high} on both axes.")
        raise ValueError(message.format(item=item, low=config.min, high=config.max))
    return (point[0], point[1])


def _number(text: str) -> int | None:
    """A form value as a whole number ("-2" included), or None if it is none."""
    negative = text.startswith("-")
    number = whole_number(text.removeprefix("-"), 3)
    return None if number is None else -number if negative else number


def _spread(count: int, total: int, squares: int) -> float:
    """The standard deviation of `count` values from their exact integer sum and sum of squares."""
    # n·Σx² − (Σx)² is n² times the variance, exact in integers; only the square root is a float.
    return round(sqrt(count * squares - total * total) / count, DECIMALS)


class GridTally(SignedTally[GridConfig, GridSubmission]):
    submission_model = GridSubmission

    def clear(self) -> None:
        items = len(self.config.items)
        # Exact integers (counts per point, sums, sums of squares), so adding and retracting never drifts.
        self.cells: list[Counter[Placement]] = [Counter() for _ in range(items)]
        self.sums = [[0, 0] for _ in range(items)]
        self.squares = [[0, 0] for _ in range(items)]
        self.skips = [0] * items

    def count(self, submission: GridSubmission, sign: int) -> None:
        for index, placement in enumerate(submission.placements):
            if placement is None:
                self.skips[index] += sign
                continue
            point = (placement[0], placement[1])
            self.cells[index][point] += sign
            if self.cells[index][point] <= 0:
                del self.cells[index][point]
            for axis in (0, 1):
                self.sums[index][axis] += sign * point[axis]
                self.squares[index][axis] += sign * point[axis] * point[axis]

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        clouds = set(clouds_shown(moderation, len(self.config.items)))
        return {
            "respondents": self.respondents,
            "min": self.config.min,
            "max": self.config.max,
            "items": [self._item(index, index in clouds) for index in range(len(self.config.items))],
        }

    def _item(self, index: int, cloud: bool) -> dict[str, Any]:
        count = sum(self.cells[index].values())
        means = [round(total / count, DECIMALS) if count else None for total in self.sums[index]]
        spreads = [
            _spread(count, total, squares) if count else None
            for total, squares in zip(self.sums[index], self.squares[index], strict=True)
        ]
        return {
            "index": index,
            "text": self.config.items[index],
            "colour": ITEM_COLOURS[index % len(ITEM_COLOURS)],
            "ink": INK[index % len(ITEM_COLOURS)],
            "placed": count,
            "skips": self.skips[index],
            "mean_x": means[0],
            "mean_y": means[1],
            "spread_x": spreads[0],
            "spread_y": spreads[1],
            "cloud_shown": cloud,
            "cloud": [{"x": x, "y": y, "count": n} for (x, y), n in sorted(self.cells[index].items())],
        }


def clouds_shown(moderation: Mapping[str, Any], items: int) -> list[int]:
    """The items whose individual placements the presenter shows, in deck order."""
    shown = moderation.get("clouds", [])
    return sorted({index for index in shown if isinstance(index, int) and 0 <= index < items})


class Grid(ActivityKind[GridConfig, GridSubmission]):
    name = "grid"
    label = N_("2x2 grid")
    description = N_(
        "Everyone places each item on two axes (influence and authority); the room sees each mean and spread."
    )
    translatable = frozenset({"items", "x_label", "x_low", "x_high", "y_label", "y_low", "y_high", "quadrants"})
    config_model = GridConfig
    submission_model = GridSubmission
    tally_class = GridTally
    answer_model = GridAnswer
    moderation_model = GridModeration
    results_model = GridResults
    moderation_actions = frozenset({SHOW, HIDE})

    def submission_from_form(self, config: GridConfig, form: FormFields) -> dict[str, Any]:
        fields = {name: field_values(form, name) for name in form}
        return {"form": {name: values for name, values in fields.items() if name.startswith(ITEM_FIELD) and values}}

    def moderate(self, moderation: dict[str, Any], action: str, form: FormFields) -> dict[str, Any]:
        """`show-cloud` / `hide-cloud` with field `item` (an item's index, or `all`): whose placements are drawn."""
        items = field_values(form, "item")
        if action not in self.moderation_actions or len(items) != 1:
            raise SubmissionInvalid("Choose one item, or all, to show or hide the placements of.")
        chosen = items[0]
        shown = set(moderation.get("clouds", []))
        if chosen == ALL:
            changed: set[int] = set(range(MAX_ITEMS))
        else:
            index = whole_number(chosen, 2)
            if index is None or index >= MAX_ITEMS:
                raise SubmissionInvalid("Choose one item, or all, to show or hide the placements of.")
            changed = {index}
        shown = shown | changed if action == SHOW else shown - changed
        return {**moderation, "clouds": sorted(shown)}

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "line": "item",
                "label": item["text"],
                "detail": _placement_note(item),
                "count": item["placed"],
            }
            for item in snapshot.get("items", [])
        ]

    def export_rows(self, config: GridConfig, submission: GridSubmission) -> list[dict[str, Any]]:
        return [
            {
                "item": item,
                "x": "skipped" if placed is None else placed[0],
                "y": "skipped" if placed is None else placed[1],
            }
            for item, placed in zip(config.items, submission.placements, strict=True)
        ]

    def chart(self, config: GridConfig, snapshot: Mapping[str, Any]) -> Chart:
        """Per item and axis, the mean's distance from the low end (a full bar is the high end), with its spread."""
        rows: list[ChartRow] = []
        for item in snapshot["items"]:
            for axis, label in (("x", config.x_label), ("y", config.y_label)):
                mean, spread = item[f"mean_{axis}"], item[f"spread_{axis}"]
                value = 0.0 if mean is None else float(mean - config.min)
                note = "no placements" if mean is None else f"mean {mean} ± {spread}, {item['placed']} placed"
                rows.append(ChartRow(f"{item['text']}: {label}", (value,), note))
        return Chart(
            tuple(rows), unit=f"position from {config.min} to {config.max}", scale=float(config.max - config.min)
        )


def _placement_note(item: Mapping[str, Any]) -> str:
    """'x 7.2 ± 1.1; y 8 ± 0.5', and how many skipped the item."""
    if item["mean_x"] is None:
        note = "no placements"
    else:
        note = f"x {item['mean_x']} ± {item['spread_x']}; y {item['mean_y']} ± {item['spread_y']}"
    return f"{note}; skipped:{item['skips']}" if item["skips"] else note


kind = Grid()
