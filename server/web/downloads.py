"""Downloads: a file already written (an archive) sent as an attachment, streamed in chunks read off the event loop."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import IO

from fastapi.responses import StreamingResponse

CHUNK_BYTES = 256 * 1024


def attachment(source: IO[bytes], filename: str, media_type: str) -> StreamingResponse:
    """The whole of `source` as a download named `filename`, never cached; the file is closed once sent."""
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Content-Length": str(size),
        "Cache-Control": "no-store",
    }
    return StreamingResponse(_chunks(source), media_type=media_type, headers=headers)


async def _chunks(source: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(source.read, CHUNK_BYTES):
            yield chunk
    finally:
        source.close()
