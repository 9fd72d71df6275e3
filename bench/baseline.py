"""The bare-transport baseline: uvicorn + Starlette websockets with no application logic, driven like Handsup.

Same uvicorn settings as `handsup serve` (server/cli.py `_serve`), same client code (bench.driver), so the ratio of
the two runs says what the application itself costs on this machine, however noisy it is.
Serve it alone with `python -m bench.baseline --port 8001`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from bench.driver import Joined, Kind, fetch_page
from bench.procs import ServerProcess, free_port, start_process

WS_MAX_SIZE = 4 * 16 * 1024  # as `handsup serve`: 4x the default websocket_message_limit (server/cli.py)


# The bare app's join page: fixed bytes of about the size of Handsup's participant page, so both ramps move alike.
PAGE = (
    "<!doctype html><html><head><title>bare</title></head><body>" + "<p>participant page</p>" * 256 + "</body></html>"
)


class Bare:
    """The whole state of the bare app: who is connected, how many messages came in, which slide is up."""

    def __init__(self) -> None:
        self.participants: set[WebSocket] = set()
        self.presenters: set[WebSocket] = set()
        self.projectors: set[WebSocket] = set()
        self.received = 0
        self.slide = 0
        self.tasks: set[asyncio.Task[Any]] = set()

    def stage(self) -> str:
        return f'<section id="stage" data-slide="{self.slide}">slide {self.slide}</section>'

    async def broadcast(self, sockets: set[WebSocket], text: str) -> None:
        await asyncio.gather(*(ws.send_text(text) for ws in list(sockets)), return_exceptions=True)

    def change_slide(self) -> None:
        self.slide += 1
        self._later(self.broadcast(self.participants, self.stage()))

    def reveal(self, projector_bytes: int, phone_bytes: int) -> None:
        """The quiz scenario's reveal without the quiz: a board of Handsup's size to the projectors and presenters,
        then a personal stage of Handsup's size ("Rank i of n") to each phone (bench/quiz.py)."""
        self.slide += 1
        self._later(self._reveal(padded('<section class="quiz-board">', "</section>", projector_bytes), phone_bytes))

    async def _reveal(self, board: str, phone_bytes: int) -> None:
        await self.broadcast(self.projectors | self.presenters, board)
        people = list(self.participants)
        sends = [
            ws.send_text(
                padded(
                    f'<section id="stage" data-slide="{self.slide}"><p class="quiz-rank">Rank {rank} of '
                    f"{len(people)}</p>",
                    "</section>",
                    phone_bytes,
                )
            )
            for rank, ws in enumerate(people, start=1)
        ]
        await asyncio.gather(*sends, return_exceptions=True)

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def padded(head: str, tail: str, size: int) -> str:
    """`head` + filler + `tail`, `size` characters in all (at least head and tail)."""
    return head + "x" * max(0, size - len(head) - len(tail)) + tail


def create_app() -> Starlette:
    bare = Bare()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def page(request: Request) -> Response:
        response = HTMLResponse(PAGE)
        response.set_cookie("handsup_participant", os.urandom(16).hex(), httponly=True, samesite="lax")
        return response

    async def slide(request: Request) -> Response:
        bare.change_slide()
        return Response(status_code=204)

    async def reveal(request: Request) -> Response:
        sizes = await request.json()
        bare.reveal(int(sizes["projector_bytes"]), int(sizes["phone_bytes"]))
        return Response(status_code=204)

    async def participant(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(bare.stage())
        bare.participants.add(websocket)
        try:
            while True:
                await websocket.receive_text()
                bare.received += 1
                await websocket.send_text("ack")
                await bare.broadcast(bare.presenters, f"count {bare.received}")
        except WebSocketDisconnect:
            pass
        finally:
            bare.participants.discard(websocket)

    async def presenter(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(f"count {bare.received}")
        bare.presenters.add(websocket)
        try:
            while True:
                if await websocket.receive_text() == "slide":
                    bare.change_slide()
        except WebSocketDisconnect:
            pass
        finally:
            bare.presenters.discard(websocket)

    async def projector(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(bare.stage())
        bare.projectors.add(websocket)
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            bare.projectors.discard(websocket)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/{code}", page),
            Route("/api/v1/slide", slide, methods=["POST"]),
            Route("/api/v1/reveal", reveal, methods=["POST"]),
            WebSocketRoute("/ws/participant/{code}", participant),
            WebSocketRoute("/ws/presenter/{session}", presenter),
            WebSocketRoute("/ws/projector/{secret}", projector),
        ]
    )


def serve(port: int) -> None:
    """uvicorn as `handsup serve` runs it (server/cli.py `_serve`)."""
    import uvicorn

    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=port,
        ws="auto",
        ws_max_size=WS_MAX_SIZE,
        ws_per_message_deflate=False,
        backlog=4096,
        proxy_headers=True,
        log_level="info",
    )


class BaselineTarget:
    """The bare app as a target: the same joins, sockets, messages and slide change as Handsup, minus the app."""

    name = "baseline"
    rounds_limit = sys.maxsize  # the presenter gets a plain counter of every message

    profile_file: Path | None = None  # the bare app is not profiled

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.server: ServerProcess | None = None
        self.slide = 0

    def launch(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HANDSUP_")}
        self.server = start_process(
            [sys.executable, "-m", "bench.baseline", "--port", str(self.port)],
            env,
            self.port,
            self.workdir / "baseline.log",
        )

    def stop(self) -> int | None:
        return self.server.stop() if self.server is not None else None

    def check(self, answers: dict[str, int]) -> dict[str, Any]:
        return {"votes_persisted": None, "participants_with_acked_vote": len(answers)}

    @property
    def server_pid(self) -> int:
        assert self.server is not None
        return self.server.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def prepare(self, http: httpx.AsyncClient) -> None:
        return None

    async def join(self, http: httpx.AsyncClient) -> Joined:
        return Joined(await fetch_page("127.0.0.1", self.port, "/000000", "handsup_participant"))

    def participant_socket(self, joined: Joined) -> tuple[str, dict[str, str]]:
        return f"ws://127.0.0.1:{self.port}/ws/participant/000000", {"Cookie": f"handsup_participant={joined.token}"}

    async def presenter_socket(self, http: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
        return f"ws://127.0.0.1:{self.port}/ws/presenter/1", {}

    def vote(self, round_: int) -> str:
        """The same bytes as a Handsup vote (HEADERS included), so both transports carry the same load."""
        headers = {
            "HX-Request": "true",
            "HX-Trigger": "form-1",
            "HX-Trigger-Name": None,
            "HX-Target": "form-1",
            "HX-Current-URL": f"http://127.0.0.1:{self.port}/000000",
        }
        return json.dumps({"activity": "1", "choice": str(round_), "HEADERS": headers})

    def classify(self, text: str) -> Kind:
        if text == "ack":
            return Kind.ACK
        if text.startswith('<section id="stage"'):
            return Kind.STAGE
        return Kind.OTHER

    def folded(self, text: str) -> int | None:
        return int(text[6:]) if text.startswith("count ") else None

    stage_steps: tuple[str, ...] = (
        "close",
        "next",
    )  # two plain broadcasts, for the same two presenter actions as Handsup's

    async def change_stage(self, step: str, http: httpx.AsyncClient) -> None:
        self.slide += 1
        response = await http.post(f"{self.url}/api/v1/slide")
        response.raise_for_status()

    def is_new_stage(self, step: str, text: str) -> bool:
        return f'data-slide="{self.slide}"' in text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the bare-transport baseline app.")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
