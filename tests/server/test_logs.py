"""Structured logs: a real `handsup serve` with HANDSUP_LOG_FORMAT=json writes one JSON object per line, for our
loggers and uvicorn's alike, with the request's fields; text stays the default for a person at a terminal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.factories import LiveServer, eventually, start_server, stop_server


def json_lines(server: LiveServer) -> list[dict[str, Any]]:
    """Every line of the server's output, each parsed as JSON (a line that is not JSON fails the test here)."""
    lines = [line for line in server.log.read_text().splitlines() if line.strip()]
    assert lines
    return [json.loads(line) for line in lines]


async def refused_socket(server: LiveServer) -> None:
    async with connect(server.url.replace("http://", "ws://") + "/ws/participant/000000") as socket:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(socket.recv(), 5)


def test_a_json_server_writes_parseable_lines_with_request_fields(tmp_path: Path) -> None:
    server = start_server(tmp_path / "json", HANDSUP_LOG_FORMAT="json")
    try:
        httpx.get(f"{server.url}/healthz", timeout=5)
        httpx.get(f"{server.url}/api/v1/sessions/7", headers={"X-Forwarded-For": "198.51.100.7"}, timeout=5)
        httpx.get(f"{server.url}/projector/not-the-secret-but-a-secret-place", timeout=5)
        asyncio.run(refused_socket(server))
    finally:
        stop_server(server)  # its last lines are written when it stops
    records = json_lines(server)
    for record in records:
        assert {"time", "level", "logger", "message"} <= record.keys()
        assert record["time"].endswith("+00:00")
    loggers = {record["logger"] for record in records}
    assert {"uvicorn.error", "handsup", "handsup.access"} <= loggers
    [setup] = [record for record in records if "setup_link" in record]
    assert setup["setup_link"].startswith(f"http://127.0.0.1:{server.port}/setup/")

    access = [record for record in records if record["logger"] == "handsup.access"]
    health = next(record for record in access if record["path"] == "/healthz")
    assert health["method"] == "GET" and health["status"] == 200 and health["client"] == "127.0.0.1"
    assert isinstance(health["duration_ms"], float) and health["duration_ms"] >= 0
    api = next(record for record in access if record["path"] == "/api/v1/sessions/7")
    assert api["status"] == 401 and api["session_id"] == 7
    assert api["client"] == "198.51.100.7"  # a trusted proxy's X-Forwarded-For (loopback is trusted by default)
    projector = next(record for record in access if record["path"].startswith("/projector/"))
    assert projector["path"] == "/projector/{secret}"  # the link is a key: its value stays out of the log
    assert "not-the-secret" not in server.log.read_text()
    socket = next(record for record in access if record["method"] == "WEBSOCKET")
    assert socket["path"] == "/ws/participant/000000" and socket["status"] is None
    assert "duration_ms" in socket


def test_text_is_the_default_and_reads_as_one_line_per_event(live_server: LiveServer) -> None:
    httpx.get(f"{live_server.url}/healthz", timeout=5)

    def logged() -> str:
        text = live_server.log.read_text()
        assert any(' INFO handsup.access: 127.0.0.1 - "GET /healthz" 200 ' in line for line in text.splitlines())
        return text

    text = eventually(logged)  # the line is written once the response has gone out
    assert "No accounts yet. Create the first (admin) account here:" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])
