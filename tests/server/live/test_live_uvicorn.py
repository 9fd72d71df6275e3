"""A real `handsup serve` (uvicorn) over real sockets: first-run setup, the API, five phones and a presenter."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.factories import PASSWORD, LiveServer, cli, csrf_from, eventually

PHONES = 5
ADMIN = "admin@example.org"


@dataclass
class Presenting:
    """The first admin, signed in (browser cookie) and with an API token, and a session on its poll."""

    http: httpx.Client
    token: str
    session: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def poll(self) -> int:
        return int(self.session["activities"][1]["id"])

    def tally(self) -> dict[str, Any]:
        response = self.http.get(
            f"/api/v1/sessions/{self.session['id']}/activities/{self.poll}/tally", headers=self.headers
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture(scope="module")
def presenting(live_server: LiveServer) -> Iterator[Presenting]:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        path = "/setup/" + live_server.setup_link().rsplit("/setup/", 1)[1]
        page = http.get(path)
        assert page.status_code == 200, page.text
        created = http.post(path, data={"csrf_token": csrf_from(page.text), "email": ADMIN, "password": PASSWORD})
        assert created.status_code == 303 and created.headers["location"] == "/present"
        assert http.get(path).status_code == 404
        token = cli(live_server, "token", "create", ADMIN, "--name", "live test")
        response = http.post(
            "/api/v1/sessions",
            json={"deck_slug": "distributed-leadership", "title": "Live"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text
        presenting = Presenting(http, token, response.json())
        control = http.post(
            f"/api/v1/sessions/{presenting.session['id']}/control",
            headers=presenting.headers,
            json={"action": "goto", "activity_id": presenting.poll},
        )
        assert control.json()["current_activity_id"] == presenting.poll
        yield presenting


def showing_the_poll(presenting: Presenting, token: str) -> None:
    """The server's room has applied the presenter's goto (it travels over the backplane)."""
    live = presenting.http.get(
        "/api/v1/live", params={"session_id": presenting.session["id"]}, headers={"X-Participant-Token": token}
    )
    assert live.json()["activity"]["id"] == presenting.poll


def ws_url(server: LiveServer, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


async def until(socket: ClientConnection, pattern: str) -> str:
    """The first text frame matching `pattern`, within five seconds."""
    async with asyncio.timeout(5):
        while True:
            frame = await socket.recv()
            if isinstance(frame, str) and re.search(pattern, frame):
                return frame


async def vote_from_phones(server: LiveServer, presenting: Presenting, tokens: list[str]) -> list[str]:
    code = presenting.session["code"]
    url = ws_url(server, f"/ws/participant/{code}")
    phones = [await connect(url, additional_headers={"Cookie": f"handsup_participant={t}"}) for t in tokens]
    try:
        for phone in phones:
            await until(phone, r'^\s*<section id="stage"')
        for n, phone in enumerate(phones):
            await phone.send(f'{{"activity": "{presenting.poll}", "choice": "{n % 3}", "HEADERS": {{}}}}')
        return [await until(phone, rf'id="status-{presenting.poll}"') for phone in phones]
    finally:
        for phone in phones:
            await phone.close()


def test_five_phones_vote_over_real_sockets_and_the_tally_reaches_five(
    live_server: LiveServer, presenting: Presenting
) -> None:
    tokens = []
    for _ in range(PHONES):
        joined = presenting.http.post("/api/v1/join", json={"code": presenting.session["code"]})
        assert joined.status_code == 201
        tokens.append(joined.json()["participant_token"])
    eventually(lambda: showing_the_poll(presenting, tokens[0]))
    replies = asyncio.run(vote_from_phones(live_server, presenting, tokens))
    assert all("Received" in reply for reply in replies)

    def five() -> dict[str, Any]:
        tally = presenting.tally()
        assert tally["respondents"] == PHONES
        return tally

    options = eventually(five)["results"]["options"]
    assert [option["count"] for option in options] == [2, 2, 1]


def test_the_presenter_socket_gets_pushed_results_over_a_real_socket(
    live_server: LiveServer, presenting: Presenting
) -> None:
    cookie = presenting.http.cookies.get("handsup_session")
    assert cookie

    async def watch_a_vote() -> str:
        url = ws_url(live_server, f"/ws/presenter/{presenting.session['id']}")
        async with connect(url, additional_headers={"Cookie": f"handsup_session={cookie}"}) as presenter:
            after = presenting.tally()["respondents"] + 1
            answered = f"{after} {'person' if after == 1 else 'people'} answered"
            await until(presenter, r'^\s*<div id="presenter-live"')
            await asyncio.to_thread(vote, presenting, "2")
            return await until(presenter, rf'^\s*<div id="results-{presenting.poll}"[\s\S]*{answered}')

    results = asyncio.run(watch_a_vote())
    assert re.search(r"\(\d+\)</small>", results)


def vote(presenting: Presenting, choice: str) -> None:
    """A new phone joins and answers the poll through the JSON API."""
    joined = presenting.http.post("/api/v1/join", json={"code": presenting.session["code"]})
    response = presenting.http.post(
        "/api/v1/responses",
        headers={"X-Participant-Token": joined.json()["participant_token"]},
        json={"activity_id": presenting.poll, "answer": {"choice": choice}},
    )
    assert response.status_code == 201, response.text


def test_a_refused_socket_is_closed_with_4404_over_a_real_socket(
    live_server: LiveServer, presenting: Presenting
) -> None:
    async def without_cookie() -> int | None:
        async with connect(ws_url(live_server, f"/ws/participant/{presenting.session['code']}")) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)
            return closed.value.rcvd.code if closed.value.rcvd else None

    assert asyncio.run(without_cookie()) == 4404


def test_the_server_answers_health_checks(live_server: LiveServer) -> None:
    assert httpx.get(f"{live_server.url}/healthz", timeout=5).json()["status"] == "ok"
