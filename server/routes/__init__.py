"""HTTP and websocket routes, one module per audience."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from starlette.websockets import WebSocket

from server.config import Settings


def base_url(settings: Settings, request: Request | WebSocket) -> str:
    """The server's public base URL: configured, or as this request reached it."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


def join_url(settings: Settings, request: Request | WebSocket, code: str) -> str:
    return f"{base_url(settings, request)}/{code}"


def same_origin(websocket: WebSocket) -> bool:
    """Whether a websocket comes from one of our own pages (browsers always send Origin)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: scripts authenticate by token or cookie they hold
    return urlsplit(origin).netloc == websocket.headers.get("host", "")
