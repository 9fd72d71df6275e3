"""`stars`: rate something from one to five stars. A third-party kind, outside `activities/`, for the tests.

It uses only what a plug-in may: `activities.base` and the kit beside it, never the server. Its templates are in
templates/stars/, its stylesheet in static/ (served at /static/kinds/stars/ on pages where a rating appears).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from activities.base import (
    ActivityKind,
    FormFields,
    FormValue,
    KindAnswer,
    KindConfig,
    KindResults,
    KindSubmission,
    Tally,
    field_values,
    whole_number,
)


class StarsConfig(KindConfig):
    most: int = Field(default=5, ge=2, le=10, description="The most stars one may give")


class StarsSubmission(KindSubmission):
    stars: int

    @field_validator("stars")
    @classmethod
    def _within(cls, stars: int, info: ValidationInfo) -> int:
        config: StarsConfig = (info.context or {})["config"]
        if not 1 <= stars <= config.most:
            raise ValueError(f"Give one to {config.most} stars.")
        return stars


class StarsAnswer(KindAnswer):
    """A rating: how many stars, one to the activity's `most`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"stars": "4"}]})

    stars: FormValue = Field(description="A whole number of stars, as text")


class StarsResults(KindResults):
    counts: list[int] = Field(description="How many people gave one star, two stars...")
    respondents: int
    mean: float | None = Field(description="The mean rating, to two decimals; null before any")


class StarsTally(Tally[StarsConfig, StarsSubmission]):
    submission_model = StarsSubmission

    def clear(self) -> None:
        self.counts = [0] * self.config.most

    def add(self, submission: StarsSubmission) -> None:
        self.counts[submission.stars - 1] += 1

    def retract(self, submission: StarsSubmission) -> None:
        self.counts[submission.stars - 1] -= 1

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        people = sum(self.counts)
        given = sum(stars * count for stars, count in enumerate(self.counts, start=1))
        return {
            "counts": list(self.counts),
            "respondents": people,
            "mean": round(given / people, 2) if people else None,
        }


class Stars(ActivityKind[StarsConfig, StarsSubmission]):
    name = "stars"
    label = "Star rating"
    config_model = StarsConfig
    submission_model = StarsSubmission
    tally_class = StarsTally
    answer_model = StarsAnswer
    results_model = StarsResults

    def submission_from_form(self, config: StarsConfig, form: FormFields) -> dict[str, Any]:
        given = field_values(form, "stars")
        return {"stars": whole_number(given[0]) if len(given) == 1 else None}

    def export_rows(self, config: StarsConfig, submission: StarsSubmission) -> list[dict[str, Any]]:
        return [{"stars": submission.stars}]

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"line": "stars", "label": "mean", "mean": snapshot["mean"]}]


kind = Stars()
