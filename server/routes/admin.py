"""Administrators: the people page (every account; new accounts, roles, disabling and enabling)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.accounts.access import AdminPage
from server.accounts.csrf import check_csrf, csrf_token
from server.accounts.people import AccountRefused, add_user, one_time_password, people, set_disabled, set_role
from server.models import Role, User
from server.services import Services
from server.web.deps import ServicesDep
from server.web.headers import NO_STORE

router = APIRouter(prefix="/admin", include_in_schema=False)
PEOPLE = "/admin/people"
NOTICES = {
    "role": "The role is changed.",
    "disabled": "The account is disabled: it is signed out and its API tokens are refused.",
    "enabled": "The account is enabled again.",
}


@router.get("/people", response_class=HTMLResponse)
async def people_page(request: Request, user: AdminPage, services: ServicesDep, done: str = "") -> HTMLResponse:
    """Every account with its role and API tokens, and a form for a new one."""
    return await _page(request, services, user, notice=NOTICES.get(done, ""))


@router.post("/people", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def new_account(
    request: Request,
    user: AdminPage,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Create an account with a one-time password (the admin's, or one made here): its owner chooses their own at
    first sign-in. A password made here is shown in this answer only."""
    chosen = _role(role)
    if chosen is None:
        return await _page(request, services, user, create_error=_NO_ROLE, email=email, role=role, status=422)
    given = password or one_time_password()
    try:
        created = await add_user(services.db, email, given, chosen, temporary=True)
    except AccountRefused as refused:
        return await _page(request, services, user, create_error=str(refused), email=email, role=role, status=422)
    return await _page(request, services, user, created=created, password="" if password else given)


@router.post("/people/{user_id}/role", dependencies=[Depends(check_csrf)])
async def change_role(
    user_id: int,
    request: Request,
    user: AdminPage,
    services: ServicesDep,
    role: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Give an account another role (never the last administrator's away)."""
    chosen = _role(role)
    if chosen is None:
        return await _page(request, services, user, error=_NO_ROLE, status=422)
    try:
        await set_role(services.db, user, user_id, chosen)
    except AccountRefused as refused:
        return await _page(request, services, user, error=str(refused), status=409)
    return RedirectResponse(f"{PEOPLE}?done=role", status_code=303)


@router.post("/people/{user_id}/disable", dependencies=[Depends(check_csrf)])
async def disable(user_id: int, request: Request, user: AdminPage, services: ServicesDep) -> Response:
    """Disable an account: signed out everywhere, its tokens refused, nothing of it deleted."""
    return await _switch(request, services, user, user_id, disabled=True)


@router.post("/people/{user_id}/enable", dependencies=[Depends(check_csrf)])
async def enable(user_id: int, request: Request, user: AdminPage, services: ServicesDep) -> Response:
    """Enable a disabled account again (its browsers sign in anew)."""
    return await _switch(request, services, user, user_id, disabled=False)


async def _switch(request: Request, services: Services, user: User, user_id: int, *, disabled: bool) -> Response:
    try:
        await set_disabled(services.db, user, user_id, disabled)
    except AccountRefused as refused:
        return await _page(request, services, user, error=str(refused), status=409)
    return RedirectResponse(f"{PEOPLE}?done={'disabled' if disabled else 'enabled'}", status_code=303)


_NO_ROLE = "Choose a role: presenter, organizer or admin."


def _role(value: str) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None


async def _page(
    request: Request,
    services: Services,
    user: User,
    *,
    notice: str = "",
    error: str = "",
    create_error: str = "",
    email: str = "",
    role: str = "",
    created: User | None = None,
    password: str = "",
    status: int = 200,
) -> HTMLResponse:
    html = services.views.render(
        "admin/people.html",
        user=user,
        csrf=csrf_token(request),
        people=await people(services.db),
        roles=list(Role),
        notice=notice,
        error=error,
        create_error=create_error,
        email=email[:254],
        role=role if role in Role.__members__ else Role.presenter.value,
        created=created,
        password=password,
    )
    # A page that may hold a new account's password is never kept by the browser or a proxy.
    return HTMLResponse(html, status_code=status, headers=NO_STORE)
