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
`PollTally`...), and in docs/api.md. Every /api/v1 route has its method (`ROUTES` maps each `(method, path)` to
it; a test compares them with the server's /openapi.json), and the presenter's and projector's sockets open with
the same API token (`presenter_socket(url, session_id, token=...)`, `projector_socket`).
"""

from __future__ import annotations

from handsup_client.client import ROUTES, ApiError, Handsup, Participant
from handsup_client.models import (
    Account,
    Activity,
    Cohort,
    CohortSessionStarted,
    Deck,
    DeckSaved,
    DeckShare,
    DeckSummary,
    Delivery,
    Facilitator,
    Identity,
    Institute,
    Joined,
    Live,
    MediaStored,
    Moderated,
    Palette,
    Person,
    PersonCreated,
    Preview,
    Received,
    RetentionDone,
    Session,
    SessionListed,
    Slides,
    Tally,
    TokenCreated,
    TokenInfo,
    Webhook,
    WebhookCreated,
)
from handsup_client.sockets import (
    Frame,
    ParticipantSocket,
    PresenterSocket,
    ProjectorSocket,
    SocketRefused,
    participant_socket,
    presenter_socket,
    projector_secret,
    projector_socket,
)

__all__ = [
    "Account",
    "Activity",
    "ApiError",
    "Cohort",
    "CohortSessionStarted",
    "Deck",
    "DeckSaved",
    "DeckShare",
    "DeckSummary",
    "Delivery",
    "Facilitator",
    "Frame",
    "Handsup",
    "Identity",
    "Institute",
    "Joined",
    "Live",
    "MediaStored",
    "Moderated",
    "Palette",
    "Participant",
    "ParticipantSocket",
    "Person",
    "PersonCreated",
    "PresenterSocket",
    "Preview",
    "ProjectorSocket",
    "ROUTES",
    "Received",
    "RetentionDone",
    "Session",
    "SessionListed",
    "Slides",
    "SocketRefused",
    "Tally",
    "TokenCreated",
    "TokenInfo",
    "Webhook",
    "WebhookCreated",
    "participant_socket",
    "presenter_socket",
    "projector_secret",
    "projector_socket",
]
