"""The card sort's models in the JSON API: its answer's fields, its moderation and its tally's shape."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from activities.base import KindAnswer, KindModeration, KindResults, numbered_fields


class SortAnswer(KindAnswer):
    """A card sort's answer: one field per card, `card-<index>` (0-based, in the order of the deck's `cards`), holding
    the bin's index as text, or `unsure`. Every card must be placed, in one bin only."""

    model_config = numbered_fields(
        "^card-[0-9]{1,3}$", "The bin's index, or `unsure` (one value)", [{"card-0": "0", "card-1": "unsure"}]
    )


class SortModeration(KindModeration):
    """How the presenter and the projector list the cards."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"verb": "order", "order": "contested"}]})

    verb: Literal["order"]
    order: Literal["deck", "agreed", "contested"] = Field(
        description="`deck` order, most `agreed` first, or most `contested` first"
    )


class SortBin(KindResults):
    name: str
    colour: str = Field(description="The bin's colour on the charts, `#RRGGBB`")


class SortCardBin(KindResults):
    name: str
    count: int = Field(description="How many people put the card in this bin")
    percent: int = Field(description="Of those who placed the card (Unsure left out), to a whole percent")
    offset: int = Field(description="Where this bin's bar starts on the stacked bar: the percents before it")
    colour: str


class SortCard(KindResults):
    index: int = Field(description="The card's place in the deck (0-based)")
    text: str
    placed: int = Field(description="How many people put it in a bin")
    unsure: int = Field(description="How many said Unsure")
    bins: list[SortCardBin]
    leading: str | None = Field(description="The bin most people chose; null when none, or when two or more tie")
    leading_percent: int
    contested: float | None = Field(
        description="How split the room is, from 0 (everyone chose one bin) to 1 (evenly split over the bins), "
        "unrounded; null before anyone placed it"
    )
    contested_percent: int | None = Field(description="`contested` as a whole percent")


class SortResults(KindResults):
    respondents: int
    order: Literal["deck", "agreed", "contested"] = Field(description="The order `cards` are in (the moderation's)")
    bins: list[SortBin]
    cards: list[SortCard]
