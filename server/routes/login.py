"""Signing in and out (a password, or a single sign-on provider), and the first-run setup link."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activities.i18n import N_, _
from server.accounts.access import Access, declare, sign_in
from server.accounts.csrf import check_csrf, csrf_token
from server.accounts.identities import Claims, Refused, admit
from server.accounts.oidc import Pending, Provider, ProviderUnreachable, SignInFailed
from server.accounts.people import AccountDisabled, AccountRefused, add_user, authenticate, count_users
from server.accounts.security import setup_token_valid
from server.models import Role
from server.services import Services
from server.web.deps import ServicesDep
from server.web.i18n import in_their_language
from server.web.problems import Problem
from server.web.throttle import Throttled, address_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(in_their_language)])
log = logging.getLogger("handsup")
PENDING = "oidc"  # the session key of a single sign-on under way


def _safe_next(target: str) -> str:
    """Only paths on this server: never an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/present"


@router.get("/login", response_class=HTMLResponse, dependencies=[declare(Access.anyone)])
async def login_page(request: Request, services: ServicesDep, next: str = "/present") -> HTMLResponse:
    """The sign-in page: a button per single sign-on provider, and the password form unless it is switched off."""
    return _login_page(request, services, next=next)


def _login_page(
    request: Request, services: Services, *, next: str, error: str | None = None, email: str = "", status: int = 200
) -> HTMLResponse:
    html = services.views.render(
        "auth/login.html",
        csrf=csrf_token(request),
        next=_safe_next(next),
        error=error,
        email=email,
        providers=[provider.config for provider in services.oidc],
        passwords=services.settings.password_sign_in,
    )
    return HTMLResponse(html, status_code=status)


async def _passwords_on(services: ServicesDep) -> None:
    """Refuse a password sign-in where only providers let people in (before anything else is checked)."""
    if not services.settings.password_sign_in:
        refusal = _("Signing in with a password is switched off on this server: use a sign-in button on /login.")
        raise Problem(403, _("Password sign-in is off"), refusal)


@router.post(
    "/login",
    response_class=HTMLResponse,
    dependencies=[declare(Access.anyone), Depends(_passwords_on), Depends(check_csrf)],
)
async def login(
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/present",
) -> Response:
    """Sign in with an email and a password (refused when the server lets people in only through a provider)."""
    refusal, status, headers = _("That email and password do not match an account."), 401, {}
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
        page = _login_page(request, services, next=next, error=refusal, email=email, status=status)
        page.headers.update(headers)
        return page
    services.throttles.login.succeeded(account, address)
    sign_in(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.get("/login/oidc/{name}", dependencies=[declare(Access.anyone)])
async def oidc_start(
    name: str, request: Request, services: ServicesDep, next: Annotated[str, Query(max_length=1000)] = "/present"
) -> Response:
    """Leave for the provider's sign-in, with a fresh state, nonce and PKCE verifier kept in this browser's session."""
    provider = _provider(services, name)
    pending = Pending.start(provider.config.name, _safe_next(next))
    try:
        target = await provider.authorization_url(pending, _callback_url(request, services, name))
    except ProviderUnreachable as problem:
        return _unreachable(request, services, provider, problem)
    request.session[PENDING] = pending.as_session()
    return RedirectResponse(target, status_code=303)


@router.get("/login/oidc/{name}/callback", name="oidc_callback", dependencies=[declare(Access.anyone)])
async def oidc_callback(name: str, request: Request, services: ServicesDep) -> Response:
    """The provider's answer: the code is redeemed, the ID token checked, and the account found or made.

    The sign-in under way is taken out of the session first, so an answer counts once: a replayed or forged
    callback finds nothing to finish."""
    provider = _provider(services, name)
    pending = Pending.from_session(request.session.pop(PENDING, None))
    if pending is None or pending.provider != name:
        return _refused(request, services, _("Sign-in expired"), _SIGN_IN_GONE, 400)
    if time.time() - pending.started > services.settings.oidc_sign_in_seconds:
        return _refused(request, services, _("Sign-in expired"), _SIGN_IN_GONE, 400)
    params = {key: value[:2048] for key, value in request.query_params.items()}
    throttle, address = services.throttles.login, address_of(request)
    try:
        throttle.attempt(None, address)  # a failed single sign-on counts as a failed sign-in from this address
    except Throttled as throttled:
        page = _refused(request, services, _("Too many tries"), str(throttled), 429)
        page.headers["Retry-After"] = throttled.retry_after
        return page
    try:
        claims = await provider.finish(pending, params, _callback_url(request, services, name))
        user = await admit(
            services.db,
            provider.config,
            Claims.of(claims, emails_verified=provider.config.emails_verified),
            link_verified_email=services.settings.oidc_link_verified_email,
        )
    except ProviderUnreachable as problem:
        return _unreachable(request, services, provider, problem)
    except SignInFailed as failed:
        log.info("sign-in with %s refused: %s", name, failed)
        return _refused(request, services, _("Sign-in failed"), str(failed), 400)
    except Refused as refused:
        return _refused(request, services, refused.title, refused.message, refused.status)
    throttle.succeeded(None, address)
    sign_in(request, user)
    return RedirectResponse(pending.next, status_code=303)


_SIGN_IN_GONE = N_("This sign-in has expired or was finished already. Start again from the sign-in page.")


def _provider(services: Services, name: str) -> Provider:
    provider = services.oidc.get(name)
    if provider is None:
        raise Problem(404, _("No such sign-in"), _("This server has no sign-in called {name}.").format(name=name[:40]))
    return provider


def _callback_url(request: Request, services: Services, name: str) -> str:
    """The redirect URI registered at the provider: under HANDSUP_PUBLIC_URL when set, else as this request came."""
    path = f"/login/oidc/{name}/callback"
    public = services.settings.public_url
    return f"{public}{path}" if public else str(request.url_for("oidc_callback", name=name))


def _unreachable(request: Request, services: Services, provider: Provider, problem: Exception) -> HTMLResponse:
    log.warning("sign-in with %s: the provider cannot be reached: %s", provider.config.name, problem)
    message = _("{provider} cannot be reached just now, so nobody can sign in with it. Try again in a few minutes.")
    return _refused(request, services, _("Provider unavailable"), message.format(provider=provider.config.title), 502)


def _refused(request: Request, services: Services, title: str, message: str, status: int) -> HTMLResponse:
    html = services.views.render("auth/refused.html", title=title, message=_(message))
    return HTMLResponse(html, status_code=status)


@router.post("/logout", dependencies=[declare(Access.anyone), Depends(check_csrf)])
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def _check_setup(services: ServicesDep, token: str) -> None:
    if not setup_token_valid(services.settings.resolved_secret_key, token) or await count_users(services.db):
        raise Problem(
            404,
            _("Setup link used"),
            _(
                "This setup link is not valid any more: the server has an "
                "administrator already. Sign in, or ask your administrator for an account."
            ),
        )


def _setup_page(request: Request, services: Services, token: str, *, email: str = "", error: str | None = None) -> str:
    return services.views.render(
        "auth/setup.html",
        csrf=csrf_token(request),
        error=error,
        email=email,
        token=token,
        passwords=services.settings.password_sign_in,
    )


@router.get("/setup/{token}", response_class=HTMLResponse, dependencies=[declare(Access.anyone)])
async def setup_page(token: str, request: Request, services: ServicesDep) -> HTMLResponse:
    """The one-time page that creates the first (admin) account."""
    await _check_setup(services, token)
    return HTMLResponse(_setup_page(request, services, token))


@router.post("/setup/{token}", response_class=HTMLResponse, dependencies=[declare(Access.anyone), Depends(check_csrf)])
async def setup(
    token: str,
    request: Request,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Create the first administrator; where password sign-in is off, without a password (its owner signs in with
    a provider's button, which links to it by the provider's verified email)."""
    throttle, address = services.throttles.login, address_of(request)
    try:
        throttle.attempt(None, address)  # a link that is not valid counts as a failed sign-in from this address
    except Throttled as throttled:
        raise Problem(429, _("Too many tries"), str(throttled), {"Retry-After": throttled.retry_after}) from None
    await _check_setup(services, token)
    throttle.succeeded(None, address)
    given = password if services.settings.password_sign_in else None
    try:
        user = await add_user(services.db, email, given, Role.admin, only_if_first=True)
    except AccountRefused as refused:
        html = _setup_page(request, services, token, email=email, error=str(refused))
        return HTMLResponse(html, status_code=422)
    sign_in(request, user)
    return RedirectResponse("/present", status_code=303)
