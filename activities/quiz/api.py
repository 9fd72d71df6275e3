"""The quiz question's models in the JSON API: its answer's fields and its tally's shape."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from activities.base import FormValue, KindAnswer, KindResults


class QuizAnswer(KindAnswer):
    """A quiz answer: the picked options (a question with `options`), or the typed answer (one with `accepted`
    answers). The server times it: from when the room was shown the question open to when the answer arrived."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"choice": "2"}, {"answer": "ten"}]})

    choice: FormValue = Field(default="", description="Option indexes (0-based) as text")
    answer: FormValue = Field(
        default="", description="The typed answer (case, accents and, from 5 letters, one typo are forgiven)"
    )


class QuizOption(KindResults):
    label: str
    count: int
    percent: int = Field(description="Of the respondents, to a whole percent")
    correct: bool


class QuizResults(KindResults):
    respondents: int
    right: int
    wrong: int
    right_percent: int
    typed: bool = Field(description="A typed question (its `accepted` answers) rather than one of options")
    accepted: list[str]
    options: list[QuizOption] = Field(description="Every option, in deck order (none for a typed question)")
