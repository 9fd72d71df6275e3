"""Errors as people read them: problem+json bodies for the API (RFC 9457), pages for browsers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
# Text without control characters other than tab and line breaks (the JSON API's `Text`, in server/routes).
TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"


class Problem(HTTPException):
    """An error with a title and a detail a person can act on."""

    def __init__(
        self, status: int, title: str, detail: str = "", headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(status_code=status, detail=detail or title, headers=headers)
        self.title = title
        self.extra = extra


def problem_response(
    status: int, title: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def wants_page(request: Request) -> bool:
    """Whether to answer with an HTML page rather than problem+json."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


async def http_exception_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    title = getattr(error, "title", None) or _TITLES.get(error.status_code, "Error")
    detail = str(error.detail)
    if wants_page(request):
        templates = request.app.state.services.views
        html = templates.render("errors/message.html", title=title, detail=detail, status=error.status_code)
        return Response(html, status_code=error.status_code, media_type="text/html", headers=error.headers)
    return problem_response(error.status_code, title, detail, error.headers, **getattr(error, "extra", {}))


def describe_errors(items: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Pydantic's errors as one readable line ("body.deck_id: Input should be a valid integer") and a list."""
    errors: list[dict[str, Any]] = []
    lines: list[str] = []
    for item in items:
        loc = [str(part) for part in item.get("loc", ())]
        msg = str(item.get("msg", ""))
        if item.get("type") == "string_pattern_mismatch" and (item.get("ctx") or {}).get("pattern") == TEXT_PATTERN:
            msg = _control_character(str(item.get("input", "")))
        errors.append({"loc": loc, "msg": msg})
        lines.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    return "; ".join(lines[:5]), errors


def unstorable(text: str) -> str | None:
    """Why a text cannot be stored or shown (a control character: PostgreSQL refuses NUL), or None."""
    return None if re.fullmatch(TEXT_PATTERN, text) else _control_character(text)


def _control_character(text: str) -> str:
    """What is wrong with text that does not match TEXT_PATTERN, naming the character (it does not show)."""
    found = next((ch for ch in text if re.fullmatch(TEXT_PATTERN, ch) is None), "\x00")
    return f"the control character U+{ord(found):04X} cannot be stored or shown: remove it"


async def validation_exception_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    detail, errors = describe_errors(error.errors())
    return problem_response(422, "The request is not valid", detail, errors=errors)


class ProblemBody(BaseModel):
    """An error (RFC 9457 problem details); `detail` is written for people."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries saying these statuses answer with application/problem+json."""
    schema = ProblemBody.model_json_schema()
    return {
        status: {"description": _TITLES.get(status, "Error"), "content": {PROBLEM_JSON: {"schema": schema}}}
        for status in statuses
    }


_TITLES = {
    400: "Bad request",
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Too large",
    415: "Unsupported media type",
    422: "Not valid",
    429: "Too many requests",
    503: "Busy",
}

# What any /api/v1 route may answer besides its own success: a body that is not JSON (400), no or a wrong token (401),
# not allowed (403), no such thing (404), not now (409), a body of another media type (415), not valid (422), and a
# server too busy to store it (503). Routes that can also give 413 or 429 add them.
API_ERRORS = problem_responses(400, 401, 403, 404, 409, 415, 422, 503)
