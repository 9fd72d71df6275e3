"""The poll's models in the JSON API: its answer's fields and its tally's shape."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from activities.base import FormValue, KindAnswer, KindResults


class PollAnswer(KindAnswer):
    """A poll's answer: the picked options by index."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"choice": ["0"]}, {"choice": ["0", "2"]}]})

    choice: FormValue = Field(
        description="The picked options' indexes (0-based, in the order of the poll's `options`) as text: one "
        '(`"1"`), or a list for a poll with `multiple: true` (at most its `max_choices`)'
    )


class PollOptionResult(KindResults):
    label: str = Field(description="The option, in the deck's language")
    count: int = Field(description="How many people picked it")
    percent: int = Field(
        description="Of the respondents, rounded to a whole percent (a multiple-choice poll's may add up to more "
        "than 100)"
    )
    leading: bool = Field(description="It has the most picks (several when tied; none before any)")


class PollResults(KindResults):
    respondents: int
    options: list[PollOptionResult] = Field(description="Every option, in deck order")
