"""Who is asking, and may they: accounts by signed session cookie (pages) or API token (JSON API).

Every route declares who may use it (`Access`): by the dependency that identifies the caller (`PageUser`,
`SessionPage`, `OrganizerApi`...) or, where the key is the URL itself or nothing, by `declare(...)`.
tests/server/test_access.py walks every route of the app and tries it as every role.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, WebSocket
from fastapi.dependencies.models import Dependant
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import select

from activities.i18n import _
from server.accounts.security import same
from server.models import ApiToken, Cohort, Institute, Role, Session, SessionFacilitator, User, utcnow
from server.services import Services
from server.sessions import hash_token
from server.web.deps import MAX_ID, Id, ServicesDep
from server.web.problems import Problem

ROLE_RANK = {Role.presenter: 1, Role.organizer: 2, Role.admin: 3}


class LoginRequired(Exception):
    """A page needs a signed-in user; the handler sends the browser to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url

    @property
    def location(self) -> str:
        """Where the handler sends the browser."""
        return login_url(self.next_url)


class PasswordChangeRequired(LoginRequired):
    """Signed in with a one-time password an admin passed on: the account page first, to choose one's own."""

    @property
    def location(self) -> str:
        return ACCOUNT_PAGE


ACCOUNT_PAGE = "/account"
# What a one-time password opens: the account page, and changing the password there.
_BEFORE_PASSWORD_CHANGE = frozenset({ACCOUNT_PAGE, f"{ACCOUNT_PAGE}/password"})


async def login_redirect(request: Request, error: Exception) -> Response:
    """Where a page that needs a signed-in user sends a browser that is not: the login page (or the account page)."""
    assert isinstance(error, LoginRequired)
    return RedirectResponse(error.location, status_code=303)


def login_url(next_url: str) -> str:
    return f"/login?next={quote(next_url, safe='/')}"


def sign_in(request: Request, user: User) -> None:
    """Start a fresh browser session for this user (a new CSRF token too: nothing carries over from before)."""
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["generation"] = user.session_generation


async def session_user(services: Services, session: Mapping[str, Any]) -> User | None:
    """The account a browser session is signed in as; None when signed out since (a password change elsewhere
    raised the account's generation) or when the account is disabled."""
    user_id = session.get("user_id")
    if not isinstance(user_id, int):
        return None
    async with services.db() as db:
        user = await db.get(User, user_id)
    if (
        user is None
        or user.disabled_at is not None
        or user.pending
        or session.get("generation", 0) != user.session_generation
    ):
        return None
    return user


async def page_user(request: Request, services: ServicesDep) -> User:
    """The signed-in user of a page; not signed in (or signed out elsewhere): off to the login page."""
    user = await session_user(services, request.session)
    if user is not None:
        if user.password_temporary and request.url.path not in _BEFORE_PASSWORD_CHANGE:
            raise PasswordChangeRequired(request.url.path)
        return user
    request.session.pop("user_id", None)
    target = request.url.path
    if request.method != "GET" or request.scope["type"] == "websocket":
        target = "/present"
    raise LoginRequired(target)


PageUser = Annotated[User, Depends(page_user)]


bearer = HTTPBearer(auto_error=False, description="An API token, from `handsup token create EMAIL`")


async def api_user(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    """The user an API token belongs to (`Authorization: Bearer hsu_...`)."""
    token = credentials.credentials if credentials is not None else ""
    if not token:
        raise Problem(
            401,
            _("Sign-in needed"),
            _("Send an API token: Authorization: Bearer <token>."),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return await token_user(services, token)


async def token_user(services: Services, token: str) -> User:
    """The enabled account an API token belongs to, its use noted; a 401 problem for a token that is unknown,
    revoked, or of a disabled account (the JSON API and the presenter's and projector's sockets)."""
    async with services.db() as db, db.begin():
        row = (await db.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip())))).first()
        if row is None or row.revoked_at is not None:
            raise Problem(
                401,
                _("Sign-in needed"),
                _("That API token is not valid or was revoked."),
                headers={"WWW-Authenticate": "Bearer"},
            )
        user = await db.get(User, row.user_id)
        assert user is not None
        if user.disabled_at is not None or user.pending:
            detail = (
                _("The account of this API token is waiting for an administrator's approval; ask an administrator.")
                if user.pending
                else _("The account of this API token is disabled; ask an administrator.")
            )
            raise Problem(
                401,
                _("Sign-in needed"),
                detail,
                headers={"WWW-Authenticate": "Bearer"},
            )
        row.last_used_at = utcnow()
        db.add(row)
    return user


ApiUser = Annotated[User, Depends(api_user)]

# A websocket client that cannot set headers (a browser's WebSocket) offers its API token as a subprotocol beside
# SOCKET_PROTOCOL, which the server then selects: `new WebSocket(url, ["handsup", "handsup.bearer." + token])`.
SOCKET_PROTOCOL = "handsup"
TOKEN_PROTOCOL_PREFIX = "handsup.bearer."


@dataclass(frozen=True)
class SocketCredentials:
    """The API token a websocket handshake carries, if any, how it came, and the subprotocol to accept with."""

    token: str | None
    subprotocol: str | None
    by_protocol: bool = False


def socket_credentials(websocket: WebSocket) -> SocketCredentials:
    """The API token of a websocket handshake: `Authorization: Bearer <token>`, or the subprotocol
    `handsup.bearer.<token>` offered with `handsup` (selected, so a browser completes the handshake). Never a URL's:
    URLs end up in logs and histories."""
    offered = [str(protocol) for protocol in websocket.scope.get("subprotocols") or ()]
    subprotocol = SOCKET_PROTOCOL if SOCKET_PROTOCOL in offered else None
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return SocketCredentials(value.strip(), subprotocol)
    for protocol in offered:
        if protocol.startswith(TOKEN_PROTOCOL_PREFIX):
            return SocketCredentials(protocol.removeprefix(TOKEN_PROTOCOL_PREFIX), subprotocol, by_protocol=True)
    return SocketCredentials(None, subprotocol)


async def socket_token_user(services: Services, credentials: SocketCredentials) -> User | str:
    """The account a socket's API token belongs to, or why it is refused (the reason its close frame gives)."""
    if credentials.by_protocol and credentials.subprotocol is None:
        return f"offer the subprotocol {SOCKET_PROTOCOL} beside {TOKEN_PROTOCOL_PREFIX}<token>"
    if not credentials.token:
        return _("Send an API token: Authorization: Bearer <token>.")
    try:
        return await token_user(services, credentials.token or "")
    except Problem as refused:
        return str(refused.detail)


def has_role(user: User, role: Role) -> bool:
    """Whether the user's role includes `role` (an admin may organize, an organizer may present)."""
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[role]


async def organizer_page_user(request: Request, user: PageUser, services: ServicesDep) -> User:
    if not has_role(user, Role.organizer):
        raise Problem(403, _("Organizers only"), _("This page is for organizers. Ask an admin for the organizer role."))
    await _check_owner(services, user, request.path_params)
    return user


async def organizer_api_user(request: Request, user: ApiUser, services: ServicesDep) -> User:
    if not has_role(user, Role.organizer):
        raise Problem(403, _("Organizers only"), _("This needs an organizer's token."))
    await _check_owner(services, user, request.path_params)
    return user


async def _check_owner(services: Services, user: User, path: Mapping[str, Any]) -> None:
    """Organizer routes reach only what the organizer owns: the institute, or the cohort or session of an institute,
    that the path names. Someone else's answers as a missing one does (404), so ids cannot be probed."""
    if user.role == Role.admin:
        return
    ids = {name: path[name] for name in ("institute_id", "cohort_id", "session_id") if name in path}
    if not ids or not all(str(value).isdigit() and 0 < int(value) <= MAX_ID for value in ids.values()):
        return  # nothing owned in the path, or an id the route itself refuses (422)
    async with services.db() as db:
        institute_id: int | None = int(ids["institute_id"]) if "institute_id" in ids else None
        if "session_id" in ids:
            session = await db.get(Session, int(ids["session_id"]))
            ids["cohort_id"] = session.cohort_id if session is not None else None
        if "cohort_id" in ids:
            cohort = await db.get(Cohort, int(ids["cohort_id"])) if ids["cohort_id"] is not None else None
            institute_id = cohort.institute_id if cohort is not None else None
        institute = await db.get(Institute, institute_id) if institute_id is not None else None
    if institute is None or not may_organize(user, institute.created_by):
        raise Problem(404, _("Not found"), _("No such institute, cohort or session among yours."))


OrganizerPage = Annotated[User, Depends(organizer_page_user)]
OrganizerApi = Annotated[User, Depends(organizer_api_user)]


async def admin_page_user(user: PageUser) -> User:
    if user.role != Role.admin:
        refusal = _("This page is for administrators: ask one to change an account.")
        raise Problem(403, _("Administrators only"), refusal)
    return user


AdminPage = Annotated[User, Depends(admin_page_user)]


async def admin_api_user(user: ApiUser) -> User:
    if user.role != Role.admin:
        raise Problem(403, _("Administrators only"), _("This needs an administrator's token."))
    return user


AdminApi = Annotated[User, Depends(admin_api_user)]


def may_organize(user: User, created_by: int | None) -> bool:
    """Whether a user may see and manage an institute (and its cohorts): the organizer who owns it, or an admin."""
    return user.role == Role.admin or (created_by is not None and created_by == user.id)


async def may_present(services: Services, user: User, session: Session) -> bool:
    """Whether a user may run (see and control) a session: its presenter, a co-facilitator of it, or an admin."""
    if session.presenter_id == user.id or user.role == Role.admin:
        return True
    async with services.db() as db:
        return await db.get(SessionFacilitator, (session.id, user.id)) is not None


async def presented_session(services: Services, user: User, session_id: int) -> Session:
    """A session the user may run; 404 for one that does not exist or is someone else's."""
    async with services.db() as db:
        session = await db.get(Session, session_id)
    if session is None or not await may_present(services, user, session):
        raise Problem(404, _("Not found"), _("No such session among yours."))
    return session


async def session_page_of(session_id: Id, user: PageUser, services: ServicesDep) -> Session:
    return await presented_session(services, user, session_id)


async def session_api_of(session_id: Id, user: ApiUser, services: ServicesDep) -> Session:
    return await presented_session(services, user, session_id)


async def owned_session_page_of(session: SessionPage, user: PageUser) -> Session:
    return _owned(session, user)


async def owned_session_api_of(session: SessionApi, user: ApiUser) -> Session:
    return _owned(session, user)


def owns(user: User, session: Session) -> bool:
    """Whether a user owns a session (its presenter, or an admin): more than running it, e.g. choosing who may."""
    return session.presenter_id == user.id or user.role == Role.admin


def _owned(session: Session, user: User) -> Session:
    if not owns(user, session):
        raise Problem(403, _("Presenter only"), _("Only the session's presenter (or an admin) may do this."))
    return session


SessionPage = Annotated[Session, Depends(session_page_of)]
SessionApi = Annotated[Session, Depends(session_api_of)]
OwnedSessionPage = Annotated[Session, Depends(owned_session_page_of)]
OwnedSessionApi = Annotated[Session, Depends(owned_session_api_of)]


async def metrics_reader(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """The metrics scraper: with HANDSUP_METRICS_TOKEN set, whoever sends it as a bearer token (and no one else);
    unset, a caller on this machine that did not come through a proxy (a proxy on loopback forwards everyone)."""
    expected = services.settings.metrics_token
    if expected is not None:
        sent = credentials.credentials if credentials is not None else ""
        if not same(sent, expected):
            raise Problem(
                401,
                "Metrics token needed",
                "Send HANDSUP_METRICS_TOKEN as Authorization: Bearer <token>.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return
    if not _on_this_machine(request):
        raise Problem(
            403,
            "Metrics are for this machine",
            "Without HANDSUP_METRICS_TOKEN, /metrics answers only on loopback; set the token to scrape from elsewhere.",
        )


def _on_this_machine(request: Request) -> bool:
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    try:
        return request.client is not None and ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False  # not an IP address: a unix socket or a test client


class Access(StrEnum):
    """Who may use a route. Each route declares one; the route-by-role test holds every route to its word."""

    anyone = "anyone"  # the join pages, sign-in, health, static files, CSP reports
    participant = "participant"  # whoever has the join code; a phone is known by its cookie or participant token
    projector = "projector"  # whoever holds the projector link: its secret is the key
    signed_in = "signed_in"  # any account: presenter, organizer or admin
    session = "session"  # the session's presenter, its co-facilitators, and admins
    session_owner = "session_owner"  # the session's presenter and admins (not co-facilitators)
    organizer = "organizer"  # organizers, for the institutes they own, and admins
    admin = "admin"
    metrics = "metrics"  # the metrics scraper: HANDSUP_METRICS_TOKEN, or this machine when no token is set


def _declaration(access: Access) -> Callable[[], Awaitable[None]]:
    async def declared() -> None:
        """A declaration only: the route checks its caller itself (by join code, projector secret, or on connect)."""

    declared.__name__ = f"declared_{access}"
    return declared


_DECLARED = {access: _declaration(access) for access in Access}


def declare(access: Access) -> Any:
    """The dependency that declares a route's access where no caller-identifying dependency says it."""
    return Depends(_DECLARED[access])


def route_access(dependant: Dependant) -> set[Access]:
    """What a route's dependencies declare about who may use it (one value for a well-declared route)."""
    found: set[Access] = set()
    for dependency in dependant.dependencies:
        access = ACCESS_OF.get(dependency.call) if dependency.call is not None else None
        if access is None:
            found |= route_access(dependency)
        else:
            found.add(access)
    if found & {Access.session, Access.session_owner, Access.organizer, Access.admin}:
        found.discard(Access.signed_in)  # each of those is a signed-in caller with more to prove
    return found


ACCESS_OF: dict[Callable[..., Any], Access] = {
    **{declared: access for access, declared in _DECLARED.items()},
    page_user: Access.signed_in,
    api_user: Access.signed_in,
    session_page_of: Access.session,
    session_api_of: Access.session,
    owned_session_page_of: Access.session_owner,
    owned_session_api_of: Access.session_owner,
    organizer_page_user: Access.organizer,
    organizer_api_user: Access.organizer,
    admin_page_user: Access.admin,
    admin_api_user: Access.admin,
    metrics_reader: Access.metrics,
}
