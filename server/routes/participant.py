"""Participants: the join page, the activity page, its websocket, the plain-form fallback, and the JSON API's
join, live, responses and reactions."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Header, Request, WebSocket
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import select
from starlette.types import Receive, Scope, Send

from activities.base import FormFields, whole_number
from activities.i18n import _
from server.accounts.access import Access, declare
from server.accounts.csrf import CSRF_FIELD, check_csrf, check_sent_csrf, csrf_token, keyed_csrf_token
from server.accounts.security import looks_like_token, new_token
from server.live.connections import TRY_AGAIN, Audience, Connection, SocketConnection, refuse, serve_socket
from server.live.fragments import Views, qr_svg
from server.live.intake import Refused, activity_of, form_from_json, parse_socket_message, respond
from server.live.reactions import ReactionRefused
from server.live.room import Room
from server.live.sse import EventStream
from server.live.writer import WriterBusy, WriterFailed
from server.metrics import log_access
from server.models import Activity, ActivityPublic, Answer, Participant, Session, SessionState
from server.names import NameRefused
from server.services import Services
from server.sessions import CODE_LENGTHS, NotFound, clean_code, format_code, hash_token, stored_answer
from server.web.deps import Id, ServicesDep, join_url, keep_cookie, same_origin, services_of
from server.web.i18n import current_language, in_their_language, language_of, speak
from server.web.problems import API_ERRORS, Problem, problem_responses
from server.web.routing import CODE
from server.web.throttle import Throttled, address_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(in_their_language)])
# The phones' socket, first of all routes: a room joining at once opens thousands, and each is matched in order.
socket_router = APIRouter(include_in_schema=False, dependencies=[Depends(in_their_language)])
# Last of all routes: any other one-segment address, most likely a code typed wrong.
lost_router = APIRouter(include_in_schema=False, dependencies=[Depends(in_their_language)])
# The JSON API of participants: join by code, what the screen shows, answer, react (docs/api.md).
api_router = APIRouter(prefix="/api/v1", tags=["v1"], responses=API_ERRORS)
COOKIE = "handsup_participant"
COOKIE_DAYS = 30
REACTION_FIELD = "reaction"
NAME_FORM_FIELD = "name_form"  # the hidden field that says a form (or socket message) chooses a nickname and team
CSRF_STAND_IN = "csrf0stand0in0for0the0token"  # where a page rendered once for many phones takes each one's token
PHONE_SOCKET = "/ws/participant/"  # + the join code
NAME_FIELD_LIMIT = 200  # characters of a nickname or team read at most (the rules allow far fewer)


def _csrf(services: Services, token: str) -> str:
    """The CSRF token of the phone holding participant `token` (server/accounts/csrf.py: no session to sign)."""
    return keyed_csrf_token(services.settings.resolved_secret_key, token)


async def check_phone_csrf(request: Request, services: ServicesDep) -> None:
    """Refuse a phone's form post whose CSRF token is neither the one its participant cookie gives (its page's) nor
    its browser session's (the join page's, for a phone whose participant cookie was lost)."""
    token = _known_token(request)
    await check_sent_csrf(request, _csrf(services, token) if token is not None else None, request.session.get("csrf"))


# A phone's plain form posts (the no-JavaScript path): whoever has the code, with their page's CSRF token.
PHONE_FORM = [declare(Access.participant), Depends(check_phone_csrf)]


@router.get("/", response_class=HTMLResponse, dependencies=[declare(Access.anyone)])
async def home(request: Request, services: ServicesDep) -> HTMLResponse:
    """The join page: type the code on the screen."""
    return HTMLResponse(services.views.render("home.html", error=None, code="", csrf=csrf_token(request)))


@router.post("/join", response_class=HTMLResponse, dependencies=[declare(Access.anyone), Depends(check_csrf)])
async def join_by_code(
    request: Request, services: ServicesDep, code: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    """The join form: off to the session's page, or the form again with what went wrong."""
    cleaned = clean_code(code)
    headers: dict[str, str] = {}
    if cleaned is None:
        digits = services.settings.join_code_digits
        example = format_code("123456789"[:digits])
        message, status = (
            _("A code has {length} digits, like {example}.").format(length=_(CODE_LENGTHS[digits]), example=example),
            422,
        )
    else:
        try:
            await services.hub.admit(cleaned, address_of(request), _known_token(request))
            return RedirectResponse(f"/{cleaned}", status_code=303)
        except NotFound:
            message, status = await _why_not_live(services, cleaned), 404
        except Throttled as throttled:
            message, status, headers = str(throttled), 429, {"Retry-After": throttled.retry_after}
    html = services.views.render("home.html", error=message, code=code[:40], csrf=csrf_token(request))
    return HTMLResponse(html, status_code=status, headers=headers)


async def _why_not_live(services: Services, code: str) -> str:
    async with services.db() as db:
        ended = (
            await db.exec(select(Session.id).where(Session.code == code, Session.state == SessionState.ended))
        ).first()
    if ended is not None:
        return _("The session {code} has ended. Thank you for taking part!").format(code=format_code(code))
    return _("No session is running with the code {code}. Check the code on the screen.").format(code=format_code(code))


async def _room_for(services: Services, request: Request, code: str) -> Room:
    """The room of the live session a participant URL names, or a 404 page that says why (429 while this network,
    or everyone, has tried too many codes that are not live)."""
    cleaned = clean_code(code)
    if cleaned is None:
        raise _no_page(services)
    try:
        return await services.hub.admit(cleaned, address_of(request), _known_token(request))
    except NotFound:
        raise Problem(404, _("No such session"), await _why_not_live(services, cleaned)) from None
    except Throttled as throttled:
        raise Problem(429, _("Too many tries"), str(throttled), {"Retry-After": throttled.retry_after}) from None


def _no_page(services: Services) -> Problem:
    """A 404 for an address that is no join code, saying how to join."""
    length = _(CODE_LENGTHS[services.settings.join_code_digits])
    detail = _("There is no page here. To join a session, type its {length}-digit code.").format(length=length)
    return Problem(404, _("Not found"), detail)


def _known_token(request: Request) -> str | None:
    """The participant token of the request's cookie, if it is shaped like one we issue."""
    token = request.cookies.get(COOKIE)
    return token if token is not None and looks_like_token(token) else None


async def _page(
    request: Request,
    services: Services,
    room: Room,
    token: str,
    participant_id: int,
    error: str | None = None,
    status: int = 200,
    naming: bool = False,
    fresh: bool = False,
) -> HTMLResponse:
    """The participant's page; `naming`: the form for their name and team in place of the stage, as they chose them
    so far (to change them, or again with what was wrong); `fresh`: they have just joined (no answer to look up)."""
    session = room.snapshot.session
    at = whole_number(request.query_params.get("at", ""))
    stage = room.stage(participant_id, at)
    if naming:
        stage = replace(stage, activity=None, answer=None, naming=True)
    activity = stage.activity
    if activity is not None and activity.id is not None and not fresh:
        # The stored answer, not the tally's: after a form post the backplane may not have brought it here yet.
        payload = await stored_answer(services.db, activity, participant_id)
        answer = room.tallies[activity.id].parse_payload(payload) if payload is not None else None
        stage = replace(stage, answer=answer)
    # The socket stays on the activity this page shows when the participant chose it or sets their own pace.
    chosen = activity is not None and (activity.id == at or activity is not room.snapshot.current)
    chosen = chosen or room.snapshot.paced
    csrf = _csrf(services, token)
    # Only where there is nothing to type into: a reload never wipes what someone is writing.
    waiting = activity is None and room.snapshot.live and not room.snapshot.paced and not stage.naming
    closed = activity is not None and not activity.voting_open

    def render(token: str) -> str:
        return services.views.render(
            "participant/page.html",
            kinds={one.kind for one in room.snapshot.activities},
            refresh_seconds=services.settings.no_script_refresh_seconds if waiting or closed else None,
            session=session,
            stage_key=stage.key,
            at=activity.id if chosen and activity is not None else None,
            stage=services.views.participant_stage(
                room, stage, error=error, csrf=token, named=room.names.get(participant_id)
            ),
            join_url=join_url(services.settings, request, session.code),
            csrf=token,
            me=_me(room, participant_id),
        )

    if fresh and error is None and not naming:
        # Every phone joining now gets the same page but for its CSRF token: rendered once, the token put in.
        once = room.rendered_once(stage, ("page", current_language(), str(request.url)), lambda: render(CSRF_STAND_IN))
        return HTMLResponse(once.replace(CSRF_STAND_IN, csrf), status_code=status)
    return HTMLResponse(render(csrf), status_code=status)


def _me(room: Room, participant_id: int) -> dict[str, Any] | None | Literal[False]:
    """The phone's name and team for its header: False when the session asks for neither; None while the phone has
    not chosen and still may (its header has an empty place the socket's reply fills)."""
    if not room.asks_names:
        return False
    if participant_id not in room.names and room.naming_open:
        return None
    return {
        "name": room.name_of(participant_id),
        "team": room.team_of(participant_id),
    }


def _with_cookie(response: Response, services: Services, token: str) -> Response:
    return keep_cookie(response, services.settings, COOKIE, token, COOKIE_DAYS)


@router.get(CODE, response_class=HTMLResponse, dependencies=[declare(Access.participant)])
async def participant_page(code: str, request: Request, services: ServicesDep) -> Response:
    """The participant's page: the current activity, live."""
    room = await _room_for(services, request, code)
    session = room.snapshot.session
    if clean_code(code) != code:
        return RedirectResponse(f"/{session.code}", status_code=307)
    token = _cookie_token(request)
    known = room.known(token)
    if known is not None:  # joined already: a reload or a reconnect never waits behind the newcomers
        return _with_cookie(await _page(request, services, room, token, known), services, token)
    gate = services.hub.gate
    if not gate.open:
        return _filling(request, services, room, token)
    gate.admitted()
    try:
        participant_id, new = await room.join(token)
        page = await _page(request, services, room, token, participant_id, fresh=new)
    except (WriterBusy, WriterFailed):  # the queue is full, or its commit failed: nothing was stored, come back
        return _filling(request, services, room, token)
    finally:
        gate.answered()
    return _with_cookie(page, services, token)


def _filling(request: Request, services: Services, room: Room, token: str) -> Response:
    """The join gate's answer to a phone it cannot let in yet: a light page that asks again by itself. It carries
    the phone's participant cookie already, so its return takes it off the presenter's count of those waiting."""
    seconds = services.hub.gate.retry_after()
    room.defer(token, seconds)
    html = room.rendered(
        ("filling", current_language(), seconds),
        lambda: services.views.render("participant/filling.html", session=room.snapshot.session, retry_after=seconds),
    )
    headers = {"Retry-After": str(seconds), "Cache-Control": "no-store"}
    return _with_cookie(HTMLResponse(html, status_code=503, headers=headers), services, token)


@lost_router.get("/{text}", response_class=HTMLResponse, dependencies=[declare(Access.anyone)])
async def not_a_code(text: str, services: ServicesDep) -> Response:
    """An address that is neither a page nor a code's: a 404 that says how to join."""
    raise _no_page(services)


def _cookie_token(request: Request) -> str:
    """The participant's token from their cookie, or a new one (a cookie we did not issue is ignored)."""
    return _known_token(request) or new_token()


@router.get(CODE + "/qr.svg", dependencies=[declare(Access.participant)])
async def join_qr(code: str, request: Request, services: ServicesDep) -> Response:
    """The QR code of a live session's join link."""
    room = await _room_for(services, request, code)
    svg = qr_svg(join_url(services.settings, request, room.snapshot.session.code))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})


@router.post(CODE + "/respond", response_class=HTMLResponse, dependencies=PHONE_FORM)
async def respond_by_form(code: str, request: Request, services: ServicesDep) -> Response:
    """The no-JavaScript path: a plain form post, stored, then back to the page (which shows 'received')."""
    room, token, participant_id, fields = await _form_post(code, request, services)
    try:
        form_fields = form_from_json(fields, services.settings.form_field_limit)
        activity_id = activity_of(form_fields)
        await respond(room, participant_id, activity_id, form_fields)
    except Refused as refused:
        response = await _page(request, services, room, token, participant_id, error=str(refused), status=422)
        return _with_cookie(response, services, token)
    return _with_cookie(RedirectResponse(_back(room, activity_id), status_code=303), services, token)


@router.get(CODE + "/name", response_class=HTMLResponse, dependencies=[declare(Access.participant)])
async def name_page(code: str, request: Request, services: ServicesDep) -> Response:
    """The form to choose or change a nickname and team (while the session still takes them)."""
    room = await _room_for(services, request, code)
    token = _cookie_token(request)
    participant_id = await room.participant(token)
    if not room.asks_names:
        return _with_cookie(RedirectResponse(f"/{room.snapshot.session.code}", status_code=303), services, token)
    return _with_cookie(await _page(request, services, room, token, participant_id, naming=True), services, token)


@router.post(CODE + "/name", response_class=HTMLResponse, dependencies=PHONE_FORM)
async def name_by_form(code: str, request: Request, services: ServicesDep) -> Response:
    """The no-JavaScript path of a nickname and team: stored, then back to the page; or the form again, saying why."""
    room, token, participant_id, fields = await _form_post(code, request, services)
    try:
        await _choose_name(room, participant_id, fields)
    except NameRefused as refused:
        response = await _page(
            request, services, room, token, participant_id, error=str(refused), status=422, naming=True
        )
        return _with_cookie(response, services, token)
    return _with_cookie(RedirectResponse(f"/{room.snapshot.session.code}", status_code=303), services, token)


async def _choose_name(room: Room, participant_id: int, fields: Mapping[str, Sequence[Any]]) -> None:
    """A nickname and team from a form's fields (a form post's or a socket message's); NameRefused says why not."""

    def field(name: str) -> str:
        value = str(next(iter(fields.get(name, ())), ""))
        return value[:NAME_FIELD_LIMIT]

    await room.choose_name(participant_id, field("nickname"), field("team"))


@router.post(CODE + "/react", response_class=HTMLResponse, dependencies=PHONE_FORM)
async def react_by_form(code: str, request: Request, services: ServicesDep) -> Response:
    """The no-JavaScript path of a reaction: float it, then back to the page the participant was on."""
    room, token, participant_id, fields = await _form_post(code, request, services)
    at = whole_number(str(next(iter(fields.get("at", ())), "")))
    try:
        await room.react(participant_id, str(next(iter(fields.get(REACTION_FIELD, ())), "")))
    except ReactionRefused as refused:
        response = await _page(
            request, services, room, token, participant_id, error=str(refused), status=refused.status
        )
        return _with_cookie(response, services, token)
    return _with_cookie(RedirectResponse(_back(room, at), status_code=303), services, token)


async def _form_post(code: str, request: Request, services: Services) -> tuple[Room, str, int, dict[str, list[Any]]]:
    """A plain form post from a participant page: the room, the participant's token and id, and every field's
    values as posted (but the CSRF token, checked already)."""
    room = await _room_for(services, request, code)
    token = _cookie_token(request)
    participant_id = await room.participant(token)
    form = await request.form()
    return room, token, participant_id, {key: form.getlist(key) for key in form if key != CSRF_FIELD}


def _back(room: Room, activity_id: int | None) -> str:
    """The participant's page, on the activity they were answering when it is not simply the current one."""
    code = room.snapshot.session.code
    current = room.snapshot.current
    if activity_id is None or (current is not None and current.id == activity_id and not room.snapshot.paced):
        return f"/{code}"
    return f"/{code}?at={activity_id}"


@socket_router.websocket(PHONE_SOCKET + "{code}", dependencies=[declare(Access.participant)])
async def participant_socket(websocket: WebSocket, code: str, services: ServicesDep) -> None:
    """Pushes the participant's stage as the presenter moves; takes their answers and reactions."""
    token = websocket.cookies.get(COOKIE)
    cleaned = clean_code(code)
    if not same_origin(websocket) or token is None or not looks_like_token(token) or cleaned is None:
        await refuse(websocket, "join the session from its page first")
        return
    try:
        room = await services.hub.admit(cleaned, address_of(websocket), token)
    except NotFound:
        await refuse(websocket, "no live session with that code")
        return
    except Throttled as throttled:
        await refuse(websocket, str(throttled), TRY_AGAIN)
        return
    participant_id = await room.participant(token)
    await websocket.accept()
    at = whole_number(websocket.query_params.get("at", ""))
    limit = services.settings.client_queue_limit
    connection = SocketConnection(websocket, Audience.participant, participant_id, limit, at=at)

    async def on_message(text: str) -> None:
        await _message(services, room, connection, participant_id, text)

    # A phone that shows this stage already (it came with the page) is not sent it again.
    stage = room.stage(participant_id, at)
    room.show(connection, stage)
    known = websocket.query_params.get("stage") == stage.key
    stage_html = partial(services.views.participant_stage, room, stage)
    first = None if known else partial(room.rendered_once, stage, ("stage", current_language()), stage_html)
    await serve_socket(room, connection, first, on_message)


def is_phone_socket(scope: Scope) -> bool:
    """Whether an ASGI scope is a phone's socket (`/ws/participant/{code}`), which the app serves directly."""
    if scope["type"] != "websocket":
        return False
    path: str = scope["path"]
    return path.startswith(PHONE_SOCKET) and path.find("/", len(PHONE_SOCKET)) < 0


async def serve_phone_socket(scope: Scope, receive: Receive, send: Send) -> None:
    """A phone's socket as the app serves it (server/app.py): straight to `participant_socket`, with what its
    route's dependencies give (the visitor's language; the access is a declaration), and the access log line the
    middleware writes for other sockets.

    Every layer of the framework that awaits a socket keeps a frame alive for as long as it is open: 27 frames and
    12 KiB per idle phone against the bare app's 25 KiB (tracemalloc, docs/benchmarks.md). The route stays
    declared, for the access checks, the docs and the tests, which pass through here as phones do."""
    started = time.monotonic()
    websocket = WebSocket(scope, receive, send)
    try:
        speak(language_of(websocket))
        await participant_socket(websocket, scope["path"][len(PHONE_SOCKET) :], services_of(websocket))
    finally:
        log_access(scope, "WEBSOCKET", None, started)


@router.get(CODE + "/events", dependencies=[declare(Access.participant)])
async def participant_events(code: str, request: Request, services: ServicesDep) -> Response:
    """The socket's twin for networks that block websockets: the participant's stage as server-sent events.

    The same door as the socket (the page's cookie, our own origin); `Last-Event-ID` (EventSource's reconnect) or
    `?stage=` names the stage the phone shows. Answers go by plain form posts."""
    token = _known_token(request)
    if token is None or not same_origin(request):
        raise Problem(403, _("Forbidden"), _("Join the session from its page first."))
    room = await _room_for(services, request, code)
    participant_id = await room.participant(token)
    at = whole_number(request.query_params.get("at", ""))
    known = request.headers.get("last-event-id") or request.query_params.get("stage")
    return EventStream(room, participant_id, at, known, address_of(request), current_language())


async def _message(services: Services, room: Room, connection: Connection, participant_id: int, text: str) -> None:
    """One message from a phone: an answer (it names its activity) or a reaction."""
    views = services.views
    limit = services.settings.websocket_message_limit
    activity = None
    try:
        if len(text) > limit:
            raise Refused(_("That answer is too long (at most {size} KiB).").format(size=limit // 1024))
        form = parse_socket_message(text, services.settings.form_field_limit)
        if REACTION_FIELD in form:
            await _react(views, room, connection, participant_id, form)
            return
        if NAME_FORM_FIELD in form:
            await _name(views, room, connection, participant_id, form)
            return
        activity_id = activity_of(form)
        activity = room.snapshot.activity(activity_id)
        event = await respond(room, participant_id, activity_id, form)
    except Refused as refused:
        if activity is None or activity_id != connection.showing:  # no status line of it on their screen
            connection.send(views.render("participant/notice.html", message=str(refused)))
        else:
            connection.send(views.participant_status(room, activity, error=str(refused)))
        return
    assert activity is not None
    # Only a kind whose reply marks the participant's own answer on its list needs the answer back (it costs a
    # validation per vote).
    answer = room.tallies[activity_id].parse_payload(event.payload) if views.pushes_list(activity) else None
    connection.send(views.participant_status(room, activity, answer, error=None))


async def _name(views: Views, room: Room, connection: Connection, participant_id: int, form: FormFields) -> None:
    """A nickname and team over the socket: the phone is sent its next stage and its header's name; or why not."""
    try:
        await _choose_name(room, participant_id, form)
    except NameRefused as refused:
        connection.send(views.render("participant/name_status.html", message=str(refused)))
        return
    stage = room.stage(participant_id, connection.at)
    room.show(connection, stage)
    me = views.render("participant/me.html", me=_me(room, participant_id))
    connection.send(views.participant_stage(room, stage) + me)


async def _react(views: Views, room: Room, connection: Connection, participant_id: int, form: FormFields) -> None:
    name = next(iter(form.get(REACTION_FIELD, ())), "")
    try:
        await room.react(participant_id, name)
    except ReactionRefused as refused:
        connection.send(views.render("participant/reacted.html", error=str(refused), reaction=name))
        return
    connection.send(views.render("participant/reacted.html", error=None, reaction=name))


# --- the JSON API ----------------------------------------------------------------------------------------------------


class JoinRequest(BaseModel):
    code: str = Field(max_length=20, examples=["902180"])


class CurrentActivity(BaseModel):
    session_id: int
    title: str
    state: str
    activity: ActivityPublic | None


class Joined(BaseModel):
    participant_token: str = Field(description="Send as X-Participant-Token with each response")
    participant_id: int
    live: CurrentActivity


class ResponseCreate(BaseModel):
    activity_id: Id
    answer: Answer = Field(
        description="The activity's form fields, as its kind's answer model says (`PollAnswer`, `WordcloudAnswer`...: "
        "the description lists every kind's, server/routes/kinds.py), e.g. {choice: ['0']} or {word: ['trust']}"
    )


class Received(BaseModel):
    received: Literal[True] = True
    activity_id: int
    version: int


class NameChoice(BaseModel):
    nickname: str = Field(default="", max_length=NAME_FIELD_LIMIT, description="When the session asks for nicknames")
    team: str = Field(default="", max_length=NAME_FIELD_LIMIT, description="One of the session's teams, if it has any")


class NameChosenPublic(BaseModel):
    nickname: str = Field(description="As stored (tidied); empty when the session asks for no nickname")
    team: str


class ReactionCreate(BaseModel):
    reaction: Literal["like", "heart", "question", "applause"]


@api_router.post(
    "/join",
    response_model=Joined,
    status_code=201,
    dependencies=[declare(Access.participant)],
    responses=problem_responses(429),
)
async def join_session(body: JoinRequest, request: Request, services: ServicesDep) -> Joined:
    """Join a live session by its code, as a participant. No account needed. Codes that are not live are
    counted per address and for everyone: past either budget, every code answers 429 for a while."""
    cleaned = clean_code(body.code)
    try:
        if cleaned is None:
            raise NotFound(body.code)
        room = await services.hub.admit(cleaned, address_of(request))
    except NotFound:
        raise Problem(404, "No such session", "No session is running with that code.") from None
    except Throttled as throttled:
        raise Problem(429, "Too many tries", str(throttled), {"Retry-After": throttled.retry_after}) from None
    token = new_token()
    participant_id = await room.participant(token)
    return Joined(
        participant_token=token, participant_id=participant_id, live=await _current(services, room.session_id)
    )


async def _current(services: Services, session_id: int) -> CurrentActivity:
    room = await services.hub.room(session_id)
    current = room.snapshot.current
    session = room.snapshot.session
    return CurrentActivity(
        session_id=session_id,
        title=session.title,
        state=session.state,
        activity=ActivityPublic.of(current) if current is not None else None,
    )


async def _participant_of(services: Services, activity_id: int, token: str) -> tuple[int, int]:
    async with services.db() as db:
        activity = await db.get(Activity, activity_id)
        if activity is None:
            raise Problem(404, "Not found", "No such activity.")
        participant = (
            await db.exec(
                select(Participant.id).where(
                    Participant.session_id == activity.session_id, Participant.token_hash == hash_token(token)
                )
            )
        ).first()
    if participant is None:
        raise Problem(403, "Not joined", "Join the session first (POST /api/v1/join) and send its token.")
    return activity.session_id, participant


async def _joined(services: Services, session_id: int, token: str) -> int:
    """The participant a token is in a session; 403 if it has not joined it."""
    async with services.db() as db:
        joined = (
            await db.exec(
                select(Participant.id).where(
                    Participant.session_id == session_id, Participant.token_hash == hash_token(token)
                )
            )
        ).first()
    if joined is None:
        raise Problem(403, "Not joined", "Join the session first (POST /api/v1/join) and send its token.")
    return joined


@api_router.get("/live", response_model=CurrentActivity, dependencies=[declare(Access.participant)])
async def live_activity(
    services: ServicesDep, session_id: Id, x_participant_token: Annotated[str, Header(max_length=100)]
) -> CurrentActivity:
    """What a participant's screen shows now: the session's current activity."""
    await _joined(services, session_id, x_participant_token)
    return await _current(services, session_id)


@api_router.post(
    "/responses",
    response_model=Received,
    status_code=201,
    dependencies=[declare(Access.participant)],
    responses=problem_responses(429),
)
async def create_response(
    body: ResponseCreate, services: ServicesDep, x_participant_token: Annotated[str, Header(max_length=100)]
) -> Received:
    """Answer the current activity (replacing an earlier answer while voting is open). 201 means stored."""
    session_id, participant_id = await _participant_of(services, body.activity_id, x_participant_token)
    room = await services.hub.room(session_id)
    try:
        form = form_from_json(body.answer, services.settings.form_field_limit)
        event = await respond(room, participant_id, body.activity_id, form)
    except Refused as refused:
        raise Problem(refused.status, "Not accepted", str(refused)) from None
    return Received(activity_id=body.activity_id, version=event.version)


@api_router.put(
    "/sessions/{session_id}/name",
    response_model=NameChosenPublic,
    dependencies=[declare(Access.participant)],
)
async def choose_name(
    session_id: Id,
    body: NameChoice,
    services: ServicesDep,
    x_participant_token: Annotated[str, Header(max_length=100)],
) -> NameChosenPublic:
    """Choose or change your nickname and team, while the session takes them (until its first quiz question)."""
    joined = await _joined(services, session_id, x_participant_token)
    room = await services.hub.room(session_id)
    try:
        named = await room.choose_name(joined, body.nickname, body.team)
    except NameRefused as refused:
        raise Problem(refused.status, "Not accepted", str(refused)) from None
    return NameChosenPublic(nickname=named.nickname, team=named.team)


@api_router.post(
    "/sessions/{session_id}/reactions",
    status_code=202,
    responses=problem_responses(429),
    dependencies=[declare(Access.participant)],
)
async def create_reaction(
    session_id: Id,
    body: ReactionCreate,
    services: ServicesDep,
    x_participant_token: Annotated[str, Header(max_length=100)],
) -> dict[str, bool]:
    """Float a reaction on the projector (a few a second per participant at most; counted, not stored)."""
    joined = await _joined(services, session_id, x_participant_token)
    room = await services.hub.room(session_id)
    try:
        await room.react(joined, body.reaction)
    except ReactionRefused as refused:
        raise Problem(refused.status, "Not accepted", str(refused)) from None
    return {"accepted": True}
