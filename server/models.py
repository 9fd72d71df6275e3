"""Database tables. Domain words (deck, session, activity, participant, response) as in DESIGN.md."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from pydantic import StrictInt, StrictStr
from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, LargeBinary, UniqueConstraint, false, text, true
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored timestamp as aware UTC (SQLite hands them back without their zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Role(enum.StrEnum):
    """What an account may do; each role includes the ones below it."""

    presenter = "presenter"
    organizer = "organizer"
    admin = "admin"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    password_hash: str = Field(max_length=255)
    role: Role = Field(default=Role.presenter, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    # Raised by a password change: a browser signed in under an older generation is signed out.
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # An admin chose this password and passed it on: the person chooses their own before anything else.
    password_temporary: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # A disabled account can neither sign in nor use its API tokens; nothing of it is deleted.
    disabled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Created by a single sign-on from outside the allowed domains: it signs in once an administrator approves it.
    pending: bool = Field(default=False, sa_column_kwargs={"server_default": false()})

    @property
    def has_password(self) -> bool:
        """False for an account that signs in only through a single sign-on provider (its hash is empty)."""
        return bool(self.password_hash)


class UserIdentity(SQLModel, table=True):
    """An account's sign-in at an OpenID Connect provider, matched by (issuer, subject), never by email.

    Unlinked (`linked` false), it is a request: the provider's person has the email of an existing account, and an
    administrator decides on the people page whether that person is the account's owner."""

    __tablename__ = "user_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    provider: str = Field(max_length=40)
    issuer: str = Field(max_length=255)
    subject: str = Field(max_length=255)
    email: str = Field(default="", max_length=254)
    linked: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    last_used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    last_used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class Deck(SQLModel, table=True):
    """A deck of activities. Its YAML text is the one truth: the editor saves YAML, the download is that text.

    A shipped deck (the decks folder) is a read-only `template`, refreshed from its file at every start; people
    edit copies of it, which a restart never touches. Each save bumps `version`, and a save based on an older
    version is refused, so two editors never silently overwrite each other."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    title: str = Field(max_length=200)
    source: str = Field(description="The deck's YAML text, as written")
    owner_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    template: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    version: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})
    # How many problems the saved text has (0: a session can start from it); drafts are saved as they are typed.
    problems: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    # Deleted decks are kept a while, so a delete can be undone; lists and starts leave them out.
    deleted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class DeckShare(SQLModel, table=True):
    """A deck shared with another account, to edit or only to view (and start sessions from)."""

    __table_args__ = (UniqueConstraint("deck_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    deck_id: int = Field(foreign_key="deck.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    can_edit: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Media(SQLModel, table=True):
    """An uploaded image, re-encoded and stored by the hash of its stored bytes: `name` is `<sha256>.<ext>`, so a
    deck refers to an image by a name that can never point at other bytes, and it is served with long caching.
    Kept in the database, so every worker and every archive sees the same images."""

    name: str = Field(primary_key=True, max_length=80)
    media_type: str = Field(max_length=40)
    width: int
    height: int
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Institute(SQLModel, table=True):
    """A programme that runs the same work at several sites and dates: it has cohorts."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    created_by: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class Cohort(SQLModel, table=True):
    """One group of an institute at one site and dates; its sessions' results are archived together."""

    __table_args__ = (UniqueConstraint("institute_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    institute_id: int = Field(foreign_key="institute.id", index=True)
    slug: str = Field(max_length=100)
    name: str = Field(max_length=200)
    site: str = Field(default="", max_length=200)
    starts_on: date | None = Field(default=None)
    ends_on: date | None = Field(default=None)
    facilitators: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # A phone that comes back for another of the cohort's sessions (day two) is the same participant in archives.
    same_identity: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    # The IANA zone of the cohort's site (America/Phoenix): times people read are local to it (server/times.py).
    time_zone: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class CohortDeck(SQLModel, table=True):
    """A deck assigned to a cohort, in the order its sessions run (day one's deck first)."""

    __tablename__ = "cohort_deck"

    cohort_id: int = Field(foreign_key="cohort.id", primary_key=True)
    deck_id: int = Field(foreign_key="deck.id", primary_key=True)
    position: int = Field(default=0)


class AuditEntry(SQLModel, table=True):
    """Something an organizer did that cannot be undone (deleting data), kept for the record."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    user_id: int | None = Field(default=None, foreign_key="user.id")
    action: str = Field(max_length=40)
    subject: str = Field(max_length=300)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SessionState(enum.StrEnum):
    live = "live"
    ended = "ended"


class Pace(enum.StrEnum):
    """Who moves through the activities: the presenter for everyone, or each participant at their own pace."""

    presenter = "presenter"
    audience = "audience"


class Session(SQLModel, table=True):
    """One live run of a deck; participants join it by its six-digit code."""

    __table_args__ = (
        # A code is unique among live sessions only: ended sessions keep theirs for the record.
        Index(
            "ix_session_live_code",
            "code",
            unique=True,
            sqlite_where=text("state = 'live'"),
            postgresql_where=text("state = 'live'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, index=True)
    title: str = Field(max_length=200)
    deck_id: int | None = Field(default=None, foreign_key="deck.id")
    presenter_id: int = Field(foreign_key="user.id", index=True)
    state: SessionState = Field(default=SessionState.live, max_length=16)
    current_activity_id: int | None = Field(default=None)
    pace: Pace = Field(default=Pace.presenter, max_length=16, sa_column_kwargs={"server_default": "presenter"})
    # A second activity the projector shows beside the current one (side-by-side layout), if any.
    beside_activity_id: int | None = Field(default=None)
    reactions: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    # Phones choose a nickname before the first question (else they are shown by a generated name, if ever).
    nicknames: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # The teams phones choose from as they join (none: no teams); team scores are the mean of their members'.
    teams: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    # Right answers in a row earn a bonus on top of their points (server/standings.py states it).
    streak: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    projector_secret: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    ended_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # When an organizer deleted its participant-level data (participants and responses; aggregates are kept).
    pruned_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class SessionFacilitator(SQLModel, table=True):
    """An account the session's presenter added to run the session with them (co-facilitator)."""

    __tablename__ = "session_facilitator"

    session_id: int = Field(foreign_key="session.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True)
    added_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class ResultsMode(enum.StrEnum):
    live = "live"
    hidden = "hidden"


class Activity(SQLModel, table=True):
    """One interactive item of a session: a kind plus its config, copied from the deck when the session starts."""

    __table_args__ = (UniqueConstraint("session_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="session.id", index=True)
    position: int
    kind: str = Field(max_length=40)
    title: str = Field(max_length=200)
    prompt: str = Field(default="", max_length=1000)
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    results: ResultsMode = Field(default=ResultsMode.live, max_length=16)
    voting_open: bool = Field(default=True)
    revealed: bool = Field(default=False)
    moderation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Bumped by a reset: responses of an older epoch no longer count.
    epoch: int = Field(default=0)
    # An optional countdown: the presenter starts it, and voting closes by itself at `closes_at`.
    countdown_seconds: int | None = Field(default=None)
    closes_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # When the room was last shown this activity with voting open (it became current while open, voting opened, or a
    # countdown started): the server's clock from which a timed kind measures how long each answer took.
    opened_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Once participant-level data is deleted: the results as they stood (`snapshot`) and their `respondents`.
    aggregate: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The deck's texts in its other languages: language -> title, prompt, or a kind's translatable labels.
    texts: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default=text("'{}'"))
    )
    # The deck's presenter notes for this activity: shown in the presenter view only.
    notes: str = Field(default="", max_length=4000, sa_column_kwargs={"server_default": ""})


class Participant(SQLModel, table=True):
    """An anonymous person in one session, known by the hash of the token in their cookie."""

    __table_args__ = (UniqueConstraint("session_id", "token_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="session.id", index=True)
    token_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    # The name the phone chose (empty: none), and its team (one of its session's teams; empty: none).
    nickname: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})
    team: str = Field(default="", max_length=60, sa_column_kwargs={"server_default": ""})


class Response(SQLModel, table=True):
    """A participant's current answer to one activity; a newer (epoch, version) replaces it."""

    __table_args__ = (UniqueConstraint("activity_id", "participant_id"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    epoch: int = Field(default=0)
    version: int = Field(sa_type=BigInteger)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


# The answer fields the JSON API takes (a response's, a control's): text or whole numbers, alone or in lists; true and
# false are no answer.
Answer = dict[str, StrictStr | StrictInt | list[StrictStr | StrictInt]]


# An activity as the JSON API shows it, to its presenter and (the current one) to participants. (A comment, not a
# docstring: the OpenAPI document would carry a docstring as the schema's description.)
class ActivityPublic(SQLModel):
    id: int
    position: int
    kind: str
    title: str
    prompt: str
    config: dict[str, Any]
    results: ResultsMode
    voting_open: bool
    revealed: bool
    countdown_seconds: int | None = Field(description="The deck's countdown for this activity, if any")
    closes_at: datetime | None = Field(description="When a running countdown closes voting")

    @classmethod
    def of(cls, activity: Activity) -> ActivityPublic:
        assert activity.id is not None
        return cls(
            id=activity.id,
            position=activity.position,
            kind=activity.kind,
            title=activity.title,
            prompt=activity.prompt,
            config=activity.config,
            results=activity.results,
            voting_open=activity.voting_open,
            revealed=activity.revealed,
            countdown_seconds=activity.countdown_seconds,
            closes_at=as_utc(activity.closes_at) if activity.closes_at else None,
        )


# --- webhooks (server/webhooks.py) -----------------------------------------------------------------------------


class Webhook(SQLModel, table=True):
    """An account's subscription to events (a response stored, a session ended, an archive ready), posted signed to
    its URL. It delivers only what its owner may read, checked at each delivery."""

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The signing secret: kept as it is (an HMAC needs it), shown to the owner once, at creation.
    secret: str = Field(max_length=100)
    active: bool = Field(default=True)
    # Why it was paused (empty: by its owner, or active): the server pauses one that keeps failing.
    paused_reason: str = Field(default="", max_length=300)
    # Deliveries in a row that failed after all their attempts; one success resets it.
    failures: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class WebhookDelivery(SQLModel, table=True):
    """One event posted (or being posted) to one webhook: its outcome, for the owner to see. The body is not kept."""

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="webhook.id", index=True)
    # The receiver's idempotency key (the Handsup-Delivery header): the same on every attempt of this delivery.
    delivery_id: str = Field(max_length=40, sa_column_kwargs={"unique": True})
    event_id: str = Field(max_length=40)
    event_type: str = Field(max_length=40)
    status: str = Field(default="pending", max_length=16)  # pending, delivered, failed
    attempts: int = Field(default=0)
    response_status: int | None = Field(default=None)
    error: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
