"""The hub: the rooms of this worker, one per session it serves, opened on first use and closed when idle; and
admission, the door (and its throttle) a join code goes through to reach a room.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from functools import partial

from server.live.gate import JoinGate
from server.live.room import HubStats, Room, RoomDeps
from server.sessions import NotFound, find_live_session, has_joined
from server.web.throttle import Throttled


class Hub:
    """The rooms of this worker, opened on first use and closed when idle."""

    def __init__(self, deps: RoomDeps) -> None:
        self.deps = deps
        self._rooms: dict[int, Room] = {}
        self._codes: dict[str, int] = {}  # join code -> session id, for live sessions with a room here
        self._opening: dict[int, asyncio.Future[Room]] = {}
        self._lookups: dict[str, asyncio.Future[Room]] = {}  # join codes being looked up in the database
        self._janitor: asyncio.Task[None] | None = None
        self.gate = JoinGate(deps.settings)  # new phones past what this worker can take come back in a moment

    @property
    def stats(self) -> HubStats:
        """The counters its rooms keep (/metrics, the load collector)."""
        return self.deps.stats

    async def room(self, session_id: int) -> Room:
        """The room of a session, opened (and loaded) once however many callers ask at the same time."""
        room = self._rooms.get(session_id)
        if room is not None:
            room.keep_open()
            return room
        if session_id not in self._opening:
            self._opening[session_id] = asyncio.ensure_future(self._open(session_id))
        try:
            return await asyncio.shield(self._opening[session_id])
        finally:
            self._opening.pop(session_id, None)

    async def live_room(self, code: str) -> Room:
        """The room of the live session with this join code; NotFound if no live session has it. A code this
        worker does not know yet is looked up once, however many ask for it at the same moment (a room scanning
        it on a worker that has not served the session yet)."""
        session_id = self._codes.get(code)
        if session_id is not None and session_id in self._rooms:
            room = await self.room(session_id)
            if room.snapshot.live and room.snapshot.session.code == code:
                return room
        self._codes.pop(code, None)
        lookup = self._lookups.get(code)
        if lookup is None:
            lookup = self._lookups[code] = asyncio.ensure_future(self._look_up(code))
            lookup.add_done_callback(partial(self._looked_up, code))
        return await asyncio.shield(lookup)

    def _looked_up(self, code: str, lookup: asyncio.Future[Room]) -> None:
        if self._lookups.get(code) is lookup:
            del self._lookups[code]
        if not lookup.cancelled():
            lookup.exception()  # retrieved: when every asker has gone, a NotFound is no "never retrieved" warning

    async def _look_up(self, code: str) -> Room:
        session = await find_live_session(self.deps.db, code)
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
        guard, db = self.deps.throttles.codes, self.deps.db
        if code in self._lookups:  # looked up for someone else this moment: one lookup, counted (if at all) once
            return await self.live_room(code)
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
        room = Room(self.deps, session_id)
        await room.open()
        self._rooms[session_id] = room
        return room

    def start(self) -> None:
        self._janitor = asyncio.create_task(self._close_idle_rooms())
        self.gate.start()

    async def _close_idle_rooms(self) -> None:
        limit = self.deps.settings.room_idle_seconds
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
        await self.gate.close()
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
