"""Decks: the deck library page and its actions (plain forms), the editor's JSON (`source.json`), YAML downloads and
uploads, and the JSON API's decks (/api/v1/decks...). The rules live in server/decks/store.py; these stay thin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.datastructures import UploadFile

from activities.i18n import _
from server.accounts.access import ApiUser, PageUser
from server.accounts.csrf import CSRF_FIELD, CSRF_HEADER, FormExpired, check_csrf, csrf_token
from server.accounts.security import same
from server.decks import MAX_DECK_BYTES, DeckInvalid, DeckProblem, deck_document, deck_files
from server.decks.store import (
    DeckRefused,
    OpenDeck,
    Saved,
    VersionConflict,
    copy_deck,
    create_deck,
    delete_deck,
    deleted_deck,
    import_yaml,
    open_deck,
    problems_of,
    rename_deck,
    restore_deck,
    save_deck,
    share_deck,
    shares_of,
    visible_decks,
)
from server.models import User
from server.services import Services
from server.web.bodies import TooLarge, capped
from server.web.deps import MAX_ID, Id, ServicesDep, Text
from server.web.i18n import current_language, in_their_language
from server.web.problems import API_ERRORS, Problem, describe_errors, problem_responses

router = APIRouter(prefix="/present/decks", include_in_schema=False, dependencies=[Depends(in_their_language)])
api_router = APIRouter(prefix="/api/v1", tags=["v1"], responses=API_ERRORS, dependencies=[Depends(in_their_language)])

# A save's JSON is its YAML and more (quotes, braces, escapes): room for that over the deck's own limit.
MAX_SAVE_BYTES = 4 * MAX_DECK_BYTES
# An upload's multipart form: the file plus its boundaries and the CSRF field.
MAX_UPLOAD_BYTES = MAX_DECK_BYTES + 16 * 1024


# --- shapes -----------------------------------------------------------------------------------------------------------


class DeckProblemPublic(BaseModel):
    path: str = Field(description="Where, as `activities[2].options[0]` (empty: the whole deck)")
    line: int | None = Field(description="The line of the deck's YAML text, when known")
    message: str


class DeckSource(BaseModel):
    """A deck as the editor edits it: the document its YAML loads to (null when the text is not YAML at all)."""

    id: int
    slug: str
    title: str
    version: int = Field(description="Send it back with a save: a save based on an older version is refused (409)")
    template: bool
    can_edit: bool
    document: dict[str, Any] | None
    problems: list[DeckProblemPublic]
    updated_at: datetime


class DeckSave(BaseModel):
    """A new version of a deck: its document, or its YAML text, and the version it is based on."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_ID, strict=True)
    document: dict[str, Any] | None = None
    source: str | None = Field(default=None, max_length=MAX_DECK_BYTES)

    @model_validator(mode="after")
    def _one_of(self) -> DeckSave:
        if (self.document is None) == (self.source is None):
            raise ValueError("give the deck's document or its source (YAML text), not both")
        return self


class DeckSaved(BaseModel):
    version: int
    problems: list[DeckProblemPublic]
    saved_at: datetime
    title: str


class DeckPublic(BaseModel):
    id: int
    slug: str
    title: str
    template: bool
    version: int
    problems: int = Field(description="How many problems its text has: a session starts only from a deck with none")
    can_edit: bool
    activities: int
    updated_at: datetime


class DeckCreate(BaseModel):
    """One of: a new deck with a `title`, a copy of a deck (`copy_of`), or a deck from YAML text (`source`)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[Text, Field(min_length=1, max_length=200)] | None = None
    copy_of: Id | None = None
    source: str | None = Field(default=None, max_length=MAX_DECK_BYTES)

    @model_validator(mode="after")
    def _one_of(self) -> DeckCreate:
        if sum(value is not None for value in (self.title, self.copy_of, self.source)) != 1:
            raise ValueError("give one of title, copy_of or source")
        return self


CONFLICT = {
    "description": "Someone else saved a newer version: the body has it (`version`, `document`) and who (`by`)",
    "content": {
        "application/problem+json": {
            "schema": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "detail": {"type": "string"},
                    "status": {"type": "integer"},
                    "version": {"type": "integer"},
                    "document": {"type": ["object", "null"]},
                    "by": {"type": "string"},
                },
            }
        }
    },
}


# --- shared by the pages and the API --------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _problems(problems: list[DeckProblem]) -> list[DeckProblemPublic]:
    return [DeckProblemPublic(path=p.path, line=p.line, message=p.message) for p in problems]


def _refused(error: DeckRefused) -> Problem:
    return Problem(error.status, error.title, error.detail)


def _reserved(services: Services) -> set[str]:
    """The decks folder's file names: a new deck's slug never takes one (a shipped deck is stored under it)."""
    return {path.stem for path in deck_files(services.settings.decks_dir)}


async def _open(services: Services, user: User, deck_id: int, *, edit: bool = False) -> OpenDeck:
    try:
        return await open_deck(services.db, user, deck_id, edit=edit)
    except DeckRefused as error:
        raise _refused(error) from None


def _source(found: OpenDeck, services: Services) -> DeckSource:
    deck = found.deck
    assert deck.id is not None
    try:
        document: dict[str, Any] | None = deck_document(deck.source)
    except DeckInvalid:
        document = None
    return DeckSource(
        id=deck.id,
        slug=deck.slug,
        title=deck.title,
        version=deck.version,
        template=deck.template,
        can_edit=found.can_edit,
        document=document,
        problems=_problems(problems_of(deck.source, services.registry)),
        updated_at=_utc(deck.updated_at),
    )


async def _save(services: Services, user: User, deck_id: int, body: DeckSave) -> DeckSaved:
    try:
        saved: Saved = await save_deck(
            services.db,
            services.registry,
            user,
            deck_id,
            base_version=body.version,
            document=body.document,
            source=body.source,
        )
    except DeckRefused as error:
        raise _refused(error) from None
    except VersionConflict as conflict:
        at = _utc(conflict.saved_at)
        raise Problem(
            409,
            _("Someone else saved this deck"),
            _(
                "{who} saved a newer version at {time} UTC. Your changes are kept here; "
                "copy what you need, then load their version to go on from it."
            ).format(who=conflict.saved_by_name, time=f"{at:%H:%M}"),
            version=conflict.current_version,
            document=conflict.current_document,
            by=conflict.saved_by_name,
            saved_at=at.isoformat(),
        ) from None
    return DeckSaved(
        version=saved.version, problems=_problems(saved.problems), saved_at=_utc(saved.saved_at), title=saved.title
    )


def _yaml_download(found: OpenDeck) -> Response:
    """The stored text byte for byte, as `<slug>.yaml`."""
    return Response(
        found.deck.source.encode("utf-8"),
        media_type="text/yaml; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{found.deck.slug}.yaml"',
            "Cache-Control": "no-store",
        },
    )


# --- the editor's JSON ----------------------------------------------------------------------------------------------


@router.get("/{deck_id}/source.json", response_model=DeckSource)
async def deck_source(deck_id: Id, user: PageUser, services: ServicesDep) -> DeckSource:
    """The deck as the editor edits it."""
    return _source(await _open(services, user, deck_id), services)


@router.put("/{deck_id}/source.json", response_model=DeckSaved)
async def save_source(deck_id: Id, request: Request, user: PageUser, services: ServicesDep) -> DeckSaved:
    """Save a new version: `{"version": <the version it is based on>, "document": {...}}` (or `"source"`: YAML),
    with the page's CSRF token in X-CSRF-Token."""
    try:
        raw = await capped(request, MAX_SAVE_BYTES).body()
    except TooLarge:
        raise Problem(
            413, _("The deck is too large"), _("A deck may be at most {size} KiB.").format(size=MAX_DECK_BYTES // 1024)
        ) from None
    _check_csrf_of(request, raw)
    try:
        body = DeckSave.model_validate_json(raw)
    except ValidationError as error:
        detail, errors = describe_errors(error.errors(include_url=False))
        raise Problem(422, "The request is not valid", detail or "Send {version, document}.", errors=errors) from None
    return await _save(services, user, deck_id, body)


def _check_csrf_of(request: Request, raw: bytes) -> None:
    """check_csrf for a body read already (the capped read): the X-CSRF-Token header, as the editor's fetch sends
    it, or a form's csrf_token field."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        values = parse_qs(raw.decode("latin-1"), max_num_fields=100).get(CSRF_FIELD)
        sent = values[0] if values else None
    expected = request.session.get("csrf")
    if not expected or not sent or not same(str(expected), sent):
        raise FormExpired


@router.get("/{deck_id}/deck.yaml")
async def deck_yaml_download(deck_id: Id, user: PageUser, services: ServicesDep) -> Response:
    """The deck's YAML text, as stored."""
    return _yaml_download(await _open(services, user, deck_id))


# --- the library page and its forms ---------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def library(request: Request, user: PageUser, services: ServicesDep, deleted: int = 0) -> HTMLResponse:
    """The decks this account sees, by section, with their actions; after a delete, the way to undo it."""
    summaries = await visible_decks(services.db, services.registry, user)
    shares = {}
    for summary in summaries:
        if summary.can_share:
            shares[summary.id] = await shares_of(services.db, user, summary.id)
    undo = None
    if 0 < deleted <= MAX_ID:
        try:
            undo = await deleted_deck(services.db, user, deleted)
        except DeckRefused:
            undo = None
    html = services.views.render(
        "presenter/decks.html",
        user=user,
        csrf=csrf_token(request),
        own=[s for s in summaries if not s.template and s.owner_id == user.id],
        shared=[s for s in summaries if s.shared],
        institutes=[s for s in summaries if s.institutes],
        others=[s for s in summaries if not s.template and s.owner_id != user.id and not s.shared and not s.institutes],
        templates=[s for s in summaries if s.template],
        shares=shares,
        undo=undo,
    )
    return HTMLResponse(html)


def _to_editor(deck_id: int | None) -> Response:
    return RedirectResponse(f"/present/decks/{deck_id}/edit", status_code=303)


def _back(deck_id: int | None = None, **query: Any) -> Response:
    suffix = "?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else ""
    anchor = f"#deck-{deck_id}" if deck_id is not None and not query else ""
    return RedirectResponse(f"/present/decks{suffix}{anchor}", status_code=303)


@router.post("", dependencies=[Depends(check_csrf)])
async def new_deck(
    user: PageUser, services: ServicesDep, title: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    """A new deck from scratch, opened in the editor."""
    try:
        deck = await create_deck(
            services.db,
            services.registry,
            user,
            title=title,
            reserved=_reserved(services),
            language=current_language(),
        )
    except DeckRefused as error:
        raise _refused(error) from None
    return _to_editor(deck.id)


@router.post("/upload")
async def upload_deck(request: Request, user: PageUser, services: ServicesDep) -> Response:
    """A new deck from a YAML file (multipart field `file`), stored as it is, opened in the editor."""
    try:
        upload_request = capped(request, MAX_UPLOAD_BYTES)
        form = await upload_request.form(max_files=1, max_fields=4)
    except TooLarge:
        raise Problem(
            413,
            _("The file is too large"),
            _("A deck file may be at most {size} KiB.").format(size=MAX_DECK_BYTES // 1024),
        ) from None
    try:
        await check_csrf(upload_request)  # after the capped read: the form it checks is the one just parsed
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem(422, _("No file"), _("Choose a deck's YAML file to upload."))
        data = await upload.read(MAX_DECK_BYTES + 1)
        name = upload.filename or ""
    finally:
        await form.close()
    try:
        deck = await import_yaml(services.db, services.registry, user, data, name=name, reserved=_reserved(services))
    except DeckRefused as error:
        raise _refused(error) from None
    return _to_editor(deck.id)


@router.post("/{deck_id}/copy", dependencies=[Depends(check_csrf)])
async def copy(deck_id: Id, user: PageUser, services: ServicesDep) -> Response:
    """A copy of the deck (a template's too) of one's own, opened in the editor."""
    try:
        deck = await copy_deck(services.db, services.registry, user, deck_id, reserved=_reserved(services))
    except DeckRefused as error:
        raise _refused(error) from None
    return _to_editor(deck.id)


@router.post("/{deck_id}/rename", dependencies=[Depends(check_csrf)])
async def rename(
    deck_id: Id, user: PageUser, services: ServicesDep, title: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    """A new title (a new version of the deck's text, where only the title changes)."""
    try:
        await rename_deck(services.db, services.registry, user, deck_id, title)
    except DeckRefused as error:
        raise _refused(error) from None
    except VersionConflict:
        raise Problem(409, _("Someone else saved this deck"), _("It changed as you renamed it: try again.")) from None
    return _back(deck_id)


@router.post("/{deck_id}/delete", dependencies=[Depends(check_csrf)])
async def delete(deck_id: Id, user: PageUser, services: ServicesDep) -> Response:
    """Put the deck away; the library then offers to undo it."""
    try:
        await delete_deck(services.db, user, deck_id)
    except DeckRefused as error:
        raise _refused(error) from None
    return _back(deleted=deck_id)


@router.post("/{deck_id}/restore", dependencies=[Depends(check_csrf)])
async def restore(deck_id: Id, user: PageUser, services: ServicesDep) -> Response:
    """Undo a delete."""
    try:
        await restore_deck(services.db, user, deck_id)
    except DeckRefused as error:
        raise _refused(error) from None
    return _back(deck_id)


@router.post("/{deck_id}/share", dependencies=[Depends(check_csrf)])
async def share(
    deck_id: Id,
    user: PageUser,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=254)] = "",
    access: Annotated[Literal["edit", "view", "remove"], Form()] = "view",
) -> Response:
    """Share the deck with an account (to edit or to view), or stop sharing it."""
    can_edit = None if access == "remove" else access == "edit"
    try:
        await share_deck(services.db, user, deck_id, email, can_edit)
    except DeckRefused as error:
        raise _refused(error) from None
    return _back(deck_id)


# --- the JSON API ---------------------------------------------------------------------------------------------------


@api_router.get("/decks", response_model=list[DeckPublic])
async def list_decks(user: ApiUser, services: ServicesDep) -> list[DeckPublic]:
    """The decks you see: your own, shared with you, your institutes', and the templates (read-only)."""
    return [
        DeckPublic(
            id=s.id,
            slug=s.slug,
            title=s.title,
            template=s.template,
            version=s.version,
            problems=s.problems,
            can_edit=s.can_edit,
            activities=s.contents.activities,
            updated_at=_utc(s.updated_at),
        )
        for s in await visible_decks(services.db, services.registry, user)
    ]


@api_router.post("/decks", response_model=DeckSource, status_code=201, responses=problem_responses(403, 404, 413, 422))
async def create_deck_api(body: DeckCreate, user: ApiUser, services: ServicesDep) -> DeckSource:
    """A new deck of yours: from a `title`, a copy of a deck you see (`copy_of`), or YAML text (`source`, stored as
    it is, problems and all)."""
    try:
        if body.title is not None:
            deck = await create_deck(
                services.db, services.registry, user, title=body.title, reserved=_reserved(services)
            )
        elif body.copy_of is not None:
            deck = await copy_deck(services.db, services.registry, user, body.copy_of, reserved=_reserved(services))
        else:
            assert body.source is not None
            deck = await import_yaml(
                services.db,
                services.registry,
                user,
                body.source.encode("utf-8", "surrogatepass"),
                reserved=_reserved(services),
            )
    except DeckRefused as error:
        raise _refused(error) from None
    assert deck.id is not None
    return _source(await _open(services, user, deck.id), services)


@api_router.get("/decks/{deck_id}", response_model=DeckSource)
async def read_deck(deck_id: Id, user: ApiUser, services: ServicesDep) -> DeckSource:
    """A deck as its document (what its YAML loads to), version and problems."""
    return _source(await _open(services, user, deck_id), services)


@api_router.put(
    "/decks/{deck_id}",
    response_model=DeckSaved,
    responses={**problem_responses(403, 404, 413, 422), 409: CONFLICT},
)
async def save_deck_api(deck_id: Id, body: DeckSave, user: ApiUser, services: ServicesDep) -> DeckSaved:
    """Save a new version: `{"version", "document"}` or `{"version", "source"}`; 409 when someone saved since."""
    return await _save(services, user, deck_id, body)


@api_router.delete("/decks/{deck_id}", status_code=204, responses=problem_responses(403, 404))
async def delete_deck_api(deck_id: Id, user: ApiUser, services: ServicesDep) -> Response:
    """Put a deck away (restore it with POST .../restore)."""
    try:
        await delete_deck(services.db, user, deck_id)
    except DeckRefused as error:
        raise _refused(error) from None
    return Response(status_code=204)


@api_router.post("/decks/{deck_id}/restore", response_model=DeckSource, responses=problem_responses(403, 404))
async def restore_deck_api(deck_id: Id, user: ApiUser, services: ServicesDep) -> DeckSource:
    """Undo a delete."""
    try:
        await restore_deck(services.db, user, deck_id)
    except DeckRefused as error:
        raise _refused(error) from None
    return _source(await _open(services, user, deck_id), services)


@api_router.get(
    "/decks/{deck_id}/yaml",
    response_class=Response,
    # No schema: the body is the deck's YAML text as it was written (a checker reading it as YAML finds a mapping).
    responses={200: {"content": {"text/yaml": {}}, "description": "The deck's YAML text"}, **problem_responses(404)},
)
async def deck_yaml_api(deck_id: Id, user: ApiUser, services: ServicesDep) -> Response:
    """The deck's YAML text, byte for byte as stored."""
    return _yaml_download(await _open(services, user, deck_id))


# --- the JSON API: the library's actions (copy, rename, share) --------------------------------------------------------


class DeckRename(BaseModel):
    """A deck's new title (a new version of its text, where only the title changes)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[Text, Field(min_length=1, max_length=200, examples=["Closing circle"])]


class DeckShareSet(BaseModel):
    """Share a deck with an account, to edit it or only to view it (again: changes how)."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[Text, Field(min_length=1, max_length=254, examples=["colleague@example.org"])]
    access: Literal["edit", "view"] = Field(default="view", description="edit: may save new versions; view: may not")


class DeckSharePublic(BaseModel):
    user_id: int
    email: str
    access: Literal["edit", "view"]


@api_router.post(
    "/decks/{deck_id}/copy", response_model=DeckSource, status_code=201, responses=problem_responses(403, 404)
)
async def copy_deck_api(deck_id: Id, user: ApiUser, services: ServicesDep) -> DeckSource:
    """A copy of a deck you see (a template too), of your own: "Copy of <title>"."""
    try:
        deck = await copy_deck(services.db, services.registry, user, deck_id, reserved=_reserved(services))
    except DeckRefused as error:
        raise _refused(error) from None
    assert deck.id is not None
    return _source(await _open(services, user, deck.id), services)


@api_router.patch(
    "/decks/{deck_id}", response_model=DeckSource, responses={**problem_responses(403, 404, 422), 409: CONFLICT}
)
async def rename_deck_api(deck_id: Id, body: DeckRename, user: ApiUser, services: ServicesDep) -> DeckSource:
    """Rename a deck you may edit: its YAML's `title` changes, as a new version."""
    try:
        await rename_deck(services.db, services.registry, user, deck_id, body.title)
    except DeckRefused as error:
        raise _refused(error) from None
    except VersionConflict:
        raise Problem(409, "Someone else saved this deck", "It changed as you renamed it: try again.") from None
    return _source(await _open(services, user, deck_id), services)


@api_router.get("/decks/{deck_id}/shares", response_model=list[DeckSharePublic], responses=problem_responses(403, 404))
async def list_shares_api(deck_id: Id, user: ApiUser, services: ServicesDep) -> list[DeckSharePublic]:
    """Who a deck is shared with (for its owner, its institutes' organizers and admins)."""
    return await _shares(services, user, deck_id)


@api_router.put(
    "/decks/{deck_id}/shares", response_model=list[DeckSharePublic], responses=problem_responses(403, 404, 422)
)
async def share_deck_api(
    deck_id: Id, body: DeckShareSet, user: ApiUser, services: ServicesDep
) -> list[DeckSharePublic]:
    """Share a deck with an account (by email), to edit or to view; answers who it is shared with now."""
    try:
        await share_deck(services.db, user, deck_id, body.email, body.access == "edit")
    except DeckRefused as error:
        raise _refused(error) from None
    return await _shares(services, user, deck_id)


@api_router.delete("/decks/{deck_id}/shares/{user_id}", status_code=204, responses=problem_responses(403, 404))
async def unshare_deck_api(deck_id: Id, user_id: Id, user: ApiUser, services: ServicesDep) -> Response:
    """Stop sharing a deck with an account (`user_id` as GET .../shares lists it). Idempotent: an account the deck
    is not shared with changes nothing, and answers 204 too."""
    shared = {share.user_id: share.email for share in await _shares(services, user, deck_id)}
    if user_id in shared:
        try:
            await share_deck(services.db, user, deck_id, shared[user_id], None)
        except DeckRefused as error:
            raise _refused(error) from None
    return Response(status_code=204)


async def _shares(services: Services, user: User, deck_id: int) -> list[DeckSharePublic]:
    try:
        shares = await shares_of(services.db, user, deck_id)
    except DeckRefused as error:
        raise _refused(error) from None
    return [
        DeckSharePublic(user_id=share.user_id, email=share.email, access="edit" if share.can_edit else "view")
        for share in shares
    ]
