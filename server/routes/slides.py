"""Slide import: a PDF or PowerPoint file becomes stored page images, for the deck editor's content slides.

`POST /present/slides` (the editor: signed in, the CSRF token in the X-CSRF-Token header) and `POST /api/v1/slides`
(an API token) take the multipart field `file` and answer with NDJSON, one JSON object per line, so the editor can
show progress: `{"pages": N}` once the pages are counted, `{"page": i}` as each is stored, then `{"slides": [...],
"filename": ...}`, or `{"error": "..."}` and nothing after it. What is refused before the first line (too large,
not slides, not signed in, too many imports) is an ordinary problem response. Nothing is written to any deck here:
the editor adds the slides to its deck and saves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from activities.i18n import _
from server.accounts.access import ApiUser, PageUser
from server.accounts.csrf import check_upload_csrf
from server.models import User
from server.services import Services
from server.slideimport import (
    FileTooLarge,
    ImportBusy,
    ImportedSlide,
    ImportGate,
    ImportLimits,
    ImportRefused,
    NotSlides,
    PageCount,
    accept,
    import_slides,
    shown_name,
    workspace,
)
from server.web.bodies import UPLOAD_BODY, uploaded_file
from server.web.deps import ServicesDep
from server.web.i18n import in_their_language
from server.web.problems import API_ERRORS, Problem, problem_responses

log = logging.getLogger(__name__)
router = APIRouter()

NDJSON = "application/x-ndjson"

STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": 'NDJSON, one object a line: {"pages": N}, then {"page": i} per stored page, then '
        '{"slides": [{"media", "url", "width", "height", "title"}...], "filename": ...}; or {"error": "..."} last',
        "content": {NDJSON: {"schema": {"type": "string"}}},
    }
}


@router.post("/present/slides", include_in_schema=False, dependencies=[Depends(in_their_language)])
async def import_page(request: Request, user: PageUser, services: ServicesDep) -> StreamingResponse:
    """Import slides for the deck editor (multipart field `file`; the CSRF token in the X-CSRF-Token header, as the
    editor sends it, or the form's `csrf_token` field)."""
    return await _import(request, user, services, csrf=True)


@router.post(
    "/api/v1/slides",
    tags=["v1"],
    response_class=StreamingResponse,
    responses={**STREAM_RESPONSE, **API_ERRORS, **problem_responses(413, 429)},
    openapi_extra=UPLOAD_BODY,
)
async def import_api(request: Request, user: ApiUser, services: ServicesDep) -> StreamingResponse:
    """Turn a PDF, PowerPoint (.pptx, .ppt) or OpenDocument (.odp) deck into one stored image per page (multipart
    field `file`), streamed as NDJSON progress. 413 too large, 415 not slides, 429 an import already running."""
    return await _import(request, user, services, csrf=False)


async def _import(request: Request, user: User, services: Services, *, csrf: bool) -> StreamingResponse:
    assert user.id is not None
    limits = ImportLimits.from_settings(services.settings)
    async with contextlib.AsyncExitStack() as stack:
        workdir = stack.enter_context(workspace())
        filename, source = await _receive(request, limits, workdir, csrf=csrf)
        try:
            kind = await asyncio.to_thread(accept, source, limits)
        except FileTooLarge as refused:
            raise Problem(413, _("Too large"), f"{refused}.") from None
        except NotSlides as refused:
            raise Problem(415, _("Not slides"), f"{refused}.") from None
        except ImportRefused as refused:
            raise Problem(422, _("Not imported"), f"{refused}.") from None
        try:
            stack.enter_context(_gate(request, services).admit(user.id))
        except ImportBusy as busy:
            raise Problem(429, _("Too many imports"), f"{busy}.", {"Retry-After": str(busy.retry_after)}) from None
        source = source.rename(source.with_suffix(f".{kind}"))  # LibreOffice picks its reader by the name first
        events = import_slides(services, source, kind, workdir, limits, user_id=user.id)
        response = ImportStream(_lines(events, filename), stack.pop_all())
    return response


async def _receive(request: Request, limits: ImportLimits, workdir: Path, *, csrf: bool) -> tuple[str, Path]:
    """The uploaded file, copied into the import's folder (read with the limit counted as it arrives); from a
    browser, only once its CSRF token holds."""
    too_large = Problem(413, _("Too large"), f"{limits.too_large()}.")
    missing = ("No file", "the PDF or PowerPoint file")
    check = check_upload_csrf if csrf else None
    async with uploaded_file(request, limits.max_bytes, too_large=too_large, missing=missing, check=check) as upload:
        source = workdir / "upload"
        with source.open("wb") as out:
            await asyncio.to_thread(shutil.copyfileobj, upload.file, out)
        return shown_name(upload.filename), source


def _gate(request: Request, services: Services) -> ImportGate:
    """This process's gate of running imports (one per account, `import_at_once` in all)."""
    state = request.app.state
    if getattr(state, "slide_imports", None) is None:
        state.slide_imports = ImportGate(services.settings.import_at_once, services.settings.import_seconds)
    gate: ImportGate = state.slide_imports
    return gate


async def _lines(events: AsyncGenerator[PageCount | ImportedSlide, None], filename: str) -> AsyncIterator[bytes]:
    """The import's progress as NDJSON lines; a refusal (or a failure of ours) is the last line."""
    slides: list[dict[str, Any]] = []
    try:
        async with contextlib.aclosing(events):
            async for event in events:
                if isinstance(event, PageCount):
                    yield _line({"pages": event.total})
                    continue
                slides.append(_slide(event))
                yield _line({"page": event.number})
    except ImportRefused as refused:
        yield _line({"error": f"{refused}."})
        return
    except Exception:  # the status line is sent: say so in the stream rather than cut it off
        log.exception("slide import failed")
        yield _line({"error": "The import failed on the server; nothing was added. Please try again."})
        return
    yield _line({"slides": slides, "filename": filename})


def _slide(slide: ImportedSlide) -> dict[str, Any]:
    return {"media": slide.media, "url": slide.url, "width": slide.width, "height": slide.height, "title": slide.title}


def _line(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, ensure_ascii=False) + "\n").encode()


class ImportStream(StreamingResponse):
    """The NDJSON stream of one import. However it ends (finished, refused, or the client gone), the import's child
    processes are killed, its folder removed and its place at the gate given back, right then."""

    def __init__(self, lines: AsyncIterator[bytes], cleanup: contextlib.AsyncExitStack) -> None:
        super().__init__(lines, media_type=NDJSON, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self._lines = lines
        self._cleanup = cleanup

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            aclose = getattr(self._lines, "aclose", None)
            if aclose is not None:
                await aclose()
            await self._cleanup.aclose()
