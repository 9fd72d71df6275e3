"""Q&A's models in the JSON API: its answer's fields, its moderation and its tally's shape."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from activities.base import FormValue, KindAnswer, KindModeration, KindResults


class QaAnswer(KindAnswer):
    """A change to one's Q&A, applied to one's previous answer: ask one more question (with a name, when the
    activity takes names), toggle an upvote of someone's question, or withdraw a question of one's own."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"question": "How do we start with a small team?", "name": "Ana"},
                {"upvote": "638e8acd3d06234e"},
            ]
        }
    )

    question: FormValue = Field(default="", description="A question to ask (one text, at most `max_length`)")
    name: FormValue = Field(default="", description="Signs the question (when the activity's `names` is on)")
    upvote: FormValue = Field(default="", description="Question `key`s whose upvote to toggle")
    withdraw: FormValue = Field(default="", description="`key`s of questions of one's own to take back")


class QaModeration(KindModeration):
    """Approve, hide or show a question, mark it answered (or reopen it), or highlight it as the one being answered."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"verb": "highlight", "question": "638e8acd3d06234e"}]})

    verb: Literal["approve", "hide", "show", "answer", "reopen", "highlight", "unhighlight"]
    question: str = Field(description="The question's `key`, from the tally's `questions`")


class QaQuestion(KindResults):
    key: str = Field(description="A digest of the question compared ignoring case and line breaks")
    text: str = Field(description="The wording most of its askers used")
    pieces: list[str]
    names: list[str] = Field(description="The names it was signed with (empty once participant data is deleted)")
    askers: int
    upvoters: int
    score: int = Field(description="askers + upvoters: the order of the queue")
    approved: bool
    hidden: bool
    answered: bool
    highlighted: bool
    pending: bool
    filtered: bool
    visible: bool


class QaResults(KindResults):
    respondents: int
    moderated: bool
    asked: int = Field(description="How many distinct questions")
    people: int = Field(description="How many people asked one")
    questions: list[QaQuestion] = Field(
        description="Every question: highlighted first, then unanswered by score, then answered; ties by text"
    )
    visible: list[QaQuestion] = Field(description="What phones list")
    more_visible: int
    highlighted: QaQuestion | None = Field(description="The question being answered now, if any")
    projected: list[QaQuestion] = Field(description="The projector's queue of unanswered questions")
    more: int
    answered: int
    pending: int
