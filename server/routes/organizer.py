"""Organizers: institutes, their cohorts (sites, dates, facilitators, decks), starting a cohort's sessions, and
deleting a cohort's data when its time is up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from activities.i18n import N_, _
from server import sessions
from server.accounts.access import OrganizerApi, OrganizerPage
from server.accounts.csrf import check_csrf, csrf_token
from server.decks import DeckInvalid, stored_decks
from server.decks.store import DeckRefused, startable_deck
from server.institutes import (
    CohortForm,
    CohortView,
    Deleted,
    InstituteView,
    SetupInvalid,
    Stores,
    cohort_view,
    create_institute,
    delete_cohort,
    institute_view,
    institutes,
    prune_cohort,
    save_cohort,
)
from server.models import AuditEntry, Institute, Session, SessionState, User
from server.names import TeamsInvalid
from server.services import Services
from server.sessions import ControlRefused, NoFreeCode, NotFound, start_from_deck
from server.times import DEFAULT_ZONE, MAX_ZONE_NAME
from server.web.deps import Id, ServicesDep, Text
from server.web.i18n import in_their_language
from server.web.problems import API_ERRORS, Problem

router = APIRouter(prefix="/organize", include_in_schema=False, dependencies=[Depends(in_their_language)])


@router.get("", response_class=HTMLResponse)
async def organizer_home(request: Request, user: OrganizerPage, services: ServicesDep) -> HTMLResponse:
    """Every institute, and a form for a new one."""
    return _page(request, services, "organizer/home.html", user, institutes=await institutes(services.db, user))


@router.post("/institutes", dependencies=[Depends(check_csrf)])
async def new_institute(
    request: Request,
    user: OrganizerPage,
    services: ServicesDep,
    title: Annotated[str, Form(max_length=400)] = "",
    description: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        institute = await create_institute(services.db, title, description, user.id)
    except SetupInvalid as error:
        found = await institutes(services.db, user)
        html = _render(request, services, "organizer/home.html", user, institutes=found, error=str(error))
        return HTMLResponse(html, status_code=422)
    return RedirectResponse(f"/organize/institutes/{institute.id}", status_code=303)


@router.get("/institutes/{institute_id}", response_class=HTMLResponse)
async def institute_page(institute_id: Id, request: Request, user: OrganizerPage, services: ServicesDep) -> Response:
    """An institute's cohorts with their sessions, and a form for a new cohort."""
    view = await _institute(services, institute_id)
    async with services.db() as db:
        entries = (
            await db.exec(
                select(AuditEntry).where(AuditEntry.action == "cohort.delete").order_by(col(AuditEntry.at).desc())
            )
        ).all()
    deleted = [entry for entry in entries if entry.detail.get("institute") == institute_id]
    decks = await stored_decks(services.db, user)
    return _page(request, services, "organizer/institute.html", user, view=view, decks=decks, deleted=deleted)


@router.post("/institutes/{institute_id}/cohorts", dependencies=[Depends(check_csrf)])
async def new_cohort(institute_id: Id, request: Request, user: OrganizerPage, services: ServicesDep) -> Response:
    view = await _institute(services, institute_id)
    try:
        cohort = await save_cohort(services.db, institute_id, await _cohort_form(request), user=user)
    except SetupInvalid as error:
        decks = await stored_decks(services.db, user)
        html = _render(
            request, services, "organizer/institute.html", user, view=view, decks=decks, deleted=[], error=str(error)
        )
        return HTMLResponse(html, status_code=422)
    return RedirectResponse(f"/organize/cohorts/{cohort.id}", status_code=303)


@router.get("/cohorts/{cohort_id}", response_class=HTMLResponse)
async def cohort_page(cohort_id: Id, request: Request, user: OrganizerPage, services: ServicesDep) -> Response:
    """One cohort: its details (editable), its decks with a button to start each, its sessions, its data."""
    return await _cohort_page(request, user, services, cohort_id)


async def _cohort_page(
    request: Request, user: User, services: Services, cohort_id: int, *, error: str = "", status: int = 200
) -> HTMLResponse:
    institute, view = await _cohort(services, cohort_id)
    async with services.db() as db:
        log = (
            await db.exec(
                select(AuditEntry)
                .where(col(AuditEntry.subject).startswith(f"cohort {cohort_id} "))
                .order_by(col(AuditEntry.at).desc())
            )
        ).all()
    html = _render(
        request,
        services,
        "organizer/cohort.html",
        user,
        institute=institute,
        view=view,
        decks=await stored_decks(services.db, user),
        log=log,
        error=error,
    )
    return HTMLResponse(html, status_code=status)


@router.post("/cohorts/{cohort_id}", dependencies=[Depends(check_csrf)])
async def edit_cohort(cohort_id: Id, request: Request, user: OrganizerPage, services: ServicesDep) -> Response:
    institute, _view = await _cohort(services, cohort_id)
    assert institute.id is not None
    try:
        await save_cohort(services.db, institute.id, await _cohort_form(request), cohort_id, user=user)
    except SetupInvalid as error:
        return await _cohort_page(request, user, services, cohort_id, error=str(error), status=422)
    return RedirectResponse(f"/organize/cohorts/{cohort_id}", status_code=303)


@router.post("/cohorts/{cohort_id}/sessions", dependencies=[Depends(check_csrf)])
async def start_cohort_session(
    cohort_id: Id,
    user: OrganizerPage,
    services: ServicesDep,
    deck_id: Annotated[int, Form()],
    title: Annotated[str, Form(max_length=200)] = "",
    nicknames: Annotated[bool, Form()] = False,
    teams: Annotated[str, Form(max_length=2000)] = "",
    site_teams: Annotated[bool, Form()] = False,
    streak: Annotated[bool, Form()] = False,
) -> Response:
    """Start a live session of one of the cohort's decks, then open its presenter view (with the options of
    server/sessions.py SessionOptions; `site_teams`: one team per site of the institute's cohorts)."""
    session = await _start_in_cohort(
        services, user, cohort_id, deck_id, title, nicknames, teams.splitlines(), site_teams, streak
    )
    return RedirectResponse(f"/present/{session.id}", status_code=303)


async def _start_in_cohort(
    services: Services,
    user: User,
    cohort_id: int,
    deck_id: int,
    title: str,
    nicknames: bool,
    teams: list[str],
    site_teams: bool,
    streak: bool,
) -> Session:
    """A live session of one of the cohort's decks, its refusals as problems (the page and the JSON API start so)."""
    _owner, view = await _cohort(services, cohort_id)
    lines = await sessions.site_teams(services.db, cohort_id) if site_teams else teams
    try:
        options = sessions.session_options(nicknames, lines, streak)
    except TeamsInvalid as error:
        raise Problem(422, "The teams cannot be used", str(error)) from None
    if deck_id not in {deck.id for deck in view.decks}:
        raise Problem(409, _("Not one of this cohort's decks"), _("Assign the deck to the cohort first."))
    deck_title = next(deck.title for deck in view.decks if deck.id == deck_id)
    assert user.id is not None
    try:
        await startable_deck(services.db, user, deck_id)
    except DeckRefused as refused:
        raise Problem(refused.status, refused.title, refused.detail) from None
    try:
        return await start_from_deck(
            services.db,
            services.registry,
            deck_id,
            presenter_id=user.id,
            title=title or f"{deck_title} · {view.cohort.name}",
            cohort_id=cohort_id,
            digits=services.settings.join_code_digits,
            options=options,
        )
    except NotFound:
        raise Problem(404, _("No such deck"), _("There is no deck {deck}.").format(deck=deck_id)) from None
    except DeckInvalid as error:
        raise Problem(422, "The deck has problems", str(error)) from None
    except NoFreeCode as error:
        raise Problem(409, "No free join code", str(error)) from None


@router.post("/cohorts/{cohort_id}/prune", dependencies=[Depends(check_csrf)])
async def prune(
    cohort_id: Id,
    request: Request,
    user: OrganizerPage,
    services: ServicesDep,
    confirm: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Delete the cohort's participant-level data, keeping each activity's results: once its name is typed."""
    return await _retention(request, user, services, cohort_id, confirm, prune_cohort, "/organize/cohorts/{cohort}")


@router.post("/cohorts/{cohort_id}/delete", dependencies=[Depends(check_csrf)])
async def delete(
    cohort_id: Id,
    request: Request,
    user: OrganizerPage,
    services: ServicesDep,
    confirm: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """Delete the cohort, its sessions and all their data: once its name is typed."""
    done = "/organize/institutes/{institute}"
    return await _retention(request, user, services, cohort_id, confirm, delete_cohort, done)


async def _retention(
    request: Request,
    user: User,
    services: Services,
    cohort_id: Id,
    confirm: str,
    action: Callable[[Stores, int, User], Awaitable[Deleted]],
    done: str,
) -> Response:
    """Run a deletion once the cohort's name was typed to confirm it, then go to `done`; otherwise the cohort's
    page again, saying why nothing was deleted."""
    institute, view = await _cohort(services, cohort_id)
    if not _confirmed(view, confirm):
        return await _cohort_page(request, user, services, cohort_id, error=_(_NOT_CONFIRMED), status=422)
    try:
        await action(_stores(services), cohort_id, user)
    except ControlRefused as refused:
        return await _cohort_page(request, user, services, cohort_id, error=str(refused), status=409)
    return RedirectResponse(done.format(cohort=cohort_id, institute=institute.id), status_code=303)


_NOT_CONFIRMED = N_("Nothing was deleted: type the cohort’s name exactly to confirm.")


def _confirmed(view: CohortView, confirm: str) -> bool:
    """Whether the confirmation typed is the cohort's name (spaces as typed do not matter): the page and the API."""
    return " ".join(confirm.split()) == view.cohort.name


def _stores(services: Services) -> Stores:
    return Stores(services.db, services.engine, services.registry, services.hub.forget)


async def _cohort_form(request: Request) -> CohortForm:
    """A cohort from its page form: dates as yyyy-mm-dd, facilitators one per line, decks as checked boxes."""
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    def day(name: str) -> date | None:
        raw = text(name).strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise SetupInvalid(f"“{raw[:20]}” is not a date; use the form yyyy-mm-dd.") from None

    decks = [int(value) for value in form.getlist("deck_id") if isinstance(value, str) and value.isdigit()]
    return CohortForm(
        name=text("name")[:400],
        site=text("site")[:400],
        starts_on=day("starts_on"),
        ends_on=day("ends_on"),
        facilitators=text("facilitators")[:4000].splitlines(),
        same_identity=text("same_identity") == "on",
        deck_ids=decks,
        time_zone=text("time_zone")[:200] or DEFAULT_ZONE,
    )


async def _institute(services: Services, institute_id: int) -> InstituteView:
    try:
        return await institute_view(services.db, institute_id)
    except NotFound:
        raise Problem(404, _("Not found"), _("No such institute.")) from None


async def _cohort(services: Services, cohort_id: int) -> tuple[Institute, CohortView]:
    try:
        return await cohort_view(services.db, cohort_id)
    except NotFound:
        raise Problem(404, _("Not found"), _("No such cohort.")) from None


def _render(request: Request, services: Services, template: str, user: User, **context: object) -> str:
    context.setdefault("error", "")
    return services.views.render(template, user=user, csrf=csrf_token(request), live=SessionState.live, **context)


def _page(request: Request, services: Services, template: str, user: User, **context: object) -> HTMLResponse:
    return HTMLResponse(_render(request, services, template, user, **context))


# --- JSON API -----------------------------------------------------------------------------------------------------

api_router = APIRouter(
    prefix="/api/v1", tags=["v1: institutes"], responses=API_ERRORS, dependencies=[Depends(in_their_language)]
)


class InstituteCreate(BaseModel):
    title: Text = Field(max_length=400, examples=["2017 Spring Institute"])
    description: Text = Field(default="", max_length=4000)


class CohortCreate(BaseModel):
    name: Text = Field(max_length=400, examples=["Phoenix"])
    site: Text = Field(default="", max_length=400, examples=["Phoenix, AZ"])
    starts_on: date | None = None
    ends_on: date | None = None
    facilitators: list[Annotated[Text, Field(max_length=200)]] = Field(default_factory=list, max_length=20)
    same_identity: bool = Field(
        default=True, description="A phone that comes back for another session of the cohort is the same participant"
    )
    deck_ids: list[Id] = Field(default_factory=list, max_length=50, description="Its decks, in the order they run")
    time_zone: str = Field(
        default=DEFAULT_ZONE,
        max_length=MAX_ZONE_NAME,
        examples=["America/Phoenix"],
        description="The IANA time zone of the site: dashboards, reports, CSVs and workbooks show local times in it",
    )


class CohortPublic(CohortCreate):
    id: int
    institute_id: int
    slug: str
    session_ids: list[int] = Field(description="Its sessions, newest first")


class InstitutePublic(BaseModel):
    id: int
    slug: str
    title: str
    description: str
    cohorts: list[CohortPublic] | None = Field(default=None, description="With GET /institutes/{id} only")


def _cohort_public(view: CohortView) -> CohortPublic:
    cohort = view.cohort
    assert cohort.id is not None
    return CohortPublic(
        id=cohort.id,
        institute_id=cohort.institute_id,
        slug=cohort.slug,
        name=cohort.name,
        site=cohort.site,
        starts_on=cohort.starts_on,
        ends_on=cohort.ends_on,
        facilitators=cohort.facilitators,
        same_identity=cohort.same_identity,
        deck_ids=[deck.id for deck in view.decks if deck.id is not None],
        time_zone=cohort.time_zone,
        session_ids=[session.id for session in view.sessions if session.id is not None],
    )


def _institute_public(institute: Institute, cohorts: list[CohortView] | None = None) -> InstitutePublic:
    assert institute.id is not None
    listed = None if cohorts is None else [_cohort_public(view) for view in cohorts]
    return InstitutePublic(
        id=institute.id, slug=institute.slug, title=institute.title, description=institute.description, cohorts=listed
    )


@api_router.get("/institutes", response_model=list[InstitutePublic])
async def list_institutes(user: OrganizerApi, services: ServicesDep) -> list[InstitutePublic]:
    """Every institute, newest first."""
    return [_institute_public(institute) for institute in await institutes(services.db, user)]


@api_router.post("/institutes", status_code=201, response_model=InstitutePublic)
async def create_institute_api(data: InstituteCreate, user: OrganizerApi, services: ServicesDep) -> InstitutePublic:
    """A new institute (its slug, used in archive names, is made from the title)."""
    try:
        institute = await create_institute(services.db, data.title, data.description, user.id)
    except SetupInvalid as error:
        raise Problem(422, _("The institute is not valid"), str(error)) from None
    return _institute_public(institute, [])


@api_router.get("/institutes/{institute_id}", response_model=InstitutePublic)
async def read_institute(institute_id: Id, user: OrganizerApi, services: ServicesDep) -> InstitutePublic:
    """An institute with its cohorts, their decks and sessions."""
    view = await _institute(services, institute_id)
    return _institute_public(view.institute, view.cohorts)


@api_router.post("/institutes/{institute_id}/cohorts", status_code=201, response_model=CohortPublic)
async def create_cohort_api(
    institute_id: Id, data: CohortCreate, user: OrganizerApi, services: ServicesDep
) -> CohortPublic:
    """A new cohort of the institute; start its sessions with POST /sessions and its `id` as `cohort_id`."""
    await _institute(services, institute_id)
    try:
        cohort = await save_cohort(services.db, institute_id, CohortForm(**data.model_dump()), user=user)
    except SetupInvalid as error:
        raise Problem(422, _("The cohort is not valid"), str(error)) from None
    assert cohort.id is not None
    _owner, view = await _cohort(services, cohort.id)
    return _cohort_public(view)


@api_router.get("/cohorts/{cohort_id}", response_model=CohortPublic)
async def read_cohort(cohort_id: Id, user: OrganizerApi, services: ServicesDep) -> CohortPublic:
    _owner, view = await _cohort(services, cohort_id)
    return _cohort_public(view)


# --- JSON API: the cohort page's actions (editing, starting a session, retention) ----------------------------------


class CohortUpdate(BaseModel):
    """A cohort's new details: only the fields given change (the page's form sends them all)."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(default=None, max_length=400)
    site: Text | None = Field(default=None, max_length=400)
    starts_on: date | None = None
    ends_on: date | None = None
    facilitators: list[Annotated[Text, Field(max_length=200)]] | None = Field(default=None, max_length=20)
    same_identity: bool | None = None
    deck_ids: list[Id] | None = Field(
        default=None, max_length=50, description="Its decks, in the order they run (replaces the list)"
    )
    time_zone: str | None = Field(default=None, max_length=MAX_ZONE_NAME, examples=["America/Phoenix"])


class CohortSessionCreate(BaseModel):
    """Start a session of one of the cohort's decks, as the cohort page's start buttons do."""

    model_config = ConfigDict(extra="forbid")

    deck_id: Id = Field(description="One of the cohort's decks (`deck_ids`)")
    title: Text = Field(default="", max_length=200, description="Empty: the deck's title and the cohort's name")
    nicknames: bool = Field(default=False, description="Ask phones for a nickname (else they get generated names)")
    teams: list[Annotated[Text, Field(max_length=200)]] = Field(default_factory=list, max_length=50)
    site_teams: bool = Field(default=False, description="One team per site of the institute's cohorts")
    streak: bool = Field(default=False, description="Give a streak bonus for runs of right quiz answers")


class CohortSessionStarted(BaseModel):
    """The session started: read it, run it and take its archive with the /api/v1/sessions/{id} routes."""

    id: int
    code: str
    title: str
    cohort_id: int
    presenter_url: str = Field(description="The presenter view's path on this server")


class RetentionConfirm(BaseModel):
    """A retention action's confirmation: the cohort's name, exactly (as the page asks it to be typed)."""

    model_config = ConfigDict(extra="forbid")

    confirm: Text = Field(max_length=400, examples=["Phoenix"], description="The cohort's name, typed to confirm")


class RetentionDone(BaseModel):
    """What a retention action removed (as the audit trail logs it)."""

    cohort_id: int
    sessions: int = Field(description="Sessions whose participant data (prune) or whole record (delete) went")
    participants: int
    responses: int


@api_router.patch("/cohorts/{cohort_id}", response_model=CohortPublic)
async def update_cohort_api(
    cohort_id: Id, data: CohortUpdate, user: OrganizerApi, services: ServicesDep
) -> CohortPublic:
    """Change a cohort's details (the fields given); `deck_ids` replaces its decks, in order."""
    institute, view = await _cohort(services, cohort_id)
    assert institute.id is not None
    current = _cohort_public(view)
    merged = {**current.model_dump(include=set(CohortUpdate.model_fields)), **data.model_dump(exclude_unset=True)}
    if any(merged[name] is None for name in ("name", "site", "facilitators", "same_identity", "deck_ids", "time_zone")):
        raise Problem(422, "The cohort is not valid", "Leave out a field to keep it; null is not a value here.")
    try:
        await save_cohort(services.db, institute.id, CohortForm(**merged), cohort_id, user=user)
    except SetupInvalid as error:
        raise Problem(422, "The cohort is not valid", str(error)) from None
    _owner, view = await _cohort(services, cohort_id)
    return _cohort_public(view)


@api_router.post("/cohorts/{cohort_id}/sessions", status_code=201, response_model=CohortSessionStarted)
async def start_cohort_session_api(
    cohort_id: Id, data: CohortSessionCreate, user: OrganizerApi, services: ServicesDep
) -> CohortSessionStarted:
    """Start a live session of one of the cohort's decks (409 for a deck the cohort does not have)."""
    session = await _start_in_cohort(
        services, user, cohort_id, data.deck_id, data.title, data.nicknames, data.teams, data.site_teams, data.streak
    )
    assert session.id is not None
    return CohortSessionStarted(
        id=session.id,
        code=session.code,
        title=session.title,
        cohort_id=cohort_id,
        presenter_url=f"/present/{session.id}",
    )


@api_router.post("/cohorts/{cohort_id}/prune", response_model=RetentionDone)
async def prune_cohort_api(
    cohort_id: Id, data: RetentionConfirm, user: OrganizerApi, services: ServicesDep
) -> RetentionDone:
    """Delete the cohort's participant-level data, keeping each activity's results: `confirm` is its name. 422 and
    nothing deleted for another name; 409 while one of its sessions is live."""
    return await _retention_api(services, user, cohort_id, data.confirm, prune_cohort)


@api_router.delete("/cohorts/{cohort_id}", response_model=RetentionDone)
async def delete_cohort_api(
    cohort_id: Id, data: RetentionConfirm, user: OrganizerApi, services: ServicesDep
) -> RetentionDone:
    """Delete the cohort, its sessions and all their data: `confirm` is its name (a JSON body with DELETE). 422 and
    nothing deleted for another name; 409 while one of its sessions is live."""
    return await _retention_api(services, user, cohort_id, data.confirm, delete_cohort)


async def _retention_api(
    services: Services,
    user: User,
    cohort_id: int,
    confirm: str,
    action: Callable[[Stores, int, User], Awaitable[Deleted]],
) -> RetentionDone:
    _owner, view = await _cohort(services, cohort_id)
    if not _confirmed(view, confirm):
        raise Problem(422, _("Not confirmed"), _(_NOT_CONFIRMED))
    try:
        deleted = await action(_stores(services), cohort_id, user)
    except ControlRefused as refused:
        raise Problem(409, "Not possible now", str(refused)) from None
    return RetentionDone(
        cohort_id=cohort_id, sessions=deleted.sessions, participants=deleted.participants, responses=deleted.responses
    )
