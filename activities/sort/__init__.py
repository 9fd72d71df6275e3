"""`sort`: the influence-vs-authority card sort. Everyone places every card in a bin; the room sees each split."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
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
    whole_number,
)
from activities.i18n import N_, _, ngettext
from activities.palette import OKABE_ITO
from activities.sort.api import SortAnswer, SortModeration, SortResults

MIN_BINS = 2
MAX_BINS = 5
MAX_BIN_LENGTH = 40
MAX_CARDS = 30
MAX_CARD_LENGTH = 120
CARD_FIELD = "card-"
UNSURE = "unsure"
ORDERS = ("deck", "agreed", "contested")
BIN_COLOURS = OKABE_ITO[:MAX_BINS]  # one per bin, in bin order


class SortConfig(KindConfig):
    bins: list[str] = Field(
        default_factory=lambda: ["Influence", "Authority"],
        min_length=MIN_BINS,
        max_length=MAX_BINS,
        description=N_("The groups cards are sorted into (Unsure is always offered)"),
    )
    cards: list[str] = Field(min_length=1, max_length=MAX_CARDS, description=N_("The cards people sort"))

    @field_validator("bins")
    @classmethod
    def _distinct_bins(cls, bins: list[str]) -> list[str]:
        cleaned = distinct_labels(bins, "bin", MAX_BIN_LENGTH)
        if any(label.casefold() == UNSURE for label in cleaned):
            raise ValueError(_("a bin may not be called Unsure: every card already offers Unsure"))
        return cleaned

    @field_validator("cards")
    @classmethod
    def _distinct_cards(cls, cards: list[str]) -> list[str]:
        return distinct_labels(cards, "card", MAX_CARD_LENGTH)


class SortSubmission(KindSubmission):
    placements: list[int | None] = Field(description="Per card, in deck order: the bin's index, or null for Unsure")

    @model_validator(mode="before")
    @classmethod
    def _from_form(cls, data: Any, info: ValidationInfo) -> Any:
        """A form's `card-<index>` fields as placements, refusing unknown cards and bins and unplaced cards."""
        if not isinstance(data, dict) or "form" not in data:
            return data
        config: SortConfig = (info.context or {})["config"]
        fields: dict[str, list[str]] = data["form"]
        indexes = {name: whole_number(name.removeprefix(CARD_FIELD), 3) for name in fields}
        if any(index is None or index >= len(config.cards) for index in indexes.values()):
            raise ValueError(_("That card is not part of this sort."))
        placements: list[int | None] = []
        left: list[str] = []
        for index, card in enumerate(config.cards):
            values = fields.get(f"{CARD_FIELD}{index}", [])
            if not values:
                left.append(card)
                placements.append(None)
                continue
            if len(values) > 1:
                raise ValueError(_("Put “{card}” in one bin only.").format(card=card))
            placements.append(_bin_of(config, values[0]))
        if left:
            message = ngettext(
                "Place every card before sending: 1 is left: “{card}”.",
                "Place every card before sending: {count} are left, starting with “{card}”.",
                len(left),
            )
            raise ValueError(message.format(count=len(left), card=left[0]))
        return {"placements": placements}

    @model_validator(mode="after")
    def _fits_config(self, info: ValidationInfo) -> SortSubmission:
        config: SortConfig = (info.context or {})["config"]
        if len(self.placements) != len(config.cards):
            raise ValueError(_("Place every card before sending."))
        if any(placed_in is not None and not 0 <= placed_in < len(config.bins) for placed_in in self.placements):
            raise ValueError(_("That bin is not part of this sort."))
        return self


def _bin_of(config: SortConfig, value: str) -> int | None:
    """A radio's value as a bin index (None for Unsure); refuses a bin the sort does not have."""
    if value == UNSURE:
        return None
    index = whole_number(value, 2)
    if index is None or index >= len(config.bins):
        raise ValueError(_("That bin is not part of this sort."))
    return index


def split_percents(counts: list[int]) -> list[int]:
    """Whole percentages of the total that add up to exactly 100 (largest remainder; ties to the earlier bin)."""
    total = sum(counts)
    if not total:
        return [0] * len(counts)
    floors = [100 * count // total for count in counts]
    by_remainder = sorted(range(len(counts)), key=lambda i: (-(100 * counts[i] % total), i))
    for i in by_remainder[: 100 - sum(floors)]:
        floors[i] += 1
    return floors


def contestedness(counts: list[int]) -> Fraction | None:
    """How contested a card is: 1 − the largest bin's share of placements, scaled by the bins' count to 0..1.

    0 means everyone who placed the card chose the same bin; 1 means the placements are spread evenly over every
    bin. Unsure answers are left out. None when nobody placed the card in a bin.
    """
    placed = sum(counts)
    if not placed:
        return None
    bins = len(counts)
    return Fraction(placed - max(counts), placed) * Fraction(bins, bins - 1)


class SortTally(SignedTally[SortConfig, SortSubmission]):
    submission_model = SortSubmission

    def clear(self) -> None:
        self.counts = [[0] * len(self.config.bins) for _ in self.config.cards]
        self.unsure = [0] * len(self.config.cards)

    def count(self, submission: SortSubmission, step: int) -> None:
        for card, placed_in in enumerate(submission.placements):
            if placed_in is None:
                self.unsure[card] += step
            else:
                self.counts[card][placed_in] += step

    def card(self, index: int) -> dict[str, Any]:
        """One card's split: per bin its count, percent of placements and the segment's offset in the bar."""
        counts = self.counts[index]
        percents = split_percents(counts)
        offsets = [sum(percents[:i]) for i in range(len(percents))]
        top = max(counts)
        leaders = [i for i, count in enumerate(counts) if count == top and count > 0]
        contested = contestedness(counts)
        return {
            "index": index,
            "text": self.config.cards[index],
            "placed": sum(counts),
            "unsure": self.unsure[index],
            "bins": [
                {"name": name, "count": count, "percent": percent, "offset": offset, "colour": colour}
                for name, count, percent, offset, colour in zip(
                    self.config.bins, counts, percents, offsets, BIN_COLOURS, strict=False
                )
            ],
            "leading": self.config.bins[leaders[0]] if len(leaders) == 1 else None,
            "leading_percent": percents[leaders[0]] if leaders else 0,
            "contested": None if contested is None else float(contested),
            "contested_percent": None if contested is None else round(100 * contested),
        }

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        order = moderation.get("order", "deck")
        order = order if order in ORDERS else "deck"
        return {
            "respondents": self.respondents,
            "order": order,
            "bins": [
                {"name": name, "colour": colour} for name, colour in zip(self.config.bins, BIN_COLOURS, strict=False)
            ],
            "cards": [self.card(index) for index in self.ordered(order)],
        }

    def ordered(self, order: str) -> list[int]:
        """Card indexes in deck order, or most agreed / most contested first (cards nobody placed last)."""
        indexes = list(range(len(self.config.cards)))
        if order == "deck":
            return indexes
        sign = 1 if order == "agreed" else -1

        def key(index: int) -> tuple[bool, Fraction, int]:
            contested = contestedness(self.counts[index])
            return (contested is None, sign * (contested or Fraction(0)), index)

        return sorted(indexes, key=key)


class Sort(ActivityKind[SortConfig, SortSubmission]):
    name = "sort"
    label = N_("Card sort")
    description = N_("Everyone sorts cards into groups; the room sees where each card landed.")
    translatable = frozenset({"cards", "bins"})
    config_model = SortConfig
    submission_model = SortSubmission
    tally_class = SortTally
    answer_model = SortAnswer
    moderation_model = SortModeration
    results_model = SortResults
    moderation_actions = frozenset({"order"})

    def submission_from_form(self, config: SortConfig, form: FormFields) -> dict[str, Any]:
        fields = {name: [v.strip() for v in values if v.strip()] for name, values in form.items()}
        return {"form": {name: values for name, values in fields.items() if name.startswith(CARD_FIELD)}}

    def moderate(self, moderation: dict[str, Any], action: str, form: FormFields) -> dict[str, Any]:
        """`order` with field `order` = deck, agreed or contested: how presenter and projector list the cards."""
        order = [value.strip() for value in form.get("order", ())]
        if action not in self.moderation_actions or len(order) != 1 or order[0] not in ORDERS:
            raise SubmissionInvalid("Choose how to order the cards: deck, agreed or contested.")
        return {**moderation, "order": order[0]}

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for card in snapshot.get("cards", []):
            for part in card["bins"]:
                rows.append(
                    {
                        "line": "card",
                        "label": card["text"],
                        "detail": part["name"],
                        "count": part["count"],
                        "share": part["percent"],
                    }
                )
            rows.append({"line": "card", "label": card["text"], "detail": "unsure", "count": card["unsure"]})
        return rows

    def export_rows(self, config: SortConfig, submission: SortSubmission) -> list[dict[str, Any]]:
        return [
            {"card": card, "bin": UNSURE if placed_in is None else config.bins[placed_in]}
            for card, placed_in in zip(config.cards, submission.placements, strict=True)
        ]

    def chart(self, config: SortConfig, snapshot: Mapping[str, Any]) -> Chart:
        """Each card's split across the bins (people), most agreed first and most contested last."""
        cards = sorted(
            snapshot["cards"],
            key=lambda card: (card["contested"] is None, card["contested"] or 0.0, card["index"]),
        )
        rows = tuple(
            ChartRow(card["text"], tuple(float(b["count"]) for b in card["bins"]), _split_note(card)) for card in cards
        )
        return Chart(rows, unit="people", series=tuple(config.bins))


def _split_note(card: Mapping[str, Any]) -> str:
    """'80% Influence', or 'split' when no bin leads, and how many were unsure."""
    note = f"{card['leading_percent']}% {card['leading']}" if card["leading"] else "split" if card["placed"] else ""
    if card["unsure"]:
        note += f"{', ' if note else ''}{card['unsure']} unsure"
    return note


kind = Sort()
