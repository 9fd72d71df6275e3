"""The points kind's models in the JSON API: its answer's fields and its tally's shape."""

from __future__ import annotations

from pydantic import Field

from activities.base import KindAnswer, KindResults, numbered_fields


class PointsAnswer(KindAnswer):
    """Points shared out: one field per item, `item-<index>` (0-based, in the order of the deck's `items`), holding a
    whole number of points as text. They must add up to the activity's `total` exactly."""

    model_config = numbered_fields(
        "^item-[0-9]{1,2}$", "A whole number of points (one value)", [{"item-0": "50", "item-1": "30", "item-2": "20"}]
    )


class PointsItem(KindResults):
    label: str
    points: int = Field(description="Every respondent's points for it, summed")
    mean: float = Field(description="Points per respondent, rounded to one decimal (0.0 before any answer)")
    percent: float = Field(description="Its share of all points given, rounded to one decimal")
    leading: bool = Field(description="It has the most points (several when tied; none before any)")


class PointsResults(KindResults):
    respondents: int
    total: int = Field(description="The points each participant shares out")
    items: list[PointsItem] = Field(description="Every item, in deck order")
