"""Guessing join codes: wrong codes count per address and for everyone, at every door; past either budget every code
answers 429 (the right one too) except to participants already in; and a brute force against a real uvicorn.

The brute force prints its figure; docs/security/join-codes.md records it:
    .venv/bin/pytest -q -s -p no:cacheprovider tests/server/web/test_join_guessing.py -k brute
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.config import Settings
from server.live.connections import GONE, TRY_AGAIN
from server.web.throttle import MINUTE, TOO_MANY_EVERYWHERE, TOO_MANY_FROM_HERE
from tests.factories import (
    PASSWORD,
    TWO_QUESTIONS,
    LiveServer,
    Presenter,
    cli,
    csrf_from,
    home_csrf,
    join,
    limits,
    receive,
    start_server,
    stop_server,
)

WRONG = "000001"  # no test session gets it: codes are drawn at random, and one in a million collides


@pytest.fixture
def code(presenter: Presenter) -> str:
    return str(presenter.start(TWO_QUESTIONS)["code"])


def socket_close(client: TestClient, code: str, token: str) -> tuple[int, str]:
    """How the participant socket for `code` is turned away."""
    with client.websocket_connect(f"/ws/participant/{code}", headers={"cookie": f"handsup_participant={token}"}) as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            receive(ws)
    return closed.value.code, closed.value.reason


def api_join(client: TestClient, code: str) -> httpx.Response:
    return client.post("/api/v1/join", json={"code": code})


@limits(join_misses_per_address=4)
def test_wrong_codes_at_every_door_share_one_budget_then_every_door_says_429(client: TestClient, code: str) -> None:
    token = join(client, code)  # a participant, by the API: the client itself holds no participant cookie
    csrf = home_csrf(client)
    assert client.post("/join", data={"code": WRONG, "csrf_token": csrf}).status_code == 404
    assert client.get(f"/{WRONG}").status_code == 404
    assert api_join(client, WRONG).status_code == 404
    assert socket_close(client, WRONG, "t" * 43) == (GONE, "no live session with that code")

    page = client.post("/join", data={"code": WRONG, "csrf_token": csrf})
    assert page.status_code == 429 and 1 <= int(page.headers["retry-after"]) <= 15  # four a minute: one in 15 s
    assert TOO_MANY_FROM_HERE in page.text and 'id="join-error"' in page.text
    problem = api_join(client, code)  # the right code too: a guesser must not learn when they hit
    assert problem.status_code == 429 and problem.json()["detail"] == TOO_MANY_FROM_HERE
    assert client.get(f"/{code}", headers={"Accept": "text/html"}).status_code == 429
    assert socket_close(client, code, "s" * 43) == (TRY_AGAIN, TOO_MANY_FROM_HERE)
    # Someone already in the session keeps their way in: their cookie proves it, and it gives a guesser nothing.
    assert socket_close(client, WRONG, token)[0] == TRY_AGAIN
    with client.websocket_connect(f"/ws/participant/{code}", headers={"cookie": f"handsup_participant={token}"}) as ws:
        assert 'id="stage"' in receive(ws)
    client.cookies.set("handsup_participant", token)
    assert client.get(f"/{code}").status_code == 200


@limits(join_misses_per_address=1)
def test_a_room_behind_one_address_typing_the_right_code_never_uses_the_budget(client: TestClient, code: str) -> None:
    assert all(api_join(client, code).status_code == 201 for _ in range(300))
    assert api_join(client, "123 4567").status_code == 404  # one typo: the whole budget
    assert api_join(client, "1234567").status_code == 429


@limits(join_misses_per_address=1)
def test_a_room_reloading_the_page_of_its_ended_session_is_not_taken_for_a_guesser(
    client: TestClient, presenter: Presenter
) -> None:
    session = presenter.start(TWO_QUESTIONS)
    assert client.get(f"/{session['code']}").status_code == 200  # a phone: it has its participant cookie now
    presenter.control(session["id"], "end")
    for _ in range(5):
        ended = client.get(f"/{session['code']}", headers={"Accept": "text/html"})
        assert ended.status_code == 404 and "has ended. Thank you for taking part!" in ended.text
    assert api_join(client, WRONG).status_code == 404  # the budget is still whole: one real miss
    assert api_join(client, WRONG).status_code == 429


@limits(join_misses_per_address=100, join_misses_global=3)
def test_wrong_codes_from_everyone_share_a_global_budget(client: TestClient, code: str) -> None:
    assert [api_join(client, WRONG).status_code for _ in range(4)] == [404, 404, 404, 429]
    assert api_join(client, code).json()["detail"] == TOO_MANY_EVERYWHERE


@limits(join_misses_per_address=1)
def test_malformed_codes_are_not_guesses(client: TestClient, code: str) -> None:
    for typed in ("12345", "1234567890", "abcdef", ""):
        assert api_join(client, typed).status_code == 404
    assert client.get("/favicon.ico").status_code == 404
    assert api_join(client, code).status_code == 201


# --- brute force against a real server ------------------------------------------------------------------------------


SECONDS_ONE_ADDRESS = 10.0
BEYOND_THE_GLOBAL_BURST = 300  # guesses from many addresses past the global burst: however fast the box is
WORKERS = 8  # guesses in flight at once: the budget must hold however many arrive together
DOORS = ("POST /api/v1/join", "GET /{code}", "POST /join")


@dataclass
class Guessing:
    """What a run of guesses got: statuses by door, one body per (door, status), and its wall time."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    bodies: dict[tuple[str, int], str] = field(default_factory=dict)
    seconds: float = 0.0

    def count(self, status: int) -> int:
        return sum(n for (_, code), n in self.statuses.items() if code == status)


async def guess(
    url: str, forwarded: Callable[[int], str | None], seconds: float = 600.0, guesses: int | None = None
) -> Guessing:
    """Guess random codes as fast as WORKERS at once allow, for `seconds` (or until `guesses` are answered), through
    the three HTTP doors in turn."""
    run = Guessing()
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        csrf = csrf_from((await http.get("/")).text)
        doors: dict[str, Callable[[str, dict[str, str]], Awaitable[httpx.Response]]] = {
            DOORS[0]: lambda c, h: http.post("/api/v1/join", json={"code": c}, headers=h),
            DOORS[1]: lambda c, h: http.get(f"/{c}", headers={"Accept": "text/html", **h}),
            DOORS[2]: lambda c, h: http.post("/join", data={"code": c, "csrf_token": csrf}, headers=h),
        }
        start = time.monotonic()
        deadline = start + seconds

        async def worker(n: int) -> None:
            draw = random.Random(n)
            sent = 0
            while time.monotonic() < deadline and (guesses is None or sum(run.statuses.values()) < guesses):
                door = DOORS[(n + sent) % len(DOORS)]
                address = forwarded(n * 1_000_000 + sent)
                headers = {"X-Forwarded-For": address} if address else {}
                response = await doors[door](f"{draw.randrange(10**6):06d}", headers)
                run.statuses[door, response.status_code] += 1
                run.bodies.setdefault((door, response.status_code), response.text)
                sent += 1

        await asyncio.gather(*(worker(n) for n in range(WORKERS)))
        run.seconds = time.monotonic() - start
    return run


@pytest.fixture(scope="module")
def guessed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("guessing"))  # the shipped budgets
    yield server
    stop_server(server)


def live_code(server: LiveServer) -> str:
    """A session the guesses may hit (one in a million): a hit is answered 303/201/200, counted apart."""
    password = server.data_dir / "password.txt"
    password.write_text(PASSWORD)
    cli(server, "user", "add", "presenter@example.org", "--password-file", str(password))
    token = cli(server, "token", "create", "presenter@example.org")
    created = httpx.post(
        f"{server.url}/api/v1/sessions", json={"deck_yaml": TWO_QUESTIONS}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["code"])


@pytest.mark.alone  # it counts guesses a minute against a real uvicorn: another worker's load would skew it
def test_brute_force_from_one_address_gets_no_more_than_its_budget(guessed_server: LiveServer) -> None:
    defaults = Settings.model_fields
    per_address, everyone = defaults["join_misses_per_address"].default, defaults["join_misses_global"].default
    live_code(guessed_server)
    run = asyncio.run(guess(guessed_server.url, lambda _: None, seconds=SECONDS_ONE_ADDRESS))
    missed, throttled = run.count(404), run.count(429)
    assert set(status for _, status in run.statuses) <= {404, 429, 303, 201, 200}, run.statuses
    # A token bucket of `per_address`, refilled at `per_address` a minute: the most any run of this length gets.
    budget = per_address + per_address * run.seconds / MINUTE
    assert per_address <= missed <= budget + 1, (missed, budget)
    assert throttled > 0
    assert TOO_MANY_FROM_HERE in run.bodies[DOORS[2], 429]  # the join page says why, in the form
    assert "Too many codes tried from this network" in run.bodies[DOORS[1], 429]
    sustained = (missed - per_address) / run.seconds * MINUTE
    print(  # noqa: T201 - the figure docs/security/join-codes.md records
        f"\none address, {run.seconds:.1f} s, {WORKERS} in flight: {missed + throttled} guesses, "
        f"{missed} answered 'no such session', {throttled} answered 429: the first {per_address} at once, "
        f"then {sustained:.0f} a minute (budget: {per_address} at once, then {per_address} a minute)"
    )

    # Now from many addresses at once (forwarded by a trusted proxy): the global budget holds them all.
    spread = asyncio.run(
        guess(
            guessed_server.url,
            lambda n: f"198.51.{n // 256 % 256}.{n % 256}",
            guesses=everyone + BEYOND_THE_GLOBAL_BURST,
        )
    )
    spread_missed, spread_throttled = spread.count(404), spread.count(429)
    elapsed = run.seconds + spread.seconds + 1  # the second run starts a moment after the first ends
    assert missed + spread_missed <= everyone + everyone * elapsed / MINUTE + 1
    assert spread_throttled > 0
    assert all(TOO_MANY_EVERYWHERE in body for (_, status), body in spread.bodies.items() if status == 429)
    print(  # noqa: T201
        f"many addresses, {spread.seconds:.1f} s, {WORKERS} in flight: {spread_missed + spread_throttled} guesses, "
        f"{spread_missed} answered 'no such session', {spread_throttled} answered 429 "
        f"(budget for everyone together: {everyone} at once, then {everyone} a minute)"
    )
