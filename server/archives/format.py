"""The shape of an archive's `data.json` (format `handsup-archive`, version 2), written and read by the same models.

One shape for the three scopes: a session archive has one session and no institute; a cohort archive has its
institute, the one cohort and its sessions; an institute archive has every cohort and every session. Sessions name
their cohort by `cohort` (its `key` in this file), participants by `number` (join order within the session) and,
in a cohort that keeps one identity across its sessions, by `person` (the same number in every session of the
cohort). Responses name their activity by its 1-based `activity` position and their participant by `number`.
Nothing in it is a database id, so an archive imports into any server.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT = "handsup-archive"
VERSION = 2
Scope = Literal["session", "cohort", "institute"]
MEDIA_FOLDER = "media"
MAX_TEAMS = 20  # more than any session offers; a longer list in data.json is not one a server wrote
"""Where an archive keeps the uploaded images its decks show: `media/<sha256>.<ext>`, the bytes as stored (listed in
the manifest like every file; archives from before images simply have none, and data.json's shape is unchanged)."""


class Part(BaseModel):
    """Every part of data.json: unknown keys are refused, so a foreign or altered file does not half-import."""

    model_config = ConfigDict(extra="forbid")


class InstituteData(Part):
    slug: str = Field(max_length=100)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)


class DeckData(Part):
    slug: str = Field(max_length=100)
    title: str = Field(max_length=200)
    source: str


class CohortData(Part):
    key: int = Field(ge=1)
    slug: str = Field(max_length=100)
    name: str = Field(max_length=200)
    site: str = Field(default="", max_length=200)
    starts_on: date | None = None
    ends_on: date | None = None
    facilitators: list[str] = Field(default_factory=list)
    same_identity: bool = True
    # The IANA zone of the site (times in data.json stay UTC; the zone says how people saw them). Absent in
    # archives written before cohorts had one: UTC, as those servers showed.
    time_zone: str = Field(default="UTC", max_length=64)
    decks: list[DeckData] = Field(default_factory=list)


class ActivityData(Part):
    position: int = Field(ge=1)
    kind: str = Field(max_length=40)
    title: str = Field(max_length=200)
    prompt: str = Field(default="", max_length=1000)
    config: dict[str, Any]
    results: Literal["live", "hidden"]
    voting_open: bool
    revealed: bool
    moderation: dict[str, Any]
    epoch: int = Field(ge=0)
    countdown_seconds: int | None = None
    respondents: int = Field(ge=0)
    tally: dict[str, Any]
    # Set once the session's participant-level data was deleted: `tally` and `respondents` are then all there is.
    aggregate: dict[str, Any] | None = None


class ParticipantData(Part):
    number: int = Field(ge=1)
    person: int | None = Field(default=None, ge=1)
    joined_at: datetime
    # The nickname the phone chose and its team (one of the session's `teams`); empty: none. Absent in archives
    # written before sessions had names and teams.
    nickname: str = Field(default="", max_length=40)
    team: str = Field(default="", max_length=60)


class ResponseData(Part):
    activity: int = Field(ge=1)
    participant: int = Field(ge=1)
    epoch: int = Field(ge=0)
    version: int = Field(ge=0)
    answered_at: datetime
    payload: dict[str, Any]


class SessionData(Part):
    key: int = Field(ge=1)
    cohort: int | None = None
    code: str = Field(max_length=12)
    title: str = Field(max_length=200)
    state: Literal["live", "ended"]
    pace: Literal["presenter", "audience"]
    created_at: datetime
    ended_at: datetime | None = None
    pruned_at: datetime | None = None
    # The session's options for its quiz questions: phones asked for a nickname, the teams they chose from, the
    # streak bonus. Absent in archives written before sessions had them: off, none, off.
    nicknames: bool = False
    teams: list[str] = Field(default_factory=list, max_length=MAX_TEAMS)
    streak: bool = False
    deck: DeckData | None = None
    activities: list[ActivityData]
    participants: list[ParticipantData]
    responses: list[ResponseData]


class ArchiveData(Part):
    format: Literal["handsup-archive"]
    version: Literal[2]
    scope: Scope
    institute: InstituteData | None = None
    cohorts: list[CohortData] = Field(default_factory=list)
    sessions: list[SessionData]


def unsafe_entry_name(name: str) -> bool:
    """Whether a ZIP entry name could land outside the folder it is unpacked in, or mean something else on another
    system: empty, absolute, `.` or `..` parts, a backslash, a colon (drive letters, Windows streams) or control
    characters. The writer never makes one and the importer refuses every one."""
    if not name or name.startswith("/") or "\\" in name or ":" in name:
        return True
    if any(not ch.isprintable() for ch in name):
        return True
    return any(part in {"", ".", ".."} for part in name.removesuffix("/").split("/"))
