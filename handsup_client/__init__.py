"""A small typed client of Handsup's JSON API and sockets, written from docs/api.md and docs/protocol.md alone.

    from handsup_client import Handsup

    with Handsup("https://handsup.example.org", token="hsu_...") as handsup:
        session = handsup.start_session(deck_slug="distributed-leadership")
        phone = handsup.join(session.code)
        handsup.goto(session.id, session.activities[1].id)
        phone.answer(session.activities[1].id, choice="0")
        print(handsup.tally(session.id, session.activities[1].id).results)

It talks HTTP (httpx) and websockets (websockets) as any integrator would: it imports nothing of the server. What
each kind's answer, moderation and tally hold is in the server's /openapi.json (`PollAnswer`, `QaModeration`,
`PollTally`...), and in docs/api.md.
"""

from __future__ import annotations

from handsup_client.client import ApiError, Handsup, Participant
from handsup_client.models import (
    Activity,
    Cohort,
    Deck,
    DeckSaved,
    DeckSummary,
    Facilitator,
    Institute,
    Joined,
    Live,
    MediaStored,
    Received,
    Session,
    Tally,
    TokenInfo,
)
from handsup_client.sockets import (
    Frame,
    ParticipantSocket,
    PresenterSocket,
    SocketRefused,
    participant_socket,
    presenter_socket,
)

__all__ = [
    "Activity",
    "ApiError",
    "Cohort",
    "Deck",
    "DeckSaved",
    "DeckSummary",
    "Facilitator",
    "Frame",
    "Handsup",
    "Institute",
    "Joined",
    "Live",
    "MediaStored",
    "Participant",
    "ParticipantSocket",
    "PresenterSocket",
    "Received",
    "Session",
    "SocketRefused",
    "Tally",
    "TokenInfo",
    "participant_socket",
    "presenter_socket",
]
