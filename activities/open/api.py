"""The open question's models in the JSON API: its answer's fields, its moderation and its tally's shape."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from activities.base import FormValue, KindAnswer, KindModeration, KindResults


class OpenAnswer(KindAnswer):
    """An open answer: one text (line breaks kept), at most the activity's `max_length` characters."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"text": "Grading policies we never discuss"}]})

    text: FormValue = Field(description="The answer (several `text` values are joined with a space)")


class OpenModeration(KindModeration):
    """Hide or show an answer card, highlight it on the projector (or not), or approve it (a moderated activity's
    cards reach the projector once approved; approving also lets a card the profanity filter holds through)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"verb": "approve", "answer": "4b39bb42bd342adc"}]})

    verb: Literal["hide", "show", "highlight", "unhighlight", "approve"]
    answer: str = Field(description="The card's `key`, from the tally's `cards`")


class OpenCard(KindResults):
    key: str = Field(
        description="The moderation key: a digest of the answer compared ignoring case and line breaks, so answers "
        "that differ only so are one card"
    )
    text: str = Field(description="The wording most of its people gave (ties: alphabetically first)")
    pieces: list[str] = Field(description="`text` cut where a card may break a long run without spaces")
    count: int = Field(description="How many people gave it")
    version: int = Field(description="Its newest answer's version: cards are newest first")
    hidden: bool
    highlighted: bool
    pending: bool = Field(description="Waiting for approval (a moderated activity)")
    filtered: bool = Field(description="Held back by the profanity filter until the presenter shows or approves it")
    visible: bool = Field(description="The room sees it: not hidden, pending or filtered")


class OpenResults(KindResults):
    respondents: int
    moderated: bool
    cards: list[OpenCard] = Field(description="Every card: highlighted first, then newest first, then by text")
    visible: list[OpenCard] = Field(description="The cards the projector shows, at most 24")
    more: int = Field(description="Visible cards beyond those 24")
    pending: int = Field(description="Cards waiting for approval (hidden ones left out)")
