"""`pin`: participants place a pin on a picture the deck gives (a floor plan, a map, a chart); the room sees where the
pins went as a heat map over the picture, and, with areas, how many fell inside each.

Positions are relative to the picture (0..1 across and down), so they mean the same on every screen. Phones answer
with a tap, with the arrow keys (a visible pin moves), or by typing how far across and down in percent: the typed
fields are the form the server reads, so they are also the way in without JavaScript. (An `<input type=image>` posts
the pixel it was clicked at, which the server cannot turn into a position without the size the phone drew it at.)
"""

from __future__ import annotations

from collections import Counter
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
    SignedTally,
    distinct_labels,
    field_values,
)
from activities.i18n import N_, _
from activities.images import ImageRef
from activities.pin.api import PinAnswer, PinResults
from activities.scoring import clocked, elapsed_field, points_field, time_limit_field, timed_points

MAX_AREAS = 8
MAX_AREA_LABEL = 80
# The heat map bins pins into GRID x GRID cells of the picture: fine enough to tell a room from the one beside it on
# a floor plan, coarse enough that nearby pins add up to a hot spot.
GRID = 20
# Positions are kept to a thousandth of the picture: finer than a finger, and exact in JSON.
DECIMALS = 3
# A typed position is echoed back in a refusal; this keeps a pasted novel out of the message.
MAX_ECHO = 12
THIRDS = (("left", "centre", "right"), ("top", "middle", "bottom"))


class PinArea(KindConfig):
    """A named rectangle of the picture, in fractions of its width and height from its top-left corner."""

    label: str = Field(min_length=1, max_length=MAX_AREA_LABEL, description=N_("What the area is called"))
    x: float = Field(ge=0, le=1, description=N_("Its left edge, as a fraction of the picture's width (0 to 1)"))
    y: float = Field(ge=0, le=1, description=N_("Its top edge, as a fraction of the picture's height (0 to 1)"))
    width: float = Field(gt=0, le=1, description=N_("Its width, as a fraction of the picture's width"))
    height: float = Field(gt=0, le=1, description=N_("Its height, as a fraction of the picture's height"))

    @field_validator("label")
    @classmethod
    def _tidy_label(cls, label: str) -> str:
        return distinct_labels([label], "area label", MAX_AREA_LABEL)[0]

    @model_validator(mode="after")
    def _inside_the_picture(self) -> PinArea:
        if self.x + self.width > 1 + 1e-9 or self.y + self.height > 1 + 1e-9:
            raise ValueError(
                _("the area “{label}” reaches past the picture's edge: x + width and y + height are at most 1").format(
                    label=self.label
                )
            )
        return self

    def holds(self, x: float, y: float) -> bool:
        """Whether the point (x, y) of the picture is inside the area (its edges included)."""
        return self.x <= x <= self.x + self.width and self.y <= y <= self.y + self.height


class PinConfig(KindConfig):
    image: ImageRef = Field(
        default=None,
        validate_default=True,  # so a missing picture is refused at its own field, with the words below
        description=N_(
            "The picture people pin on (a floor plan, a map, a chart), with a description of it for people "
            "who cannot see it (required)."
        ),
        json_schema_extra={"widget": "image"},
    )
    areas: list[PinArea] = Field(
        default_factory=list,
        max_length=MAX_AREAS,
        description=N_(
            "Correct areas for a quiz (optional): rectangles of the picture, in fractions of its width and "
            "height (0 to 1) from the top-left corner. The results count the pins in each and outline them."
        ),
    )

    @field_validator("image", mode="before")
    @classmethod
    def _picture_with_words(cls, image: Any) -> Any:
        """A clear refusal for the two mistakes people make: no picture, or a picture without its description."""
        if image is None:
            raise ValueError(_("a pin activity needs a picture to pin on: upload one"))
        if isinstance(image, Mapping) and not str(image.get("alt") or "").strip():
            raise ValueError(_("add the picture's alt text, saying what it shows, for people who cannot see it"))
        return image

    points: bool = points_field(
        N_("Right answers score points towards the leaderboard, faster ones more (needs correct areas)")
    )
    time_limit: int = time_limit_field()

    @field_validator("areas")
    @classmethod
    def _distinct_areas(cls, areas: list[PinArea]) -> list[PinArea]:
        distinct_labels([area.label for area in areas], "area label", MAX_AREA_LABEL)
        return areas

    @model_validator(mode="after")
    def _points_need_areas(self) -> PinConfig:
        if self.points and not self.areas:
            raise ValueError(_("points: give the correct areas for pins to score"))
        return self

    def areas_of(self, x: float, y: float) -> list[int]:
        """The indexes of the areas the point (x, y) is inside."""
        return [index for index, area in enumerate(self.areas) if area.holds(x, y)]

    def judge(self, submission: PinSubmission) -> tuple[bool, int]:
        """Whether a pin is right (inside one of the correct areas), and its points (for the phone's own result
        after the reveal)."""
        right = bool(self.areas_of(submission.x, submission.y))
        return right, timed_points(right and self.points, submission.elapsed, self.time_limit)


class PinSubmission(KindSubmission):
    x: float = Field(ge=0, le=1, description="How far across the picture the pin is (0: the left edge, 1: the right)")
    y: float = Field(ge=0, le=1, description="How far down the picture the pin is (0: the top edge, 1: the bottom)")
    elapsed: float | None = elapsed_field()

    @model_validator(mode="before")
    @classmethod
    def _read_typed_position(cls, raw: Any, info: ValidationInfo) -> Any:
        if (info.context or {}).get("stored") or not isinstance(raw, Mapping):
            return raw
        typed = {axis: raw.get(axis) for axis in ("x", "y")}
        if all(value in (None, "") for value in typed.values()):
            raise ValueError(_("Place your pin on the picture first."))
        config = (info.context or {}).get("config")
        placed = {"x": read_percent(typed["x"], _("Across")), "y": read_percent(typed["y"], _("Down"))}
        return clocked(placed, info, isinstance(config, PinConfig) and config.points)


def read_percent(value: Any, what: str) -> float:
    """A typed percentage ("42", "42.5", "42,5 %") as a fraction 0..1, or ValueError saying what is wrong with it."""
    text = str(value if value is not None else "").strip().removesuffix("%").strip().replace(",", ".")
    if not text:
        raise ValueError(_("“{what}” is missing: place your pin on the picture.").format(what=what))
    whole, _dot, part = text.partition(".")
    whole = whole.lstrip("0") or "0"
    if not (whole.isascii() and whole.isdigit() and (not part or (part.isascii() and part.isdigit()))):
        raise ValueError(_not_a_percent(what, text))
    # More than three digits is over 100 whatever they are: no need to convert them.
    percent = float(f"{whole}.{part[:DECIMALS] or 0}") if len(whole) <= 3 else 101.0
    if percent > 100:
        raise ValueError(_not_a_percent(what, text))
    return round(percent / 100, DECIMALS)


def _not_a_percent(what: str, text: str) -> str:
    # The echo is cut short, and a lone surrogate (which no page or log can carry) is shown as a replacement mark.
    echo = text[:MAX_ECHO].encode(errors="replace").decode()
    return _("“{what}” should be a number from 0 to 100, not {text}.").format(what=what, text=echo)


def cell_of(position: float) -> int:
    """The heat map's column (or row) a position falls in; the far edge belongs to the last one."""
    return min(int(position * GRID), GRID - 1)


def is_correct(config: PinConfig, submission: PinSubmission) -> bool:
    """Whether the pin is inside one of the deck's correct areas (a quiz's question); False when it gives none."""
    return bool(config.areas_of(submission.x, submission.y))


class PinTally(SignedTally[PinConfig, PinSubmission]):
    submission_model = PinSubmission

    def clear(self) -> None:
        self.cells: Counter[tuple[int, int]] = Counter()
        self.area_counts = [0] * len(self.config.areas)
        self.inside = 0
        self.thirds: Counter[tuple[int, int]] = Counter()

    def count(self, submission: PinSubmission, sign: int) -> None:
        cell = (cell_of(submission.x), cell_of(submission.y))
        self.cells[cell] += sign
        if self.cells[cell] <= 0:
            del self.cells[cell]
        third = (min(int(submission.x * 3), 2), min(int(submission.y * 3), 2))
        self.thirds[third] += sign
        if self.thirds[third] <= 0:
            del self.thirds[third]
        inside = self.config.areas_of(submission.x, submission.y)
        for index in inside:
            self.area_counts[index] += sign
        if inside:
            self.inside += sign

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        """The pins binned into the heat map's cells (row by row), each area's count, and the picture's thirds."""
        pins = self.respondents
        top = max(self.cells.values(), default=0)
        return {
            "respondents": pins,
            "top": top,
            "cells": [
                {
                    "x": round((column + 0.5) * 100 / GRID, 2),
                    "y": round((row + 0.5) * 100 / GRID, 2),
                    "count": count,
                    "heat": round(count / top, 3),
                }
                for (column, row), count in sorted(self.cells.items(), key=lambda item: (item[0][1], item[0][0]))
            ],
            "areas": [
                {
                    "label": area.label,
                    "x": round(area.x * 100, 2),
                    "y": round(area.y * 100, 2),
                    "width": round(area.width * 100, 2),
                    "height": round(area.height * 100, 2),
                    "count": count,
                    "percent": round(100 * count / pins) if pins else 0,
                }
                for area, count in zip(self.config.areas, self.area_counts, strict=True)
            ],
            "inside": self.inside,
            "thirds": [
                {"across": THIRDS[0][column], "down": THIRDS[1][row], "count": self.thirds[(column, row)]}
                for row in range(3)
                for column in range(3)
            ],
        }


class Pin(ActivityKind[PinConfig, PinSubmission]):
    name = "pin"
    label = N_("Pin on image")
    description = N_("Everyone places a pin on a picture (a floor plan, a map); the room sees a heat map of the pins.")
    config_model = PinConfig
    submission_model = PinSubmission
    tally_class = PinTally
    answer_model = PinAnswer
    results_model = PinResults

    def submission_from_form(self, config: PinConfig, form: FormFields) -> dict[str, Any]:
        # A field sent twice keeps its values joined, so the Submission refuses it as not a number.
        return {axis: " ".join(field_values(form, axis)) for axis in ("x", "y")}

    def scored(self, config: PinConfig) -> bool:
        return config.points

    def export_rows(self, config: PinConfig, submission: PinSubmission) -> list[dict[str, Any]]:
        row: dict[str, Any] = {"x": submission.x, "y": submission.y}
        if config.areas:
            inside = config.areas_of(submission.x, submission.y)
            row["areas"] = "; ".join(config.areas[index].label for index in inside)
            row["correct"] = bool(inside)
        if config.points:
            row["seconds"] = submission.elapsed
            row["points"] = config.judge(submission)[1]
        return [row]

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        pins = snapshot.get("respondents", 0)
        if snapshot.get("areas"):
            return [
                {"line": "area", "label": area["label"], "count": area["count"], "share": area["percent"]}
                for area in snapshot["areas"]
            ]
        return [
            {
                "line": "third",
                "label": f"{third['down']} {third['across']}",
                "count": third["count"],
                "share": round(100 * third["count"] / pins) if pins else 0,
            }
            for third in snapshot.get("thirds", [])
        ]

    def chart(self, config: PinConfig, snapshot: Mapping[str, Any]) -> Chart:
        """Pins per correct area (and outside them all); without areas, pins per third of the picture."""
        pins = snapshot["respondents"]

        def note(count: int) -> str:
            return f"{count} ({round(100 * count / pins) if pins else 0}%)"

        if config.areas:
            rows = [ChartRow(area["label"], (area["count"],), note(area["count"])) for area in snapshot["areas"]]
            outside = pins - snapshot["inside"]
            rows.append(ChartRow("Outside every area", (outside,), note(outside)))
        else:
            rows = [
                ChartRow(f"{third['down']} {third['across']}", (third["count"],), note(third["count"]))
                for third in snapshot["thirds"]
            ]
        return Chart(tuple(rows), unit="pins", scale=pins or None)


kind = Pin()
