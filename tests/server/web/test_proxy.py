"""The shipped deploy/nginx.conf, on loopback ports, in front of a real `handsup serve`: the join page loads, a
participant websocket opens through it (upgrade headers, the Host with its port for the Origin check), the app
sees the client's own address from X-Forwarded-For, and /metrics is not served to the outside."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from bench.services import shipped_nginx
from tests.factories import PASSWORD, LiveServer, cli, eventually, free_port, start_server, stop_server
from tests.server.live.test_live_uvicorn import until
from tests.services import NginxServer, scratch_folder

# A client address of its own (all of 127.0.0.0/8 is loopback), so the forwarded address is not nginx's own.
CLIENT = "127.0.0.5"
ADMIN = "admin@example.org"


@dataclass
class Proxied:
    server: LiveServer
    proxy: NginxServer
    url: str
    session: dict[str, Any]


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    server = start_server(tmp_path_factory.mktemp("proxied"), HANDSUP_LOG_FORMAT="json")
    folder = scratch_folder("handsup-nginx-")  # nginx's workers run as another user when started by root
    listen = free_port()
    proxy = NginxServer(folder, shipped_nginx((server.port, server.port), listen))
    try:
        password = server.data_dir / "password"
        password.write_text(PASSWORD)
        cli(server, "user", "add", ADMIN, "--role", "admin", "--password-file", str(password))
        token = cli(server, "token", "create", ADMIN)
        proxy.start(listen)
        url = f"http://127.0.0.1:{listen}"
        created = httpx.post(
            f"{url}/api/v1/sessions",
            json={"deck_slug": "distributed-leadership", "title": "Through nginx"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        yield Proxied(server, proxy, url, created.json())
    finally:
        proxy.stop()
        stop_server(server)
        shutil.rmtree(folder, ignore_errors=True)


def access_records(server: LiveServer) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    return [record for record in records if record["logger"] == "handsup.access"]


def test_the_shipped_config_passes_nginx_t() -> None:
    folder = scratch_folder("handsup-nginx-t-")
    try:
        report = NginxServer(folder, shipped_nginx((free_port(), free_port()), free_port())).check()
        assert "syntax is ok" in report and "test is successful" in report
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_phone_joins_through_nginx_and_the_app_sees_its_own_address(proxied: Proxied) -> None:
    code = proxied.session["code"]
    with httpx.Client(base_url=proxied.url, transport=httpx.HTTPTransport(local_address=CLIENT), timeout=10) as phone:
        page = phone.get(f"/{code}")
        assert page.status_code == 200, page.text
        assert 'hx-ext="ws"' in page.text or "ws-connect" in page.text
        token = phone.post("/api/v1/join", json={"code": code}).json()["participant_token"]

    async def open_socket() -> str:
        url = proxied.url.replace("http://", "ws://") + f"/ws/participant/{code}"
        headers = {"Cookie": f"handsup_participant={token}", "Origin": proxied.url}
        async with connect(url, additional_headers=headers, local_addr=(CLIENT, 0)) as socket:
            return await until(socket, r'^\s*<section id="stage"')

    assert "stage" in asyncio.run(open_socket())

    def seen() -> list[dict[str, Any]]:
        records = [r for r in access_records(proxied.server) if code in r["path"]]
        assert {r["method"] for r in records} >= {"GET", "WEBSOCKET"}
        return records

    records = eventually(seen)  # a socket's line is written when it closes
    assert {record["client"] for record in records} == {CLIENT}, records
    page_record = next(r for r in records if r["method"] == "GET")
    assert page_record["status"] == 200


def test_an_event_stream_comes_through_nginx_as_it_is_written(proxied: Proxied) -> None:
    """The fallback for networks without websockets: the stage arrives while the (endless) stream is open, not
    compressed on the way."""
    code = proxied.session["code"]
    with httpx.Client(base_url=proxied.url, timeout=10) as phone:
        token = phone.post("/api/v1/join", json={"code": code}).json()["participant_token"]
        headers = {"Cookie": f"handsup_participant={token}", "Accept-Encoding": "gzip"}
        with phone.stream("GET", f"/{code}/events", headers=headers) as stream:
            assert stream.status_code == 200
            assert "content-encoding" not in stream.headers
            got = b""
            for chunk in stream.iter_raw():
                got += chunk
                if b'data: <section id="stage"' in got:
                    break
    assert got.startswith(b"retry: 3000\n\n")


def test_metrics_are_not_served_through_the_proxy(proxied: Proxied) -> None:
    through = httpx.get(f"{proxied.url}/metrics", timeout=5)
    assert through.status_code == 404
    assert not re.search(r"handsup_\w+", through.text)
    # The app itself would have refused it too: a forwarded request is not this machine's.
    direct = httpx.get(f"{proxied.server.url}/metrics", headers={"X-Forwarded-For": CLIENT}, timeout=5)
    assert direct.status_code == 403
