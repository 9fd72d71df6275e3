"""Guess the number's models in the JSON API: its answer's fields and its tally's shape."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from activities.base import FormValue, KindAnswer, KindResults


class NumberAnswer(KindAnswer):
    """A number within the activity's `min` and `max`, with at most its `decimals` (`.` or `,` before them)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"value": "8"}]})

    value: FormValue = Field(description="The number as text (one value)")


class NumberBin(KindResults):
    label: str = Field(description="The bin's range (`5–9`) or value")
    count: int


class NumberClose(KindResults):
    value: str
    count: int
    right: bool = Field(description="Within the tolerance of the right answer")


class NumberCorrect(KindResults):
    value: str = Field(description="The right answer, as text")
    tolerance: str | None = Field(description="How far off still counts as right; null when it must be exact")
    within: int = Field(description="How many answers are right")
    share: int = Field(description="`within` as a whole percent of the answers")
    column: float = Field(description="Where the right answer falls on the histogram, in bins from the left")
    closest: list[NumberClose] = Field(description="The answers closest to the right one, with their counts")


class NumberResults(KindResults):
    respondents: int
    answers: int
    min: str = Field(description="Numbers are given as text, without trailing zeros (`3.5`, `8`)")
    max: str
    unit: str
    median: str | None
    median_column: float | None
    mean: str | None = Field(description="Rounded to the activity's `decimals` plus two")
    bins: list[NumberBin] = Field(description="The histogram, low to high")
    top: int = Field(description="The largest bin's count")
    correct: NumberCorrect | None = Field(description="Null when the activity has no right answer")
