"""`ranking`: people put items in order; shown as the items sorted by average rank, with Borda-style bars."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
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
    distinct_labels,
    whole_number,
)
from activities.i18n import N_, _
from activities.ranking.api import RankingAnswer, RankingResults

MIN_ITEMS = 2
MAX_ITEMS = 15
MAX_ITEM_LENGTH = 120
FIELD_PREFIX = "rank-"
UNRANKED = 0


class RankingConfig(KindConfig):
    items: list[str] = Field(min_length=MIN_ITEMS, max_length=MAX_ITEMS, description=N_("The items, in deck order"))
    partial: bool = Field(default=False, description=N_("Participants rank only their top `top` items"))
    top: int | None = Field(default=None, ge=1, le=MAX_ITEMS, description=N_("With partial: at most this many ranks"))

    @field_validator("items")
    @classmethod
    def _distinct_items(cls, items: list[str]) -> list[str]:
        return distinct_labels(items, "item", MAX_ITEM_LENGTH)

    @model_validator(mode="after")
    def _top_fits(self) -> RankingConfig:
        if self.top is not None and not self.partial:
            raise ValueError(_("top needs partial: true (without it, every item is ranked)"))
        if self.top is not None and self.top > len(self.items):
            raise ValueError(
                _("top is {top} but there are only {count} items").format(top=self.top, count=len(self.items))
            )
        return self

    @property
    def rank_limit(self) -> int:
        """The highest rank a participant may give."""
        return (self.top or len(self.items)) if self.partial else len(self.items)


class RankingSubmission(KindSubmission):
    ranks: list[int] = Field(description="Per item, in deck order, the rank given (1 is first; 0 is unranked)")

    @model_validator(mode="after")
    def _fits_config(self, info: ValidationInfo) -> RankingSubmission:
        config: RankingConfig = (info.context or {})["config"]
        problem = ranking_problem(config, self.ranks)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def ranked(self) -> int:
        """How many items this participant ranked."""
        return sum(1 for rank in self.ranks if rank != UNRANKED)


def ranking_problem(config: RankingConfig, ranks: list[int]) -> str | None:
    """What is wrong with these ranks, said to the participant; None when they are a valid ranking."""
    limit = config.rank_limit
    if len(ranks) != len(config.items):
        return _("These ranks do not match the items shown: reload the page and rank them again.")
    if any(rank != UNRANKED and not 1 <= rank <= limit for rank in ranks):
        return _("Use ranks from 1 to {limit}.").format(limit=limit)
    used = Counter(rank for rank in ranks if rank != UNRANKED)
    for rank in sorted(used):
        if used[rank] > 1:
            if used[rank] == 2:
                return _("Rank {rank} is used twice.").format(rank=rank)
            return _("Rank {rank} is used {count} times.").format(rank=rank, count=used[rank])
    if not config.partial:
        return _("Give every item a rank.") if UNRANKED in ranks else None
    if not used:
        return _("Give your first choice rank 1.")
    missing = next((rank for rank in range(1, max(used)) if rank not in used), None)
    if missing is not None:
        return _("Rank {rank} is missing: number your choices 1, 2, 3… without a gap.").format(rank=missing)
    return None


class RankingTally(SignedTally[RankingConfig, RankingSubmission]):
    submission_model = RankingSubmission

    def clear(self) -> None:
        # Twice each rank, so that unranked items (sharing the places left, a half rank) stay exact integers.
        self.doubled_rank_sums = [0] * len(self.config.items)
        self.firsts = [0] * len(self.config.items)
        self.ranked_by = [0] * len(self.config.items)
        self.people = 0

    def count(self, submission: RankingSubmission, sign: int) -> None:
        items = len(self.config.items)
        ranked = submission.ranked
        shared = ranked + 1 + items  # twice the average of the places ranked+1..items
        for index, rank in enumerate(submission.ranks):
            self.doubled_rank_sums[index] += sign * (2 * rank if rank != UNRANKED else shared)
            self.firsts[index] += sign * (rank == 1)
            self.ranked_by[index] += sign * (rank != UNRANKED)
        self.people += sign

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        people = self.people
        order = sorted(range(len(self.config.items)), key=lambda index: (self.doubled_rank_sums[index], index))
        best = self.doubled_rank_sums[order[0]]
        items: list[dict[str, Any]] = []
        for position, index in enumerate(order):
            total = self.doubled_rank_sums[index]
            place = position + 1 if position == 0 or total != self.doubled_rank_sums[order[position - 1]] else None
            items.append(
                {
                    "label": self.config.items[index],
                    "index": index,
                    "place": place or items[-1]["place"],
                    "average_rank": float(round(Fraction(total, 2 * people), 2)) if people else None,
                    "first": self.firsts[index],
                    "ranked": self.ranked_by[index],
                    "score": self._score(total, best),
                    "leading": people > 0 and total == best,
                }
            )
        return {"respondents": people, "partial": self.config.partial, "items": items}

    def _score(self, doubled_sum: int, best: int) -> int:
        """Borda points (an item's places below last, summed) as a percent of the top item's: the bar's length."""
        most = 2 * len(self.config.items) * self.people
        return round(Fraction(100 * (most - doubled_sum), most - best)) if self.people else 0


class Ranking(ActivityKind[RankingConfig, RankingSubmission]):
    name = "ranking"
    label = N_("Ranking")
    description = N_("Everyone puts items in order; the room sees the average rank of each.")
    translatable = frozenset({"items"})
    config_model = RankingConfig
    submission_model = RankingSubmission
    tally_class = RankingTally
    answer_model = RankingAnswer
    results_model = RankingResults

    def submission_from_form(self, config: RankingConfig, form: FormFields) -> dict[str, Any]:
        # A blank select is unranked; a value that is no whole number becomes -1, which the Submission refuses.
        return {"ranks": [_rank_of(form.get(f"{FIELD_PREFIX}{index}", ())) for index in range(len(config.items))]}

    def result_lines(self, snapshot: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "line": "item",
                "label": item["label"],
                "detail": f"place {item['place']}",
                "count": item["first"],
                "mean": item["average_rank"],
            }
            for item in snapshot.get("items", [])
        ]

    def export_rows(self, config: RankingConfig, submission: RankingSubmission) -> list[dict[str, Any]]:
        return [
            {"item": item, "item_index": index, "rank": rank if rank != UNRANKED else None}
            for index, (item, rank) in enumerate(zip(config.items, submission.ranks, strict=True))
        ]

    def chart(self, config: RankingConfig, snapshot: Mapping[str, Any]) -> Chart | None:
        """Each item's average rank, best first (a shorter bar is a better rank); None before anyone ranked."""
        items = [item for item in snapshot["items"] if item["average_rank"] is not None]
        if not items:
            return None
        rows = tuple(
            ChartRow(item["label"], (item["average_rank"],), f"{item['average_rank']} ({item['first']} put it first)")
            for item in items
        )
        return Chart(rows, unit="average rank (1 is first)", scale=len(config.items))


def _rank_of(values: Sequence[str]) -> int:
    texts = [value.strip() for value in values if value.strip()]
    if not texts:
        return UNRANKED
    if len(texts) > 1:
        return -1
    rank = whole_number(texts[0], 3)
    return -1 if rank is None or rank == UNRANKED else rank


kind = Ranking()
