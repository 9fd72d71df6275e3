"""Archive downloads: a session's, a cohort's or an institute's ZIP, from the organizer pages and the JSON API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from activities.i18n import _
from server.accounts.access import OrganizerApi, OrganizerPage
from server.archives.build import ArchiveSources, spooled_archive
from server.archives.format import Scope
from server.models import Session
from server.services import Services
from server.sessions import NotFound
from server.web.deps import Id, ServicesDep
from server.web.downloads import attachment
from server.web.i18n import in_their_language
from server.web.problems import API_ERRORS, Problem

ZIP_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/zip": {}}}}

router = APIRouter(prefix="/organize", include_in_schema=False, dependencies=[Depends(in_their_language)])
# The report and the workbook's headings come out in the language of whoever downloads them (docs/archives.md).
api_router = APIRouter(prefix="/api/v1", tags=["v1"], responses=API_ERRORS, dependencies=[Depends(in_their_language)])


@router.get("/sessions/{session_id}/archive.zip")
async def session_archive_page(session_id: Id, user: OrganizerPage, services: ServicesDep) -> Response:
    """A session's archive, for an organizer (any session, whoever presented it)."""
    return await archive_response(services, "session", session_id)


@router.get("/cohorts/{cohort_id}/archive.zip")
async def cohort_archive_page(cohort_id: Id, user: OrganizerPage, services: ServicesDep) -> Response:
    """A cohort's archive: its institute, the cohort, every one of its sessions."""
    return await archive_response(services, "cohort", cohort_id)


@router.get("/institutes/{institute_id}/archive.zip")
async def institute_archive_page(institute_id: Id, user: OrganizerPage, services: ServicesDep) -> Response:
    """An institute's archive: every cohort and every session of each."""
    return await archive_response(services, "institute", institute_id)


@api_router.get("/cohorts/{cohort_id}/archive.zip", response_class=Response, responses=ZIP_RESPONSE)
async def export_cohort_archive(cohort_id: Id, user: OrganizerApi, services: ServicesDep) -> Response:
    """A cohort's archive (ZIP): manifest, complete data.json, summary and response CSVs, workbook, word clouds,
    charts and a printable report, for every session of the cohort. Organizers and admins only."""
    return await archive_response(services, "cohort", cohort_id)


@api_router.get("/institutes/{institute_id}/archive.zip", response_class=Response, responses=ZIP_RESPONSE)
async def export_institute_archive(institute_id: Id, user: OrganizerApi, services: ServicesDep) -> Response:
    """An institute's archive (ZIP), as a cohort's but with every cohort and session of the institute.
    Organizers and admins only."""
    return await archive_response(services, "institute", institute_id)


async def archive_response(services: Services, scope: Scope, scope_id: int) -> Response:
    """The archive as an attachment, streamed from the temporary file it was built in; 404 for an unknown id."""
    try:
        source, info = await spooled_archive(ArchiveSources.of(services), scope, scope_id)
    except NotFound:
        missing = {
            "session": _("No such session."),
            "cohort": _("No such cohort."),
            "institute": _("No such institute."),
        }
        raise Problem(404, _("Not found"), missing[scope]) from None
    return attachment(source, info.filename, "application/zip")


# --- JSON API: the organizer page's session download ------------------------------------------------------------


@api_router.get(
    "/cohorts/{cohort_id}/sessions/{session_id}/archive.zip", response_class=Response, responses=ZIP_RESPONSE
)
async def export_cohort_session_archive(
    cohort_id: Id, session_id: Id, user: OrganizerApi, services: ServicesDep
) -> Response:
    """One session's archive, for the organizers of its cohort's institute (whoever presented it), as the cohort page
    offers it; GET /sessions/{id}/archive.zip is the same file for those who run the session."""
    async with services.db() as db:
        session = await db.get(Session, session_id)
    if session is None or session.cohort_id != cohort_id:
        raise Problem(404, "Not found", "No such session in this cohort.")
    return await archive_response(services, "session", session_id)
