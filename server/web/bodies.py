"""Request bodies read with a limit: counted as they arrive, refused at the first byte too many (or at once, when
the Content-Length says so), never read whole first. The archive upload and the CSP reports read theirs this way."""

from __future__ import annotations

from fastapi import Request
from starlette.types import Message


class TooLarge(Exception):
    """The request body passed its limit; reading stopped there."""


def capped(request: Request, limit: int) -> Request:
    """The same request, whose body reading raises TooLarge once more than `limit` bytes have come in."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    seen = 0

    async def receive() -> Message:
        nonlocal seen
        message = await request.receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise TooLarge
        return message

    return Request(request.scope, receive)
