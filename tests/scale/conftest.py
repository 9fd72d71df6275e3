"""A deployment of several real `handsup serve` workers on one PostgreSQL database and one Redis, and the people
using it: phones on real websockets (docs/protocol.md), a presenter with an API token and a signed-in socket."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.browser.factories import PRESENTER, live_deck
from tests.factories import (
    PASSWORD,
    TWO_QUESTIONS,
    PostgresDatabases,
    csrf_from,
    stop_server,
)
from tests.scale.factories import (
    Deployment,
    Session,
)
from tests.services import RedisServer


@pytest.fixture
def deployment(postgres: PostgresDatabases, redis_server: RedisServer, tmp_path: Path) -> Iterator[Deployment]:
    """Two workers, `a` and `b`, started together on a new database (they migrate it one at a time)."""
    plan = Deployment(tmp_path, postgres.fresh(migrated=False), redis_server, [])
    with ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(plan.start, name) for name in ("a", "b")]
    try:
        plan.workers = [worker.result() for worker in starting]
        yield plan
    finally:
        for worker in plan.workers or [w.result() for w in starting if w.exception() is None]:
            if worker.process.poll() is None:
                stop_server(worker)


@pytest.fixture
def session(deployment: Deployment) -> Iterator[Session]:
    """The presenter's account and token (made with the CLI on worker a), a session on its poll, and a cookie."""
    worker = deployment.workers[0]
    with live_deck(worker, {"deck_yaml": TWO_QUESTIONS}) as deck:
        with httpx.Client(base_url=worker.url, timeout=10) as http:
            page = http.get("/login")
            signed_in = http.post(
                "/login",
                data={"csrf_token": csrf_from(page.text), "email": PRESENTER, "password": PASSWORD, "next": "/present"},
            )
            assert signed_in.status_code in (200, 303), signed_in.text
            cookie = http.cookies.get("handsup_session")
        assert cookie
        running = Session(deck, cookie)
        running.goto(worker, running.poll)
        yield running
