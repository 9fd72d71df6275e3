"""The JSON API under /api/v1: everything a script or another client needs. Errors are problem+json."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field, StrictInt, StrictStr, ValidationError
from sqlmodel import col, select

from server.accounts.access import Access, ApiUser, OwnedSessionApi, SessionApi, declare, may_organize
from server.accounts.security import new_token
from server.decks import DeckInvalid, parse_deck
from server.facilitators import facilitators
from server.live.intake import Refused, form_from_json, respond
from server.live.reactions import ReactionRefused
from server.models import Activity, Cohort, Deck, Institute, Pace, Participant, ResultsMode, Session, User, as_utc
from server.routes.presenter import (
    activity_export,
    archive_download,
    change_facilitators,
    run_control,
    start_from_deck,
    start_from_spec,
)
from server.services import Services
from server.sessions import NotFound, PresenterAction, clean_code, hash_token, load_snapshot
from server.web.deps import Id, ServicesDep, Text, base_url
from server.web.problems import API_ERRORS, Problem, describe_errors, problem_responses
from server.web.throttle import Throttled, address_of

router = APIRouter(prefix="/api/v1", tags=["v1"], responses=API_ERRORS)

Answer = dict[str, StrictStr | StrictInt | list[StrictStr | StrictInt]]  # true/false are no answer


class DeckPublic(BaseModel):
    id: int
    slug: str
    title: str


class ActivityPublic(BaseModel):
    id: int
    position: int
    kind: str
    title: str
    prompt: str
    config: dict[str, Any]
    results: ResultsMode
    voting_open: bool
    revealed: bool
    countdown_seconds: int | None = Field(description="The deck's countdown for this activity, if any")
    closes_at: datetime | None = Field(description="When a running countdown closes voting")


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


class ControlRequest(BaseModel):
    action: PresenterAction
    activity_id: Id | None = None
    fields: Answer = Field(
        default_factory=dict,
        description="For `moderate`: e.g. {verb: hide, word: school}; for `countdown`: optionally {seconds: 60}; "
        "for `pace`: {pace: audience} or {pace: presenter}; for `reactions`: {reactions: on} or {reactions: off}. "
        "`beside` with an activity_id puts it beside the current one on the projector, without one ends that.",
    )


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
    answer: Answer = Field(description="The activity's form fields, e.g. {choice: ['0']} or {word: ['trust']}")


class Received(BaseModel):
    received: Literal[True] = True
    activity_id: int
    version: int


class ReactionCreate(BaseModel):
    reaction: Literal["like", "heart", "question", "applause"]


class TallyPublic(BaseModel):
    activity_id: int
    kind: str
    respondents: int
    results: dict[str, Any]


def _activity_public(activity: Activity) -> ActivityPublic:
    assert activity.id is not None
    return ActivityPublic(
        id=activity.id,
        position=activity.position,
        kind=activity.kind,
        title=activity.title,
        prompt=activity.prompt,
        config=activity.config,
        results=activity.results,
        voting_open=activity.voting_open,
        revealed=activity.revealed,
        countdown_seconds=activity.countdown_seconds,
        closes_at=as_utc(activity.closes_at) if activity.closes_at else None,
    )


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
        facilitators=[
            FacilitatorPublic(id=person.id or 0, email=person.email)
            for person in await facilitators(services.db, snapshot.id)
        ],
        activities=[_activity_public(a) for a in snapshot.activities],
    )


@router.get("/decks", response_model=list[DeckPublic])
async def list_decks(user: ApiUser, services: ServicesDep) -> list[DeckPublic]:
    """The decks sessions can start from."""
    async with services.db() as db:
        decks = (await db.exec(select(Deck).order_by(col(Deck.title)))).all()
    return [DeckPublic(id=d.id or 0, slug=d.slug, title=d.title) for d in decks]


@router.post(
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
        raise Problem(415, "Unsupported media type", "Send application/json or application/yaml.")
    session = await _start(services, user, request_data)
    assert session.id is not None
    return await _session_public(services, request, session.id)


async def _start(services: Services, user: User, data: SessionCreate) -> Session:
    if data.cohort_id is not None:
        # Filing a session under a cohort puts its results in the institute's archives: the institute's own.
        async with services.db() as db:
            cohort = await db.get(Cohort, data.cohort_id)
            institute = await db.get(Institute, cohort.institute_id) if cohort is not None else None
        if institute is None or not may_organize(user, institute.created_by):
            raise Problem(404, "No such cohort", f"There is no cohort {data.cohort_id} among your institutes.")
    if data.deck_yaml is not None:
        try:
            spec = parse_deck(data.deck_yaml, services.registry)
        except DeckInvalid as error:
            raise Problem(
                422,
                "The deck has problems",
                str(error),
                problems=[{"line": p.line, "path": p.path, "message": p.message} for p in error.problems],
            ) from None
        return await start_from_spec(services, user, spec, None, data.title, data.cohort_id)
    deck_id = data.deck_id
    if deck_id is None and data.deck_slug:
        async with services.db() as db:
            deck_id = (await db.exec(select(Deck.id).where(Deck.slug == data.deck_slug))).first()
        if deck_id is None:
            raise Problem(404, "No such deck", f"There is no deck {data.deck_slug!r}.")
    if deck_id is None:
        raise Problem(422, "The request is not valid", "Give deck_id, deck_slug or deck_yaml.")
    return await start_from_deck(services, user, deck_id, data.title, data.cohort_id)


@router.get("/sessions/{session_id}", response_model=SessionPublic)
async def read_session(session_id: Id, request: Request, session: SessionApi, services: ServicesDep) -> SessionPublic:
    """A session you present: code, links, state and activities."""
    return await _session_public(services, request, session_id)


@router.post("/sessions/{session_id}/control", response_model=SessionPublic)
async def control_session(
    session_id: Id, body: ControlRequest, request: Request, session: SessionApi, services: ServicesDep
) -> SessionPublic:
    """Run the session (goto, next, previous, open, close, reveal, conceal, reset, moderate, end)."""
    try:  # the same checks as an answer's fields: moderation keys and titles are stored and rendered too
        form = form_from_json(body.fields, services.settings.form_field_limit)
    except Refused as refused:
        raise Problem(refused.status, "Not accepted", str(refused)) from None
    fields = {name: list(values) for name, values in form.items()}
    await run_control(services, session_id, body.action, body.activity_id, fields)
    return await _session_public(services, request, session_id)


@router.post("/sessions/{session_id}/facilitators", response_model=SessionPublic, status_code=201)
async def add_facilitator_api(
    session_id: Id, body: FacilitatorAdd, request: Request, session: OwnedSessionApi, services: ServicesDep
) -> SessionPublic:
    """Add a co-facilitator (an existing account, by email): they may then run the session as its presenter does.
    Only the session's presenter or an admin."""
    await change_facilitators(services, session, add=body.email)
    return await _session_public(services, request, session_id)


@router.delete("/sessions/{session_id}/facilitators/{user_id}", status_code=204)
async def remove_facilitator_api(
    session_id: Id, user_id: Id, session: OwnedSessionApi, services: ServicesDep
) -> Response:
    """Take a co-facilitator off the session. Only the session's presenter or an admin."""
    await change_facilitators(services, session, remove=user_id)
    return Response(status_code=204)


@router.get("/sessions/{session_id}/activities/{activity_id}/tally", response_model=TallyPublic)
async def read_tally(session_id: Id, activity_id: Id, session: SessionApi, services: ServicesDep) -> TallyPublic:
    """The live aggregate of one activity (moderation applied), as the presenter sees it."""
    room = await services.hub.room(session_id)
    activity = room.snapshot.activity(activity_id)
    if activity is None:
        raise Problem(404, "Not found", "No such activity in this session.")
    return TallyPublic(
        activity_id=activity_id,
        kind=activity.kind,
        respondents=room.respondents(activity),
        results=room.results(activity),
    )


@router.post(
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
        activity=_activity_public(current) if current is not None else None,
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


@router.get(
    "/sessions/{session_id}/archive.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
async def export_session_archive(session_id: Id, session: SessionApi, services: ServicesDep) -> Response:
    """The session's archive (ZIP): manifest, complete data.json, summary and response CSVs, workbook, word clouds,
    charts and a printable report."""
    return await archive_download(services, session_id)


@router.get(
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


@router.get("/live", response_model=CurrentActivity, dependencies=[declare(Access.participant)])
async def live_activity(
    services: ServicesDep, session_id: Id, x_participant_token: Annotated[str, Header(max_length=100)]
) -> CurrentActivity:
    """What a participant's screen shows now: the session's current activity."""
    await _joined(services, session_id, x_participant_token)
    return await _current(services, session_id)


@router.post(
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


@router.post(
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
