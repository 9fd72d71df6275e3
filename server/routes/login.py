"""Signing in and out, and the first-run setup link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.accounts.access import Access, declare, sign_in
from server.accounts.csrf import check_csrf, csrf_token
from server.accounts.people import AccountDisabled, AccountRefused, add_user, authenticate, count_users
from server.accounts.security import setup_token_valid
from server.models import Role
from server.web.deps import ServicesDep
from server.web.problems import Problem
from server.web.throttle import Throttled, address_of

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only paths on this server: never an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/present"


@router.get("/login", response_class=HTMLResponse, dependencies=[declare(Access.anyone)])
async def login_page(request: Request, services: ServicesDep, next: str = "/present") -> HTMLResponse:
    html = services.views.render(
        "auth/login.html", csrf=csrf_token(request), next=_safe_next(next), error=None, email=""
    )
    return HTMLResponse(html)


@router.post("/login", response_class=HTMLResponse, dependencies=[declare(Access.anyone), Depends(check_csrf)])
async def login(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/present",
) -> Response:
    refusal, status, headers = "That email and password do not match an account.", 401, {}
    # Throttled per account and per address before the password is even checked (server/web/throttle.py).
    account, address = email.strip().lower(), address_of(request)
    try:
        services.throttles.login.attempt(account, address)
        user = await authenticate(services.db, email, password)
    except AccountDisabled as disabled:
        user, refusal, status = None, str(disabled), 403
    except Throttled as throttled:
        user, refusal, status, headers = None, str(throttled), 429, {"Retry-After": throttled.retry_after}
    if user is None:
        html = services.views.render(
            "auth/login.html",
            csrf=csrf_token(request),
            next=_safe_next(next),
            error=refusal,
            email=email,
        )
        return HTMLResponse(html, status_code=status, headers=headers)
    services.throttles.login.succeeded(account, address)
    sign_in(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[declare(Access.anyone), Depends(check_csrf)])
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def _check_setup(services: ServicesDep, token: str) -> None:
    if not setup_token_valid(services.settings.resolved_secret_key, token) or await count_users(services.db):
        raise Problem(
            404,
            "Setup link used",
            "This setup link is not valid any more: the server has an "
            "administrator already. Sign in, or ask your administrator for an account.",
        )


@router.get("/setup/{token}", response_class=HTMLResponse, dependencies=[declare(Access.anyone)])
async def setup_page(token: str, request: Request, services: ServicesDep) -> HTMLResponse:
    """The one-time page that creates the first (admin) account."""
    await _check_setup(services, token)
    return HTMLResponse(
        services.views.render("auth/setup.html", csrf=csrf_token(request), error=None, email="", token=token)
    )


@router.post("/setup/{token}", response_class=HTMLResponse, dependencies=[declare(Access.anyone), Depends(check_csrf)])
async def setup(
    token: str,
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    throttle, address = services.throttles.login, address_of(request)
    try:
        throttle.attempt(None, address)  # a link that is not valid counts as a failed sign-in from this address
    except Throttled as throttled:
        raise Problem(429, "Too many tries", str(throttled), {"Retry-After": throttled.retry_after}) from None
    await _check_setup(services, token)
    throttle.succeeded(None, address)
    try:
        user = await add_user(services.db, email, password, Role.admin, only_if_first=True)
    except AccountRefused as refused:
        html = services.views.render(
            "auth/setup.html", csrf=csrf_token(request), error=str(refused), email=email, token=token
        )
        return HTMLResponse(html, status_code=422)
    sign_in(request, user)
    return RedirectResponse("/present", status_code=303)
