"""Presenters: the dashboard, starting a session from a deck, the presenter view, its controls and socket, and the
JSON API's sessions (/api/v1/sessions...)."""

from __future__ import annotations

import asyncio
import zipfile
from datetime import datetime
from functools import partial
from typing import IO, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request, WebSocket
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import or_
from sqlmodel import col, select

from activities.base import SubmissionInvalid, whole_number
from activities.i18n import _
from server import exports, sessions
from server.accounts.access import (
    Access,
    ApiUser,
    OwnedSessionApi,
    OwnedSessionPage,
    PageUser,
    SessionApi,
    SessionPage,
    declare,
    may_organize,
    may_present,
    owns,
    session_user,
    socket_credentials,
    socket_token_user,
)
from server.accounts.csrf import check_csrf, csrf_token
from server.archives.build import ArchiveSources, spooled_archive
from server.decks import DeckInvalid, DeckSpec, parse_deck
from server.decks.store import DeckRefused, startable_deck, visible_decks
from server.exports import NoSuchFile
from server.facilitators import (
    FacilitatorRefused,
    add_facilitator,
    facilitators,
    remove_facilitator,
)
from server.institutes import cohort_zones, session_zone
from server.live.connections import Audience, SocketConnection, refuse, serve_socket
from server.live.fragments import qr_svg
from server.live.intake import Refused, form_from_json
from server.models import (
    ActivityPublic,
    Answer,
    Cohort,
    Deck,
    Institute,
    Pace,
    Role,
    Session,
    SessionFacilitator,
    SessionState,
    User,
    as_utc,
)
from server.names import TeamsInvalid
from server.network import loopback_host
from server.services import Services
from server.sessions import (
    NO_OPTIONS,
    ControlRefused,
    NoFreeCode,
    NotFound,
    PresenterAction,
    SessionOptions,
    control,
    control_action,
    create_session,
    load_snapshot,
    session_options,
    site_teams,
)
from server.web.deps import Id, ServicesDep, Text, base_url, join_url, same_origin
from server.web.downloads import attachment
from server.web.i18n import in_their_language
from server.web.problems import API_ERRORS, Problem, describe_errors, problem_responses

# Pages and the live socket speak the facilitator's language (server/web/i18n.py): their choice, else their browser's.
router = APIRouter(prefix="/present", include_in_schema=False, dependencies=[Depends(in_their_language)])
socket_router = APIRouter(include_in_schema=False, dependencies=[Depends(in_their_language)])
# The JSON API of presenters: start a session, read it, run it, its co-facilitators, tallies and exports.
api_router = APIRouter(prefix="/api/v1", tags=["v1"], responses=API_ERRORS, dependencies=[Depends(in_their_language)])


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, user: PageUser, services: ServicesDep) -> HTMLResponse:
    """Decks to start from (the ones this account sees), and this presenter's sessions (live ones first)."""
    decks = await visible_decks(services.db, services.registry, user)
    sessions = await sessions_of(services, user)
    html = services.views.render(
        "presenter/dashboard.html",
        user=user,
        decks=decks,
        sessions=sessions,
        zones=await cohort_zones(services.db, [session.cohort_id for session in sessions]),
        csrf=csrf_token(request),
        live=SessionState.live,
    )
    return HTMLResponse(html)


async def sessions_of(services: Services, user: User) -> list[Session]:
    """The sessions a user runs (as presenter or co-facilitator; an admin: all), live ones first, then the newest;
    at most 50 (the dashboard and the JSON API)."""
    async with services.db() as db:
        query = select(Session).order_by(col(Session.state).desc(), col(Session.created_at).desc()).limit(50)
        if user.role != Role.admin:
            cofacilitated = select(SessionFacilitator.session_id).where(SessionFacilitator.user_id == user.id)
            query = query.where(or_(col(Session.presenter_id) == user.id, col(Session.id).in_(cofacilitated)))
        return list((await db.exec(query)).all())


@router.post("/sessions", dependencies=[Depends(check_csrf)])
async def start_session(
    request: Request,
    user: PageUser,
    services: ServicesDep,
    deck_id: Annotated[int, Form()],
    title: Annotated[str, Form(max_length=200)] = "",
    then: Annotated[Literal["", "remote"], Form()] = "",
    nicknames: Annotated[bool, Form()] = False,
    teams: Annotated[str, Form(max_length=2000)] = "",
    streak: Annotated[bool, Form()] = False,
) -> Response:
    """Start a live session from a deck, then open its presenter view (`then=remote`: its remote, for "start again"
    on the remote). htmx, as "start again" posts, is told where to go: a followed redirect would be swapped in."""
    options = checked_options(nicknames, teams.splitlines(), streak)
    session = await start_from_deck(services, user, deck_id, title or None, options=options)
    where = f"/present/{session.id}" + ("/remote" if then == "remote" else "")
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": where})
    return RedirectResponse(where, status_code=303)


def checked_options(nicknames: bool, teams: list[str], streak: bool) -> SessionOptions:
    """A session's options at start, or a 422 problem that says what is wrong with the teams (nothing is stored)."""
    try:
        return session_options(nicknames, teams, streak)
    except TeamsInvalid as error:
        raise Problem(422, _("The teams cannot be used"), str(error)) from None


async def start_from_deck(
    services: Services,
    user: User,
    deck_id: int,
    title: str | None,
    cohort_id: int | None = None,
    options: SessionOptions = NO_OPTIONS,
) -> Session:
    """A new live session from a stored deck the user may view, without problems and not deleted, its refusals as
    problems (the page and the JSON API start this way)."""
    assert user.id is not None
    try:
        await startable_deck(services.db, user, deck_id)
    except DeckRefused as refused:
        raise Problem(refused.status, refused.title, refused.detail) from None
    try:
        return await sessions.start_from_deck(
            services.db,
            services.registry,
            deck_id,
            presenter_id=user.id,
            title=title,
            cohort_id=cohort_id,
            digits=services.settings.join_code_digits,
            options=options,
        )
    except NotFound:
        raise Problem(404, _("No such deck"), _("There is no deck {deck}.").format(deck=deck_id)) from None
    except DeckInvalid as error:
        raise Problem(422, _("The deck has problems"), str(error)) from None
    except NoFreeCode as error:
        raise Problem(409, "No free join code", str(error)) from None


async def start_from_spec(
    services: Services,
    user: User,
    spec: DeckSpec,
    deck_id: int | None,
    title: str | None,
    cohort_id: int | None,
    options: SessionOptions = NO_OPTIONS,
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
            options=options,
        )
    except NoFreeCode as error:
        raise Problem(409, "No free join code", str(error)) from None


@router.get("/{session_id}", response_class=HTMLResponse)
async def presenter_page(
    session_id: int, request: Request, session: SessionPage, user: PageUser, services: ServicesDep
) -> HTMLResponse:
    """The presenter view: outline, current activity, controls, live results and counts."""
    room = await services.hub.room(session_id)
    url = join_url(services.settings, request, session.code)
    remote_url = f"{base_url(services.settings, request)}/present/{session_id}/remote"
    html = services.views.render(
        "presenter/page.html",
        kinds={one.kind for one in room.snapshot.activities},
        session=session,
        live=services.views.presenter_live(room),
        csrf=csrf_token(request),
        join_url=url,
        join_unreachable=loopback_host(url),  # phones cannot open it: the page says how to run in a room
        projector_url=f"/projector/{session.projector_secret}",
        qr=qr_svg(url),
        # The remote's address is no key: the phone that opens it must be signed in as someone who runs the session.
        remote_url=remote_url,
        remote_qr=qr_svg(remote_url),
        facilitators=await facilitators(services.db, session_id),
        owner=owns(user, session),
    )
    return HTMLResponse(html)


@router.get("/{session_id}/remote", response_class=HTMLResponse)
async def remote_page(session_id: int, request: Request, session: SessionPage, services: ServicesDep) -> HTMLResponse:
    """The presenter's remote, for a phone: next and previous, voting, reveal, countdown, notes and live counts."""
    room = await services.hub.room(session_id)
    html = services.views.render(
        "presenter/remote.html",
        kinds={one.kind for one in room.snapshot.activities},  # an ended session's results show the kinds' own
        session=session,
        live=services.views.remote_live(room),
        csrf=csrf_token(request),
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
        raise Problem(422, _("Not changed"), str(refused)) from None


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
        await control(
            services.db,
            services.backplane,
            services.registry,
            session_id,
            control_action(action),
            activity_id,
            fields,
            on_end=services.webhooks.session_ended,
        )
        room = services.hub.rooms.get(session_id)
        if room is not None:
            await room.refresh_state()  # read-your-writes: answers sent right after this call see the change
    except (ControlRefused, SubmissionInvalid) as refused:
        raise Problem(409, _("Not possible now"), str(refused)) from None
    except NotFound:
        raise Problem(404, _("Not found"), _("No such session.")) from None


@router.get("/{session_id}/archive.zip")
async def presenter_archive(session_id: int, session: SessionPage, services: ServicesDep) -> Response:
    """The session's archive (ZIP; its files are described in docs/archives.md)."""
    return await archive_download(services, session_id)


@router.get("/{session_id}/report.html")
async def presenter_report(session_id: int, session: SessionPage, services: ServicesDep) -> Response:
    """The session's printable report, to read in the browser: the archive's own report.html (docs/archives.md)."""
    return await report_download(services, session_id)


async def report_download(services: Services, session_id: int) -> Response:
    """The session's report.html, with the policy its own <meta> gives (the page and the JSON API)."""
    try:
        source, _info = await spooled_archive(ArchiveSources.of(services), "session", session_id)
    except NotFound:
        raise Problem(404, _("Not found"), _("No such session.")) from None
    with source:
        body = await asyncio.to_thread(_report_of, source)
    # Its own policy, the one its <meta> gives: its styles are inline, its pictures data: URIs, and nothing else runs.
    headers = {"Content-Security-Policy": REPORT_POLICY, "Cache-Control": "no-store"}
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


REPORT_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def _report_of(archive: IO[bytes]) -> bytes:
    with zipfile.ZipFile(archive) as opened:
        return opened.read("report.html")


async def archive_download(services: Services, session_id: int) -> Response:
    """The session's archive as an attachment (docs/archives.md); 404 for an unknown session."""
    try:
        source, info = await spooled_archive(ArchiveSources.of(services), "session", session_id)
    except NotFound:
        raise Problem(404, _("Not found"), _("No such session.")) from None
    return attachment(source, info.filename, "application/zip")


@router.get("/{session_id}/activities/{activity_id}/export.{extension}")
async def presenter_export(
    session_id: int, activity_id: int, extension: str, session: SessionPage, services: ServicesDep
) -> Response:
    """An activity's responses as CSV, or a list its kind offers (resources as Markdown or HTML)."""
    return await activity_export(services, session_id, activity_id, extension)


async def activity_export(services: Services, session_id: int, activity_id: int, extension: str) -> Response:
    """An activity's export as a download (the page and the JSON API); 404 for no such activity or format."""
    room = await services.hub.room(session_id)
    zone = await session_zone(services.db, room.snapshot.session.cohort_id, services.settings.time_zone)
    try:
        exported = await exports.activity_export(
            services.engine, services.registry, room.snapshot, activity_id, extension, room.results, zone
        )
    except NoSuchFile as missing:
        raise Problem(404, "Not found", str(missing)) from None
    headers = {"Content-Disposition": f'attachment; filename="{exported.filename}"', "Cache-Control": "no-store"}
    return Response(exported.body, media_type=exported.media_type, headers=headers)


@router.get("/{session_id}/activities/{activity_id}/{asset}")
async def presenter_asset(
    session_id: int, activity_id: int, asset: str, session: SessionPage, services: ServicesDep
) -> Response:
    """A kind's rendered file for the presenter (the word-cloud image)."""
    return await activity_asset(services, session_id, activity_id, asset)


async def activity_asset(services: Services, session_id: int, activity_id: int, asset: str) -> Response:
    room = await services.hub.room(session_id)
    try:
        rendered = await exports.activity_asset(
            services.registry, room.snapshot, activity_id, asset, room.results, services.offload, shown_only=False
        )
    except NoSuchFile as missing:
        raise Problem(404, "Not found", str(missing)) from None
    return Response(rendered.body, media_type=rendered.media_type, headers={"Cache-Control": "private, max-age=60"})


@socket_router.websocket("/ws/presenter/{session_id}", dependencies=[declare(Access.session)])
async def presenter_socket(websocket: WebSocket, session_id: int, services: ServicesDep, view: str = "") -> None:
    """Pushes the presenter view: state on every change, results and counts as they move. With `?view=remote`,
    the remote's view instead: state on every change, and the counts."""
    credentials = socket_credentials(websocket)
    if credentials.token is not None:  # an API token: no cookie, so no Origin to check (docs/protocol.md)
        holder = await socket_token_user(services, credentials)
        if isinstance(holder, str):
            await refuse(websocket, holder, subprotocol=credentials.subprotocol)
            return
        user: User | None = holder
    else:
        user = await session_user(services, websocket.session) if same_origin(websocket) else None
    async with services.db() as db:
        session = await db.get(Session, session_id)
    if user is None or session is None or not await may_present(services, user, session):
        await refuse(websocket, "sign in as this session's presenter", subprotocol=credentials.subprotocol)
        return
    if view not in ("", "remote"):
        await refuse(
            websocket, "no such view: leave view out, or ask for view=remote", subprotocol=credentials.subprotocol
        )
        return
    room = await services.hub.room(session_id)
    await websocket.accept(subprotocol=credentials.subprotocol)
    audience = Audience.remote if view == "remote" else Audience.presenter
    first = services.views.remote_live if audience == Audience.remote else services.views.presenter_live
    connection = SocketConnection(websocket, audience, None, services.settings.client_queue_limit)
    await serve_socket(room, connection, partial(first, room), None)


# --- the JSON API ----------------------------------------------------------------------------------------------------


class FacilitatorPublic(BaseModel):
    id: int
    email: str


class SessionPublic(BaseModel):
    id: int
    code: str
    title: str
    state: str
    join_url: str
    qr_svg_url: str
    projector_url: str
    current_activity_id: int | None
    pace: Pace = Field(description="presenter: everyone follows the presenter; audience: each at their own pace")
    beside_activity_id: int | None = Field(description="The activity the projector shows beside the current one")
    reactions: bool = Field(description="Whether participants can send reactions")
    cohort_id: int | None = Field(description="The cohort this session is run for, if any")
    nicknames: bool = Field(description="Whether phones are asked for a nickname (else they get generated names)")
    teams: list[str] = Field(description="The teams phones choose from (empty: no teams)")
    streak: bool = Field(description="Whether runs of right quiz answers earn a streak bonus")
    facilitators: list[FacilitatorPublic] = Field(description="The accounts that run the session with its presenter")
    activities: list[ActivityPublic]


class FacilitatorAdd(BaseModel):
    email: Text = Field(max_length=254, description="The email of an existing account")


class SessionCreate(BaseModel):
    """Start a session from a stored deck (by id or slug) or from deck YAML given inline."""

    deck_id: Id | None = None
    deck_slug: Text | None = Field(default=None, max_length=100)
    deck_yaml: str | None = Field(default=None, max_length=256 * 1024)
    title: Text | None = Field(default=None, max_length=200)
    cohort_id: Id | None = Field(default=None, description="The cohort this session is run for, if any")
    nicknames: bool = Field(default=False, description="Ask phones for a nickname (else they get generated names)")
    teams: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=50,
        description="The teams phones choose from: at most 12, each 1-60 characters, distinct ignoring case and "
        "accents (empty: no teams)",
    )
    site_teams: bool = Field(
        default=False,
        description="One team per site of the cohorts of the institute `cohort_id` belongs to (instead of `teams`)",
    )
    streak: bool = Field(default=False, description="Give a streak bonus for runs of right quiz answers")


class ControlRequest(BaseModel):
    action: PresenterAction
    activity_id: Id | None = None
    fields: Answer = Field(
        default_factory=dict,
        description="For `moderate`: e.g. {verb: hide, word: school}; for `countdown`: optionally {seconds: 60}; "
        "for `pace`: {pace: audience} or {pace: presenter}; for `reactions`: {reactions: on} or {reactions: off}. "
        "`beside` with an activity_id puts it beside the current one on the projector, without one ends that.",
    )


class TallyPublic(BaseModel):
    activity_id: int
    kind: str
    respondents: int
    results: dict[str, Any]


async def _session_public(services: Services, request: Request, session_id: int) -> SessionPublic:
    snapshot = await load_snapshot(services.db, services.registry, session_id)
    session = snapshot.session
    base = base_url(services.settings, request)
    return SessionPublic(
        id=snapshot.id,
        code=session.code,
        title=session.title,
        state=session.state,
        join_url=f"{base}/{session.code}",
        qr_svg_url=f"{base}/{session.code}/qr.svg",
        projector_url=f"{base}/projector/{session.projector_secret}",
        current_activity_id=session.current_activity_id,
        pace=session.pace,
        beside_activity_id=session.beside_activity_id,
        reactions=session.reactions,
        cohort_id=session.cohort_id,
        nicknames=session.nicknames,
        teams=session.teams,
        streak=session.streak,
        facilitators=[
            FacilitatorPublic(id=person.id or 0, email=person.email)
            for person in await facilitators(services.db, snapshot.id)
        ],
        activities=[ActivityPublic.of(a) for a in snapshot.activities],
    )


@api_router.post(
    "/sessions",
    response_model=SessionPublic,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": SessionCreate.model_json_schema()},
                "application/yaml": {"schema": {"type": "string", "description": "A deck, as in examples/decks/"}},
            },
        }
    },
)
async def create_session_api(request: Request, user: ApiUser, services: ServicesDep) -> SessionPublic:
    """Start a live session: from a stored deck (JSON `deck_id` or `deck_slug`) or a deck's YAML."""
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type in {"application/yaml", "application/x-yaml", "text/yaml"}:
        request_data = SessionCreate(deck_yaml=body.decode("utf-8", "replace"))
    elif content_type == "application/json":
        try:
            request_data = SessionCreate.model_validate_json(body)
        except ValidationError as error:
            detail, errors = describe_errors(error.errors())
            raise Problem(422, "The request is not valid", detail, errors=errors) from None
    else:
        raise Problem(415, _("Unsupported media type"), _("Send application/json or application/yaml."))
    session = await _start(services, user, request_data)
    assert session.id is not None
    return await _session_public(services, request, session.id)


async def _start(services: Services, user: User, data: SessionCreate) -> Session:
    teams = data.teams
    if data.site_teams:
        if data.cohort_id is None:
            raise Problem(422, _("The teams cannot be used"), _("One team per site needs the cohort (cohort_id)."))
        if teams:
            raise Problem(422, _("The teams cannot be used"), _("Give teams or site_teams, not both."))
    if data.cohort_id is not None:
        # Filing a session under a cohort puts its results in the institute's archives: the institute's own.
        async with services.db() as db:
            cohort = await db.get(Cohort, data.cohort_id)
            institute = await db.get(Institute, cohort.institute_id) if cohort is not None else None
        if institute is None or not may_organize(user, institute.created_by):
            raise Problem(
                404,
                _("No such cohort"),
                _("There is no cohort {cohort} among your institutes.").format(cohort=data.cohort_id),
            )
        if data.site_teams:
            teams = await site_teams(services.db, data.cohort_id)
    options = checked_options(data.nicknames, teams, data.streak)
    if data.deck_yaml is not None:
        try:
            spec = parse_deck(data.deck_yaml, services.registry)
        except DeckInvalid as error:
            raise Problem(
                422,
                _("The deck has problems"),
                str(error),
                problems=[{"line": p.line, "path": p.path, "message": p.message} for p in error.problems],
            ) from None
        return await start_from_spec(services, user, spec, None, data.title, data.cohort_id, options)
    deck_id = data.deck_id
    if deck_id is None and data.deck_slug:
        async with services.db() as db:
            deck_id = (await db.exec(select(Deck.id).where(Deck.slug == data.deck_slug))).first()
        if deck_id is None:
            raise Problem(404, _("No such deck"), _("There is no deck {deck}.").format(deck=repr(data.deck_slug)))
    if deck_id is None:
        raise Problem(422, _("The request is not valid"), _("Give deck_id, deck_slug or deck_yaml."))
    return await start_from_deck(services, user, deck_id, data.title, data.cohort_id, options)


@api_router.get("/sessions/{session_id}", response_model=SessionPublic)
async def read_session(session_id: Id, request: Request, session: SessionApi, services: ServicesDep) -> SessionPublic:
    """A session you present: code, links, state and activities."""
    return await _session_public(services, request, session_id)


@api_router.post("/sessions/{session_id}/control", response_model=SessionPublic)
async def control_session(
    session_id: Id, body: ControlRequest, request: Request, session: SessionApi, services: ServicesDep
) -> SessionPublic:
    """Run the session (goto, next, previous, open, close, reveal, conceal, reset, moderate, end)."""
    try:  # the same checks as an answer's fields: moderation keys and titles are stored and rendered too
        form = form_from_json(body.fields, services.settings.form_field_limit)
    except Refused as refused:
        raise Problem(refused.status, _("Not accepted"), str(refused)) from None
    fields = {name: list(values) for name, values in form.items()}
    await run_control(services, session_id, body.action, body.activity_id, fields)
    return await _session_public(services, request, session_id)


@api_router.post("/sessions/{session_id}/facilitators", response_model=SessionPublic, status_code=201)
async def add_facilitator_api(
    session_id: Id, body: FacilitatorAdd, request: Request, session: OwnedSessionApi, services: ServicesDep
) -> SessionPublic:
    """Add a co-facilitator (an existing account, by email): they may then run the session as its presenter does.
    Only the session's presenter or an admin."""
    await change_facilitators(services, session, add=body.email)
    return await _session_public(services, request, session_id)


@api_router.delete("/sessions/{session_id}/facilitators/{user_id}", status_code=204)
async def remove_facilitator_api(
    session_id: Id, user_id: Id, session: OwnedSessionApi, services: ServicesDep
) -> Response:
    """Take a co-facilitator off the session. Only the session's presenter or an admin."""
    await change_facilitators(services, session, remove=user_id)
    return Response(status_code=204)


@api_router.get("/sessions/{session_id}/activities/{activity_id}/tally", response_model=TallyPublic)
async def read_tally(session_id: Id, activity_id: Id, session: SessionApi, services: ServicesDep) -> TallyPublic:
    """The live aggregate of one activity (moderation applied), as the presenter sees it."""
    room = await services.hub.room(session_id)
    activity = room.snapshot.activity(activity_id)
    if activity is None:
        raise Problem(404, _("Not found"), _("No such activity in this session."))
    return TallyPublic(
        activity_id=activity_id,
        kind=activity.kind,
        respondents=room.respondents(activity),
        results=room.results(activity),
    )


@api_router.get(
    "/sessions/{session_id}/archive.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
async def export_session_archive(session_id: Id, session: SessionApi, services: ServicesDep) -> Response:
    """The session's archive (ZIP): manifest, complete data.json, summary and response CSVs, workbook, word clouds,
    charts and a printable report."""
    return await archive_download(services, session_id)


@api_router.get(
    "/sessions/{session_id}/activities/{activity_id}/export.{extension}",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "text/markdown": {}, "text/html": {}}}},
)
async def export_activity(
    session_id: Id, activity_id: Id, extension: str, session: SessionApi, services: ServicesDep
) -> Response:
    """An activity's stored responses as CSV (`export.csv`), or a list its kind offers (`resources`: `export.md`,
    `export.html`, the approved resources)."""
    return await activity_export(services, session_id, activity_id, extension)


# --- the JSON API: moderation, the report, a kind's rendered files ----------------------------------------------------


class ModerationRequest(BaseModel):
    """One moderation action on an activity's answers, as the presenter view's buttons send it: a `verb` of the
    activity's kind and its target, in the field that kind reads. The kinds that moderate (built in):

    - `open`: verb hide, show, highlight, unhighlight or approve; `answer`: the answer's `key` in the tally
    - `qa`: verb approve, hide, show, answer, reopen, highlight or unhighlight; `question`: the question's `key`
    - `resources`: verb approve, hide, show or retitle; `answer`: the resource's `key`; `title` with retitle (empty:
      back to the suggested title)
    - `wordcloud`: verb hide or show; `word`: the word as the tally lists it
    - `grid`: verb show-cloud or hide-cloud; `item`: an item's index, or `all`
    - `sort`: verb order; `order`: deck, agreed or contested
    """

    model_config = ConfigDict(extra="forbid")

    verb: Annotated[Text, Field(min_length=1, max_length=40, examples=["hide"])]
    answer: Text | None = Field(default=None, max_length=64, description="open, resources: the item's `key`")
    question: Text | None = Field(default=None, max_length=64, description="qa: the question's `key`")
    word: Text | None = Field(default=None, max_length=200, description="wordcloud: the word")
    item: Text | None = Field(default=None, max_length=10, description="grid: an item's index, or `all`")
    order: Literal["deck", "agreed", "contested"] | None = Field(default=None, description="sort: the cards' order")
    title: Text | None = Field(default=None, max_length=400, description="resources with retitle: the new title")


class ModerationPublic(BaseModel):
    """The activity after the action: its moderation state and its results as the room now sees them."""

    activity_id: int
    kind: str
    moderation: dict[str, Any] = Field(description="The kind's moderation state (hidden, approved, ... keys)")
    results: dict[str, Any] = Field(description="The tally with the moderation applied (as GET .../tally)")


@api_router.post(
    "/sessions/{session_id}/activities/{activity_id}/moderation",
    response_model=ModerationPublic,
    responses=problem_responses(409),
)
async def moderate_api(
    session_id: Id, activity_id: Id, body: ModerationRequest, session: SessionApi, services: ServicesDep
) -> ModerationPublic:
    """Moderate an activity's answers (hide a word, approve a question, retitle a resource...): the same action as
    the presenter view's buttons, and as POST .../control with action `moderate`. 409 for a verb or target the
    activity's kind does not take, or an ended session; the views update by push."""
    fields = {name: [value] for name, value in body.model_dump(exclude_none=True).items()}
    try:  # the same checks as any form the presenter sends
        form = form_from_json(fields, services.settings.form_field_limit)
    except Refused as refused:
        raise Problem(refused.status, "Not accepted", str(refused)) from None
    await run_control(services, session_id, "moderate", activity_id, {name: list(v) for name, v in form.items()})
    room = await services.hub.room(session_id)
    activity = room.snapshot.activity(activity_id)
    assert activity is not None  # run_control refused an activity of another session
    return ModerationPublic(
        activity_id=activity_id,
        kind=activity.kind,
        moderation=dict(activity.moderation),
        results=room.results(activity),
    )


@api_router.get(
    "/sessions/{session_id}/report.html",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "The printable report, one HTML file"}},
)
async def session_report_api(session_id: Id, session: SessionApi, services: ServicesDep) -> Response:
    """The session's printable report (the archive's report.html: its styles inline, its charts data: URIs)."""
    return await report_download(services, session_id)


@api_router.get(
    "/sessions/{session_id}/activities/{activity_id}/{asset}",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "The rendered file"}},
)
async def activity_asset_api(
    session_id: Id, activity_id: Id, asset: str, session: SessionApi, services: ServicesDep
) -> Response:
    """A kind's rendered file, as the presenter view shows it (the word cloud: `cloud.svg`, `cloud.png`)."""
    return await activity_asset(services, session_id, activity_id, asset)


class SessionListed(BaseModel):
    """A session as the dashboard lists it; GET /sessions/{id} has the rest."""

    id: int
    code: str
    title: str
    state: str
    cohort_id: int | None
    presenter_id: int
    created_at: datetime
    ended_at: datetime | None


@api_router.get("/sessions", response_model=list[SessionListed])
async def list_sessions(user: ApiUser, services: ServicesDep) -> list[SessionListed]:
    """The sessions you run (as presenter or co-facilitator; an admin: every one), live ones first, then the newest;
    at most 50, as the dashboard lists them."""
    return [
        SessionListed(
            id=session.id or 0,
            code=session.code,
            title=session.title,
            state=session.state,
            cohort_id=session.cohort_id,
            presenter_id=session.presenter_id,
            created_at=as_utc(session.created_at),
            ended_at=as_utc(session.ended_at) if session.ended_at else None,
        )
        for session in await sessions_of(services, user)
    ]
