"""Signing in and out, and the first-run setup link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.accounts import AccountRefused, add_user, authenticate, count_users
from server.auth import ServicesDep, check_csrf, csrf_token
from server.models import Role
from server.problems import Problem
from server.security import setup_token_valid

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only paths on this server: never an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/present"


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, services: ServicesDep, next: str = "/present") -> HTMLResponse:
    html = services.views.render(
        "auth/login.html", csrf=csrf_token(request), next=_safe_next(next), error=None, email=""
    )
    return HTMLResponse(html)


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def login(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/present",
) -> Response:
    user = await authenticate(services.db, email, password)
    if user is None:
        html = services.views.render(
            "auth/login.html",
            csrf=csrf_token(request),
            next=_safe_next(next),
            error="That email and password do not match an account.",
            email=email,
        )
        return HTMLResponse(html, status_code=401)
    request.session.clear()
    request.session["user_id"] = user.id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
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


@router.get("/setup/{token}", response_class=HTMLResponse)
async def setup_page(token: str, request: Request, services: ServicesDep) -> HTMLResponse:
    """The one-time page that creates the first (admin) account."""
    await _check_setup(services, token)
    return HTMLResponse(
        services.views.render("auth/setup.html", csrf=csrf_token(request), error=None, email="", token=token)
    )


@router.post("/setup/{token}", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def setup(
    token: str,
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    await _check_setup(services, token)
    try:
        user = await add_user(services.db, email, password, Role.admin, only_if_first=True)
    except AccountRefused as refused:
        html = services.views.render(
            "auth/setup.html", csrf=csrf_token(request), error=str(refused), email=email, token=token
        )
        return HTMLResponse(html, status_code=422)
    request.session.clear()
    request.session["user_id"] = user.id
    return RedirectResponse("/present", status_code=303)
