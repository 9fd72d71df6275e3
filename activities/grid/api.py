"""The 2x2 grid's models in the JSON API: its answer's fields, its moderation and its tally's shape."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from activities.base import KindAnswer, KindModeration, KindResults, numbered_fields


class GridAnswer(KindAnswer):
    """Items placed on the grid: per item (0-based, in the order of the deck's `items`) `item-<index>-x` and
    `item-<index>-y`, whole numbers from the activity's `min` to `max` as text, or `item-<index>-skip` (any value) to
    leave it out. An item sent without either is skipped; at least one must be placed."""

    model_config = numbered_fields(
        "^item-[0-9]{1,2}-(x|y|skip)$",
        "`-x`, `-y`: a whole number from `min` to `max` (one value each); `-skip`: any value",
        [{"item-0-x": "3", "item-0-y": "8", "item-1-skip": "on"}],
    )


class GridModeration(KindModeration):
    """Show or hide the cloud of one item's placements (or every item's) behind its mean on the charts."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"verb": "show-cloud", "item": "all"}]})

    verb: Literal["show-cloud", "hide-cloud"]
    item: str = Field(description="The item's index as text, or `all`")


class GridPoint(KindResults):
    x: int
    y: int
    count: int = Field(description="How many people placed the item there")


class GridItem(KindResults):
    index: int
    text: str
    colour: str = Field(description="The item's dot colour, `#RRGGBB`")
    ink: str = Field(description="The colour of the number written on its dot")
    placed: int
    skips: int
    mean_x: float | None = Field(description="Rounded to two decimals; null before anyone placed it")
    mean_y: float | None
    spread_x: float | None = Field(description="The standard deviation, rounded to two decimals")
    spread_y: float | None
    cloud_shown: bool = Field(description="The presenter shows this item's placements")
    cloud: list[GridPoint] = Field(description="Every distinct placement with its count")


class GridResults(KindResults):
    respondents: int
    min: int
    max: int
    items: list[GridItem] = Field(description="Every item, in deck order")
