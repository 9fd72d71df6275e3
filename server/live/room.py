"""The room: a session as one worker serves it, holding its tallies and its sockets.

Tallies change only by folding backplane events (so every worker agrees); the room's pusher turns changes into
HTML fragments for presenters and projectors at most once per push interval, and state changes into a new stage
for every participant. Room is the one object the rest of the server talks to; the small classes before it each do
one of its jobs (who is connected, the countdown, one answer at a time per participant, the pushes).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, assert_never

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from activities.base import KindConfig, KindSubmission, ResponseEvent, Tally, digest
from activities.i18n import _
from server import messages
from server.backplane import Backplane, Overflow, Subscription, session_channel
from server.config import Settings
from server.live.connections import Audience, Connection
from server.live.reactions import REACTIONS, ReactionRefused, TooFast
from server.live.writer import ResponseWriter
from server.messages import Joined, NameChosen, Reaction, Responses, StateChanged, publish
from server.models import Activity, Participant, as_utc, utcnow
from server.names import NameRefused, check_nickname, generated_name
from server.sessions import (
    ControlRefused,
    Named,
    NotFound,
    SessionSnapshot,
    as_event,
    control,
    fresh_tally,
    hash_token,
    kept,
    load_snapshot,
    moderated_results,
    names_open,
    save_name,
    seconds_left,
    session_names,
    stored_responses,
)
from server.standings import Standing, Standings, TeamStanding, is_scored, session_standings, team_standings
from server.web.i18n import current_language, speaking
from server.web.throttle import MINUTE, Rate, RateLimiter, Throttles

if TYPE_CHECKING:
    from server.live.fragments import Views

log = logging.getLogger(__name__)
NAMING = "naming"  # the stage key's slot of the form for a name and team


@dataclass(frozen=True)
class Stage:
    """What one participant's phone shows: an activity (or a plain state) and their answer to it."""

    key: str  # the same on every worker for the same view; a phone that has it is not sent it again
    activity: Activity | None
    answer: KindSubmission | None
    answered: frozenset[int]  # at the audience's pace: the activities they have answered (progress, links)
    # Their place in the session's standings, shown with a revealed activity of a scoring kind; else None.
    standing: Standing | None = None
    ranked: int = 0  # how many the standings rank ("12th of 240")
    # Their team's place in the team standings, beside their own (None: no teams, or their team has no rank).
    team_standing: TeamStanding | None = None
    teams_ranked: int = 0
    # The session asks for a name or a team and this phone has not chosen yet: it shows the form for them.
    naming: bool = False

    @property
    def rendering(self) -> tuple[object, ...]:
        """Phones with equal renderings get the same HTML (one rendering per distinct answer and place)."""
        answer = self.answer.model_dump_json() if self.answer is not None else ""
        return self.key, answer, self.answered, self.standing, self.ranked, self.team_standing, self.teams_ranked


@dataclass
class HubStats:
    """Plain counters of this worker's rooms, read by /metrics and the load collector (server/collector.py)."""

    socket_changes: int = 0  # sockets attached or detached so far: how busy this worker is
    outbox_drops: int = 0  # clients dropped for a full outbox (they resync)
    backplane_overflows: int = 0  # room resyncs from the database after their backplane queue overflowed


PUSH_SHARE = 0.02  # the share of the worker's time the rooms' pushes may take before each room pushes less often
PUSH_STRETCH_MAX = 3.0  # ... at most this many push intervals apart (300 ms by default: a vote still reaches its
# presenter well within half a second)
PUSH_WINDOW_S = 1.0  # the pushes' time is counted over about this long (it fades exponentially)


class PushPacer:
    """How long a room waits after a push before its next: the push interval, stretched while the pushes of all the
    worker's rooms take more than PUSH_SHARE of its time, up to PUSH_STRETCH_MAX intervals. One per worker.

    A room's pushes cost one rendering per interval however many votes came in, so one room of any size costs little
    (ten presenter views a second). Two hundred rooms voting at once cost two hundred renderings per interval, in
    bursts on the one event loop, and the commits and acks of the votes wait behind them (docs/benchmarks.md, "Many
    rooms"). Stretched, each push carries more votes: the same renderings, fewer of them."""

    def __init__(
        self,
        share_limit: float = PUSH_SHARE,
        stretch_max: float = PUSH_STRETCH_MAX,
        window_s: float = PUSH_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.share_limit = share_limit
        self.stretch_max = stretch_max
        self.window_s = window_s
        self._clock = clock
        self._spent = 0.0  # seconds spent pushing, fading with time (as of `_at`)
        self._at = clock()

    def spent(self, seconds: float) -> None:
        """A room spent this long rendering and queueing a push."""
        now = self._clock()
        self._spent = self._faded(now) + seconds
        self._at = now

    @property
    def share(self) -> float:
        """The share of the worker's time the pushes took lately (0.05: 5 %)."""
        return self._faded(self._clock()) / self.window_s

    def interval(self, base: float) -> float:
        """Seconds between a room's pushes: `base` (the push interval), stretched with the pushes' share."""
        return base * min(self.stretch_max, max(1.0, self.share / self.share_limit))

    def _faded(self, now: float) -> float:
        return self._spent * math.exp(-max(0.0, now - self._at) / self.window_s)


@dataclass(frozen=True)
class RoomDeps:
    """What a room (and the hub that opens rooms) needs of the running server, and nothing more: the live core
    depends on these, not on the whole Services bag that also holds the hub."""

    settings: Settings
    db: async_sessionmaker[AsyncSession]
    engine: AsyncEngine
    backplane: Backplane
    registry: Registry
    writer: ResponseWriter  # where the room's answers go (server/live/intake.py)
    fragments: Views  # what each audience is pushed
    throttles: Throttles
    stats: HubStats = field(default_factory=HubStats)
    pacer: PushPacer = field(default_factory=PushPacer)  # the rooms' pushes, paced together


class Presence:
    """Who is connected to this worker's room: its sockets by audience (so pushing to the one presenter never walks
    ten thousand phones) and the participants with at least one open (a phone may have two tabs)."""

    __slots__ = ("audiences", "_online", "idle_since")

    def __init__(self) -> None:
        self.audiences: dict[Audience, set[Connection]] = {audience: set() for audience in Audience}
        self._online: Counter[int] = Counter()  # participant -> open sockets
        self.idle_since: float | None = time.monotonic()  # when the last socket went; None while one is open

    def add(self, connection: Connection) -> None:
        self.audiences[connection.audience].add(connection)
        if connection.participant_id is not None:
            self._online[connection.participant_id] += 1
        self.idle_since = None

    def remove(self, connection: Connection) -> bool:
        """Forget a client; False if it was not here (detached twice)."""
        sockets = self.audiences[connection.audience]
        removed = connection in sockets
        if removed:
            sockets.remove(connection)
            if connection.participant_id is not None:
                self._online[connection.participant_id] -= 1
                if self._online[connection.participant_id] <= 0:
                    del self._online[connection.participant_id]
        if not any(self.audiences.values()):
            self.idle_since = time.monotonic()
        return removed

    def keep(self) -> None:
        """In use: an idle room is not closed under a caller about to attach."""
        if self.idle_since is not None:
            self.idle_since = time.monotonic()

    @property
    def online(self) -> int:
        return len(self._online)

    @property
    def connections(self) -> list[Connection]:
        return [c for sockets in self.audiences.values() for c in sockets]


class Countdown:
    """The timer that closes voting when the current activity's countdown runs out. Every worker serving the session
    arms one; the close is idempotent, and answers after the deadline are refused whatever the timers do."""

    __slots__ = ("_close", "_task")

    def __init__(self, close: Callable[[int], Awaitable[None]]) -> None:
        self._close = close
        self._task: asyncio.Task[None] | None = None

    def arm(self, current: Activity | None) -> None:
        """Time the current activity's countdown (and forget the one before); nothing when it has none running."""
        self.disarm()
        if current is None or current.id is None or current.closes_at is None or seconds_left(current) is None:
            return
        self._task = asyncio.create_task(self._expire(current.id, as_utc(current.closes_at)))

    def disarm(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _expire(self, activity_id: int, closes_at: datetime) -> None:
        await asyncio.sleep(max(0.0, (closes_at - utcnow()).total_seconds()))
        await self._close(activity_id)


class AnswerLocks:
    """One participant's answers one at a time, so an answer built on their previous one (one more question, one
    more upvote) never races another and loses it. A participant's entry exists only while someone holds or awaits
    their turn; the queue of those awaiting it, only while one does (most turns are taken with nobody waiting)."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        # participant -> None (their turn is taken, nobody waits) or the turns awaiting it, first first
        self._held: dict[int, deque[asyncio.Future[None]] | None] = {}

    def hold(self, participant_id: int) -> AnswerTurn:
        return AnswerTurn(self._held, participant_id)


class AnswerTurn:
    """One participant's turn to answer (`AnswerLocks.hold`), as an async context manager written out: one is taken
    per vote, and a generator-based one (contextlib) around an asyncio.Lock cost a generator, its registration with
    the loop, a wrapper and a lock per vote, which showed in the saturation profile."""

    __slots__ = ("_held", "_participant")

    def __init__(self, held: dict[int, deque[asyncio.Future[None]] | None], participant_id: int) -> None:
        self._held = held
        self._participant = participant_id

    async def __aenter__(self) -> None:
        held, participant = self._held, self._participant
        if participant not in held:
            held[participant] = None
            return
        waiting = held[participant]
        if waiting is None:
            waiting = held[participant] = deque()
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed the turn as it was cancelled: pass it on
                self._pass_on()
            elif turn in waiting:
                waiting.remove(turn)
            raise

    async def __aexit__(self, *_: object) -> None:
        self._pass_on()

    def _pass_on(self) -> None:
        """The turn goes to the first still waiting for it; with nobody waiting, the entry goes."""
        waiting = self._held[self._participant]
        while waiting:
            turn = waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        del self._held[self._participant]


class Pusher:
    """Turns what changed in a room into pushes: changes are marked as they are folded, and a ticker renders and
    sends them at most once per push interval (many votes in one interval cost one rendering per audience), a longer
    one while the worker's rooms together push more than their share (PushPacer)."""

    def __init__(self, room: Room) -> None:
        self._room = room
        self._dirty: set[int] = set()
        self._views_dirty = False  # presenter and projector need their whole view again
        self._stage_dirty = False  # so do the participants (what their phones show has changed)
        self._floating: Counter[str] = Counter()  # reactions not yet floated on the projector
        self._joined_shown = -1  # the count of who has joined that the projectors show (their lobby)
        self._wake = asyncio.Event()

    def mark(self, activity_id: int | None) -> None:
        """An activity's results changed (None: only the counts of who is here)."""
        if activity_id is not None:
            self._dirty.add(activity_id)
        self._wake.set()

    def mark_stage(self, participants: bool = True) -> None:
        """The session's state changed: whole views again, and phones' stages when `participants`."""
        self._views_dirty = True
        self._stage_dirty = self._stage_dirty or participants
        self._wake.set()

    def float(self, name: str) -> None:
        """A reaction to float up the projectors with the next push."""
        self._floating[name] += 1
        self._wake.set()

    async def run(self) -> None:
        room = self._room
        interval, pacer = room.deps.settings.push_interval_ms / 1000, room.deps.pacer
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                started = time.perf_counter()
                phones = self._flush()
                pacer.spent(time.perf_counter() - started)
                if phones:
                    # The room's screens first: a new stage can mean a rendering per phone (a revealed quiz question
                    # carries each phone's own points and rank), and the projector's leaderboard must not wait for
                    # 2,000 of them. One turn of the loop lets the screens' sockets send before the phones' renderings.
                    await asyncio.sleep(0)
                    self._broadcast_stage()
                    self._share_all()
            except Exception:
                log.exception(
                    "session %d: rendering a push failed", room.session_id, extra={"session_id": room.session_id}
                )
            await asyncio.sleep(pacer.interval(interval))

    def _flush(self) -> bool:
        """Push what changed to the screens (presenter, remote, projector) and to phones' shared lists; True when the
        phones' stages are to be pushed next (after the screens have had a turn to send)."""
        room = self._room
        views = room.deps.fragments
        if self._floating:
            floating, self._floating = self._floating, Counter()
            if room.snapshot.session.reactions:
                html = views.floating_reactions(floating)  # symbols only: the same in every language
                self._send(Audience.projector, lambda: html)
        if self._views_dirty:
            phones = self._stage_dirty
            self._views_dirty = self._stage_dirty = False
            self._dirty.clear()
            self._send(Audience.presenter, lambda: views.presenter_live(room))
            self._send(Audience.remote, lambda: views.remote_live(room))
            self._send(Audience.projector, lambda: views.projector_stage(room))
            self._joined_shown = len(room.participants)
            if not phones:
                self._share_all()
            return phones
        dirty, self._dirty = self._dirty, set()
        current = room.snapshot.current
        for activity in room.snapshot.projected:
            if activity.id not in dirty:
                continue
            if activity is current:
                self._send(Audience.presenter, partial(views.results, room, activity, Audience.presenter))
            self._send(Audience.projector, partial(views.results, room, activity, Audience.projector))
        for activity_id in dirty:
            self._share(activity_id)
        if dirty and room.snapshot.paced:
            self._send(Audience.presenter, lambda: views.completion(room))
            self._send(Audience.projector, lambda: views.completion(room, Audience.projector))
        self._send(Audience.presenter, lambda: views.counts(room))
        self._send(Audience.remote, lambda: views.counts(room))
        self._send_joined()
        return False

    def _share_all(self) -> None:
        """Every activity's shared list again (moderation changes what shared lists show)."""
        for activity in self._room.snapshot.activities:
            if activity.id is not None:
                self._share(activity.id)

    def _send_joined(self) -> None:
        """The lobby's count of who has joined, to the projectors, when it changed: one small fragment per push
        interval however many phones joined in it (a room of 10,000 joining at once is not 10,000 stages)."""
        room = self._room
        joined = len(room.participants)
        if joined == self._joined_shown or not room.snapshot.live or room.snapshot.current is not None:
            return
        self._joined_shown = joined
        self._send(Audience.projector, lambda: room.deps.fragments.joined(room))

    def _share(self, activity_id: int) -> None:
        """Push a sharing or listing kind's live list (Q&A questions, resources to upvote) to the phones that show
        that activity (rendered once per language, never per phone)."""
        room = self._room
        activity = room.snapshot.activity(activity_id)
        if activity is None or not room.deps.fragments.pushes_list(activity):
            return
        watching = [c for c in room.presence.audiences[Audience.participant] if c.showing == activity_id]
        self._send_each(watching, lambda: room.deps.fragments.shared(room, activity))

    def _broadcast_stage(self) -> None:
        """One rendering per distinct stage, answer and language: everyone who has not answered shares one per
        language, and so do the people who gave the same answer (a poll of four options in two languages costs at
        most ten renderings, however large the room)."""
        room = self._room
        views = room.deps.fragments
        rendered: dict[tuple[str, tuple[object, ...]], str] = {}
        for connection in room.presence.audiences[Audience.participant]:
            if connection.participant_id is None:
                continue
            stage = room.stage(connection.participant_id, connection.at)
            if connection.stage_key == stage.key:
                continue
            room.show(connection, stage)
            rendering = (connection.language, stage.rendering)
            if rendering not in rendered:
                with speaking(connection.language):
                    rendered[rendering] = views.participant_stage(room, stage)
            connection.send(rendered[rendering])

    def _send(self, audience: Audience, render: Callable[[], str]) -> None:
        """Push to every socket of an audience what `render` gives in its language (rendered once per language in
        use there, and not at all when no socket listens)."""
        self._send_each(self._room.presence.audiences[audience], render)

    @staticmethod
    def _send_each(connections: Iterable[Connection], render: Callable[[], str]) -> None:
        rendered: dict[str, str] = {}
        for connection in connections:
            if connection.language not in rendered:
                with speaking(connection.language):
                    rendered[connection.language] = render()
            connection.send(rendered[connection.language])


RENDERED_LIMIT = 256  # renderings kept per room at most (stages x languages x pages), all dropped past it
WAITING_GRACE_S = 10  # a deferred phone not back this long after its time has gone away (closed the page)


class Room:
    """A session as one worker serves it."""

    def __init__(self, deps: RoomDeps, session_id: int) -> None:
        self.deps = deps
        self.session_id = session_id
        self.snapshot: SessionSnapshot
        self.tallies: dict[int, Tally[Any, Any]] = {}
        self.participants: dict[str, int] = {}  # token hash -> participant id: who has joined
        self.names: dict[int, Named] = {}  # participant id -> the nickname and team they chose (if they did)
        # Phones the join gate asked to come back (server/live/gate.py): token hash -> when we stop counting them.
        self._waiting: dict[str, float] = {}
        self._waiting_pruned = 0.0
        # What every new phone is sent alike (its stage, its page), rendered once per snapshot (`rendered_once`).
        self._rendered: dict[tuple[object, ...], str] = {}
        self._rendered_for: SessionSnapshot | None = None
        self.presence = Presence()
        self._pusher = Pusher(self)
        self._countdown = Countdown(self._close_voting)
        self._answering = AnswerLocks()
        self._stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self._stage_keys: dict[int | str | None, str] = {}  # shown activity -> stage key, for this snapshot
        self._standings: Standings | None = None  # made when first asked for after a change
        self._team_standings: tuple[TeamStanding, ...] | None = None  # likewise
        self._names_open: tuple[SessionSnapshot, bool] | None = None  # naming_open, for the snapshot it was of
        self.reactions: Counter[str] = Counter()  # since this worker opened the room
        settings, keys = deps.settings, deps.settings.throttle_keys_limit
        # Per participant: a thumb hammering a button is not a crowd, and a script is not a participant.
        self._reactions: RateLimiter[int] = RateLimiter(
            Rate(settings.reactions_per_minute, MINUTE, settings.reaction_burst), max_keys=keys
        )
        self.answer_rate: RateLimiter[int] = RateLimiter(Rate(settings.submissions_per_minute, MINUTE), max_keys=keys)
        # One state reload at a time: the presenter's request and the backplane event of the same action both
        # reload, and two that overlapped would each see a change and push the views (and phones' stages) twice.
        self._reloading = asyncio.Lock()
        self.subscription: Subscription | None = None  # its queue depth is read by /metrics

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Subscribe first, then load from the database, then fold what arrived meanwhile."""
        subscription: Subscription = await self._stack.enter_async_context(
            self.deps.backplane.subscribe(session_channel(self.session_id))
        )
        self.subscription = subscription
        await self._load()
        self._tasks = [asyncio.create_task(self._consume(subscription)), asyncio.create_task(self._pusher.run())]

    async def close(self) -> None:
        self._countdown.disarm()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for connection in self.connections:
            await connection.stop()
        await self._stack.aclose()

    @property
    def idle_since(self) -> float | None:
        """Since when no client has been attached (monotonic seconds); None while one is."""
        return self.presence.idle_since

    def keep_open(self) -> None:
        """A caller is about to use the room: the hub's janitor does not close it meanwhile."""
        self.presence.keep()

    # --- state -------------------------------------------------------------------------------------------

    def results(self, activity: Activity, config: KindConfig | None = None) -> dict[str, Any]:
        """An activity's moderated results: from its tally, or, once an organizer deleted the session's
        participant-level data, the aggregate kept in its place (in the deck's language).

        `config`: the activity's config with its labels in another language (server/live/fragments.py in_language):
        the same counts, labelled in it. The tally is shared, never changed: a copy of it reads the other labels."""
        saved = kept(activity)
        if saved is not None:
            return saved[0]
        assert activity.id is not None
        tally = self.tallies[activity.id]
        if config is not None and config is not tally.config:
            tally = copy.copy(tally)
            tally.config = config
        return moderated_results(tally, activity.moderation)

    def respondents(self, activity: Activity) -> int:
        """How many people answered an activity (kept with the aggregate once their answers are deleted)."""
        saved = kept(activity)
        if saved is not None:
            return saved[1]
        assert activity.id is not None
        return self.tallies[activity.id].respondents

    async def _load(self) -> None:
        """Everything from the database: the session, a fresh tally per activity, who has joined."""
        deps = self.deps
        self.snapshot = await load_snapshot(deps.db, deps.registry, self.session_id)
        tallies = {
            a.id: fresh_tally(deps.registry, self.snapshot, a) for a in self.snapshot.activities if a.id is not None
        }
        for row in await stored_responses(deps.engine, list(tallies)):
            tallies[row.activity_id].fold(as_event(row))
        async with deps.db() as db:
            joined = await db.exec(
                select(Participant.token_hash, Participant.id).where(Participant.session_id == self.session_id)
            )
            self.participants = {token_hash: pid for token_hash, pid in joined.all() if pid is not None}
        self.names = await session_names(deps.db, self.session_id)
        self.tallies = tallies
        self._stage_keys.clear()
        self._mark_stage()
        self._countdown.arm(self.snapshot.current)

    async def refresh_state(self) -> None:
        """Apply a state change made by this worker now, without waiting for its backplane event."""
        await self._reload_state()

    async def _reload_state(self) -> None:
        """The session's state changed (presenter action): new snapshot; tallies of reset activities emptied.

        Phones get a new stage only when what they show changed, so a presenter hiding a word or revealing
        results never wipes what participants are typing.
        """
        async with self._reloading:
            before, phones_before = _state_of(self.snapshot), _phone_view(self.snapshot)
            self.snapshot = await load_snapshot(self.deps.db, self.deps.registry, self.session_id)
            self._stage_keys.clear()
            for activity in self.snapshot.activities:
                if activity.id in self.tallies:
                    self.tallies[activity.id].reset(activity.epoch)
            if _state_of(self.snapshot) != before:  # the event of a change already applied changes nothing
                self._mark_stage(participants=_phone_view(self.snapshot) != phones_before)
                self._countdown.arm(self.snapshot.current)

    async def _close_voting(self, activity_id: int) -> None:
        """The countdown ran out: close voting, as the presenter's "close" would (idempotent on every worker)."""
        deps = self.deps
        try:
            await control(deps.db, deps.backplane, deps.registry, self.session_id, "expire", activity_id)
        except (ControlRefused, NotFound):
            pass  # the session ended or moved on meanwhile
        except Exception:
            log.exception(
                "session %d: closing voting at the end of a countdown failed",
                self.session_id,
                extra={"session_id": self.session_id},
            )

    # --- the backplane -------------------------------------------------------------------------------------

    async def _consume(self, subscription: Subscription) -> None:
        while True:
            try:
                message = await subscription.get()
                await self._apply(message)
            except Overflow:
                self.deps.stats.backplane_overflows += 1
                log.warning(
                    "session %d: backplane overflow, reloading from the database",
                    self.session_id,
                    extra={"session_id": self.session_id},
                )
                await self._load()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "session %d: event handling failed; reloading",
                    self.session_id,
                    extra={"session_id": self.session_id},
                )
                await self._load()

    async def _apply(self, data: dict[str, Any]) -> None:
        """Fold one backplane message into the room. A malformed one raises (and the room reloads); one of a type
        this worker does not know is logged and ignored."""
        message = messages.from_json(data)
        match message:
            case Responses(events):
                for event in events:
                    tally = self.tallies.get(event.activity_id)
                    if tally is not None and tally.fold(event):
                        self._mark(event.activity_id)
            case Joined(participant, token_hash):
                self.participants[token_hash] = participant
                self._mark(None)
            case NameChosen(participant, nickname, team):
                self._named(participant, Named(nickname, team))
            case StateChanged():
                await self._reload_state()
            case Reaction(name):
                if name in REACTIONS:
                    self.reactions[name] += 1
                    self._pusher.float(name)
            case None:
                log.warning(
                    "session %d: ignoring a backplane message of unknown type %r",
                    self.session_id,
                    data.get("type"),
                    extra={"session_id": self.session_id},
                )
            case _:
                assert_never(message)

    # --- answers and reactions -----------------------------------------------------------------------------

    def answering(self, participant_id: int) -> AbstractAsyncContextManager[None]:
        """Take one participant's answers one at a time (AnswerLocks)."""
        return self._answering.hold(participant_id)

    def fold_now(self, event: ResponseEvent, submission: KindSubmission | None = None) -> None:
        """Fold a response this worker has just committed, without waiting for the backplane to bring it back
        (it will, and folding it again changes nothing: the tally sees its version already counted, before any
        parsing): the participant's next answer builds on this one. `submission` is the answer `respond` validated
        (its payload is that answer's dump), so the tally need not parse the payload again."""
        tally = self.tallies.get(event.activity_id)
        if tally is not None and tally.fold(event, submission):
            self._mark(event.activity_id)

    async def react(self, participant_id: int, name: str) -> None:
        """Float a reaction on every projector of the session; ReactionRefused says why not."""
        if name not in REACTIONS:
            raise ReactionRefused(_("Choose one of the reactions on the screen."))
        if not self.snapshot.live or not self.snapshot.session.reactions:
            raise ReactionRefused(_("Reactions are switched off right now."))
        if not self._reactions.take(participant_id):
            raise TooFast(_("Easy there: wait a moment, then react again."))
        await publish(self.deps.backplane, self.session_id, Reaction(name))

    # --- pushes --------------------------------------------------------------------------------------------

    def _mark(self, activity_id: int | None) -> None:
        self._standings = self._team_standings = None
        self._pusher.mark(activity_id)

    def _mark_stage(self, participants: bool = True) -> None:
        self._standings = self._team_standings = None
        self._pusher.mark_stage(participants)

    def standings(self) -> Standings:
        """The session's standings over its revealed activities of scoring kinds (an unrevealed question's answers
        would give its answer away by moving people's ranks)."""
        if self._standings is None:
            live = [a for a in self.snapshot.activities if kept(a) is None]
            self._standings = session_standings(
                self.deps.registry, live, self.tallies, streak=self.snapshot.session.streak
            )
        return self._standings

    def standings_final(self) -> bool:
        """Whether the standings are final: the session has scoring activities and every one is revealed (the
        projector shows the podium, each phone its final place)."""
        scored = [a for a in self.snapshot.activities if is_scored(self.deps.registry, a, self.tallies)]
        return bool(scored) and all(a.revealed for a in scored)

    def team_standings(self) -> tuple[TeamStanding, ...]:
        """The teams' standings beside the individual ones (empty when the session has no teams)."""
        if self._team_standings is None:
            teams = self.snapshot.session.teams
            members = {pid: named.team for pid, named in self.names.items() if named.team in teams}
            self._team_standings = team_standings(self.standings(), members, teams) if teams else ()
        return self._team_standings

    # --- names and teams -----------------------------------------------------------------------------------

    @property
    def asks_names(self) -> bool:
        """Whether the session asks phones for a nickname or a team."""
        session = self.snapshot.session
        return session.nicknames or bool(session.teams)

    @property
    def naming_open(self) -> bool:
        """Whether phones may still choose or change their nickname and team: the session asks for them, is live,
        and has not yet shown a question of a scoring kind open for answers (its clock started)."""
        snapshot = self.snapshot  # asked for every phone's stage: worked out once per snapshot
        if self._names_open is None or self._names_open[0] is not snapshot:
            self._names_open = (snapshot, names_open(snapshot, self.deps.registry))
        return self._names_open[1]

    def name_of(self, participant_id: int) -> str:
        """What the room calls a participant: their nickname, or their generated name in the language being
        rendered."""
        named = self.names.get(participant_id)
        if named is not None and named.nickname:
            return named.nickname
        return generated_name(self.session_id, participant_id, current_language())

    def team_of(self, participant_id: int) -> str:
        """A participant's team (empty: none)."""
        named = self.names.get(participant_id)
        return named.team if named is not None and named.team in self.snapshot.session.teams else ""

    def team_sizes(self) -> dict[str, int]:
        """How many chose each of the session's teams, in the session's order of teams."""
        sizes = dict.fromkeys(self.snapshot.session.teams, 0)
        for named in self.names.values():
            if named.team in sizes:
                sizes[named.team] += 1
        return sizes

    async def choose_name(self, participant_id: int, nickname: str, team: str) -> Named:
        """Store a participant's nickname and team and tell every worker; NameRefused says why not (the session asks
        for neither, it is too late, a nickname the rules refuse or someone has, a team the session does not have)."""
        session = self.snapshot.session
        if not self.asks_names:
            raise NameRefused(_("This session does not ask for names."), 409)
        if not self.naming_open:
            raise NameRefused(_("Names and teams are fixed now: the quiz has begun."), 409)
        chosen_team = ""
        if session.teams:
            chosen_team = next((one for one in session.teams if one == team.strip()), "")
            if not chosen_team:
                raise NameRefused(_("Choose one of the teams."))
        named = Named(check_nickname(nickname) if session.nicknames else "", chosen_team)
        await save_name(self.deps.db, self.session_id, participant_id, named)
        self._named(participant_id, named)
        await publish(self.deps.backplane, self.session_id, NameChosen(participant_id, named.nickname, named.team))
        return named

    def _named(self, participant_id: int, named: Named) -> None:
        """A participant's name or team changed: the presenter's counts and the leaderboards show it."""
        if self.names.get(participant_id) == named:
            return
        self.names[participant_id] = named
        # Names change only before any scoring question was shown open, so no leaderboard shows them yet.
        self._mark(None)

    # --- stages --------------------------------------------------------------------------------------------

    async def participant(self, token: str) -> int:
        """The participant this token is in the session, joining on first sight (from memory when known)."""
        participant_id, _new = await self.join(token)
        return participant_id

    def known(self, token: str) -> int | None:
        """The participant this token is in the session, if this worker knows it has joined."""
        return self.participants.get(hash_token(token))

    async def join(self, token: str) -> tuple[int, bool]:
        """The participant this token is in the session, and whether it has just joined: known ones come from
        memory, new ones are inserted with the writer's next group (WriterBusy, WriterFailed)."""
        token_hash = hash_token(token)
        known = self.participants.get(token_hash)
        if known is not None:
            return known, False
        participant_id, new = await self.deps.writer.join(self.session_id, token_hash)
        self.participants[token_hash] = participant_id
        if self._waiting.pop(token_hash, None) is not None:
            self._mark(None)
        if new:
            await publish(self.deps.backplane, self.session_id, Joined(participant_id, token_hash))
        return participant_id, new

    def rendered_once(self, stage: Stage, key: tuple[object, ...], render: Callable[[], str]) -> str:
        """`render()` for a stage every phone that shows it is sent alike, rendered once while the session's state
        stays the same: a room joining at once costs one rendering, not one per phone. `key` says what else the
        HTML depends on (its language, the page's address). A stage with the room's entries in it (a listing or
        sharing kind) changes with every answer and is rendered each time."""
        activity = stage.activity
        if activity is not None and self.deps.fragments.pushes_list(activity):
            return render()
        return self.rendered((stage.rendering, *key), render)

    def rendered(self, key: tuple[object, ...], render: Callable[[], str]) -> str:
        """`render()`, kept under `key` while the session's state stays the same (for what depends on nothing
        else: the snapshot and what `key` names)."""
        if self._rendered_for is not self.snapshot:
            self._rendered.clear()
            self._rendered_for = self.snapshot
        html = self._rendered.get(key)
        if html is None:
            if len(self._rendered) >= RENDERED_LIMIT:
                self._rendered.clear()
            html = self._rendered[key] = render()
        return html

    def defer(self, token: str, seconds: int) -> None:
        """The join gate asked this phone to come back in `seconds`: it counts as waiting until it is back (or
        until it has clearly given up), and the presenter's counts show it."""
        self._waiting[hash_token(token)] = time.monotonic() + seconds + WAITING_GRACE_S
        self._mark(None)

    @property
    def waiting(self) -> int:
        """Phones of this worker waiting to join: asked to come back, and not back yet (those gone for good are
        dropped at most once a second: a surge asks this for every phone it defers)."""
        now = time.monotonic()
        if now >= self._waiting_pruned + 1:
            self._waiting_pruned = now
            for token_hash in [h for h, until in self._waiting.items() if until < now]:
                del self._waiting[token_hash]
        return len(self._waiting)

    def shown(self, participant_id: int, at: int | None) -> Activity | None:
        """The activity a participant sees: the one they chose if they may open it, else the presenter's current
        one; at the audience's pace, the first one they have not answered (None once they are done)."""
        snapshot = self.snapshot
        chosen = snapshot.activity(at)
        if chosen is not None and snapshot.reachable(chosen):
            return chosen
        if snapshot.paced and snapshot.live:
            return next(
                (
                    a
                    for a in snapshot.paced_activities
                    if a.voting_open
                    and a.id is not None
                    and a.id not in snapshot.answerless  # shown, never answered: nothing to stop at
                    and self.tallies[a.id].answer_of(participant_id) is None
                ),
                None,
            )
        return snapshot.current

    def stage(self, participant_id: int, at: int | None = None) -> Stage:
        """What this participant's phone should show now.

        Its key is a fingerprint of what phones show (the same on every worker): a phone that has it is not sent
        it again, so a duplicate push never wipes what someone is typing."""
        if participant_id not in self.names and self.naming_open:
            key = self._stage_keys.get(NAMING)
            if key is None:
                key = self._stage_keys[NAMING] = digest([_phone_view(self.snapshot), "naming"])
            return Stage(key, None, None, frozenset(), naming=True)
        activity = self.shown(participant_id, at)
        shown_id = activity.id if activity is not None else None
        key = self._stage_keys.get(shown_id)
        if key is None:
            key = self._stage_keys[shown_id] = digest([_phone_view(self.snapshot), shown_id])
        answer = self.tallies[shown_id].answer_of(participant_id) if shown_id is not None else None
        answered: frozenset[int] = frozenset()
        if self.snapshot.paced:
            answered = frozenset(
                a.id
                for a in self.snapshot.paced_activities
                if a.id is not None and self.tallies[a.id].answer_of(participant_id) is not None
            )
        if activity is not None and activity.revealed and is_scored(self.deps.registry, activity, self.tallies):
            board = self.standings()
            teams = self.team_standings()
            team = self.team_of(participant_id)
            own_team = next((row for row in teams if row.team == team), None)
            return Stage(key, activity, answer, answered, board.of(participant_id), board.people, own_team, len(teams))
        return Stage(key, activity, answer, answered)

    def finished(self) -> int:
        """At the audience's pace: how many participants have answered every activity still open."""
        answerless = self.snapshot.answerless
        open_tallies = [
            self.tallies[a.id]
            for a in self.snapshot.paced_activities
            if a.voting_open and a.id and a.id not in answerless
        ]
        if not open_tallies:
            return 0
        return sum(
            all(tally.answer_of(pid) is not None for tally in open_tallies) for pid in self.participants.values()
        )

    def show(self, connection: Connection, stage: Stage) -> None:
        """Record that a client is being sent this stage (at the audience's pace, the phone stays on it)."""
        connection.stage_key = stage.key
        connection.showing = stage.activity.id if stage.activity is not None else None
        if self.snapshot.paced and connection.showing is not None:
            connection.at = connection.showing

    # --- presence ------------------------------------------------------------------------------------------

    @property
    def connections(self) -> list[Connection]:
        """Every socket of this room, all audiences."""
        return self.presence.connections

    def attach(self, connection: Connection) -> None:
        self.deps.stats.socket_changes += 1
        self.presence.add(connection)
        self._mark(None)  # the presenter's "connected" count

    async def detach(self, connection: Connection) -> None:
        if self.presence.remove(connection):
            self.deps.stats.socket_changes += 1
        await connection.stop()
        if connection.overran:
            self.deps.stats.outbox_drops += 1
        self._mark(None)

    @property
    def online(self) -> int:
        """Participants with a socket open to this worker."""
        return self.presence.online


def _state_of(snapshot: SessionSnapshot) -> str:
    """A fingerprint of everything a presenter action can change."""
    session = snapshot.session
    activities = [
        [a.id, a.voting_open, a.revealed, a.epoch, a.moderation, str(a.closes_at)] for a in snapshot.activities
    ]
    flags = [session.state, session.current_activity_id, session.beside_activity_id, session.pace, session.reactions]
    return digest([flags, activities])


def _phone_view(snapshot: SessionSnapshot) -> list[object]:
    """What decides participants' stages: session state and pace, reactions, the current activity (when the
    presenter sets the pace), and each activity's voting, epoch and countdown. Not moderation or reveals."""
    session = snapshot.session
    current = None if snapshot.paced else session.current_activity_id
    activities = [[a.id, a.voting_open, a.epoch, str(a.closes_at)] for a in snapshot.activities]
    return [snapshot.live, str(session.pace), session.reactions, current, activities]
