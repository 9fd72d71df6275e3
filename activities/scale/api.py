"""The rating scale's models in the JSON API: its answer's fields and its tally's shape."""

from __future__ import annotations

from pydantic import Field

from activities.base import KindAnswer, KindResults, numbered_fields


class ScaleAnswer(KindAnswer):
    """Ratings: one field per statement, `statement-<index>` (0-based, in the order of the deck's `statements`),
    holding a point of the scale (`min` to `max`) as text. A statement left out is skipped, when the activity
    allows skipping (`allow_skip`, the default)."""

    model_config = numbered_fields(
        "^statement-[0-9]{1,2}$",
        "A point of the scale, `min` to `max` (one value)",
        [{"statement-0": "4", "statement-1": "2"}, {"statement-0": "5"}],
    )


class ScalePoint(KindResults):
    point: int
    label: str = Field(description="The point's label: the deck's `labels` name the ends (or every point); else empty")
    count: int


class ScaleStatement(KindResults):
    text: str
    answers: int = Field(description="How many people rated it")
    skips: int = Field(description="How many respondents left it unrated")
    mean: float | None = Field(description="The mean rating, rounded to two decimals; null before any rating")
    top: int = Field(description="The largest count of one point (the chart's scale)")
    distribution: list[ScalePoint] = Field(description="Every point from `min` to `max`, with its count")


class ScaleResults(KindResults):
    respondents: int
    min: int
    max: int
    low_label: str
    high_label: str
    statements: list[ScaleStatement] = Field(description="Every statement, in deck order")
