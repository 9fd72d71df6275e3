"""The word cloud's models in the JSON API: its answer's fields, its moderation and its tally's shape."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from activities.base import FormValue, KindAnswer, KindModeration, KindResults


class WordcloudAnswer(KindAnswer):
    """A word cloud's answer: up to the activity's `entries` words."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"word": ["trust", "shared vision", ""]}, {"word": "voice"}]}
    )

    word: FormValue = Field(
        description="One text per entry box; blank ones are dropped. At most `entries` non-blank ones, each at most "
        "`max_length` characters. Entries that come to the same word (see the word's `key`) count once."
    )


class WordcloudModeration(KindModeration):
    """Hide a word from the cloud, or show it again (which also lets a word the profanity filter holds through)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"verb": "hide", "word": "school"}]})

    verb: Literal["hide", "show"]
    word: str = Field(description="The word's `key`, from the tally's `words`, `hidden` or `filtered`")


class WordcloudWord(KindResults):
    key: str = Field(
        description="The word as counted: lower case, punctuation at its ends stripped (and lemmatised "
        "or accents folded as the activity says)"
    )
    text: str = Field(description="How it is shown: the form most people typed")
    count: int = Field(description="How many people gave it (a person's repeated word counts once)")


class WordcloudResults(KindResults):
    respondents: int
    words: list[WordcloudWord] = Field(description="The words the room sees, most given first, then alphabetically")
    hidden: list[WordcloudWord] = Field(description="Words the presenter hid")
    filtered: list[WordcloudWord] = Field(
        description="Words the profanity filter holds back until the presenter shows them"
    )
    top: int = Field(description="The highest count among `words` (0 when none)")
    cloud: list[tuple[str, int]] = Field(
        description="The picture's words, at most 60: (text, size level 1 to 6, where a word's level is "
        "ceil(6 x count / top))"
    )
    cloud_digest: str = Field(description="Changes only when the picture would: the `v` of its URL")
