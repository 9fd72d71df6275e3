"""The hub: one Room per session a worker serves, holding its tallies and its sockets.

Tallies change only by folding backplane events (so every worker agrees); the room's ticker turns changes into
HTML fragments for presenters and projectors at most once per push interval, and state changes into a new stage
for every participant. Each socket has a bounded queue: a client that falls behind is dropped and resyncs.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlmodel import select
from starlette.websockets import WebSocket

from activities.base import KindConfig, KindSubmission, ResponseEvent, Tally, digest
from activities.i18n import N_, _
from server.backplane import Overflow, Subscription, session_channel
from server.live.reactions import REACTIONS, ReactionRefused, TooFast
from server.models import Activity, Participant, as_utc, utcnow
from server.sessions import (
    ControlRefused,
    NotFound,
    SessionSnapshot,
    as_event,
    control,
    find_live_session,
    fresh_tally,
    has_joined,
    hash_token,
    join,
    kept,
    load_snapshot,
    moderated_results,
    seconds_left,
    stored_responses,
)
from server.web.i18n import current_language, speaking
from server.web.throttle import MINUTE, Rate, RateLimiter, Throttled, address_of

if TYPE_CHECKING:
    from server.services import Services

log = logging.getLogger(__name__)

# Close codes: 1013 asks htmx's ws extension (and any client) to reconnect after a pause; 4404/4403 do not.
TRY_AGAIN = 1013
GONE = 4404
TOO_MANY_CONNECTIONS = N_("Too many connections from your network; try again later.")


class Audience(StrEnum):
    participant = "participant"
    presenter = "presenter"
    projector = "projector"


async def refuse(websocket: WebSocket, reason: str, code: int = GONE) -> None:
    """Turn a socket away with 4404 (or 1013: try again later), which browsers (and htmx) report; closing before
    accept would not."""
    await websocket.accept()
    await websocket.close(code, reason)


class Connection:
    """One client of a room and its bounded outbox; a subclass carries the messages (a websocket, an event stream).

    The outbox, and the task that drains it, exist only while there is something to send: an idle socket (most of a
    room, most of the time) holds no task, no coroutine and no queue of its own, which is memory per participant
    and objects the garbage collector would otherwise walk. Each queued message keeps the stage key the client was
    being sent when it was queued, so a transport that tells the client where it is (an event stream's `id:`)
    names the stage the client has actually received. Slots, not a dict per instance: one per phone adds up."""

    __slots__ = (
        "language", "audience", "participant_id", "_limit", "_outbox", "_sender", "dropped", "overran", "at",
        "stage_key", "showing",
    )  # fmt: skip

    def __init__(
        self,
        audience: Audience,
        participant_id: int | None,
        limit: int,
        at: int | None = None,
        language: str | None = None,
    ) -> None:
        # What this client is pushed in: the language of the request that opened it, unless told otherwise.
        self.language = language if language is not None else current_language()
        self.audience = audience
        self.participant_id = participant_id
        self._limit = limit
        self._outbox: deque[tuple[str, str]] | None = None  # made by the first message (an empty deque: 760 bytes)
        self._sender: asyncio.Task[None] | None = None
        self.dropped = False
        self.overran = False  # dropped for a full outbox (not for a socket that failed): counted by /metrics
        self.at = at  # the activity the participant chose (Q&A, their own pace); None follows the presenter
        self.stage_key = ""  # the participant stage this client shows (see Room.stage)
        self.showing: int | None = None  # the activity on that stage

    def send(self, text: str) -> None:
        """Queue a message; a full outbox drops the client, which reconnects and gets a fresh page."""
        if self.dropped:
            return
        outbox = self._outbox
        if outbox is None:
            outbox = self._outbox = deque()
        if len(outbox) >= self._limit:
            self.dropped = self.overran = True
            outbox.clear()
            self._sender = asyncio.create_task(self._close(TRY_AGAIN, "too slow: reconnect to catch up"))
            return
        outbox.append((text, self.stage_key))
        if self._sender is None:
            self._sender = asyncio.create_task(self._drain(outbox))

    async def _drain(self, outbox: deque[tuple[str, str]]) -> None:
        try:
            while outbox:
                await self._deliver(*outbox[0])
                outbox.popleft()
        except Exception:
            self.dropped = True  # the client is gone: its reader sees the disconnect and detaches it
        finally:
            self._sender = None
            if not outbox:
                self._outbox = None

    async def _deliver(self, text: str, stage_key: str) -> None:
        raise NotImplementedError

    async def _close(self, code: int, reason: str) -> None:
        raise NotImplementedError

    def end(self) -> None:
        """The server is stopping: let the client go, to come back once it runs again. A socket needs nothing:
        uvicorn closes it with 1012 (restarting) by itself."""

    async def stop(self) -> None:
        sender = self._sender
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender


class SocketConnection(Connection):
    """A client on a websocket (uvicorn pings it: it needs no heartbeat of ours)."""

    __slots__ = ("websocket",)

    def __init__(
        self,
        websocket: WebSocket,
        audience: Audience,
        participant_id: int | None,
        limit: int,
        at: int | None = None,
        language: str | None = None,
    ) -> None:
        super().__init__(audience, participant_id, limit, at, language)
        self.websocket = websocket

    async def _deliver(self, text: str, stage_key: str) -> None:
        await self.websocket.send_text(text)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)


@dataclass(frozen=True)
class Stage:
    """What one participant's phone shows: an activity (or a plain state) and their answer to it."""

    key: str  # the same on every worker for the same view; a phone that has it is not sent it again
    activity: Activity | None
    answer: KindSubmission | None
    answered: frozenset[int]  # at the audience's pace: the activities they have answered (progress, links)

    @property
    def rendering(self) -> tuple[str, str, frozenset[int]]:
        """Phones with equal renderings get the same HTML (one rendering per distinct answer)."""
        return self.key, self.answer.model_dump_json() if self.answer is not None else "", self.answered


class Room:
    """A session as one worker serves it."""

    def __init__(self, services: Services, session_id: int) -> None:
        self.services = services
        self.session_id = session_id
        self.snapshot: SessionSnapshot
        self.tallies: dict[int, Tally[Any, Any]] = {}
        self.participants: dict[str, int] = {}  # token hash -> participant id: who has joined
        # Sockets by audience, so pushing to the one presenter never walks ten thousand phones.
        self._audiences: dict[Audience, set[Connection]] = {audience: set() for audience in Audience}
        self._online: Counter[int] = Counter()  # participant -> open sockets (a phone may have two tabs)
        self._dirty: set[int] = set()
        self._views_dirty = False  # presenter and projector need their whole view again
        self._stage_dirty = False  # so do the participants (what their phones show has changed)
        self._wake = asyncio.Event()
        self._stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self.idle_since: float | None = time.monotonic()
        self._countdown: asyncio.Task[None] | None = None
        self._answering: dict[int, tuple[asyncio.Lock, int]] = {}  # participant -> (lock, holders and waiters)
        self._stage_keys: dict[int | None, str] = {}  # shown activity -> stage key, for this snapshot
        self.reactions: Counter[str] = Counter()  # since this worker opened the room
        self._floating: Counter[str] = Counter()  # reactions not yet floated on the projector
        settings, keys = services.settings, services.settings.throttle_keys_limit
        # Per participant: a thumb hammering a button is not a crowd, and a script is not a participant.
        self._reactions: RateLimiter[int] = RateLimiter(
            Rate(settings.reactions_per_minute, MINUTE, settings.reaction_burst), max_keys=keys
        )
        self.answer_rate: RateLimiter[int] = RateLimiter(Rate(settings.submissions_per_minute, MINUTE), max_keys=keys)
        # One state reload at a time: the presenter's request and the backplane event of the same action both
        # reload, and two that overlapped would each see a change and push the views (and phones' stages) twice.
        self._reloading = asyncio.Lock()
        self.subscription: Subscription | None = None  # its queue depth is read by /metrics

    async def open(self) -> None:
        """Subscribe first, then load from the database, then fold what arrived meanwhile."""
        subscription: Subscription = await self._stack.enter_async_context(
            self.services.backplane.subscribe(session_channel(self.session_id))
        )
        self.subscription = subscription
        await self._load()
        self._tasks = [asyncio.create_task(self._consume(subscription)), asyncio.create_task(self._tick())]

    async def close(self) -> None:
        self._disarm_countdown()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for connection in self.connections:
            await connection.stop()
        await self._stack.aclose()

    # --- state -------------------------------------------------------------------------------------------

    def results(self, activity: Activity, config: KindConfig | None = None) -> dict[str, Any]:
        """An activity's moderated results: from its tally, or, once an organizer deleted the session's
        participant-level data, the aggregate kept in its place (in the deck's language).

        `config`: the activity's config with its labels in another language (server/live/fragments.py in_language): the
        same counts, labelled in it. The tally is shared, never changed: a copy of it reads the other labels."""
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
        services = self.services
        self.snapshot = await load_snapshot(services.db, services.registry, self.session_id)
        tallies = {
            a.id: fresh_tally(services.registry, self.snapshot, a) for a in self.snapshot.activities if a.id is not None
        }
        for row in await stored_responses(services.engine, list(tallies)):
            tallies[row.activity_id].fold(as_event(row))
        async with services.db() as db:
            joined = await db.exec(
                select(Participant.token_hash, Participant.id).where(Participant.session_id == self.session_id)
            )
            self.participants = {token_hash: pid for token_hash, pid in joined.all() if pid is not None}
        self.tallies = tallies
        self._stage_keys.clear()
        self._mark_stage()
        self._arm_countdown()

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
            self.snapshot = await load_snapshot(self.services.db, self.services.registry, self.session_id)
            self._stage_keys.clear()
            for activity in self.snapshot.activities:
                if activity.id in self.tallies:
                    self.tallies[activity.id].reset(activity.epoch)
            if _state_of(self.snapshot) != before:  # the event of a change already applied changes nothing
                self._mark_stage(participants=_phone_view(self.snapshot) != phones_before)
                self._arm_countdown()

    # --- countdowns ------------------------------------------------------------------------------------------

    def _arm_countdown(self) -> None:
        """Close voting when the current activity's countdown runs out. Every worker serving the session arms
        one; the close is idempotent, and answers after the deadline are refused whatever the timers do."""
        self._disarm_countdown()
        current = self.snapshot.current
        if current is None or current.id is None or current.closes_at is None or seconds_left(current) is None:
            return
        self._countdown = asyncio.create_task(self._expire(current.id, as_utc(current.closes_at)))

    def _disarm_countdown(self) -> None:
        if self._countdown is not None:
            self._countdown.cancel()
            self._countdown = None

    async def _expire(self, activity_id: int, closes_at: datetime) -> None:
        await asyncio.sleep(max(0.0, (closes_at - utcnow()).total_seconds()))
        services = self.services
        try:
            await control(services.db, services.backplane, services.registry, self.session_id, "expire", activity_id)
        except (ControlRefused, NotFound):
            pass  # the session ended or moved on meanwhile
        except Exception:
            log.exception(
                "session %d: closing voting at the end of a countdown failed",
                self.session_id,
                extra={"session_id": self.session_id},
            )

    async def _consume(self, subscription: Subscription) -> None:
        while True:
            try:
                message = await subscription.get()
                await self._apply(message)
            except Overflow:
                self.services.hub.backplane_overflows += 1
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

    async def _apply(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "responses":
            for item in message["items"]:
                event = ResponseEvent.from_json(item)
                tally = self.tallies.get(event.activity_id)
                if tally is not None and tally.fold(event):
                    self._mark(event.activity_id)
        elif kind == "joined":
            self.participants[str(message["token_hash"])] = int(message["participant"])
            self._mark(None)
        elif kind == "state":
            await self._reload_state()
        elif kind == "reaction" and message.get("name") in REACTIONS:
            self.reactions[message["name"]] += 1
            self._floating[message["name"]] += 1
            self._wake.set()

    # --- answers and reactions -----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def answering(self, participant_id: int) -> AsyncIterator[None]:
        """Take one participant's answers one at a time, so an answer built on their previous one (one more
        question, one more upvote) never races another and loses it."""
        lock, users = self._answering.get(participant_id) or (asyncio.Lock(), 0)
        self._answering[participant_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._answering[participant_id]
            if users <= 1:
                del self._answering[participant_id]
            else:
                self._answering[participant_id] = (lock, users - 1)

    def fold_now(self, event: ResponseEvent) -> None:
        """Fold a response this worker has just committed, without waiting for the backplane to bring it back
        (it will, and folding it again changes nothing): the participant's next answer builds on this one."""
        tally = self.tallies.get(event.activity_id)
        if tally is not None and tally.fold(event):
            self._mark(event.activity_id)

    async def react(self, participant_id: int, name: str) -> None:
        """Float a reaction on every projector of the session; ReactionRefused says why not."""
        if name not in REACTIONS:
            raise ReactionRefused(_("Choose one of the reactions on the screen."))
        if not self.snapshot.live or not self.snapshot.session.reactions:
            raise ReactionRefused(_("Reactions are switched off right now."))
        if not self._reactions.take(participant_id):
            raise TooFast(_("Easy there: wait a moment, then react again."))
        await self.services.backplane.publish(session_channel(self.session_id), {"type": "reaction", "name": name})

    # --- pushes --------------------------------------------------------------------------------------------

    def _mark(self, activity_id: int | None) -> None:
        if activity_id is not None:
            self._dirty.add(activity_id)
        self._wake.set()

    def _mark_stage(self, participants: bool = True) -> None:
        self._views_dirty = True
        self._stage_dirty = self._stage_dirty or participants
        self._wake.set()

    async def _tick(self) -> None:
        interval = self.services.settings.push_interval_ms / 1000
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                self._flush()
            except Exception:
                log.exception(
                    "session %d: rendering a push failed", self.session_id, extra={"session_id": self.session_id}
                )
            await asyncio.sleep(interval)

    def _flush(self) -> None:
        views = self.services.views
        if self._floating:
            floating, self._floating = self._floating, Counter()
            if self.snapshot.session.reactions:
                html = views.floating_reactions(floating)  # symbols only: the same in every language
                self._send(Audience.projector, lambda: html)
        if self._views_dirty:
            if self._stage_dirty:
                self._broadcast_stage()
            self._views_dirty = self._stage_dirty = False
            self._dirty.clear()
            self._send(Audience.presenter, lambda: views.presenter_live(self))
            self._send(Audience.projector, lambda: views.projector_stage(self))
            for activity in self.snapshot.activities:  # moderation changes what shared lists show
                if activity.id is not None:
                    self._share(activity.id)
            return
        dirty, self._dirty = self._dirty, set()
        current = self.snapshot.current
        for activity in self.snapshot.projected:
            if activity.id not in dirty:
                continue
            if activity is current:
                self._send(Audience.presenter, partial(views.results, self, activity, Audience.presenter))
            self._send(Audience.projector, partial(views.results, self, activity, Audience.projector))
        for activity_id in dirty:
            self._share(activity_id)
        if dirty and self.snapshot.paced:
            self._send(Audience.presenter, lambda: views.completion(self))
            self._send(Audience.projector, lambda: views.completion(self, Audience.projector))
        self._send(Audience.presenter, lambda: views.counts(self))

    def _share(self, activity_id: int) -> None:
        """Push a sharing kind's live list (Q&A questions) to the phones that show that activity."""
        activity = self.snapshot.activity(activity_id)
        if activity is None or not self.services.registry[activity.kind].shares_results:
            return
        watching = [c for c in self._audiences[Audience.participant] if c.showing == activity_id]
        self._send_each(watching, lambda: self.services.views.shared(self, activity))

    def _broadcast_stage(self) -> None:
        """One rendering per distinct stage, answer and language: everyone who has not answered shares one per
        language, and so do the people who gave the same answer (a poll of four options in two languages costs at
        most ten renderings, however large the room)."""
        views = self.services.views
        rendered: dict[tuple[str, tuple[str, str, frozenset[int]]], str] = {}
        for connection in self._audiences[Audience.participant]:
            if connection.participant_id is None:
                continue
            stage = self.stage(connection.participant_id, connection.at)
            if connection.stage_key == stage.key:
                continue
            self.show(connection, stage)
            rendering = (connection.language, stage.rendering)
            if rendering not in rendered:
                with speaking(connection.language):
                    rendered[rendering] = views.participant_stage(self, stage)
            connection.send(rendered[rendering])

    def show(self, connection: Connection, stage: Stage) -> None:
        """Record that a client is being sent this stage (at the audience's pace, the phone stays on it)."""
        connection.stage_key = stage.key
        connection.showing = stage.activity.id if stage.activity is not None else None
        if self.snapshot.paced and connection.showing is not None:
            connection.at = connection.showing

    def _send(self, audience: Audience, render: Callable[[], str]) -> None:
        """Push to every socket of an audience what `render` gives in its language (rendered once per language in
        use there, and not at all when no socket listens)."""
        self._send_each(self._audiences[audience], render)

    @staticmethod
    def _send_each(connections: Iterable[Connection], render: Callable[[], str]) -> None:
        rendered: dict[str, str] = {}
        for connection in connections:
            if connection.language not in rendered:
                with speaking(connection.language):
                    rendered[connection.language] = render()
            connection.send(rendered[connection.language])

    # --- sockets -------------------------------------------------------------------------------------------

    async def participant(self, token: str) -> int:
        """The participant this token is in the session, joining on first sight (from memory when known)."""
        token_hash = hash_token(token)
        known = self.participants.get(token_hash)
        if known is not None:
            return known
        participant_id, new = await join(self.services.db, self.session_id, token)
        self.participants[token_hash] = participant_id
        if new:
            message = {"type": "joined", "participant": participant_id, "token_hash": token_hash}
            await self.services.backplane.publish(session_channel(self.session_id), message)
        return participant_id

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

    @property
    def connections(self) -> list[Connection]:
        """Every socket of this room, all audiences."""
        return [c for sockets in self._audiences.values() for c in sockets]

    def attach(self, connection: Connection) -> None:
        self.services.hub.socket_changes += 1
        self._audiences[connection.audience].add(connection)
        if connection.participant_id is not None:
            self._online[connection.participant_id] += 1
        self.idle_since = None
        self._mark(None)  # the presenter's "connected" count

    async def detach(self, connection: Connection) -> None:
        sockets = self._audiences[connection.audience]
        if connection in sockets:
            self.services.hub.socket_changes += 1
            sockets.remove(connection)
            if connection.participant_id is not None:
                self._online[connection.participant_id] -= 1
                if self._online[connection.participant_id] <= 0:
                    del self._online[connection.participant_id]
        await connection.stop()
        if connection.overran:
            self.services.hub.outbox_drops += 1
        if not any(self._audiences.values()):
            self.idle_since = time.monotonic()
        self._mark(None)

    @property
    def online(self) -> int:
        """Participants with a socket open to this worker."""
        return len(self._online)


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


class Hub:
    """The rooms of this worker, opened on first use and closed when idle."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._rooms: dict[int, Room] = {}
        self._codes: dict[str, int] = {}  # join code -> session id, for live sessions with a room here
        self._opening: dict[int, asyncio.Future[Room]] = {}
        self.socket_changes = 0  # sockets attached or detached so far: how busy this worker is (server/collector.py)
        self._janitor: asyncio.Task[None] | None = None
        # Plain counters for /metrics: clients dropped for a full outbox, room resyncs after a backplane overflow.
        self.outbox_drops = 0
        self.backplane_overflows = 0

    async def room(self, session_id: int) -> Room:
        """The room of a session, opened (and loaded) once however many callers ask at the same time."""
        room = self._rooms.get(session_id)
        if room is not None:
            if room.idle_since is not None:
                room.idle_since = time.monotonic()  # in use: not closed under a caller about to attach
            return room
        if session_id not in self._opening:
            self._opening[session_id] = asyncio.ensure_future(self._open(session_id))
        try:
            return await asyncio.shield(self._opening[session_id])
        finally:
            self._opening.pop(session_id, None)

    async def live_room(self, code: str) -> Room:
        """The room of the live session with this join code; NotFound if no live session has it."""
        session_id = self._codes.get(code)
        if session_id is not None and session_id in self._rooms:
            room = await self.room(session_id)
            if room.snapshot.live and room.snapshot.session.code == code:
                return room
        self._codes.pop(code, None)
        session = await find_live_session(self.services.db, code)
        assert session.id is not None
        room = await self.room(session.id)
        if not room.snapshot.live:
            raise NotFound(code)
        self._codes[code] = session.id
        return room

    async def admit(self, code: str, address: str, token: str | None = None) -> Room:
        """The room of the live session with this code, for someone at `address` (with their participant token,
        if they have one). NotFound when no live session has it: that counts as a guess against the address and
        against everyone (server/web/throttle.py CodeGuard). Throttled past either budget, for every code: except for a
        participant who joined a session with that code (their cookie proves they know it): phones reconnecting on a
        throttled network keep their way in, and a room reloading the page of a session that has ended is not
        taken for a guesser.
        """
        guard, db = self.services.throttles.codes, self.services.db
        try:
            guard.attempt(address)
        except Throttled:
            if token is not None and await has_joined(db, code, token):
                return await self.live_room(code)  # NotFound when their session has ended: they know it
            raise
        try:
            room = await self.live_room(code)
        except NotFound:
            if token is not None and await has_joined(db, code, token):
                guard.hit(address)  # their own session, ended: not a guess
            raise
        guard.hit(address)
        return room

    async def _open(self, session_id: int) -> Room:
        room = Room(self.services, session_id)
        await room.open()
        self._rooms[session_id] = room
        return room

    def start(self) -> None:
        self._janitor = asyncio.create_task(self._close_idle_rooms())

    async def _close_idle_rooms(self) -> None:
        limit = self.services.settings.room_idle_seconds
        while True:
            await asyncio.sleep(max(1.0, limit / 4))
            now = time.monotonic()
            for session_id, room in list(self._rooms.items()):
                if room.idle_since is not None and now - room.idle_since > limit:
                    del self._rooms[session_id]
                    await room.close()

    def end_streams(self) -> None:
        """The server is stopping: end every client that uvicorn would otherwise wait for (event streams)."""
        for room in self._rooms.values():
            for connection in room.connections:
                connection.end()

    async def close(self) -> None:
        if self._janitor is not None:
            self._janitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._janitor
        for room in list(self._rooms.values()):
            await room.close()
        self._rooms.clear()

    @property
    def rooms(self) -> dict[int, Room]:
        return self._rooms

    async def forget(self, session_id: int) -> None:
        """Close a session's room now: its data was deleted, so nothing of it may linger in memory."""
        room = self._rooms.pop(session_id, None)
        if room is not None:
            await room.close()


@contextlib.asynccontextmanager
async def attached(
    room: Room, connection: Connection, address: str, first: Callable[[], str] | None
) -> AsyncIterator[bool]:
    """Keep a client attached to a room while the block runs, with the current view sent first (unless it has it).

    `first` renders that view. It is called here, and its text is held by the outbox alone until sent: a view
    kept in a local for the client's lifetime cost 12.7 KiB per idle phone (tracemalloc, docs/benchmarks.md).

    Yields False, attaching nothing, when `address` has connections_per_address clients open already: websockets
    and event streams count alike."""
    open_connections = room.services.throttles.connections
    if not open_connections.acquire(address):
        yield False
        return
    if first is not None:
        connection.send(first())
    room.attach(connection)
    try:
        yield True
    finally:
        open_connections.release(address)
        await room.detach(connection)


async def serve_socket(
    room: Room,
    connection: SocketConnection,
    first: Callable[[], str] | None,
    on_message: Callable[[str], Awaitable[None]] | None,
) -> None:
    """Attach a socket to a room, send it the current view (unless it has it), then read until it closes.

    A socket past its address's open connections (connections_per_address) is closed with 1013, try again later."""
    websocket = connection.websocket
    async with attached(room, connection, address_of(websocket), first) as admitted:
        if not admitted:
            await websocket.close(TRY_AGAIN, _(TOO_MANY_CONNECTIONS))
            return
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")  # binary frames are not part of the protocol: ignored
            if on_message is not None and text is not None:
                await on_message(text)
