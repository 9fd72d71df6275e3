"""What workers tell each other on a session's backplane channel, one frozen dataclass per message type.

Every worker serving a session subscribes to its channel (server/backplane.py); a room folds what arrives
(server/live/room.py `Room._apply`). On the wire a message is a JSON object whose `type` names it (`responses`,
`joined`, `named`, `state`, `reaction`), the same for the memory and the Redis backplane and for workers of different
versions during a rolling restart: keep `to_json` and `from_json` compatible when adding fields.

This module sits beside the backplane, below the domain, not in server/live/: server/sessions.py publishes
StateChanged after a presenter action, and the domain must not import the live core that sits above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from activities.base import ResponseEvent
from server.backplane import Backplane, session_channel


@dataclass(frozen=True)
class Responses:
    """Responses just committed (one group of the writer's, for one session): every worker folds them."""

    type: ClassVar[str] = "responses"
    events: tuple[ResponseEvent, ...]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "items": [event.to_json() for event in self.events]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Responses:
        return cls(tuple(ResponseEvent.from_json(item) for item in data["items"]))


@dataclass(frozen=True)
class Joined:
    """Someone joined the session on one worker: the others count them too (and know their token)."""

    type: ClassVar[str] = "joined"
    participant: int
    token_hash: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "participant": self.participant, "token_hash": self.token_hash}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Joined:
        return cls(int(data["participant"]), str(data["token_hash"]))


@dataclass(frozen=True)
class NameChosen:
    """A participant chose (or changed) their nickname or team on one worker: every worker shows it."""

    type: ClassVar[str] = "named"
    participant: int
    nickname: str
    team: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "participant": self.participant, "nickname": self.nickname, "team": self.team}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NameChosen:
        return cls(int(data["participant"]), str(data["nickname"]), str(data["team"]))


@dataclass(frozen=True)
class StateChanged:
    """A presenter action changed the session's state in the database: every worker reloads it from there."""

    type: ClassVar[str] = "state"

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StateChanged:
        return cls()


@dataclass(frozen=True)
class Reaction:
    """A participant's reaction, to float up every projector of the session (counted, never stored)."""

    type: ClassVar[str] = "reaction"
    name: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reaction:
        return cls(str(data["name"]))


Message = Responses | Joined | NameChosen | StateChanged | Reaction
TYPES: dict[str, type[Message]] = {cls.type: cls for cls in (Responses, Joined, NameChosen, StateChanged, Reaction)}


def from_json(data: Mapping[str, Any]) -> Message | None:
    """The message a JSON object carries; None for a type this worker does not know (a newer worker's, during a
    rolling restart). A known type with missing or mistyped fields raises KeyError, TypeError or ValueError."""
    cls = TYPES.get(str(data.get("type")))
    return cls.from_json(data) if cls is not None else None


async def publish(backplane: Backplane, session_id: int, message: Message) -> None:
    """Tell every worker serving a session (this one included: it hears its own messages too)."""
    await backplane.publish(session_channel(session_id), message.to_json())
