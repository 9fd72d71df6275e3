"""Who is asking: presenters by signed session cookie (pages) or API token (JSON API); CSRF for forms."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import select

from server.models import ApiToken, Role, Session, User, utcnow
from server.problems import Problem
from server.security import same
from server.services import Services
from server.sessions import hash_token

ROLE_RANK = {Role.presenter: 1, Role.organizer: 2, Role.admin: 3}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


class LoginRequired(Exception):
    """A page needs a signed-in user; the handler sends the browser to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def login_url(next_url: str) -> str:
    return f"/login?next={quote(next_url, safe='/')}"


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser session, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing form or htmx call whose CSRF token does not match the session's."""
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not same(str(expected), sent):
        raise Problem(403, "Form expired", "This form has expired. Reload the page and try again.")


async def page_user(request: Request, services: ServicesDep) -> User:
    """The signed-in user of a page; not signed in: off to the login page."""
    user_id = request.session.get("user_id")
    if isinstance(user_id, int):
        async with services.db() as db:
            user = await db.get(User, user_id)
        if user is not None:
            return user
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
            "Sign-in needed",
            "Send an API token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    async with services.db() as db, db.begin():
        row = (await db.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token.strip())))).first()
        if row is None or row.revoked_at is not None:
            raise Problem(
                401,
                "Sign-in needed",
                "That API token is not valid or was revoked.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        row.last_used_at = utcnow()
        db.add(row)
        user = await db.get(User, row.user_id)
    assert user is not None
    return user


ApiUser = Annotated[User, Depends(api_user)]


def has_role(user: User, role: Role) -> bool:
    """Whether the user's role includes `role` (an admin may organize, an organizer may present)."""
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[role]


async def organizer_page_user(user: PageUser) -> User:
    if not has_role(user, Role.organizer):
        raise Problem(403, "Organizers only", "This page is for organizers. Ask an admin for the organizer role.")
    return user


async def organizer_api_user(user: ApiUser) -> User:
    if not has_role(user, Role.organizer):
        raise Problem(403, "Organizers only", "This needs an organizer's token.")
    return user


OrganizerPage = Annotated[User, Depends(organizer_page_user)]
OrganizerApi = Annotated[User, Depends(organizer_api_user)]


def may_present(user: User, session: Session) -> bool:
    """Whether a user may run (see and control) a session: its presenter, or an admin."""
    return session.presenter_id == user.id or user.role == Role.admin


async def presented_session(services: Services, user: User, session_id: int) -> Session:
    """A session the user may run; 404 for one that does not exist or is someone else's."""
    async with services.db() as db:
        session = await db.get(Session, session_id)
    if session is None or not may_present(user, session):
        raise Problem(404, "Not found", "No such session among yours.")
    return session
