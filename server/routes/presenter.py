"""Presenters: the dashboard, starting a session from a deck, the presenter view, its controls and socket."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, WebSocket
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_
from sqlmodel import col, select

from activities.base import SubmissionInvalid, whole_number
from server.accounts.access import (
    Access,
    OwnedSessionPage,
    PageUser,
    ServicesDep,
    SessionPage,
    check_csrf,
    csrf_token,
    declare,
    may_present,
    owns,
    session_user,
)
from server.decks import DeckInvalid, DeckSpec, parse_deck, slugify
from server.exports import responses_csv
from server.facilitators import (
    FacilitatorRefused,
    add_facilitator,
    facilitators,
    remove_facilitator,
)
from server.live.fragments import qr_svg
from server.live.hub import Audience, SocketConnection, refuse, serve_socket
from server.models import Deck, Role, Session, SessionFacilitator, SessionState, User
from server.routes import join_url, same_origin
from server.routes.archives import archive_response
from server.services import Services
from server.sessions import ControlRefused, NoFreeCode, NotFound, control, create_session, picture_seed
from server.web.problems import Problem

router = APIRouter(prefix="/present", include_in_schema=False)
socket_router = APIRouter(include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, user: PageUser, services: ServicesDep) -> HTMLResponse:
    """Decks to start from, and this presenter's sessions (live ones first)."""
    async with services.db() as db:
        decks = (await db.exec(select(Deck).order_by(col(Deck.title)))).all()
        query = select(Session).order_by(col(Session.state).desc(), col(Session.created_at).desc()).limit(50)
        if user.role != Role.admin:
            cofacilitated = select(SessionFacilitator.session_id).where(SessionFacilitator.user_id == user.id)
            query = query.where(or_(col(Session.presenter_id) == user.id, col(Session.id).in_(cofacilitated)))
        sessions = (await db.exec(query)).all()
    html = services.views.render(
        "presenter/dashboard.html",
        user=user,
        decks=decks,
        sessions=sessions,
        csrf=csrf_token(request),
        live=SessionState.live,
    )
    return HTMLResponse(html)


@router.post("/sessions", dependencies=[Depends(check_csrf)])
async def start_session(
    user: PageUser,
    services: ServicesDep,
    deck_id: Annotated[int, Form()],
    title: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Start a live session from a deck, then open its presenter view."""
    session = await start_from_deck(services, user, deck_id, title or None)
    return RedirectResponse(f"/present/{session.id}", status_code=303)


async def start_from_deck(
    services: Services, user: User, deck_id: int, title: str | None, cohort_id: int | None = None
) -> Session:
    """A new live session from a stored deck, for a cohort or none (shared by the pages and the JSON API)."""
    async with services.db() as db:
        deck = await db.get(Deck, deck_id)
    if deck is None:
        raise Problem(404, "No such deck", f"There is no deck {deck_id}.")
    try:
        spec = parse_deck(deck.source, services.registry)
    except DeckInvalid as error:
        raise Problem(422, "The deck has problems", str(error)) from None
    return await start_from_spec(services, user, spec, deck.id, title, cohort_id)


async def start_from_spec(
    services: Services, user: User, spec: DeckSpec, deck_id: int | None, title: str | None, cohort_id: int | None
) -> Session:
    """A new live session from a checked deck, with a code of the configured length; 409 when no code is free."""
    assert user.id is not None
    try:
        return await create_session(
            services.db,
            spec,
            presenter_id=user.id,
            deck_id=deck_id,
            title=title,
            cohort_id=cohort_id,
            digits=services.settings.join_code_digits,
        )
    except NoFreeCode as error:
        raise Problem(409, "No free join code", str(error)) from None


@router.get("/{session_id}", response_class=HTMLResponse)
async def presenter_page(
    session_id: int, request: Request, session: SessionPage, user: PageUser, services: ServicesDep
) -> HTMLResponse:
    """The presenter view: outline, current activity, controls, live results and counts."""
    room = await services.hub.room(session_id)
    html = services.views.render(
        "presenter/page.html",
        kinds={one.kind for one in room.snapshot.activities},
        session=session,
        live=services.views.presenter_live(room),
        csrf=csrf_token(request),
        join_url=join_url(services.settings, request, session.code),
        projector_url=f"/projector/{session.projector_secret}",
        qr=qr_svg(join_url(services.settings, request, session.code)),
        facilitators=await facilitators(services.db, session_id),
        owner=owns(user, session),
    )
    return HTMLResponse(html)


@router.post("/{session_id}/facilitators", dependencies=[Depends(check_csrf)])
async def add_cofacilitator(
    session_id: int,
    session: OwnedSessionPage,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """Add a co-facilitator by the email of their account; back to the presenter view."""
    await change_facilitators(services, session, add=email)
    return RedirectResponse(f"/present/{session_id}", status_code=303)


@router.post("/{session_id}/facilitators/{user_id}/remove", dependencies=[Depends(check_csrf)])
async def remove_cofacilitator(
    session_id: int, user_id: int, session: OwnedSessionPage, services: ServicesDep
) -> Response:
    """Take a co-facilitator off the session; back to the presenter view."""
    await change_facilitators(services, session, remove=user_id)
    return RedirectResponse(f"/present/{session_id}", status_code=303)


async def change_facilitators(
    services: Services, session: Session, *, add: str | None = None, remove: int | None = None
) -> None:
    """Add or remove a co-facilitator (shared by the pages and the API, whose routes checked the caller owns it)."""
    try:
        if add is not None:
            await add_facilitator(services.db, session, add)
        if remove is not None:
            await remove_facilitator(services.db, session, remove)
    except FacilitatorRefused as refused:
        raise Problem(422, "Not changed", str(refused)) from None


@router.post("/{session_id}/control", dependencies=[Depends(check_csrf)])
async def presenter_control(session_id: int, request: Request, session: SessionPage, services: ServicesDep) -> Response:
    """One presenter action (next, open, close, reveal, reset, moderate, end...); the views update by push."""
    form = await request.form()
    fields: dict[str, Any] = {key: [str(v) for v in form.getlist(key)] for key in form if key != "csrf_token"}
    action = fields.get("action", [""])[0]
    activity = fields.get("activity", [""])[0]
    await run_control(services, session_id, action, whole_number(activity), fields)
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse(f"/present/{session_id}", status_code=303)


async def run_control(
    services: Services, session_id: int, action: str, activity_id: int | None, fields: dict[str, list[str]]
) -> None:
    """Apply a control action, turning refusals into problems (shared by the page and the JSON API)."""
    try:
        await control(services.db, services.backplane, services.registry, session_id, action, activity_id, fields)
        room = services.hub.rooms.get(session_id)
        if room is not None:
            await room.refresh_state()  # read-your-writes: answers sent right after this call see the change
    except (ControlRefused, SubmissionInvalid) as refused:
        raise Problem(409, "Not possible now", str(refused)) from None
    except NotFound:
        raise Problem(404, "Not found", "No such session.") from None


@router.get("/{session_id}/archive.zip")
async def presenter_archive(session_id: int, session: SessionPage, services: ServicesDep) -> Response:
    """The session's archive (ZIP; its files are described in docs/archives.md)."""
    return await archive_download(services, session_id)


async def archive_download(services: Services, session_id: int) -> Response:
    return await archive_response(services, "session", session_id)


@router.get("/{session_id}/activities/{activity_id}/export.{extension}")
async def presenter_export(
    session_id: int, activity_id: int, extension: str, session: SessionPage, services: ServicesDep
) -> Response:
    """An activity's responses as CSV, or a list its kind offers (resources as Markdown or HTML)."""
    return await activity_export(services, session_id, activity_id, extension)


async def activity_export(services: Services, session_id: int, activity_id: int, extension: str) -> Response:
    room = await services.hub.room(session_id)
    activity = room.snapshot.activity(activity_id)
    if activity is None or activity.id is None:
        raise Problem(404, "Not found", "No such activity in this session.")
    kind = services.registry[activity.kind]
    name = f"{slugify(room.snapshot.session.title)}-{activity.position + 1}-{slugify(activity.title)}.{extension}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if extension == "csv" and not kind.takes_answers:
        raise Problem(404, "Not found", f"{kind.label} takes no answers, so it has no responses to export.")
    if extension == "csv":
        body = await responses_csv(services.engine, services.registry, room.snapshot, activity)
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    if extension not in kind.documents:
        formats = ", ".join(["csv", *kind.documents])
        raise Problem(404, "Not found", f"{kind.label} exports as {formats}.")
    body = kind.render_document(extension, activity.title, room.results(activity))
    return Response(body, media_type=kind.documents[extension], headers=headers)


@router.get("/{session_id}/activities/{activity_id}/{asset}")
async def presenter_asset(
    session_id: int, activity_id: int, asset: str, session: SessionPage, services: ServicesDep
) -> Response:
    """A kind's rendered file for the presenter (the word-cloud image)."""
    return await activity_asset(services, session_id, activity_id, asset, projector=False)


async def activity_asset(
    services: Services, session_id: int, activity_id: int, asset: str, *, projector: bool
) -> Response:
    room = await services.hub.room(session_id)
    activity = room.snapshot.activity(activity_id)
    if activity is None or asset not in services.registry[activity.kind].assets:
        raise Problem(404, "Not found", "No such file.")
    if projector and not room.snapshot.results_visible(activity):
        raise Problem(404, "Not found", "These results are not shown yet.")
    kind = services.registry[activity.kind]
    seed = picture_seed(room.snapshot.session, activity)
    rendered = await kind.render_asset(asset, room.results(activity), seed, services.offload)
    return Response(rendered.body, media_type=rendered.media_type, headers={"Cache-Control": "private, max-age=60"})


@socket_router.websocket("/ws/presenter/{session_id}", dependencies=[declare(Access.session)])
async def presenter_socket(websocket: WebSocket, session_id: int) -> None:
    """Pushes the presenter view: state on every change, results and counts as they move."""
    services: Services = websocket.app.state.services
    user = await session_user(services, websocket.session)  # signed out elsewhere, or disabled: refused
    async with services.db() as db:
        session = await db.get(Session, session_id)
    if not same_origin(websocket) or user is None or session is None or not await may_present(services, user, session):
        await refuse(websocket, "sign in as this session's presenter")
        return
    room = await services.hub.room(session_id)
    await websocket.accept()
    connection = SocketConnection(websocket, Audience.presenter, None, services.settings.client_queue_limit)
    await serve_socket(room, connection, partial(services.views.presenter_live, room), None)
