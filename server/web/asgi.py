"""ASGI plumbing for the app's middleware stack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpOnly:
    """Runs a middleware that only has work to do on HTTP requests (compression, response headers) for those, and
    hands every other scope (websockets, lifespan) straight to the app.

    A plain method that returns the chosen app's own coroutine rather than awaiting it: a websocket is served for as
    long as it is open, and every layer that awaits it keeps a frame alive that long, for each phone in the room
    (about 0.4 KiB each, measured with tracemalloc; docs/benchmarks.md)."""

    def __init__(self, app: ASGIApp, /, middleware: Callable[..., ASGIApp], **options: Any) -> None:
        self.app = app
        self.http = middleware(app, **options)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        return (self.http if scope["type"] == "http" else self.app)(scope, receive, send)
