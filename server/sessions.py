"""Sessions: starting one from a deck, join codes, participants, and the presenter's controls."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any, Literal, assert_never, cast, get_args

from sqlalchemy import Row, delete
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from activities.base import FormFields, KindConfig, ResponseEvent, Tally, digest, whole_number
from activities.i18n import N_, _
from server.backplane import Backplane
from server.decks import MAX_COUNTDOWN, MIN_COUNTDOWN, DeckSpec, parse_deck
from server.messages import StateChanged, publish
from server.models import (
    Activity,
    Cohort,
    Deck,
    Pace,
    Participant,
    Response,
    ResultsMode,
    Session,
    SessionState,
    as_utc,
    utcnow,
)
from server.names import NameRefused, check_teams, name_key
from server.profanity import filter_of, screened, switched, with_filter

CODE_DIGITS = 6  # the default; HANDSUP_JOIN_CODE_DIGITS sets it for new sessions
MIN_CODE_DIGITS, MAX_CODE_DIGITS = 6, 9
# Random draws before giving up: while at most half the codes are live, all fifty collide once in 10**15 starts.
CODE_ATTEMPTS = 50
# How a code is split for reading aloud, and its length as people say it.
CODE_GROUPS = {6: (3, 3), 7: (3, 4), 8: (4, 4), 9: (3, 3, 3)}
CODE_LENGTHS = {6: N_("six"), 7: N_("seven"), 8: N_("eight"), 9: N_("nine")}  # translated where shown


class NotFound(LookupError):
    """No such session, activity or code (or not live any more)."""


class NoFreeCode(RuntimeError):
    """Every code drawn for a new session is taken by a live one: the code space is running low."""

    def __init__(self, digits: int) -> None:
        advice = f" or set HANDSUP_JOIN_CODE_DIGITS={digits + 1}" if digits < MAX_CODE_DIGITS else ""
        super().__init__(f"No free join code: end some live sessions{advice}.")


class ControlRefused(ValueError):
    """A presenter action that does not apply (unknown action, activity of another session)."""


def hash_token(token: str) -> str:
    """The stored form of a bearer secret (participant cookie, API token): SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def format_code(code: str) -> str:
    """'902180' -> '902 180', '9021805' -> '902 1805': easier to read off a projector."""
    parts: list[str] = []
    start = 0
    for size in CODE_GROUPS.get(len(code), (len(code),)):
        parts.append(code[start : start + size])
        start += size
    return " ".join(parts)


def clean_code(text: str) -> str | None:
    """A typed code with spaces and dashes removed, if it is 6 to 9 digits: any length a live session's code may
    have, whatever HANDSUP_JOIN_CODE_DIGITS says now (sessions started before a change keep their codes)."""
    digits = "".join(ch for ch in text if ch not in " -\u00a0")
    valid = MIN_CODE_DIGITS <= len(digits) <= MAX_CODE_DIGITS and digits.isascii() and digits.isdigit()
    return digits if valid else None


@dataclass
class SessionSnapshot:
    """A session and its activities as one worker holds them; reloaded whenever the session's state changes."""

    session: Session
    activities: list[Activity]
    configs: dict[int, KindConfig] = field(default_factory=dict)
    ambient: frozenset[int] = frozenset()  # ids of activities of ambient kinds (Q&A)
    screened: frozenset[int] = frozenset()  # ids of activities whose participants type text (profanity filter)
    answerless: frozenset[int] = frozenset()  # ids of activities of kinds that take no answers (a content slide)

    @property
    def id(self) -> int:
        assert self.session.id is not None
        return self.session.id

    @property
    def live(self) -> bool:
        return self.session.state == SessionState.live

    @property
    def current(self) -> Activity | None:
        return self.activity(self.session.current_activity_id)

    @property
    def paced(self) -> bool:
        """Whether participants move through the activities at their own pace."""
        return self.session.pace == Pace.audience

    def activity(self, activity_id: int | None) -> Activity | None:
        return self._by_id.get(activity_id) if activity_id is not None else None

    @cached_property
    def _by_id(self) -> dict[int, Activity]:
        # Looked up for every answer and every phone's stage: a scan read each row's id through the ORM's
        # instrumentation (5 % of the server's samples in the full benchmark's burst).
        return {a.id: a for a in self.activities if a.id is not None}

    def reachable(self, activity: Activity) -> bool:
        """Whether a participant may open this activity now: the presenter's current one, any one at the
        audience's pace, an ambient one (Q&A) whose voting is open."""
        if not self.live:
            return False
        if activity is self.current or self.paced:
            return True
        return activity.id in self.ambient and activity.voting_open

    @property
    def filtering(self) -> bool:
        """Whether the profanity filter is on for the session (for any of its activities where people type text)."""
        return any(filter_of(a.moderation).profanity for a in self.activities if a.id in self.screened)

    @property
    def ambient_open(self) -> list[Activity]:
        """The ambient activities participants can reach from any page."""
        return [a for a in self.activities if a.id in self.ambient and a.voting_open]

    @property
    def paced_activities(self) -> list[Activity]:
        """The activities participants step through at their own pace (ambient ones stay beside them)."""
        return [a for a in self.activities if a.id not in self.ambient]

    @property
    def projected(self) -> list[Activity]:
        """What the projector shows: the current activity, and the one the presenter put beside it."""
        current = self.current
        if current is None:
            return []
        beside = self.activity(self.session.beside_activity_id)
        return [current] if beside is None or beside is current else [current, beside]

    def neighbour(self, step: int) -> Activity | None:
        """The activity `step` places after the current one (the first one from the lobby)."""
        current = self.current
        if current is None:
            return self.activities[0] if step > 0 and self.activities else None
        index = self.activities.index(current) + step
        return self.activities[index] if 0 <= index < len(self.activities) else None

    @staticmethod
    def results_visible(activity: Activity) -> bool:
        """Whether the room (projector) may see an activity's results."""
        return activity.results == ResultsMode.live or activity.revealed


@dataclass(frozen=True)
class SessionOptions:
    """What a facilitator may choose as a session starts besides its deck and title: ask phones for a nickname, the
    teams phones pick from (none: no teams), and the streak bonus. Make it with `session_options`, which checks."""

    nicknames: bool = False
    teams: tuple[str, ...] = ()
    streak: bool = False


NO_OPTIONS = SessionOptions()
"""No nicknames, no teams, no streak bonus: what a session starts with unless asked."""


def session_options(nicknames: bool, teams: Iterable[str], streak: bool) -> SessionOptions:
    """Checked session options; TeamsInvalid (server/names.py check_teams) says what is wrong with the teams."""
    return SessionOptions(nicknames=nicknames, teams=tuple(check_teams(teams)), streak=streak)


async def site_teams(maker: async_sessionmaker[AsyncSession], cohort_id: int) -> list[str]:
    """One team per site of the cohorts of the institute a cohort belongs to (a session filed under one cohort may
    gather people of several sites): the sites in the order their cohorts were made, each once, blank ones left out."""
    async with maker() as db:
        cohort = await db.get(Cohort, cohort_id)
        if cohort is None:
            raise NotFound(f"cohort {cohort_id}")
        sites = (
            await db.exec(
                select(Cohort.site).where(Cohort.institute_id == cohort.institute_id).order_by(col(Cohort.id))
            )
        ).all()
    teams: dict[str, str] = {}
    for site in sites:
        if site.strip():
            teams.setdefault(name_key(site), site.strip())
    return list(teams.values())


async def create_session(
    maker: async_sessionmaker[AsyncSession],
    spec: DeckSpec,
    *,
    presenter_id: int,
    deck_id: int | None = None,
    title: str | None = None,
    cohort_id: int | None = None,
    digits: int = CODE_DIGITS,
    options: SessionOptions = NO_OPTIONS,
) -> Session:
    """A live session from a checked deck, with a code of `digits` digits no other live session has (the database's
    partial unique index on live codes decides; a code taken is drawn again). NoFreeCode when every draw is taken."""
    for _attempt in range(CODE_ATTEMPTS):
        try:
            async with maker() as db, db.begin():
                session = Session(
                    code=f"{secrets.randbelow(10**digits):0{digits}d}",
                    title=((title or "").strip() or spec.title)[:200],
                    deck_id=deck_id,
                    cohort_id=cohort_id,
                    presenter_id=presenter_id,
                    pace=spec.pace,
                    projector_secret=secrets.token_urlsafe(24),
                    # The start's options add to the deck's: a switch on in either is on; the start's teams, if
                    # any, else the deck's.
                    nicknames=options.nicknames or spec.nicknames,
                    teams=list(options.teams) or spec.teams,
                    streak=options.streak or spec.streak,
                )
                db.add(session)
                await db.flush()
                assert session.id is not None
                for position, item in enumerate(spec.activities):
                    db.add(
                        Activity(
                            session_id=session.id,
                            position=position,
                            kind=item.kind,
                            title=item.title,
                            prompt=item.prompt,
                            config=item.config,
                            results=item.results,
                            countdown_seconds=item.countdown,
                            moderation=with_filter({}, item.filter),
                            texts=item.texts,
                            notes=item.notes,
                        )
                    )
            return session
        except IntegrityError:
            continue  # the code is taken by a live session: draw another
    raise NoFreeCode(digits)


async def load_snapshot(
    maker: async_sessionmaker[AsyncSession], registry: Registry, session_id: int
) -> SessionSnapshot:
    """A session with its activities and their parsed configs."""
    async with maker() as db:
        session = await db.get(Session, session_id)
        if session is None:
            raise NotFound(f"session {session_id}")
        result = await db.exec(
            select(Activity).where(Activity.session_id == session_id).order_by(col(Activity.position))
        )
        activities = list(result.all())
    configs = {a.id: registry[a.kind].parse_config(a.config) for a in activities if a.id is not None}
    ambient = frozenset(a.id for a in activities if a.id is not None and registry[a.kind].ambient)
    screened = frozenset(a.id for a in activities if a.id is not None and registry[a.kind].takes_free_text)
    answerless = frozenset(a.id for a in activities if a.id is not None and not registry[a.kind].takes_answers)
    return SessionSnapshot(session, activities, configs, ambient, screened, answerless)


async def find_live_session(maker: async_sessionmaker[AsyncSession], code: str) -> Session:
    """The live session with this code."""
    async with maker() as db:
        result = await db.exec(select(Session).where(Session.code == code, Session.state == SessionState.live))
        session = result.first()
    if session is None:
        raise NotFound(code)
    return session


async def has_joined(maker: async_sessionmaker[AsyncSession], code: str, token: str) -> bool:
    """Whether this participant token has joined a session with this code, live or ended: whoever did knows the
    code already (one query, hit or miss)."""
    query = (
        select(Participant.id)
        .join(Session, col(Participant.session_id) == col(Session.id))
        .where(Session.code == code, Participant.token_hash == hash_token(token))
    )
    async with maker() as db:
        return (await db.exec(query)).first() is not None


PresenterAction = Literal[
    "goto",
    "next",
    "previous",
    "open",
    "close",
    "countdown",
    "reveal",
    "conceal",
    "reset",
    "moderate",
    "pace",
    "beside",
    "reactions",
    "filter",
    "end",
]
"""What a presenter may do, from the presenter page or the JSON API."""
ControlAction = PresenterAction | Literal["expire"]
"""... and what the countdown timers do themselves."""
CONTROL_ACTIONS: tuple[str, ...] = (*get_args(PresenterAction), "expire")


def control_action(text: str) -> ControlAction:
    """The action a form or request names; ControlRefused (listing the known ones) for any other."""
    if text not in CONTROL_ACTIONS:
        raise ControlRefused(
            _("Unknown action {action}; one of {actions}.").format(
                action=repr(text), actions=", ".join(CONTROL_ACTIONS)
            )
        )
    return cast(ControlAction, text)


async def control(
    maker: async_sessionmaker[AsyncSession],
    backplane: Backplane,
    registry: Registry,
    session_id: int,
    action: ControlAction,
    activity_id: int | None = None,
    form: FormFields | None = None,
    on_end: Callable[[Session], None] | None = None,
) -> None:
    """Apply one presenter action, then tell every worker serving the session to reload its state (and `on_end`, the
    webhooks, that it ended)."""
    async with maker() as db, db.begin():
        session = await db.get(Session, session_id, with_for_update=True)
        if session is None:
            raise NotFound(f"session {session_id}")
        if session.state != SessionState.live:
            raise ControlRefused(_("This session has ended."))
        activities = list(
            (
                await db.exec(
                    select(Activity).where(Activity.session_id == session_id).order_by(col(Activity.position))
                )
            ).all()
        )
        asked = _Control(db, registry, session, SessionSnapshot(session, activities), action, activity_id, form or {})
        await handler(action)(asked)
    await publish(backplane, session_id, StateChanged())
    if action == "end" and on_end is not None:
        on_end(session)


@dataclass(frozen=True)
class _Control:
    """One presenter action as its handler gets it: the locked session, its activities, and what was sent."""

    db: AsyncSession
    registry: Registry
    session: Session
    snapshot: SessionSnapshot
    action: ControlAction
    activity_id: int | None
    form: FormFields

    @property
    def value(self) -> str:
        """The form field named like the action (pace=audience, reactions=on, filter=off)."""
        return next(iter(self.form.get(self.action, ())), "")

    def named(self) -> int | None:
        """The activity the action names, if any; ControlRefused when it is not one of this session's."""
        if self.activity_id is not None and self.snapshot.activity(self.activity_id) is None:
            raise ControlRefused(_("That activity is not part of this session."))
        return self.activity_id

    def activity(self) -> Activity:
        """The activity the action is for: the one it names, else the current one."""
        activity_id = self.named()
        activity = self.snapshot.activity(activity_id) if activity_id is not None else self.snapshot.current
        if activity is None:
            raise ControlRefused(_("Choose an activity of this session."))
        return activity


async def _step(asked: _Control) -> None:
    """next and previous: the neighbouring activity, or the lobby before the first."""
    target = asked.snapshot.neighbour(1 if asked.action == "next" else -1)
    if target is None and asked.action == "next":
        raise ControlRefused(_("This is the last activity."))
    _show(asked, target)


async def _goto(asked: _Control) -> None:
    """Show an activity; with none, back to the lobby ("waiting for the presenter")."""
    named = asked.named()
    _show(asked, asked.snapshot.activity(named) if named is not None else None)


def _show(asked: _Control, target: Activity | None) -> None:
    """Make `target` the current activity (None: the lobby); an open activity newly shown starts its clock."""
    if target is not None and target.voting_open and target.id != asked.session.current_activity_id:
        _start_clock(asked, target)
    asked.session.current_activity_id = target.id if target else None
    asked.db.add(asked.session)


def _start_clock(asked: _Control, activity: Activity) -> None:
    """The moment the room was shown `activity` open for answers, from which timed kinds measure each answer."""
    activity.opened_at = utcnow()
    asked.db.add(activity)


async def _beside(asked: _Control) -> None:
    """Show an activity beside the current one on the projector; with none, one activity again."""
    asked.session.beside_activity_id = asked.named()
    asked.db.add(asked.session)


async def _voting(asked: _Control) -> None:
    """open and close: the presenter's hand, which overrides a running countdown."""
    activity = asked.activity()
    if asked.action == "open" and not activity.voting_open:
        _start_clock(asked, activity)
    activity.voting_open = asked.action == "open"
    activity.closes_at = None
    asked.db.add(activity)


async def _countdown(asked: _Control) -> None:
    activity = asked.activity()
    seconds = countdown_seconds(activity, asked.form)
    _start_clock(asked, activity)  # the countdown is the presenter's "go": a timed answer is measured from it
    activity.voting_open = True
    activity.closes_at = utcnow() + timedelta(seconds=seconds)
    asked.db.add(activity)


async def _expire(asked: _Control) -> None:
    """Sent by every worker's timer at zero: closes only a countdown that has really run out (idempotent)."""
    activity = asked.activity()
    if activity.closes_at is None or as_utc(activity.closes_at) > utcnow():
        return
    activity.voting_open = False
    activity.closes_at = None
    asked.db.add(activity)


async def _reveal(asked: _Control) -> None:
    """reveal and conceal: whether the room sees the results."""
    activity = asked.activity()
    activity.revealed = asked.action == "reveal"
    kind = asked.registry[activity.kind]
    if activity.revealed and kind.closes_on_reveal(kind.parse_config(activity.config)):
        activity.voting_open = False  # an answer sent after the answer is shown would be no answer
        activity.closes_at = None
    asked.db.add(activity)


async def _reset(asked: _Control) -> None:
    """A new epoch: the activity's answers so far are deleted, and every tally empties."""
    activity = asked.activity()
    activity.epoch += 1
    await asked.db.exec(
        delete(Response).where(col(Response.activity_id) == activity.id, col(Response.epoch) < activity.epoch)
    )
    asked.db.add(activity)


async def _moderate(asked: _Control) -> None:
    """What the kind's moderation verb (hide, pin, merge...) does to the activity's moderation state."""
    activity = asked.activity()
    verb = next(iter(asked.form.get("verb", ())), "")
    activity.moderation = asked.registry[activity.kind].moderate(dict(activity.moderation), verb, asked.form)
    asked.db.add(activity)


async def _end(asked: _Control) -> None:
    asked.session.state = SessionState.ended
    asked.session.ended_at = utcnow()
    asked.db.add(asked.session)


async def _pace(asked: _Control) -> None:
    """Who sets the pace: the presenter, or each member of the audience."""
    if asked.value not in set(Pace):
        raise ControlRefused(_("Choose who sets the pace: {paces}.").format(paces=" or ".join(Pace)))
    asked.session.pace = Pace(asked.value)
    asked.db.add(asked.session)


async def _reactions(asked: _Control) -> None:
    if asked.value not in {"on", "off"}:
        raise ControlRefused(_("Switch reactions on or off."))
    asked.session.reactions = asked.value == "on"
    asked.db.add(asked.session)


async def _filter(asked: _Control) -> None:
    _switch_filter(asked.db, asked.registry, asked.snapshot.activities, asked.form)


Handler = Callable[[_Control], Awaitable[None]]


def handler(action: ControlAction) -> Handler:
    """Each action's handler: a match that mypy checks is exhaustive, so a new action cannot lack one."""
    match action:
        case "goto":
            return _goto
        case "next" | "previous":
            return _step
        case "open" | "close":
            return _voting
        case "countdown":
            return _countdown
        case "expire":
            return _expire
        case "reveal" | "conceal":
            return _reveal
        case "reset":
            return _reset
        case "moderate":
            return _moderate
        case "pace":
            return _pace
        case "beside":
            return _beside
        case "reactions":
            return _reactions
        case "filter":
            return _filter
        case "end":
            return _end
        case _:
            assert_never(action)


def _switch_filter(db: AsyncSession, registry: Registry, activities: list[Activity], form: FormFields) -> None:
    """The profanity filter on or off for the whole session: every activity where people type text (the deck's
    word lists stay; switching on filters an activity the deck left unfiltered too)."""
    value = next(iter(form.get("filter", ())), "")
    if value not in {"on", "off"}:
        raise ControlRefused(_("Switch the profanity filter on or off."))
    for activity in activities:
        if registry[activity.kind].takes_free_text:
            activity.moderation = switched(activity.moderation, value == "on")
            db.add(activity)


def countdown_seconds(activity: Activity, form: FormFields) -> int:
    """The length of a countdown: the `seconds` field of the action, else the activity's from the deck."""
    given = whole_number(next(iter(form.get("seconds", ())), ""), 4)
    seconds = given if given is not None else activity.countdown_seconds
    if seconds is None or not MIN_COUNTDOWN <= seconds <= MAX_COUNTDOWN:
        raise ControlRefused(
            _("Give the countdown in seconds, from {low} to {high}.").format(low=MIN_COUNTDOWN, high=MAX_COUNTDOWN)
        )
    return seconds


def elapsed_since_open(activity: Activity) -> float | None:
    """Seconds, by the server's clock, since the room was shown `activity` open for answers; None if it never was
    (a session at the audience's pace, or an activity still open from the start that the presenter never showed)."""
    if activity.opened_at is None:
        return None
    return max(0.0, (utcnow() - as_utc(activity.opened_at)).total_seconds())


def seconds_left(activity: Activity) -> int | None:
    """Whole seconds until a running countdown closes voting (0 once it has run out), or None."""
    if activity.closes_at is None or not activity.voting_open:
        return None
    return max(0, math.ceil((as_utc(activity.closes_at) - utcnow()).total_seconds()))


def picture_seed(session: Session, activity: Activity) -> int:
    """The seed of an activity's drawings (a word cloud's layout): the same in the live view, in archives, and in
    a re-imported copy of the session, whose database ids differ; so a cloud never reshuffles between them."""
    return int(digest([session.code, as_utc(session.created_at).isoformat(), activity.position]), 16) % 2**31


async def stored_responses(engine: AsyncEngine, activity_ids: list[int]) -> Sequence[Row[*tuple[Any, ...]]]:
    """Every stored response of these activities, all epochs, each activity's in answer order: rows with
    activity_id, participant_id, epoch, version, payload and updated_at (plain rows: a room loads thousands)."""
    table = Response.__table__.c  # type: ignore[attr-defined]
    query = (
        sa_select(table.activity_id, table.participant_id, table.epoch, table.version, table.payload, table.updated_at)
        .where(table.activity_id.in_(activity_ids))
        .order_by(table.activity_id, table.updated_at, table.participant_id)
    )
    async with engine.connect() as connection:
        return (await connection.execute(query)).all()


def as_event(row: Row[*tuple[Any, ...]]) -> ResponseEvent:
    """A stored response (a row of `stored_responses`) as the event a tally folds."""
    return ResponseEvent(row.activity_id, row.participant_id, row.epoch, row.version, row.payload)


def fresh_tally(registry: Registry, snapshot: SessionSnapshot, activity: Activity) -> Tally[Any, Any]:
    """An empty tally of an activity at its current epoch: folding stored responses into it counts the live ones."""
    assert activity.id is not None
    tally = registry[activity.kind].new_tally(snapshot.configs[activity.id])
    tally.reset(activity.epoch)
    return tally


def moderated_results(tally: Tally[Any, Any], moderation: Mapping[str, Any]) -> dict[str, Any]:
    """An activity's results as the room may see them: its tally's snapshot under the presenter's moderation and
    the profanity filter. Every view of results (live, archives, reports, comparisons) is taken through here."""
    return tally.snapshot(screened(moderation, tally.free_texts))


def kept(activity: Activity) -> tuple[dict[str, Any], int] | None:
    """An activity's results and respondents as they were kept when its session's participant-level data was
    deleted (the aggregate that replaced its answers); None while its answers are there."""
    if activity.aggregate is None:
        return None
    return dict(activity.aggregate["snapshot"]), int(activity.aggregate["respondents"])


def recount(
    registry: Registry, snapshot: SessionSnapshot, activity: Activity, stored: Sequence[Row[*tuple[Any, ...]]]
) -> tuple[dict[str, Any], int, list[Row[*tuple[Any, ...]]]]:
    """An activity's moderated results, respondents and counted answers, recomputed from the stored answers (those
    of its current epoch count), or as kept once participant-level data was deleted (and no answers)."""
    saved = kept(activity)
    if saved is not None:
        return saved[0], saved[1], []
    tally = fresh_tally(registry, snapshot, activity)
    counted = [row for row in stored if row.activity_id == activity.id and tally.fold(as_event(row))]
    return moderated_results(tally, activity.moderation), tally.respondents, counted


async def joined_in_order(engine: AsyncEngine, session_id: int) -> Sequence[Row[*tuple[Any, ...]]]:
    """The session's participants as (id, created_at) rows, in the order they joined: exports number them so."""
    table = Participant.__table__.c  # type: ignore[attr-defined]
    query = sa_select(table.id, table.created_at).where(table.session_id == session_id).order_by(table.id)
    async with engine.connect() as connection:
        return (await connection.execute(query)).all()


async def stored_answer(
    maker: async_sessionmaker[AsyncSession], activity: Activity, participant_id: int
) -> dict[str, Any] | None:
    """A participant's stored answer to an activity in its current epoch."""
    async with maker() as db:
        result = await db.exec(
            select(Response.payload).where(
                Response.activity_id == activity.id,
                Response.participant_id == participant_id,
                Response.epoch == activity.epoch,
            )
        )
        payload = result.first()
    return dict(payload) if payload is not None else None


async def start_from_deck(
    maker: async_sessionmaker[AsyncSession],
    registry: Registry,
    deck_id: int,
    *,
    presenter_id: int,
    title: str | None = None,
    cohort_id: int | None = None,
    digits: int = CODE_DIGITS,
    options: SessionOptions = NO_OPTIONS,
) -> Session:
    """A live session from a stored deck, checked again as it is now (the presenter's page, a cohort's page and the
    JSON API start this way; they check first that the user may view it). NotFound for an unknown or deleted deck,
    DeckInvalid for one with problems, NoFreeCode as create_session."""
    async with maker() as db:
        deck = await db.get(Deck, deck_id)
    if deck is None or deck.deleted_at is not None:
        raise NotFound(f"deck {deck_id}")
    spec = parse_deck(deck.source, registry)
    return await create_session(
        maker,
        spec,
        presenter_id=presenter_id,
        deck_id=deck.id,
        title=title,
        cohort_id=cohort_id,
        digits=digits,
        options=options,
    )


def names_open(snapshot: SessionSnapshot, registry: Registry) -> bool:
    """Whether phones may still choose or change their nickname and team: the session asks for them, is live, and
    has not yet shown a scored activity open for answers (its clock started)."""
    session = snapshot.session
    return (
        (session.nicknames or bool(session.teams))
        and snapshot.live
        and not any(
            a.opened_at is not None and a.id is not None and registry[a.kind].scored(snapshot.configs[a.id])
            for a in snapshot.activities
        )
    )


@dataclass(frozen=True)
class Named:
    """The nickname a participant chose (empty: none, a generated name shows) and their team (empty: none)."""

    nickname: str = ""
    team: str = ""


async def session_names(maker: async_sessionmaker[AsyncSession], session_id: int) -> dict[int, Named]:
    """Every participant of a session who chose a nickname or a team."""
    query = select(Participant.id, Participant.nickname, Participant.team).where(
        Participant.session_id == session_id, (col(Participant.nickname) != "") | (col(Participant.team) != "")
    )
    async with maker() as db:
        rows = (await db.exec(query)).all()
    return {pid: Named(nickname, team) for pid, nickname, team in rows if pid is not None}


async def save_name(
    maker: async_sessionmaker[AsyncSession], session_id: int, participant_id: int, named: Named
) -> None:
    """Store a participant's checked nickname and team; NameRefused when another participant of the session has the
    nickname already (case and accents aside). Checked and written in one transaction; two phones taking the same
    name in the same instant on two workers is the one race left (both keep it; the leaderboard still tells them
    apart by rank)."""
    async with maker() as db, db.begin():
        if named.nickname:
            others = await db.exec(
                select(Participant.nickname).where(
                    Participant.session_id == session_id,
                    Participant.id != participant_id,
                    Participant.nickname != "",
                )
            )
            wanted = name_key(named.nickname)
            if any(name_key(other) == wanted for other in others.all()):
                raise NameRefused(_("That name is taken: choose another."), 409)
        participant = await db.get(Participant, participant_id)
        if participant is None or participant.session_id != session_id:
            raise NotFound(f"participant {participant_id}")
        participant.nickname = named.nickname
        participant.team = named.team
        db.add(participant)
