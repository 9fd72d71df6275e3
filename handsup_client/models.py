"""What the JSON API answers, as docs/api.md describes it. Each model keeps members it does not name (a newer
server may add some), so a client keeps working across upgrades; the ones named are checked."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Activity(ApiModel):
    """One activity of a session (docs/api.md, "The session object")."""

    id: int
    position: int
    kind: str
    title: str
    prompt: str
    config: dict[str, Any]
    results: Literal["live", "hidden"]
    voting_open: bool
    revealed: bool


class Facilitator(ApiModel):
    id: int
    email: str


class Session(ApiModel):
    """A session, as `POST /api/v1/sessions`, `GET /api/v1/sessions/{id}` and its control answer it."""

    id: int
    code: str
    title: str
    state: Literal["live", "ended"]
    join_url: str
    qr_svg_url: str
    projector_url: str
    current_activity_id: int | None
    pace: Literal["presenter", "audience"]
    beside_activity_id: int | None = None
    reactions: bool
    cohort_id: int | None = None
    nicknames: bool = False
    teams: list[str] = Field(default_factory=list)
    streak: bool = False
    facilitators: list[Facilitator] = Field(default_factory=list)
    activities: list[Activity]

    def activity(self, activity_id: int) -> Activity:
        """The session's activity of that id."""
        for activity in self.activities:
            if activity.id == activity_id:
                return activity
        raise KeyError(activity_id)

    def of_kind(self, kind: str) -> list[Activity]:
        """The session's activities of one kind, in deck order."""
        return [activity for activity in self.activities if activity.kind == kind]


class Tally(ApiModel):
    """One activity's live results (`GET .../tally`). `results` is the kind's shape: its `<Kind>Results` schema in
    /openapi.json (the tally is `<Kind>Tally`, told apart by `kind`)."""

    activity_id: int
    kind: str
    respondents: int
    results: dict[str, Any]


class Live(ApiModel):
    """What a participant's screen shows now (`GET /api/v1/live`)."""

    session_id: int
    title: str
    state: Literal["live", "ended"]
    activity: Activity | None


class Joined(ApiModel):
    """`POST /api/v1/join`'s answer. `participant_id` is the participant's id in the database, not the participant
    number of exports and archives (those number participants 1, 2, 3... in the order they joined)."""

    participant_token: str
    participant_id: int
    live: Live


class Received(ApiModel):
    received: Literal[True]
    activity_id: int
    version: int


class NameChosen(ApiModel):
    nickname: str
    team: str


class DeckSummary(ApiModel):
    """One deck of `GET /api/v1/decks`."""

    id: int
    slug: str
    title: str
    template: bool
    version: int
    problems: int
    can_edit: bool
    activities: int
    updated_at: datetime


class DeckProblem(ApiModel):
    path: str
    line: int | None
    message: str


class Deck(ApiModel):
    """The deck object (`GET /api/v1/decks/{id}`)."""

    id: int
    slug: str
    title: str
    version: int
    template: bool
    can_edit: bool
    document: dict[str, Any] | None
    problems: list[DeckProblem]
    updated_at: datetime


class DeckSaved(ApiModel):
    version: int
    problems: list[DeckProblem]
    saved_at: datetime
    title: str


class MediaStored(ApiModel):
    """An uploaded image (`POST /api/v1/media`): `media` is the name a deck writes."""

    media: str
    url: str
    width: int
    height: int
    media_type: str


class Cohort(ApiModel):
    id: int
    institute_id: int
    slug: str
    name: str
    site: str
    starts_on: date | None = None
    ends_on: date | None = None
    facilitators: list[str] = Field(default_factory=list)
    same_identity: bool = True
    deck_ids: list[int] = Field(default_factory=list)
    time_zone: str = "UTC"
    session_ids: list[int] = Field(default_factory=list)


class Institute(ApiModel):
    id: int
    slug: str
    title: str
    description: str
    cohorts: list[Cohort] | None = Field(
        default=None, description="The cohorts (`GET /api/v1/institutes/{id}`); null in the list of institutes"
    )


class TokenInfo(ApiModel):
    """One of your API tokens (never its secret)."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
