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


# --- the routes for every page action (docs/api.md, "Every page action over the API") ------------------------------


class CohortSessionStarted(ApiModel):
    """`POST /api/v1/cohorts/{id}/sessions`: the session started (read and run it with `Handsup.session`...)."""

    id: int
    code: str
    title: str
    cohort_id: int
    presenter_url: str


class RetentionDone(ApiModel):
    """What a cohort's prune or deletion removed."""

    cohort_id: int
    sessions: int
    participants: int
    responses: int


class DeckShare(ApiModel):
    """One account a deck is shared with."""

    user_id: int
    email: str
    access: Literal["edit", "view"]


class Preview(ApiModel):
    """`POST /api/v1/decks/preview`: whole HTML pages, or both null and the activity's `problems`."""

    phone: str | None
    projector: str | None
    problems: list[DeckProblem]


class KindInfo(ApiModel):
    """One kind of the deck editor's palette; `schema_` is the JSON schema of its config (`schema` in the JSON)."""

    name: str
    label: str
    description: str
    takes_answers: bool
    takes_free_text: bool
    translatable: list[str]
    schema_: dict[str, Any] = Field(alias="schema")


class Countdown(ApiModel):
    minimum: int
    maximum: int


class Palette(ApiModel):
    """`GET /api/v1/kinds`: every kind, and the JSON schemas of every activity's and every deck's fields."""

    kinds: list[KindInfo]
    activity: dict[str, Any]
    deck: dict[str, Any]
    filter: dict[str, Any]
    languages: list[dict[str, str]]
    countdown: Countdown


class SessionListed(ApiModel):
    """One session of `GET /api/v1/sessions` (live ones first, then the newest)."""

    id: int
    code: str
    title: str
    state: Literal["live", "ended"]
    cohort_id: int | None
    presenter_id: int
    created_at: datetime
    ended_at: datetime | None


class Moderated(ApiModel):
    """`POST .../moderation`: the activity's moderation state and its results with it applied."""

    activity_id: int
    kind: str
    moderation: dict[str, Any]
    results: dict[str, Any]


Role = Literal["admin", "organizer", "presenter"]


class Account(ApiModel):
    """`GET /api/v1/account`: who the token belongs to."""

    id: int
    email: str
    role: Role
    password_temporary: bool


class TokenCreated(TokenInfo):
    """A new API token: `secret` is in this answer only."""

    secret: str


class Identity(ApiModel):
    """A sign-in at a single sign-on provider; an unlinked one is a request to be linked to the account."""

    id: int
    provider: str
    issuer: str
    subject: str
    email: str
    linked: bool


class Person(ApiModel):
    """One account of `GET /api/v1/people`."""

    id: int
    email: str
    role: Role
    created_at: datetime
    disabled: bool
    password_temporary: bool
    tokens: int
    pending: bool = False
    identities: list[Identity] = Field(default_factory=list)


class PersonCreated(Person):
    """`POST /api/v1/people`: `password` is the one-time password made here (null when you gave one, or none)."""

    password: str | None


WebhookEvent = Literal["response.stored", "session.ended", "archive.ready"]
"""The events a webhook may ask for (docs/api.md, "Events")."""


class Webhook(ApiModel):
    """One of your webhooks. `events` are read as text: a newer server may send events this client does not name."""

    id: int
    url: str
    events: list[str]
    active: bool
    paused_reason: str
    failures: int
    created_at: datetime


class WebhookCreated(Webhook):
    """A new webhook: `secret` (`whsec_...`, the key of its signatures) is in this answer only."""

    secret: str


class Delivery(ApiModel):
    """One delivery of an event to a webhook."""

    delivery_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    response_status: int | None
    error: str
    created_at: datetime
    finished_at: datetime | None


class Slides(ApiModel):
    """`POST /api/v1/slides`' last line: one stored image per page (`media`, `url`, `width`, `height`, `title`)."""

    slides: list[dict[str, Any]]
    filename: str
