"""The language switch: a plain link on participant and projector pages (no JavaScript), remembered in a cookie."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from server.accounts.access import Access, declare
from server.web.deps import ServicesDep, keep_cookie
from server.web.i18n import COOKIE, COOKIE_DAYS, catalogues
from server.web.problems import Problem

router = APIRouter(include_in_schema=False)


@router.get("/language/{code}", dependencies=[declare(Access.anyone)])
async def choose_language(code: str, request: Request, services: ServicesDep, next: str = "/") -> RedirectResponse:
    """Speak `code` from now on in this browser, then back to the page the switch was on."""
    if code not in catalogues().codes:
        raise Problem(404, "Not found", f"There is no language {code[:20]!r} here.")
    response = RedirectResponse(local_path(next), status_code=303)
    keep_cookie(response, services.settings, COOKIE, code, COOKIE_DAYS)
    return response


def local_path(target: str) -> str:
    """`target` if it is a path on this site, else the join page: the switch never sends anyone elsewhere."""
    if not target.startswith("/") or target.startswith(("//", "/\\")) or any(ord(ch) < 32 for ch in target):
        return "/"
    return target[:2000]
