"""A signed-in person's own account: who they are, changing their password, their API tokens (page and JSON API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from activities.i18n import N_, _
from server.accounts.access import ACCOUNT_PAGE, ApiUser, PageUser, sign_in
from server.accounts.csrf import check_csrf, csrf_token
from server.accounts.people import (
    TOKEN_NAME_LENGTH,
    AccountRefused,
    NoSuchToken,
    WrongPassword,
    change_password,
    create_token,
    revoke_token,
    tokens_of,
)
from server.models import ApiToken, Role, User, as_utc
from server.services import Services
from server.sessions import hash_token
from server.web.deps import Id, ServicesDep, Text
from server.web.headers import NO_STORE
from server.web.i18n import in_their_language
from server.web.problems import API_ERRORS, Problem, problem_responses
from server.web.throttle import Throttled, address_of
from server.webhooks import account_webhooks

router = APIRouter(prefix=ACCOUNT_PAGE, include_in_schema=False, dependencies=[Depends(in_their_language)])

# What the page says after a change it redirected from (a fixed set: nothing from the URL reaches the page).
NOTICES = {
    "password": N_("Your password is changed. Your other browsers are signed out; this one stays signed in."),
    "revoked": N_("The token is revoked: it is refused from now on."),
}


@router.get("", response_class=HTMLResponse)
async def account_page(request: Request, user: PageUser, services: ServicesDep, done: str = "") -> HTMLResponse:
    """Who is signed in, a form to change the password, and the account's API tokens."""
    return await _page(request, services, user, notice=_(NOTICES[done]) if done in NOTICES else "")


@router.post("/password", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def new_password(
    request: Request,
    user: PageUser,
    services: ServicesDep,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    new_password_again: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change the password; this browser stays signed in (a fresh session), the account's others are signed out.

    A wrong current password counts as a failed sign-in (server/web/throttle.py): a stolen session cookie is no way
    to guess the password with.
    """
    assert user.id is not None
    address = address_of(request)
    try:
        services.throttles.login.attempt(user.email, address)
        changed = await change_password(services.db, user.id, current_password, new_password, new_password_again)
    except Throttled as throttled:
        headers = {"Retry-After": throttled.retry_after}
        return await _page(request, services, user, password_error=str(throttled), status=429, headers=headers)
    except WrongPassword as wrong:
        return await _page(request, services, user, password_error=str(wrong), status=422)
    except AccountRefused as refused:
        services.throttles.login.succeeded(user.email, address)  # the current password was right
        return await _page(request, services, user, password_error=str(refused), status=422)
    services.throttles.login.succeeded(user.email, address)
    sign_in(request, changed)
    return RedirectResponse(f"{ACCOUNT_PAGE}?done=password", status_code=303)


@router.post("/tokens", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def new_api_token(
    request: Request, user: PageUser, services: ServicesDep, name: Annotated[str, Form(max_length=400)] = ""
) -> Response:
    """Create an API token: its secret is in this answer only (the server keeps its hash)."""
    if not name.strip():
        refusal = _("Give the token a name, so you know later what it is for (e.g. “laptop script”).")
        return await _page(request, services, user, token_error=refusal, status=422)
    try:
        secret = await create_token(services.db, user.email, name, limit=services.settings.api_tokens_per_account)
    except AccountRefused as refused:
        return await _page(request, services, user, token_error=str(refused), status=422)
    return await _page(request, services, user, secret=secret, secret_name=" ".join(name.split()))


@router.post("/tokens/{token_id}/revoke", dependencies=[Depends(check_csrf)])
async def revoke_api_token(token_id: Id, user: PageUser, services: ServicesDep) -> Response:
    """Revoke one of the account's API tokens."""
    await _revoke(services, user, token_id)
    return RedirectResponse(f"{ACCOUNT_PAGE}?done=revoked", status_code=303)


async def _revoke(services: Services, user: User, token_id: int) -> None:
    try:
        await revoke_token(services.db, token_id, owner_id=user.id)
    except NoSuchToken as missing:
        raise Problem(404, "Not found", str(missing)) from None


async def _page(
    request: Request,
    services: Services,
    user: User,
    *,
    notice: str = "",
    password_error: str = "",
    token_error: str = "",
    secret: str = "",
    secret_name: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    assert user.id is not None
    html = services.views.render(
        "account/page.html",
        user=user,
        csrf=csrf_token(request),
        tokens=await tokens_of(services.db, user.id),
        notice=notice,
        password_error=password_error,
        token_error=token_error,
        secret=secret,
        secret_name=secret_name,
        limit=services.settings.api_tokens_per_account,
        webhooks=await account_webhooks(services.db, services.settings, user.id),  # its section: account/webhooks.html
    )
    # A page that may hold a new secret is never kept by the browser or a proxy.
    return HTMLResponse(html, status_code=status, headers={**NO_STORE, **(headers or {})})


# --- JSON API -----------------------------------------------------------------------------------------------------

api_router = APIRouter(
    prefix="/api/v1", tags=["v1: accounts"], responses=API_ERRORS, dependencies=[Depends(in_their_language)]
)


class TokenPublic(BaseModel):
    """An API token as its owner sees it: never its secret (the server keeps only a hash)."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = Field(description="When a request last came with it")
    revoked_at: datetime | None = Field(description="When it was revoked; a revoked token is refused")


@api_router.get("/tokens", response_model=list[TokenPublic])
async def list_tokens(user: ApiUser, services: ServicesDep) -> list[TokenPublic]:
    """The caller's API tokens, newest first, revoked ones included."""
    assert user.id is not None
    return [_token_public(token) for token in await tokens_of(services.db, user.id)]


@api_router.delete("/tokens/{token_id}", status_code=204, response_class=Response)
async def delete_token(token_id: Id, user: ApiUser, services: ServicesDep) -> Response:
    """Revoke one of the caller's API tokens (the one sending this request, too): refused from the next request on."""
    await _revoke(services, user, token_id)
    return Response(status_code=204)


def _token_public(token: ApiToken) -> TokenPublic:
    assert token.id is not None
    return TokenPublic(
        id=token.id,
        name=token.name,
        created_at=as_utc(token.created_at),
        last_used_at=as_utc(token.last_used_at) if token.last_used_at else None,
        revoked_at=as_utc(token.revoked_at) if token.revoked_at else None,
    )


# --- JSON API: the account page's actions (who am I, the password, a new token) ----------------------------------


class AccountPublic(BaseModel):
    """The account an API token belongs to."""

    id: int
    email: str
    role: Role
    password_temporary: bool = Field(description="An admin's one-time password is still set: choose one's own")


class PasswordChange(BaseModel):
    """A new password, given with the current one (as the account page asks)."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)
    new_password_again: str | None = Field(
        default=None, max_length=1024, description="Left out: the same as new_password (the page asks twice)"
    )


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=TOKEN_NAME_LENGTH, examples=["laptop script"])


class TokenCreated(TokenPublic):
    """A new API token with its secret: this answer is the only time the secret is shown (the server keeps a hash)."""

    secret: str = Field(description="Send it as Authorization: Bearer <secret>")


@api_router.get("/account", response_model=AccountPublic)
async def read_account(user: ApiUser) -> AccountPublic:
    """Who the token belongs to."""
    assert user.id is not None
    return AccountPublic(id=user.id, email=user.email, role=user.role, password_temporary=user.password_temporary)


@api_router.put("/account/password", status_code=204, response_class=Response, responses=problem_responses(429))
async def change_password_api(body: PasswordChange, request: Request, user: ApiUser, services: ServicesDep) -> Response:
    """Change the account's password: its browsers are signed out, its API tokens keep working. A wrong current
    password counts as a failed sign-in, as on the page (429 with Retry-After when there were too many)."""
    assert user.id is not None
    address = address_of(request)
    again = body.new_password if body.new_password_again is None else body.new_password_again
    try:
        services.throttles.login.attempt(user.email, address)
        await change_password(services.db, user.id, body.current_password, body.new_password, again)
    except Throttled as throttled:
        raise Problem(429, "Too many tries", str(throttled), headers={"Retry-After": throttled.retry_after}) from None
    except WrongPassword as wrong:
        raise Problem(422, "Not changed", str(wrong)) from None
    except AccountRefused as refused:
        services.throttles.login.succeeded(user.email, address)  # the current password was right
        raise Problem(422, "Not changed", str(refused)) from None
    services.throttles.login.succeeded(user.email, address)
    return Response(status_code=204, headers=NO_STORE)


@api_router.post("/tokens", status_code=201, response_model=TokenCreated)
async def create_token_api(body: TokenCreate, user: ApiUser, services: ServicesDep, response: Response) -> TokenCreated:
    """A new API token of the caller's account, named for what it is for; refused (422) when the account holds
    HANDSUP_API_TOKENS_PER_ACCOUNT tokens already."""
    assert user.id is not None
    if not body.name.strip():
        raise Problem(422, "No token made", "Give the token a name, so you know later what it is for.")
    try:
        secret = await create_token(services.db, user.email, body.name, limit=services.settings.api_tokens_per_account)
    except AccountRefused as refused:
        raise Problem(422, "No token made", str(refused)) from None
    digest = hash_token(secret)
    token = next(token for token in await tokens_of(services.db, user.id) if token.token_hash == digest)
    response.headers.update(NO_STORE)  # the secret is never kept by a cache
    return TokenCreated(**_token_public(token).model_dump(), secret=secret)
