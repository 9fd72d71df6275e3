"""The ranking's models in the JSON API: its answer's fields and its tally's shape."""

from __future__ import annotations

from pydantic import Field

from activities.base import KindAnswer, KindResults, numbered_fields


class RankingAnswer(KindAnswer):
    """A ranking: one field per item, `rank-<index>` (0-based, in the order of the deck's `items`), holding its rank
    as text (`"1"` is first). Every item gets a distinct rank from 1 to the number of items; with `partial: true`
    only the top `top` are ranked and the others are left out (or sent empty)."""

    model_config = numbered_fields(
        "^rank-[0-9]{1,2}$",
        "The item's rank (one value; empty: unranked)",
        [{"rank-0": "2", "rank-1": "1", "rank-2": "3"}],
    )


class RankingItem(KindResults):
    label: str
    index: int = Field(description="The item's place in the deck (0-based)")
    place: int = Field(description="Its place in the room's ranking (items tied share one)")
    average_rank: float | None = Field(
        description="Its mean rank (where a partial ranking leaves it out, it takes the mean of the places left: "
        "with 4 items and 2 ranked, 3.5), rounded to two decimals; null before any answer"
    )
    first: int = Field(description="How many people ranked it first")
    ranked: int = Field(description="How many people ranked it")
    score: int = Field(description="Its Borda points as a whole percent of the top item's: the bar's length")
    leading: bool


class RankingResults(KindResults):
    respondents: int
    partial: bool
    items: list[RankingItem] = Field(description="The items in the room's order, first place first")
