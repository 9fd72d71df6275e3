"""HTTP and websocket routes, one module per audience or resource; each holds its pages and its /api/v1 routes.

No route module imports another (pyproject.toml's import-linter contracts check it): what two of them share lives
a layer down, in the domain modules or server/web/. `ROUTERS` is the one list the app includes, in order.
"""

from __future__ import annotations

from fastapi import APIRouter

from server import metrics
from server.routes import (
    account,
    admin,
    archives,
    compare,
    decks,
    editor,
    health,
    imports,
    language,
    login,
    media,
    organizer,
    participant,
    presenter,
    projector,
    slides,
    webhooks,
)
from server.web import headers

ROUTERS: list[APIRouter] = [
    # First: a room joining at once opens thousands of these sockets and pages (FastAPI tries routers in order).
    participant.socket_router,
    participant.router,  # its /{code:code} pages take only what may be a join code (server/web/routing.py)
    decks.api_router,
    editor.api_router,
    presenter.api_router,
    participant.api_router,
    login.router,
    account.router,
    account.api_router,
    webhooks.api_router,
    webhooks.router,
    admin.router,
    admin.api_router,
    decks.router,  # before the presenter's: its /present/decks... are not sessions' /present/{session_id}
    editor.router,  # before presenter's: /present/kinds.json is no /present/{session_id}
    presenter.router,
    organizer.router,
    organizer.api_router,
    archives.router,
    archives.api_router,
    presenter.socket_router,
    projector.router,
    projector.socket_router,
    compare.router,
    imports.router,
    slides.router,
    media.router,
    headers.router,
    metrics.router,
    language.router,
    health.router,
    participant.lost_router,  # last: any other one-segment address is a code typed wrong
]
