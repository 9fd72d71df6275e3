"""Malformed, oversized and abusive websocket traffic: the hub answers with a clear error or closes that one socket
with a proper close code, everyone else keeps working, and no task or connection outlives its socket.

First over TestClient's sockets (where the app's own event loop can be asked how many tasks it runs), then over a
real uvicorn with a real websocket client, for what only a real socket carries: frames that are not UTF-8, frames
larger than the server takes, and connections dropped halfway through a message.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.factories import (
    PASSWORD,
    ROOT,
    TWO_QUESTIONS,
    LiveServer,
    Presenter,
    caught_up,
    cli,
    csrf_from,
    eventually,
    join,
    receive,
    receive_until,
    root_id,
    run,
    start_server,
    stop_server,
)

NOT_UNDERSTOOD = "That message was not understood."
NO_ACTIVITY = "That form does not say which activity it answers."
MESSAGE_LIMIT = 16 * 1024  # the default HANDSUP_WEBSOCKET_MESSAGE_LIMIT
# What a phone may send that is not an answer, and what it is told (the socket stays open).
MALFORMED: list[tuple[str, str, str]] = [
    ("not_json", "{activity: 1", NOT_UNDERSTOOD),
    ("a_list", "[1, 2, 3]", NOT_UNDERSTOOD),
    ("a_number", "42", NOT_UNDERSTOOD),
    ("a_string", '"trust"', NOT_UNDERSTOOD),
    ("null", "null", NOT_UNDERSTOOD),
    ("lists_1000_deep", "[" * 1000 + "]" * 1000, NOT_UNDERSTOOD),
    ("objects_2500_deep", '{"a":' * 2500 + "1" + "}" * 2500, NOT_UNDERSTOOD),
    ("an_integer_of_5000_digits", '{"activity": ' + "9" * 5000 + "}", NOT_UNDERSTOOD),
    ("an_infinite_activity", '{"activity": 1e999}', NO_ACTIVITY),
    ("a_20_digit_activity", '{"activity": 99999999999999999999}', NO_ACTIVITY),
    ("half_a_surrogate_pair", '{"activity": "\\ud800"}', "holds a character that is not text"),
    ("a_field_that_is_an_object", '{"activity": "{cloud}", "word": {"nested": [1]}}', "must be text"),
    ("a_field_that_is_true", '{"activity": "{cloud}", "word": true}', "must be text"),
    ("too_long", '{"activity": "{cloud}", "word": "' + "x" * MESSAGE_LIMIT + '"}', "That answer is too long"),
]


@pytest.fixture
def on_cloud(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    """A live session showing its word cloud, its room open."""
    session = presenter.start(TWO_QUESTIONS)
    cloud = session["activities"][1]
    presenter.control(session["id"], "goto", cloud["id"])
    caught_up(client, session["id"])
    return {"code": session["code"], "cloud": int(cloud["id"]), "session": session["id"]}


def tasks(client: TestClient) -> int:
    """How many asyncio tasks the app's event loop runs now."""

    async def count() -> int:
        return len(asyncio.all_tasks())

    return run(client, count)


def back_to(client: TestClient, baseline: int) -> None:
    """Wait (bounded) until the app runs no more tasks than before the sockets opened."""

    def settled() -> None:
        assert tasks(client) == baseline

    eventually(settled)


def phone(client: TestClient, code: str, token: str) -> Any:
    return client.websocket_connect(f"/ws/participant/{code}", headers={"cookie": f"handsup_participant={token}"})


def answer(ws: WebSocketTestSession, cloud: int, word: str) -> str:
    """Send a word, and the reply to it."""
    ws.send_text(json.dumps({"activity": str(cloud), "word": word}))
    return receive_until(ws, lambda frame: root_id(frame) in {f"status-{cloud}", "connection"})


@pytest.mark.parametrize(
    ("frame", "told"), [(frame, told) for _, frame, told in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_frame_gets_a_clear_reply_and_the_socket_keeps_working(
    client: TestClient, on_cloud: dict[str, Any], frame: str, told: str
) -> None:
    token = join(client, on_cloud["code"])
    baseline = tasks(client)
    with phone(client, on_cloud["code"], token) as ws:
        receive(ws)
        ws.send_text(frame.replace("{cloud}", str(on_cloud["cloud"])))
        reply = receive_until(ws, lambda frame: root_id(frame) in {f"status-{on_cloud['cloud']}", "connection"})
        assert told in reply and "error" in reply
        assert "Received" in answer(ws, on_cloud["cloud"], "trust")
    back_to(client, baseline)


def test_a_binary_frame_gets_no_reply_and_the_next_answer_does(client: TestClient, on_cloud: dict[str, Any]) -> None:
    token = join(client, on_cloud["code"])
    baseline = tasks(client)
    with phone(client, on_cloud["code"], token) as ws:
        receive(ws)
        ws.send_bytes(b"\x00\xff" * 1000)
        reply = answer(ws, on_cloud["cloud"], "trust")
        assert root_id(reply) == f"status-{on_cloud['cloud']}" and "Received" in reply
    back_to(client, baseline)


def test_a_flood_of_answers_gets_one_reply_each_and_others_keep_answering(
    client: TestClient, on_cloud: dict[str, Any]
) -> None:
    code, cloud = on_cloud["code"], on_cloud["cloud"]
    flooder, other = join(client, code), join(client, code)
    baseline = tasks(client)
    with phone(client, code, flooder) as ws, phone(client, code, other) as calm:
        receive(ws)
        receive(calm)
        for n in range(200):
            ws.send_text(json.dumps({"activity": str(cloud), "word": f"word{n}"}))
        replies = [
            receive_until(ws, lambda frame: root_id(frame) in {f"status-{cloud}", "connection"}) for _ in range(200)
        ]
        assert all('class="status ok"' in reply or "error" in reply for reply in replies)
        assert "Received" in replies[0]
        assert "Received" in answer(calm, cloud, "calm")
    back_to(client, baseline)


def test_a_phone_that_leaves_without_reading_its_replies_leaves_nothing_behind(
    client: TestClient, on_cloud: dict[str, Any]
) -> None:
    code, cloud = on_cloud["code"], on_cloud["cloud"]
    tokens = [join(client, code) for _ in range(5)]
    baseline = tasks(client)
    for token in tokens:
        with phone(client, code, token) as ws:
            for n in range(20):
                ws.send_text(json.dumps({"activity": str(cloud), "word": f"gone{n}"}))
    back_to(client, baseline)
    with phone(client, code, join(client, code)) as ws:
        receive(ws)
        assert "Received" in answer(ws, cloud, "still here")


def test_presenter_and_projector_sockets_drop_what_they_are_sent(
    client: TestClient, presenter: Presenter, on_cloud: dict[str, Any]
) -> None:
    """Only phones send anything; junk on the other two sockets is read and dropped, and they keep their pushes."""
    session = presenter.client.get(f"/api/v1/sessions/{on_cloud['session']}", headers=presenter.headers).json()
    secret = session["projector_url"].rsplit("/", 1)[1]
    baseline = tasks(client)
    with client.websocket_connect(f"/ws/projector/{secret}") as projector:
        receive(projector)
        for frame in ("[" * 1000 + "]" * 1000, "x" * (2 * MESSAGE_LIMIT), '{"activity": "\\ud800"}'):
            projector.send_text(frame)
        projector.send_bytes(b"\xff" * 100)
        token = join(client, on_cloud["code"])
        with phone(client, on_cloud["code"], token) as ws:
            receive(ws)
            answer(ws, on_cloud["cloud"], "pushed")
        results = receive_until(projector, lambda frame: "pushed" in frame and root_id(frame).startswith("results-"))
        assert "pushed" in results
    back_to(client, baseline)


def test_a_closed_socket_raises_nothing_on_the_server(client: TestClient, on_cloud: dict[str, Any]) -> None:
    """A phone closing at once after an answer: the reply has nowhere to go, and the hub shrugs."""
    token = join(client, on_cloud["code"])
    baseline = tasks(client)
    with phone(client, on_cloud["code"], token) as ws:
        ws.send_text(json.dumps({"activity": str(on_cloud["cloud"]), "word": "bye"}))
        ws.close(1001)
    back_to(client, baseline)
    with phone(client, on_cloud["code"], join(client, on_cloud["code"])) as ws:
        receive(ws)
        assert "Received" in answer(ws, on_cloud["cloud"], "after")


# --- over a real uvicorn --------------------------------------------------------------------------------------------


@dataclass
class Live:
    """A session on a real server, showing its word cloud; a signed-in presenter's browser to read its counts."""

    server: LiveServer
    code: str
    session_id: int
    cloud: int
    browser: httpx.Client

    def join(self) -> str:
        response = self.browser.post("/api/v1/join", json={"code": self.code})
        assert response.status_code == 201, response.text
        return str(response.json()["participant_token"])

    def connected(self) -> int:
        """The presenter's "connected" count: participants with a socket open to the server."""
        page = self.browser.get(f"/present/{self.session_id}").text
        match = re.search(r"<strong>(\d+)</strong> connected", page)
        assert match, "the presenter page shows who is connected"
        return int(match.group(1))

    async def phone(self, token: str) -> ClientConnection:
        url = self.server.url.replace("http://", "ws://") + f"/ws/participant/{self.code}"
        socket = await connect(url, additional_headers={"Cookie": f"handsup_participant={token}"})
        await until(socket, r'^\s*<section id="stage"')
        return socket


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    server = start_server(tmp_path_factory.mktemp("abuse"))
    email = "presenter@example.org"
    password_file = server.data_dir / "password"
    password_file.write_text(PASSWORD)
    cli(server, "user", "add", email, "--password-file", str(password_file))
    token = cli(server, "token", "create", email)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as browser:
            api = {"Authorization": f"Bearer {token}"}
            session = browser.post("/api/v1/sessions", json={"deck_yaml": TWO_QUESTIONS}, headers=api).json()
            cloud = int(session["activities"][1]["id"])
            control = {"action": "goto", "activity_id": cloud}
            assert browser.post(f"/api/v1/sessions/{session['id']}/control", json=control, headers=api).is_success
            page = browser.get("/login")
            signed_in = browser.post(
                "/login",
                data={"csrf_token": csrf_from(page.text), "email": email, "password": PASSWORD, "next": "/present"},
            )
            assert signed_in.status_code == 303, signed_in.text
            yield Live(server, session["code"], int(session["id"]), cloud, browser)
    finally:
        stop_server(server)


async def until(socket: ClientConnection, pattern: str) -> str:
    """The first text frame matching `pattern`, within five seconds."""
    async with asyncio.timeout(5):
        while True:
            frame = await socket.recv()
            if isinstance(frame, str) and re.search(pattern, frame):
                return frame


async def closed_with(socket: ClientConnection) -> int | None:
    """The close code the server sent, waiting at most five seconds for it."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            while True:
                await socket.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


async def answered(live: Live, socket: ClientConnection, word: str) -> str:
    await socket.send(json.dumps({"activity": str(live.cloud), "word": word}))
    return await until(socket, rf'id="status-{live.cloud}"')


def no_one_connected(live: Live) -> None:
    """Every socket of the test is let go, and no failure in our code was logged (the clients misbehaved; uvicorn
    itself logs a traceback for a frame that is not UTF-8, then closes that socket with 1007)."""

    def zero() -> None:
        assert live.connected() == 0

    eventually(zero, seconds=10)
    ours = re.compile(rf'File "{re.escape(str(ROOT))}/(server|activities)/')
    assert not ours.search(live.server.log.read_text()), live.server.log.read_text()[-3000:]


def test_a_frame_that_is_not_utf8_closes_that_socket_with_1007_and_no_other(live: Live) -> None:
    async def scenario() -> tuple[int | None, str]:
        bad, good = await live.phone(live.join()), await live.phone(live.join())
        try:
            await bad.send(b'{"activity": "\xff\xfe"}', text=True)
            code = await closed_with(bad)
            return code, await answered(live, good, "still")
        finally:
            await good.close()

    code, reply = asyncio.run(scenario())
    assert code == 1007 and "Received" in reply
    no_one_connected(live)


def test_a_frame_larger_than_the_server_takes_closes_that_socket_with_1009(live: Live) -> None:
    async def scenario() -> tuple[int | None, str, str]:
        big, good = await live.phone(live.join()), await live.phone(live.join())
        try:
            await big.send(json.dumps({"activity": str(live.cloud), "word": "x" * MESSAGE_LIMIT}))
            too_long = await until(big, r'id="connection"')
            await big.send("x" * (4 * MESSAGE_LIMIT + 1))
            code = await closed_with(big)
            return code, too_long, await answered(live, good, "fine")
        finally:
            await good.close()

    code, too_long, reply = asyncio.run(scenario())
    assert "That answer is too long (at most 16 KiB)." in too_long
    assert code == 1009 and "Received" in reply
    no_one_connected(live)


def test_sockets_dropped_halfway_through_a_message_are_let_go(live: Live) -> None:
    async def scenario() -> str:
        for _ in range(5):
            socket = await live.phone(live.join())
            socket.protocol.send_text(b'{"activity": "' + str(live.cloud).encode() + b'", "word": "half', fin=False)
            socket.transport.writelines(socket.protocol.data_to_send())
            socket.transport.abort()  # no close frame, no rest of the message: the network just went
        survivor = await live.phone(live.join())
        try:
            return await answered(live, survivor, "survivor")
        finally:
            await survivor.close()

    assert "Received" in asyncio.run(scenario())
    no_one_connected(live)
    assert httpx.get(f"{live.server.url}/healthz", timeout=5).json()["status"] == "ok"


def test_a_flood_over_a_real_socket_is_answered_or_cut_off_and_others_keep_answering(live: Live) -> None:
    async def scenario() -> tuple[list[str], int | None, str]:
        flooder, calm = await live.phone(live.join()), await live.phone(live.join())
        try:
            for n in range(300):
                await flooder.send(json.dumps({"activity": str(live.cloud), "word": f"w{n}"}))
            replies: list[str] = []
            code = None
            try:
                async with asyncio.timeout(10):
                    while len(replies) < 300:
                        frame = await flooder.recv()
                        if isinstance(frame, str) and re.search(rf'id="(status-{live.cloud}|connection)"', frame):
                            replies.append(frame)
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
            return replies, code, await answered(live, calm, "calm")
        finally:
            await flooder.close()
            await calm.close()

    replies, code, reply = asyncio.run(scenario())
    assert len(replies) == 300 or code in {1008, 1013}
    assert all('class="status ok"' in frame or "error" in frame for frame in replies)
    assert "Received" in reply
    no_one_connected(live)
