"""The call for resources' models in the JSON API: its answer's fields, its moderation and its tally's shape."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from activities.base import FormValue, KindAnswer, KindModeration, KindResults


class ResourcesAnswer(KindAnswer):
    """Suggest a resource (a title, with a type, and a link or a note), and/or upvote others' resources. A participant
    has one answer: each replaces the previous one whole, so send the suggestion and the upvotes one keeps."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"type": "video", "title": "Distributed leadership in 5 minutes", "link": "https://example.org/talk/"},
                {"upvote": ["ec665cd1f8d06844"]},
            ]
        }
    )

    type: FormValue = Field(default="", description="One of the activity's `types` (any case)")
    title: FormValue = Field(default="", description="Required to suggest one")
    link: FormValue = Field(
        default="",
        description="A web link; one without a scheme is taken as https://. Links that differ only by a trailing "
        "slash are one resource",
    )
    note: FormValue = Field(default="", description="Why it helps (line breaks kept)")
    upvote: FormValue = Field(default="", description="`key`s of resources to upvote (not one's own)")


class ResourcesModeration(KindModeration):
    """Approve, hide or show a resource, or give it a display title (`retitle`; an empty title restores the
    suggested one)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"verb": "retitle", "answer": "ec665cd1f8d06844", "title": "A short talk"}]}
    )

    verb: Literal["approve", "hide", "show", "retitle"]
    answer: str = Field(description="The resource's `key`, from the tally's `resources`")
    title: str = Field(default="", description="For `retitle`: the title to show")


class ResourcesItem(KindResults):
    key: str = Field(description="A digest of its link (compared without a trailing slash), or of its title")
    type: str
    title: str
    link: str | None = Field(description="The link most of its suggesters gave")
    host: str | None
    note: str | None
    suggested_by: int
    upvotes: int
    score: int = Field(description="suggested_by + upvotes")
    approved: bool
    hidden: bool
    pending: bool
    filtered: bool
    visible: bool


class ResourcesResults(KindResults):
    respondents: int
    moderated: bool
    resources: list[ResourcesItem] = Field(description="Every resource, by score then title")
    visible: list[ResourcesItem] = Field(description="What the projector shows (at most 24)")
    more: int
    pending: int
