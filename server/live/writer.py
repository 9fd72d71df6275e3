"""The write-behind queue: responses and joins are committed in groups, then acknowledged, then published.

A phone joining takes the same road as its vote: it waits for the next group commit instead of a pooled connection
and a transaction of its own, so a room that scans the code at once costs one commit per interval, not one each."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from activities.base import ResponseEvent
from server.backplane import Backplane
from server.messages import Responses, publish
from server.models import Participant, Response, utcnow

log = logging.getLogger(__name__)


class WriterBusy(Exception):
    """The queue is full: the response was not taken and the participant should try again."""


class WriterFailed(Exception):
    """The database refused the group this response was in; nothing of it was stored."""


class _Pending:
    """One response waiting for its group's commit. A plain class with slots: one is made per vote."""

    __slots__ = ("session_id", "event", "done", "queued_at")

    def __init__(self, session_id: int, event: ResponseEvent, done: asyncio.Future[None]) -> None:
        self.session_id = session_id
        self.event = event
        self.done = done
        self.queued_at = time.monotonic()


@dataclass
class _Joining:
    """A phone joining a session: its participant row is inserted with the next group (or found, if it exists)."""

    session_id: int
    token_hash: str
    done: asyncio.Future[tuple[int, bool]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    queued_at: float = field(default_factory=time.monotonic)


class VersionClock:
    """Versions that grow within a process and roughly follow time across processes (microseconds)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max(self._last + 1, time.time_ns() // 1000)
        return self._last


class ResponseWriter:
    """Gathers responses, commits each group in one transaction, then acknowledges and publishes them."""

    def __init__(
        self, engine: AsyncEngine, backplane: Backplane, *, interval_ms: int, batch_limit: int, queue_limit: int
    ) -> None:
        self._engine = engine
        self._backplane = backplane
        self._interval = interval_ms / 1000
        self._batch_limit = batch_limit
        self._queue: asyncio.Queue[_Pending | _Joining] = asyncio.Queue(maxsize=queue_limit)
        self._clock = VersionClock()
        self._upsert = _upsert_statement(engine.dialect.name)
        self._join = _join_statement(engine.dialect.name)
        self.committed = 0
        self.joined = 0  # participants inserted
        self.batches = 0
        self.failed_commits = 0
        # Told of each committed group: its size, the transaction's seconds, and the longest wait in it (its first
        # response's, from submit to commit), which is what a participant feels. /metrics turns these into histograms.
        self.on_commit: Callable[[int, float, float], None] | None = None
        # Told of each session's committed responses, after the commit (server/webhooks.py queues them, never waits).
        self.on_stored: Callable[[int, Sequence[ResponseEvent]], None] | None = None

    @property
    def depth(self) -> int:
        """Responses waiting for a commit."""
        return self._queue.qsize()

    async def submit(
        self, session_id: int, activity_id: int, participant_id: int, epoch: int, payload: dict[str, Any]
    ) -> ResponseEvent:
        """Store one response; returns once it is committed (never earlier)."""
        event = ResponseEvent(activity_id, participant_id, epoch, self._clock.next(), payload)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait(_Pending(session_id, event, done))
        except asyncio.QueueFull:
            raise WriterBusy from None
        # Not shielded: a submitter cancelled here (its phone gone) cancels only its wait. The response stays in the
        # queue and is committed with its group; the writer skips acknowledging a wait that has ended.
        await done
        return event

    async def join(self, session_id: int, token_hash: str) -> tuple[int, bool]:
        """The participant with this token hash in the session, inserted with the next group if it is new; and
        whether it is. WriterBusy when the queue is full, WriterFailed when the group's commit failed."""
        joining = _Joining(session_id, token_hash)
        try:
            self._queue.put_nowait(joining)
        except asyncio.QueueFull:
            raise WriterBusy from None
        return await asyncio.shield(joining.done)

    async def run(self) -> None:
        """The writer loop: one group per iteration, at most one commit per interval."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_limit and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            started = time.monotonic()
            await self._commit(batch)
            await asyncio.sleep(max(0.0, self._interval - (time.monotonic() - started)))

    async def drain(self) -> None:
        """Commit whatever is queued (at shutdown)."""
        while not self._queue.empty():
            batch = [self._queue.get_nowait() for _ in range(min(self._queue.qsize(), self._batch_limit))]
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending | _Joining]) -> None:
        now = utcnow()
        answers = [item for item in batch if isinstance(item, _Pending)]
        joins = [item for item in batch if isinstance(item, _Joining)]
        rows = [
            {
                "activity_id": p.event.activity_id,
                "participant_id": p.event.participant_id,
                "epoch": p.event.epoch,
                "version": p.event.version,
                "payload": p.event.payload,
                "updated_at": now,
            }
            for p in answers
        ]
        started = time.monotonic()
        try:
            async with self._engine.begin() as connection:
                # Joins first: an answer in the same group may come from a phone that has joined (never from one
                # joining in it: a phone answers only once its join has been acknowledged).
                found = await self._insert_participants(connection, joins, now) if joins else {}
                if rows:
                    await connection.execute(self._upsert, rows)
        except Exception as error:
            self.failed_commits += 1
            log.exception("commit of %d responses and %d joins failed", len(answers), len(joins))
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(WriterFailed(str(error)))
            return
        self.committed += len(answers)
        self.batches += 1
        if self.on_commit is not None:
            finished = time.monotonic()
            self.on_commit(len(batch), finished - started, finished - batch[0].queued_at)
        for item in batch:
            if item.done.done():
                continue
            if isinstance(item, _Joining):
                item.done.set_result(found[item.session_id, item.token_hash])
            else:
                item.done.set_result(None)
        if answers:
            await self._publish(answers)

    async def _insert_participants(
        self, connection: AsyncConnection, joins: list[_Joining], now: Any
    ) -> dict[tuple[int, str], tuple[int, bool]]:
        """Insert the phones that are new (a token already in the session keeps its row) in one statement; each
        one's participant id, and whether it is new."""
        wanted = {(j.session_id, j.token_hash) for j in joins}  # two tabs joining at once: one row
        rows = [{"session_id": s, "token_hash": h, "created_at": now, "nickname": "", "team": ""} for s, h in wanted]
        inserted = await connection.execute(self._join, rows)
        found = {(s, h): (i, True) for i, s, h in inserted.all()}
        self.joined += len(found)
        table = Participant.__table__  # type: ignore[attr-defined]
        missing: dict[int, list[str]] = defaultdict(list)
        for session_id, token_hash in wanted - found.keys():
            missing[session_id].append(token_hash)
        for session_id, hashes in missing.items():
            known = await connection.execute(
                select(table.c.id, table.c.token_hash).where(
                    table.c.session_id == session_id, table.c.token_hash.in_(hashes)
                )
            )
            found.update({(session_id, h): (i, False) for i, h in known.all()})
        return found

    async def _publish(self, batch: list[_Pending]) -> None:
        by_session: dict[int, list[ResponseEvent]] = defaultdict(list)
        for pending in batch:
            by_session[pending.session_id].append(pending.event)
        for session_id, events in by_session.items():
            if self.on_stored is not None:
                try:
                    self.on_stored(session_id, events)
                except Exception:
                    log.exception("webhooks were not told of %d responses", len(events))
            try:
                await publish(self._backplane, session_id, Responses(tuple(events)))
            except Exception:
                # Stored and acknowledged already; viewers catch up when their room resyncs from the database.
                log.exception(
                    "publishing %d responses of session %d failed",
                    len(events),
                    session_id,
                    extra={"session_id": session_id},
                )


def _join_statement(dialect: str) -> Any:
    """INSERT a participant unless its token is in the session already; RETURNING the rows it inserted."""
    table = Participant.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing(index_elements=[table.c.session_id, table.c.token_hash])
    return statement.returning(table.c.id, table.c.session_id, table.c.token_hash)


def _upsert_statement(dialect: str) -> Any:
    """INSERT, or replace the stored answer when this one is newer by (epoch, version)."""
    table = Response.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    newer = or_(
        table.c.epoch < statement.excluded.epoch,
        and_(table.c.epoch == statement.excluded.epoch, table.c.version < statement.excluded.version),
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.activity_id, table.c.participant_id],
        set_={
            "epoch": statement.excluded.epoch,
            "version": statement.excluded.version,
            "payload": statement.excluded.payload,
            "updated_at": statement.excluded.updated_at,
        },
        where=newer,
    )
