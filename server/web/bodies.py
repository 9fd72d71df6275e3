"""Request bodies read with a limit: counted as they arrive, refused at the first byte too many (or at once, when
the Content-Length says so), never read whole first. The archive upload and the CSP reports read theirs this way,
and so do the uploads of one file (an image, a slide deck): `uploaded_file`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.types import Message

from server.web.problems import Problem

FILE_FIELD = "file"
# The multipart boundaries and headers around the file, and a CSRF field: room for those above the file's limit.
FORM_OVERHEAD = 64 * 1024
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {FILE_FIELD: {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
"""The OpenAPI description of a body that is one uploaded file, the multipart/form-data field `file`."""


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


@asynccontextmanager
async def uploaded_file(
    request: Request,
    limit: int,
    *,
    too_large: Problem,
    missing: tuple[str, str],
    check: Callable[[Request], Awaitable[None]] | None = None,
) -> AsyncIterator[UploadFile]:
    """The one file of a multipart upload (the field `file`), the body read within `limit` bytes and the form's
    own; `check` runs on the body first (a browser's CSRF token). `missing` is the title and the thing to send, for
    the problem when there is no file ("No image", "the image"). The form's spooled files are closed afterwards."""
    try:
        body = capped(request, limit + FORM_OVERHEAD)
        if check is not None:
            await check(body)
        form = await body.form(max_files=1, max_fields=4)  # the form `check` read, if it read one
    except TooLarge:
        raise too_large from None
    except MultiPartException as malformed:
        raise Problem(400, "Malformed upload", f"The upload could not be read: {malformed.message}.") from None
    try:
        upload = form.get(FILE_FIELD)
        if not isinstance(upload, UploadFile):
            title, thing = missing
            raise Problem(400, title, f"Send {thing} as the multipart/form-data field “{FILE_FIELD}”.")
        yield upload
    finally:
        await form.close()
