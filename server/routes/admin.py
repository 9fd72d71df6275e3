"""Administrators: the people page (every account; new accounts, roles, disabling and enabling)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activities.i18n import N_, _
from server.accounts.access import AdminPage
from server.accounts.csrf import check_csrf, csrf_token
from server.accounts.identities import approve, identities_by_user, link, unlink
from server.accounts.people import AccountRefused, add_user, one_time_password, people, set_disabled, set_role
from server.models import Role, User
from server.services import Services
from server.web.deps import ServicesDep
from server.web.headers import NO_STORE
from server.web.i18n import in_their_language

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(in_their_language)])
PEOPLE = "/admin/people"
NOTICES = {
    "role": N_("The role is changed."),
    "disabled": N_("The account is disabled: it is signed out and its API tokens are refused."),
    "enabled": N_("The account is enabled again."),
    "approved": N_("The account is approved: its owner can sign in now."),
    "linked": N_("The sign-in is linked: from now on it opens that account."),
    "unlinked": N_("The sign-in is removed from the account."),
}


@router.get("/people", response_class=HTMLResponse)
async def people_page(request: Request, user: AdminPage, services: ServicesDep, done: str = "") -> HTMLResponse:
    """Every account with its role and API tokens, and a form for a new one."""
    return await _page(request, services, user, notice=_(NOTICES[done]) if done in NOTICES else "")


@router.post("/people", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def new_account(
    request: Request,
    user: AdminPage,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    sign_in: Annotated[str, Form(max_length=20)] = "password",
) -> Response:
    """Create an account with a one-time password (the admin's, or one made here): its owner chooses their own at
    first sign-in. A password made here is shown in this answer only. With sign_in=provider (or with password
    sign-in switched off), the account has no password: its owner signs in through a single sign-on provider."""
    chosen = _role(role)
    if chosen is None:
        return await _page(request, services, user, create_error=_(_NO_ROLE), email=email, role=role, status=422)
    passwordless = sign_in == "provider" or not services.settings.password_sign_in
    given = None if passwordless else (password or one_time_password())
    try:
        created = await add_user(services.db, email, given, chosen, temporary=not passwordless)
    except AccountRefused as refused:
        return await _page(request, services, user, create_error=str(refused), email=email, role=role, status=422)
    return await _page(request, services, user, created=created, password="" if password or given is None else given)


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
        return await _page(request, services, user, error=_(_NO_ROLE), status=422)
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


@router.post("/people/{user_id}/approve", dependencies=[Depends(check_csrf)])
async def approve_account(user_id: int, request: Request, user: AdminPage, services: ServicesDep) -> Response:
    """Let in an account a single sign-on created waiting for approval."""
    try:
        await approve(services.db, user, user_id)
    except AccountRefused as refused:
        return await _page(request, services, user, error=str(refused), status=404)
    return RedirectResponse(f"{PEOPLE}?done=approved", status_code=303)


@router.post("/identities/{identity_id}/link", dependencies=[Depends(check_csrf)])
async def link_identity(identity_id: int, request: Request, user: AdminPage, services: ServicesDep) -> Response:
    """Link a provider's sign-in to the existing account with its email (the person asked, by signing in)."""
    try:
        await link(services.db, user, identity_id)
    except AccountRefused as refused:
        return await _page(request, services, user, error=str(refused), status=404)
    return RedirectResponse(f"{PEOPLE}?done=linked", status_code=303)


@router.post("/identities/{identity_id}/unlink", dependencies=[Depends(check_csrf)])
async def unlink_identity(identity_id: int, request: Request, user: AdminPage, services: ServicesDep) -> Response:
    """Refuse a link request, or undo a link: that sign-in no longer opens the account."""
    try:
        await unlink(services.db, user, identity_id)
    except AccountRefused as refused:
        return await _page(request, services, user, error=str(refused), status=404)
    return RedirectResponse(f"{PEOPLE}?done=unlinked", status_code=303)


async def _switch(request: Request, services: Services, user: User, user_id: int, *, disabled: bool) -> Response:
    try:
        await set_disabled(services.db, user, user_id, disabled)
    except AccountRefused as refused:
        return await _page(request, services, user, error=str(refused), status=409)
    return RedirectResponse(f"{PEOPLE}?done={'disabled' if disabled else 'enabled'}", status_code=303)


_NO_ROLE = N_("Choose a role: presenter, organizer or admin.")
ROLE_WORDS = (N_("presenter"), N_("organizer"), N_("admin"))  # the role names the page shows, translated there


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
        identities=await identities_by_user(services.db),
        providers={provider.config.name: provider.config.title for provider in services.oidc},
        passwords=services.settings.password_sign_in,
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
