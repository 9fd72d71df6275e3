"""HttpOnly: a middleware with HTTP work only is skipped, frame and all, for websockets."""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.web.asgi import HttpOnly


def test_http_goes_through_the_middleware_and_a_websocket_goes_straight_to_the_app() -> None:
    passed: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        passed.append(f"app {scope['type']}")

    def middleware(inner: ASGIApp, label: str) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            passed.append(f"{label} {scope['type']}")
            await inner(scope, receive, send)

        return wrapped

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        return None

    stack = HttpOnly(app, middleware=middleware, label="gzip")
    for kind in ("http", "websocket", "lifespan"):
        anyio.run(stack, {"type": kind}, receive, send)
    assert passed == ["gzip http", "app http", "app websocket", "app lifespan"]
