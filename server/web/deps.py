"""What every route module asks for: the app's services, ids and text as the JSON API accepts them, cookies set the
one way, the server's public URLs, and the same-origin check of sockets and event streams.

As full-stack FastAPI's `api/deps.py`: the shared dependencies live here, below the routes and the account checks,
so neither has to import the other (or the routes package) for them.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from pydantic import Field, StringConstraints
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from server.config import Settings
from server.services import Services
from server.web.problems import TEXT_PATTERN

# The largest row id every supported database holds (PostgreSQL's INTEGER is 32 bits). An id in a path, query or body
# is checked against it: a larger number is refused as not valid (422), where a query with it would fail (500).
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

# Text the JSON API stores (titles, names, emails) holds no control character but tab and line breaks, as decks do: NUL
# (U+0000) cannot be stored in a PostgreSQL text column, and none of them shows on a page, in a spreadsheet or in a
# chart. A pattern, so the OpenAPI document says so; server/web/problems.py words the refusal.
Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]


def services_of(connection: HTTPConnection) -> Services:
    """The app's services, for a request or a websocket alike."""
    services: Services = connection.app.state.services
    return services


async def get_services(connection: HTTPConnection) -> Services:
    """The app's services as a dependency (FastAPI passes the request or websocket as the connection). Async so
    FastAPI calls it on the event loop: a plain function would cost every request and socket a worker-thread hop."""
    return services_of(connection)


ServicesDep = Annotated[Services, Depends(get_services)]


def keep_cookie(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    days: int,
    *,
    path: str = "/",
    httponly: bool = True,
) -> Response:
    """Set one of our cookies the one way: kept `days`, same-site lax, secure behind HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=days * 86400,
        path=path,
        httponly=httponly,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


def base_url(settings: Settings, request: Request | WebSocket) -> str:
    """The server's public base URL: configured, or as this request reached it."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def join_url(settings: Settings, request: Request | WebSocket, code: str) -> str:
    return f"{base_url(settings, request)}/{code}"


def same_origin(websocket: WebSocket | Request) -> bool:
    """Whether a websocket (or an event stream) comes from one of our own pages: its Origin is the host it reached,
    or the public URL's (a proxy may pass on another Host). Browsers always send Origin with a websocket, so another
    site's page cannot open a socket with the visitor's cookies (cross-site websocket hijacking)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: scripts authenticate by token or cookie they hold
    netloc = urlsplit(origin.lower()).netloc
    if netloc and netloc == websocket.headers.get("host", "").lower():
        return True
    public_url = services_of(websocket).settings.public_url
    if not public_url:
        return False
    public = urlsplit(public_url.lower())
    return bool(netloc) and origin.lower() == f"{public.scheme}://{public.netloc}"
