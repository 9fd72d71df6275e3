"""Administrators: the people page (every account; new accounts, roles, disabling and enabling)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from activities.i18n import N_, _
from server.accounts.access import AdminApi, AdminPage
from server.accounts.csrf import check_csrf, csrf_token
from server.accounts.identities import approve, identities_by_user, link, unlink
from server.accounts.people import (
    AccountRefused,
    NoSuchAccount,
    add_user,
    one_time_password,
    people,
    set_disabled,
    set_role,
)
from server.models import Role, User, UserIdentity, as_utc
from server.services import Services
from server.web.deps import Id, ServicesDep, Text
from server.web.headers import NO_STORE
from server.web.i18n import in_their_language
from server.web.problems import API_ERRORS, Problem

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
    return await _acted(request, services, user, approve(services.db, user, user_id), "approved")


@router.post("/identities/{identity_id}/link", dependencies=[Depends(check_csrf)])
async def link_identity(identity_id: int, request: Request, user: AdminPage, services: ServicesDep) -> Response:
    """Link a provider's sign-in to the existing account with its email (the person asked, by signing in)."""
    return await _acted(request, services, user, link(services.db, user, identity_id), "linked")


@router.post("/identities/{identity_id}/unlink", dependencies=[Depends(check_csrf)])
async def unlink_identity(identity_id: int, request: Request, user: AdminPage, services: ServicesDep) -> Response:
    """Refuse a link request, or undo a link: that sign-in no longer opens the account."""
    return await _acted(request, services, user, unlink(services.db, user, identity_id), "unlinked")


async def _acted(request: Request, services: Services, user: User, action: Awaitable[object], done: str) -> Response:
    """The people page after a single sign-on action: saying it is `done`, or why there was nothing to act on."""
    try:
        await action
    except AccountRefused as refused:
        return await _page(request, services, user, error=str(refused), status=404)
    return RedirectResponse(f"{PEOPLE}?done={done}", status_code=303)


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


# --- JSON API: the people page's actions ------------------------------------------------------------------------

api_router = APIRouter(
    prefix="/api/v1", tags=["v1: people"], responses=API_ERRORS, dependencies=[Depends(in_their_language)]
)


class IdentityPublic(BaseModel):
    """An account's sign-in at a single sign-on provider, matched by (issuer, subject). Unlinked, it is a request:
    the provider's person has the email of an existing account, and an administrator links it or refuses it."""

    id: int
    provider: str = Field(description="The provider's name in the server's settings")
    issuer: str
    subject: str
    email: str
    linked: bool


class PersonPublic(BaseModel):
    """An account as the people page lists it."""

    id: int
    email: str
    role: Role
    created_at: datetime
    disabled: bool = Field(description="A disabled account can neither sign in nor use its API tokens")
    password_temporary: bool = Field(description="Its one-time password is still set: it chooses its own next")
    tokens: int = Field(description="API tokens it holds (not revoked)")
    pending: bool = Field(description="A single sign-on made it waiting for an administrator's approval")
    identities: list[IdentityPublic] = Field(description="Its sign-ins at single sign-on providers, linked or asked")


class PersonCreate(BaseModel):
    """A new account, with a one-time password its owner replaces at first sign-in."""

    model_config = ConfigDict(extra="forbid")

    email: Text = Field(max_length=254, examples=["new.facilitator@example.org"])
    role: Role = Role.presenter
    password: str | None = Field(
        default=None, max_length=1024, description="The one-time password to pass on; left out: the server makes one"
    )
    sign_in: Literal["password", "provider"] = Field(
        default="password",
        description="`provider`: no password, its owner signs in through a single sign-on provider (always so when "
        "password sign-in is switched off)",
    )


class PersonCreated(PersonPublic):
    password: str | None = Field(description="The one-time password the server made (null when you gave one)")


class PersonUpdate(BaseModel):
    """What changes: a role, disabled or enabled again (the fields given)."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = None
    pending: Literal[False] | None = Field(default=None, description="false approves an account waiting for approval")


@api_router.get("/people", response_model=list[PersonPublic])
async def list_people(user: AdminApi, services: ServicesDep) -> list[PersonPublic]:
    """Every account, by email."""
    identities = await identities_by_user(services.db)
    return [_person(person.user, person.tokens, identities) for person in await people(services.db)]


@api_router.post("/people", status_code=201, response_model=PersonCreated)
async def create_person(body: PersonCreate, user: AdminApi, services: ServicesDep, response: Response) -> PersonCreated:
    """Create an account with a one-time password (yours, or one made here and answered once)."""
    passwordless = body.sign_in == "provider" or not services.settings.password_sign_in
    if passwordless and body.password:
        raise Problem(422, "No account made", _("An account that signs in through a provider has no password."))
    given = None if passwordless else (body.password or one_time_password())
    try:
        created = await add_user(services.db, body.email, given, body.role, temporary=not passwordless)
    except AccountRefused as refused:
        raise Problem(422, "No account made", str(refused)) from None
    response.headers.update(NO_STORE)  # may hold a password
    made = None if body.password or given is None else given
    return PersonCreated(**_person(created, 0, {}).model_dump(), password=made)


@api_router.patch("/people/{user_id}", response_model=PersonPublic)
async def update_person(user_id: Id, body: PersonUpdate, user: AdminApi, services: ServicesDep) -> PersonPublic:
    """Change an account's role and/or disable or enable it (never the last administrator's, nor your own disabling:
    409). The role changes first."""
    try:
        if body.role is not None:
            await set_role(services.db, user, user_id, body.role)
        if body.disabled is not None:
            await set_disabled(services.db, user, user_id, body.disabled)
        if body.pending is False:
            await approve(services.db, user, user_id)
    except NoSuchAccount as missing:
        raise Problem(404, "Not found", str(missing)) from None
    except AccountRefused as refused:
        raise Problem(409, "Not changed", str(refused)) from None
    return await _person_by_id(services, user_id)


@api_router.post("/identities/{identity_id}/link", response_model=PersonPublic)
async def link_identity_api(identity_id: Id, user: AdminApi, services: ServicesDep) -> PersonPublic:
    """Link a provider's sign-in to the existing account with its email: from now on it opens that account."""
    try:
        identity = await link(services.db, user, identity_id)
    except NoSuchAccount as missing:
        raise Problem(404, "Not found", str(missing)) from None
    return await _person_by_id(services, identity.user_id)


@api_router.delete("/identities/{identity_id}", status_code=204)
async def unlink_identity_api(identity_id: Id, user: AdminApi, services: ServicesDep) -> Response:
    """Refuse a link request, or undo a link: that sign-in no longer opens the account."""
    await unlink(services.db, user, identity_id)
    return Response(status_code=204)


async def _person_by_id(services: Services, user_id: int) -> PersonPublic:
    found = next((person for person in await people(services.db) if person.user.id == user_id), None)
    if found is None:
        raise Problem(404, "Not found", _("There is no such account."))
    return _person(found.user, found.tokens, await identities_by_user(services.db))


def _person(person: User, tokens: int, identities: dict[int, list[UserIdentity]]) -> PersonPublic:
    assert person.id is not None
    return PersonPublic(
        id=person.id,
        email=person.email,
        role=person.role,
        created_at=as_utc(person.created_at),
        disabled=person.disabled_at is not None,
        password_temporary=person.password_temporary,
        tokens=tokens,
        pending=person.pending,
        identities=[
            IdentityPublic(
                id=identity.id or 0,
                provider=identity.provider,
                issuer=identity.issuer,
                subject=identity.subject,
                email=identity.email,
                linked=identity.linked,
            )
            for identity in identities.get(person.id, [])
        ],
    )
