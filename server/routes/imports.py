"""Importing archives: the organizers' upload page and the JSON API's `POST /api/v1/archives`.

Both read the body themselves, counting as it arrives: a body over the limit is refused at the first byte too
many (or at once, when its Content-Length says so), never read whole first.
"""

from __future__ import annotations

import tempfile
from typing import IO

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from activities.i18n import _
from server.accounts.access import OrganizerApi, OrganizerPage
from server.accounts.csrf import check_csrf, csrf_token
from server.archives.restore import LIMITS, ArchiveRefused, ImportResult, import_archive
from server.models import User
from server.services import Services
from server.web.bodies import FORM_OVERHEAD, TooLarge, capped
from server.web.deps import ServicesDep
from server.web.i18n import in_their_language
from server.web.problems import API_ERRORS, Problem, problem_responses

router = APIRouter(dependencies=[Depends(in_their_language)])

# Bodies bigger than this wait on disk rather than in memory while they are checked.
SPOOL_BYTES = 4 * 1024 * 1024
ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed"})


def too_large_message() -> str:
    return _("This archive is larger than {limit}, the most this server imports.").format(limit=LIMITS.shown)


class Imported(BaseModel):
    """What an import created: every id is of this server (the archive's own ids are never kept)."""

    summary: str = Field(examples=["Imported cohort “Phoenix” of 2017 Spring Institute: 2 sessions, 31 participants"])
    scope: str = Field(description="session, cohort or institute: what the archive held")
    institute_id: int | None = Field(description="The new institute (cohort and institute archives)")
    cohort_ids: list[int]
    session_ids: list[int] = Field(description="The imported sessions: ended, presented by the importing account")
    deck_ids: list[int] = Field(description="Decks created for the archive's decks, or reused (same slug and text)")
    participants: int
    responses: int


def imported(result: ImportResult) -> Imported:
    return Imported(
        summary=result.summary,
        scope=result.scope,
        institute_id=result.institute.id if result.institute is not None else None,
        cohort_ids=[cohort.id for cohort in result.cohorts],
        session_ids=[session.id for session in result.sessions],
        deck_ids=sorted({deck.id for deck in [*result.decks_created, *result.decks_reused]}),
        participants=result.participants,
        responses=result.responses,
    )


@router.post(
    "/api/v1/archives",
    status_code=201,
    response_model=Imported,
    tags=["v1"],
    responses={**API_ERRORS, **problem_responses(413)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_archive_api(request: Request, user: OrganizerApi, services: ServicesDep) -> Imported:
    """Import a session, cohort or institute archive (the ZIP as the body); 422 says why one is refused, and
    then nothing was written."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ZIP_TYPES:
        raise Problem(
            415, "Unsupported media type", "Send the archive as the body, with Content-Type: application/zip."
        )
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
        try:
            async for chunk in capped(request, LIMITS.archive_bytes).stream():
                body.write(chunk)
        except TooLarge:
            raise Problem(413, "Too large", too_large_message()) from None
        return imported(await _import(services, user, body))


async def _import(services: Services, user: User, body: IO[bytes]) -> ImportResult:
    assert user.id is not None
    try:
        return await import_archive(services.db, services.registry, body, user.id, LIMITS)
    except ArchiveRefused as refused:
        raise Problem(422, "Not imported", str(refused)) from None


@router.get("/organize/import", response_class=HTMLResponse, include_in_schema=False)
async def import_page(request: Request, user: OrganizerPage, services: ServicesDep) -> HTMLResponse:
    """The upload form: an archive from this or another Handsup server."""
    return _page(request, services, user)


@router.post("/organize/import", response_class=HTMLResponse, include_in_schema=False)
async def import_upload(request: Request, user: OrganizerPage, services: ServicesDep) -> HTMLResponse:
    """Import the uploaded archive; the page shows what was created, with links, or why nothing was."""
    try:
        upload = capped(request, LIMITS.archive_bytes + FORM_OVERHEAD)
        form = await upload.form(max_files=1, max_fields=4)
    except TooLarge:
        return _page(request, services, user, error=too_large_message(), status=413)
    try:
        await check_csrf(upload)  # after the capped read: the form it checks is the one just parsed
        archive = form.get("archive")
        if not isinstance(archive, UploadFile) or not archive.filename:
            return _page(request, services, user, error=_("Choose an archive (a .zip file) to import."), status=422)
        try:
            result = await _import(services, user, archive.file)
        except Problem as refused:
            return _page(request, services, user, error=str(refused.detail), status=refused.status_code)
    finally:
        await form.close()
    return _page(request, services, user, result=result)


def _page(
    request: Request,
    services: Services,
    user: User,
    *,
    result: ImportResult | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    html = services.views.render(
        "organizer/import.html",
        user=user,
        csrf=csrf_token(request),
        result=result,
        error=error,
        limit=LIMITS.shown,
    )
    return HTMLResponse(html, status_code=status)
