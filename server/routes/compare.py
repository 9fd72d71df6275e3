"""Organizers comparing cohorts and browsing the kinds' institute-wide pools (the resource library): pages under
/organize/institutes/{id}/compare and /pools/{kind}, and the same as JSON, CSV, documents and images under
/api/v1/institutes/{id}. The reading itself is server/compare.py; this module serves it to the two audiences."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from activities.i18n import _
from server.accounts.access import OrganizerApi, OrganizerPage
from server.accounts.csrf import csrf_token
from server.compare import (
    Column,
    Comparison,
    InstituteRuns,
    Matched,
    Pool,
    compare,
    comparison_csv,
    institute_runs,
    matched_activities,
    pool,
    pool_csv,
    pool_document,
)
from server.decks import slugify
from server.models import Cohort, User
from server.services import Services
from server.sessions import NotFound
from server.web.deps import Id, ServicesDep, Text
from server.web.i18n import in_their_language
from server.web.problems import API_ERRORS, Problem

router = APIRouter(dependencies=[Depends(in_their_language)])
PAGES = "/organize/institutes/{institute_id}"
API = "/api/v1/institutes/{institute_id}"
CSV = "text/csv; charset=utf-8"
TypeFilter = Annotated[
    Text,
    Query(alias="type", max_length=100, description="Only the items of this type, where the kind's items have one"),
]


# --- the JSON shapes --------------------------------------------------------------------------------------------


class CohortRef(BaseModel):
    id: int
    slug: str
    name: str
    site: str


class MatchedPublic(BaseModel):
    key: str = Field(description="Names the activity in the compare routes (a digest of its kind and title)")
    kind: str
    title: str
    sessions: int = Field(description="How many sessions ran it")
    cohorts: list[CohortRef] = Field(description="The cohorts that ran it, in the institute's order")


class ColumnPublic(BaseModel):
    key: str = Field(description="`c<cohort id>` (`c<cohort id>-2`... for a cohort's further columns), or `all`")
    name: str = Field(description="The cohort's name, or `All cohorts`")
    cohort: CohortRef | None
    sessions: int
    respondents: int
    saved: bool = Field(description="Results kept when the participants' answers were deleted")
    in_combined: bool = Field(description="Whether these answers are part of All cohorts")
    notes: list[str]
    results: dict[str, Any] = Field(description="The kind's results (moderation applied), as the tally route gives")


class ComparisonPublic(BaseModel):
    institute_id: int
    key: str
    kind: str
    title: str
    prompt: str
    columns: list[ColumnPublic] = Field(description="One per cohort (more when a cohort's runs cannot be folded)")
    combined: ColumnPublic | None = Field(description="All cohorts, over the columns that share their settings")
    notes: list[str]


class PoolPublic(BaseModel):
    institute_id: int
    kind: str = Field(description="The kind whose activities are pooled")
    label: str = Field(description="What the kind calls its pool, e.g. Resource library")
    pool: dict[str, Any] = Field(description="The kind's pool (docs/api.md: the resource library's shape)")


def _cohort_ref(cohort: Cohort) -> CohortRef:
    assert cohort.id is not None
    return CohortRef(id=cohort.id, slug=cohort.slug, name=cohort.name, site=cohort.site)


def _matched_public(item: Matched) -> MatchedPublic:
    cohorts = [_cohort_ref(cohort) for cohort in item.cohorts]
    return MatchedPublic(key=item.key, kind=item.kind, title=item.title, sessions=item.sessions, cohorts=cohorts)


def _column_public(column: Column) -> ColumnPublic:
    return ColumnPublic(
        key=column.key,
        name=column.name,
        cohort=_cohort_ref(column.cohort) if column.cohort else None,
        sessions=column.sessions,
        respondents=column.respondents,
        saved=column.saved,
        in_combined=column.in_combined,
        notes=list(column.notes),
        results=column.results,
    )


# --- reading, shared by pages and API ---------------------------------------------------------------------------


@contextmanager
def _found() -> Iterator[None]:
    """No such institute, or no cohort of it ran the activity: a 404 that says which."""
    try:
        yield
    except NotFound as missing:
        raise Problem(404, _("Not found"), str(missing)) from None


async def _matched(services: Services, institute_id: int) -> tuple[InstituteRuns, list[Matched]]:
    with _found():
        found = await institute_runs(services.db, services.registry, institute_id)
    return found, matched_activities(found)


async def _comparison(services: Services, institute_id: int, key: str) -> Comparison:
    with _found():
        return await compare(services.engine, services.db, services.registry, institute_id, key)


async def _pool(services: Services, institute_id: int, kind: str, choice: str) -> Pool:
    with _found():
        return await pool(services.engine, services.db, services.registry, institute_id, kind, choice or None)


def _attachment(body: str, media_type: str, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(body, media_type=media_type, headers=headers)


def _comparison_download(services: Services, comparison: Comparison) -> Response:
    name = f"{slugify(comparison.institute.title)}-{slugify(comparison.title)}.csv"
    body = comparison_csv(comparison, services.registry[comparison.kind])
    return _attachment(body, "text/csv; charset=utf-8", name)


def _pool_download(found: Pool, extension: str) -> Response:
    formats = {"csv": CSV, **found.kind.documents}
    if extension not in formats:
        label = _(found.kind.pool_label or "")
        raise Problem(
            404, _("Not found"), _("{pool} exports as {formats}.").format(pool=label, formats=", ".join(formats))
        )
    body = pool_csv(found) if extension == "csv" else pool_document(found, extension)
    choice = getattr(found.content, "type", None)
    suffix = f"-{slugify(choice)}" if isinstance(choice, str) and choice else ""
    name = f"{slugify(found.institute.title)}-{found.kind.name}{suffix}.{extension}"
    return _attachment(body, formats[extension], name)


async def _column_asset(services: Services, institute_id: int, key: str, column_key: str, asset: str) -> Response:
    """A column's rendered file (its word cloud), drawn by the kind as the presenter's is."""
    comparison = await _comparison(services, institute_id, key)
    column = comparison.column(column_key)
    kind = services.registry[comparison.kind]
    if column is None or asset not in kind.assets:
        raise Problem(404, _("Not found"), _("No such file."))
    try:
        rendered = await kind.render_asset(asset, column.results, column.seed, services.offload)
    except KeyError:  # kept results from before the kind drew this file
        raise Problem(404, _("Not found"), _("These results have no such file.")) from None
    return Response(rendered.body, media_type=rendered.media_type, headers={"Cache-Control": "private, max-age=60"})


# --- pages ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownActivity:
    """What a kind's results template reads of its activity, for a column that is no single session's activity."""

    id: str
    session_id: int
    kind: str
    title: str
    # A comparison shows runs as they ended: voting over and the results shown (a kind that keeps something, like a
    # right answer, from the room until then shows it here).
    voting_open: bool = False
    revealed: bool = True


def _column_html(services: Services, comparison: Comparison, column: Column, base: str) -> str:
    """A column's results in the kind's own projector template: the read-only view the room would see."""
    activity = ShownActivity(f"compare-{column.key}", 0, comparison.kind, comparison.title)
    return services.views.render(
        f"{comparison.kind}/projector.html",
        activity=activity,
        config=column.config,
        results=column.results,
        results_visible=True,
        audience="projector",
        asset_base=f"{base}/{column.key}",
    )


def _page(request: Request, services: Services, user: User, template: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(services.views.render(template, user=user, csrf=csrf_token(request), **context))


@router.get(f"{PAGES}/compare", response_class=HTMLResponse, include_in_schema=False)
async def compare_index_page(
    institute_id: Id, request: Request, user: OrganizerPage, services: ServicesDep
) -> HTMLResponse:
    """The activities the institute's cohorts ran, each with the cohorts that ran it: pick one to compare."""
    found, matched = await _matched(services, institute_id)
    labels = {kind.name: kind.label for kind in services.registry.all()}
    return _page(
        request,
        services,
        user,
        "organizer/compare_pick.html",
        institute=found.institute,
        cohorts=found.cohorts,
        matched=matched,
        labels=labels,
    )


@router.get(f"{PAGES}/compare/{{key}}", response_class=HTMLResponse, include_in_schema=False)
async def compare_page(
    institute_id: Id, key: str, request: Request, user: OrganizerPage, services: ServicesDep
) -> HTMLResponse:
    """One activity, each cohort's results side by side and all cohorts' together."""
    comparison = await _comparison(services, institute_id, key)
    base = f"/organize/institutes/{institute_id}/compare/{key}"
    columns = [(column, _column_html(services, comparison, column, base)) for column in comparison.all_columns]
    return _page(
        request,
        services,
        user,
        "organizer/compare.html",
        kinds=[comparison.kind],
        institute=comparison.institute,
        comparison=comparison,
        label=services.registry[comparison.kind].label,
        columns=columns,
        base=base,
    )


@router.get(f"{PAGES}/compare/{{key}}/export.csv", include_in_schema=False)
async def compare_export_page(institute_id: Id, key: str, user: OrganizerPage, services: ServicesDep) -> Response:
    """The comparison as CSV: one row per cohort and result line."""
    return _comparison_download(services, await _comparison(services, institute_id, key))


@router.get(f"{PAGES}/compare/{{key}}/{{column}}/{{asset}}", include_in_schema=False)
async def compare_asset_page(
    institute_id: Id, key: str, column: str, asset: str, user: OrganizerPage, services: ServicesDep
) -> Response:
    """A column's word-cloud image."""
    return await _column_asset(services, institute_id, key, column, asset)


@router.get(f"{PAGES}/pools/{{kind}}", response_class=HTMLResponse, include_in_schema=False)
async def pool_page(
    institute_id: Id, kind: str, request: Request, user: OrganizerPage, services: ServicesDep, choice: TypeFilter = ""
) -> HTMLResponse:
    """A kind's pool of every cohort's activities (the resource library), narrowed to one type of item if chosen."""
    found = await _pool(services, institute_id, kind, choice)
    chosen = getattr(found.content, "type", None)
    query = f"?{urlencode({'type': chosen})}" if chosen else ""
    base = f"/organize/institutes/{institute_id}/pools/{found.kind.name}"
    formats = ["csv", *found.kind.documents]
    return _page(
        request,
        services,
        user,
        "organizer/pool.html",
        pool=found,
        base=base,
        query=query,
        formats=formats,
        kinds=[found.kind.name],
    )


@router.get(f"{PAGES}/pools/{{kind}}/export.{{extension}}", include_in_schema=False)
async def pool_export_page(
    institute_id: Id, kind: str, extension: str, user: OrganizerPage, services: ServicesDep, choice: TypeFilter = ""
) -> Response:
    """The pool (or one type of it) as CSV, or as one of the kind's documents (a Markdown list)."""
    return _pool_download(await _pool(services, institute_id, kind, choice), extension)


# --- JSON API ---------------------------------------------------------------------------------------------------


@router.get(f"{API}/compare", response_model=list[MatchedPublic], tags=["v1: institutes"], responses=API_ERRORS)
async def compare_index_api(institute_id: Id, user: OrganizerApi, services: ServicesDep) -> list[MatchedPublic]:
    """The activities an institute's cohorts ran (the same kind and title counted once), each with its cohorts."""
    _institute, matched = await _matched(services, institute_id)
    return [_matched_public(item) for item in matched]


@router.get(f"{API}/compare/{{key}}", response_model=ComparisonPublic, tags=["v1: institutes"], responses=API_ERRORS)
async def compare_api(institute_id: Id, key: str, user: OrganizerApi, services: ServicesDep) -> ComparisonPublic:
    """One activity per cohort (each cohort's sessions folded together) and across all cohorts."""
    comparison = await _comparison(services, institute_id, key)
    return ComparisonPublic(
        institute_id=institute_id,
        key=comparison.key,
        kind=comparison.kind,
        title=comparison.title,
        prompt=comparison.prompt,
        columns=[_column_public(column) for column in comparison.columns],
        combined=_column_public(comparison.combined) if comparison.combined else None,
        notes=comparison.notes,
    )


@router.get(
    f"{API}/compare/{{key}}/export.csv",
    response_class=Response,
    tags=["v1: institutes"],
    responses={**API_ERRORS, 200: {"content": {"text/csv": {}}}},
)
async def compare_export_api(institute_id: Id, key: str, user: OrganizerApi, services: ServicesDep) -> Response:
    """The comparison as CSV: cohort, site, sessions, respondents, line, label, detail, count, share, mean, note."""
    return _comparison_download(services, await _comparison(services, institute_id, key))


@router.get(
    f"{API}/compare/{{key}}/{{column}}/{{asset}}",
    response_class=Response,
    tags=["v1: institutes"],
    responses={**API_ERRORS, 200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
async def compare_asset_api(
    institute_id: Id, key: str, column: str, asset: str, user: OrganizerApi, services: ServicesDep
) -> Response:
    """A column's rendered file: a word cloud's `cloud.png` or `cloud.svg` (column `c<cohort id>` or `all`)."""
    return await _column_asset(services, institute_id, key, column, asset)


@router.get(f"{API}/pools/{{kind}}", response_model=PoolPublic, tags=["v1: institutes"], responses=API_ERRORS)
async def pool_api(
    institute_id: Id, kind: str, user: OrganizerApi, services: ServicesDep, choice: TypeFilter = ""
) -> PoolPublic:
    """A kind's pool of every cohort's activities: for `resources`, the resource library (every cohort's shared
    resources merged, with per-cohort counts)."""
    found = await _pool(services, institute_id, kind, choice)
    return PoolPublic(
        institute_id=institute_id,
        kind=found.kind.name,
        label=found.kind.pool_label or "",
        pool=found.content.model_dump(mode="json"),
    )


@router.get(
    f"{API}/pools/{{kind}}/export.{{extension}}",
    response_class=Response,
    tags=["v1: institutes"],
    responses={**API_ERRORS, 200: {"content": {"text/csv": {}, "text/markdown": {}, "text/html": {}}}},
)
async def pool_export_api(
    institute_id: Id, kind: str, extension: str, user: OrganizerApi, services: ServicesDep, choice: TypeFilter = ""
) -> Response:
    """The pool as CSV (`export.csv`; the resource library's with per-cohort counts) or one of the kind's documents
    (`export.md`, a Markdown list)."""
    return _pool_download(await _pool(services, institute_id, kind, choice), extension)
