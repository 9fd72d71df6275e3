"""A worker killed (SIGKILL) in the middle of a burst of votes: no acknowledged vote is lost, and a real phone
(Debian's Chromium) connected through it comes back by itself, on the stage the presenter moved to meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from contextlib import AsyncExitStack

import pytest
from playwright.sync_api import Browser, expect
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.browser.conftest import browser, playwright  # the browser suite's fixtures, reused here
from tests.browser.factories import PHONE, screenshot
from tests.factories import LiveServer, eventually
from tests.scale.factories import WAIT, Deployment, Session, acknowledged, phones, token_hashes, vote
from tests.services import in_thread

pytestmark = [pytest.mark.scale, pytest.mark.browser]
__all__ = ["browser", "playwright"]  # the real-browser fixtures, used here as in tests/browser
BURST = 150
KILL_AFTER = BURST // 4  # acknowledgements seen before the worker is killed
# htmx retries after a random wait that doubles with each failure (up to 1 s, 2 s, 4 s...): the longer the worker
# was down, the longer the phone may wait once it is back. Measured here: under 1.5 s after a 1.5-2 s restart.
PHONE_BACK = 60.0
SPACING = 0.01  # seconds between two phones' votes: the burst lasts longer than a few commits


async def burst_then_kill(worker: LiveServer, session: Session, tokens: list[str]) -> list[str]:
    """Every phone votes at once; once KILL_AFTER are acknowledged the worker gets SIGKILL. The acknowledged."""
    async with AsyncExitStack() as stack:
        sockets = await phones(stack, worker, session, tokens)
        acked: list[str] = []
        enough = asyncio.Event()

        async def one(phone: ClientConnection, token: str) -> None:
            try:
                if await acknowledged(phone, session.poll):
                    acked.append(token)
            except ConnectionClosed:
                return
            if len(acked) >= KILL_AFTER:
                enough.set()

        async def stream() -> None:  # a steady stream, spread over many group commits, until the worker dies
            for n, phone in enumerate(sockets):
                with contextlib.suppress(ConnectionClosed):
                    await vote(phone, session.poll, n % 3)
                await asyncio.sleep(SPACING)

        waiting = [asyncio.create_task(one(phone, token)) for phone, token in zip(sockets, tokens, strict=True)]
        sending = asyncio.create_task(stream())
        await asyncio.wait_for(enough.wait(), WAIT)
        os.kill(worker.process.pid, signal.SIGKILL)
        await asyncio.gather(sending, *waiting)
        return list(acked)


def test_a_killed_worker_loses_no_acknowledged_vote_and_its_phones_come_back_by_themselves(
    browser: Browser, deployment: Deployment, session: Session
) -> None:
    a, b = deployment.workers
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{a.url}/{session.code}")
    expect(phone.get_by_role("heading", name="Where does the week go?")).to_be_visible()
    phone.evaluate("window.handsupSamePage = true")  # gone if the page were reloaded

    tokens = session.join(a, BURST)
    acked = in_thread(lambda: burst_then_kill(a, session, tokens))
    assert a.process.wait(timeout=10) == -signal.SIGKILL
    assert KILL_AFTER <= len(acked) < BURST, "the kill came in the middle of the burst"
    expect(phone.get_by_text("Connection lost. Reconnecting…")).to_be_visible()

    session.goto(b, session.cloud)  # the session moves on while the worker is down
    a = deployment.restart(a)
    expect(phone.get_by_role("heading", name="Three words")).to_be_visible(timeout=PHONE_BACK * 1000)
    assert phone.evaluate("window.handsupSamePage") is True
    phone.locator("input[name=word]").first.fill("resilience")
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_role("status").filter(has_text="Received")).to_be_visible()
    screenshot(phone, "phone-after-worker-restart")

    stored = deployment.stored_choices(session.poll)
    assert token_hashes(acked) <= set(stored), "every acknowledged vote is in the database"
    assert len(deployment.query("SELECT 1 FROM response WHERE activity_id = $1", session.cloud)) == 1

    def agree() -> None:  # the restarted worker made the other's rooms reload what it never published
        assert [session.respondents(worker, session.poll) for worker in (a, b)] == [len(stored), len(stored)]

    eventually(agree, seconds=WAIT)
