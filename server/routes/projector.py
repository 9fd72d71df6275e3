"""The projector view: opened by a read-only secret link; large type, the join code, live results."""

from __future__ import annotations

from functools import partial
from typing import Literal

from fastapi import APIRouter, Depends, Request, WebSocket
from fastapi.responses import HTMLResponse, Response
from sqlmodel import select

from activities.i18n import _
from server.accounts.access import Access, declare, socket_credentials, socket_token_user
from server.exports import NoSuchFile, activity_asset
from server.live.connections import Audience, SocketConnection, refuse, serve_socket
from server.live.fragments import qr_svg
from server.models import Session
from server.services import Services
from server.web.deps import ServicesDep, join_url, keep_cookie, same_origin
from server.web.i18n import in_their_language
from server.web.problems import Problem

# The secret in the path is the key to every projector route.
router = APIRouter(
    prefix="/projector", include_in_schema=False, dependencies=[declare(Access.projector), Depends(in_their_language)]
)
socket_router = APIRouter(include_in_schema=False, dependencies=[declare(Access.projector), Depends(in_their_language)])
# The projector's contrast, chosen with ?contrast=high|standard (no JavaScript) and remembered on that computer.
CONTRAST_COOKIE = "handsup_projector_contrast"
CONTRASTS = ("standard", "high")


async def _session_by_secret(services: Services, secret: str) -> Session | None:
    if not 16 <= len(secret) <= 64:
        return None
    async with services.db() as db:
        return (await db.exec(select(Session).where(Session.projector_secret == secret))).first()


async def _projected(services: Services, secret: str) -> Session:
    session = await _session_by_secret(services, secret)
    if session is None:
        raise Problem(
            404, _("Not found"), _("This projector link is not valid. Copy it again from the presenter view.")
        )
    return session


@router.get("/{secret}", response_class=HTMLResponse)
async def projector_page(secret: str, request: Request, services: ServicesDep) -> HTMLResponse:
    """What the room sees, in standard or high contrast."""
    session = await _projected(services, secret)
    assert session.id is not None
    chosen = request.query_params.get("contrast")
    if chosen is not None and chosen not in CONTRASTS:
        raise Problem(400, _("Unknown contrast"), _("The projector's contrast is either `high` or `standard`."))
    contrast = _contrast(chosen or request.cookies.get(CONTRAST_COOKIE))
    room = await services.hub.room(session.id)
    url = join_url(services.settings, request, session.code)
    html = services.views.render(
        "projector/page.html",
        kinds={one.kind for one in room.snapshot.activities},
        session=session,
        stage=services.views.projector_stage(room),
        join_url=url,
        qr=qr_svg(url),
        contrast=contrast,
    )
    response = HTMLResponse(html)
    if chosen is not None:
        keep_cookie(response, services.settings, CONTRAST_COOKIE, contrast, 365, path="/projector", httponly=False)
    return response


def _contrast(value: str | None) -> Literal["standard", "high"]:
    return "high" if value == "high" else "standard"


@router.get("/{secret}/activities/{activity_id}/{asset}")
async def projector_asset(secret: str, activity_id: int, asset: str, services: ServicesDep) -> Response:
    """A kind's rendered file for the projector, once its results may be shown."""
    session = await _projected(services, secret)
    assert session.id is not None
    room = await services.hub.room(session.id)
    try:
        rendered = await activity_asset(
            services.registry, room.snapshot, activity_id, asset, room.results, services.offload, shown_only=True
        )
    except NoSuchFile as missing:
        raise Problem(404, "Not found", str(missing)) from None
    return Response(rendered.body, media_type=rendered.media_type, headers={"Cache-Control": "private, max-age=60"})


@socket_router.websocket("/ws/projector/{secret}")
async def projector_socket(websocket: WebSocket, secret: str, services: ServicesDep) -> None:
    """Pushes the projector stage and its results; read-only: messages from it are ignored."""
    # The secret is the key, not a cookie; still, no other site's page gets a feed of the room's results, unless it
    # shows an API token (docs/protocol.md): then the token must be good, and the secret still names the session.
    credentials = socket_credentials(websocket)
    if credentials.token is not None:
        holder = await socket_token_user(services, credentials)
        if isinstance(holder, str):
            await refuse(websocket, holder, subprotocol=credentials.subprotocol)
            return
    trusted = credentials.token is not None or same_origin(websocket)
    session = await _session_by_secret(services, secret) if trusted else None
    if session is None or session.id is None:
        await refuse(websocket, "not a valid projector link", subprotocol=credentials.subprotocol)
        return
    room = await services.hub.room(session.id)
    await websocket.accept(subprotocol=credentials.subprotocol)
    connection = SocketConnection(websocket, Audience.projector, None, services.settings.client_queue_limit)
    await serve_socket(room, connection, partial(services.views.projector_stage, room), None)
