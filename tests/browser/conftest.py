"""Real-browser fixtures: Debian's Chromium driven by Playwright, against a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Playwright

from tests.browser.factories import (
    SHARED_BROWSER,
    CspWatch,
    LiveDeck,
    PageErrors,
    live_deck,
)
from tests.factories import LiveServer


# One Playwright driver and one Chromium for every browser test in a row (starting them cost about 1.2 s a module).
# Playwright's sync API keeps an event loop running in the main thread while it lives, which would break a later
# test that calls asyncio.run() (the CLI's tests do) or starts a Playwright of its own (bench/firstload.py): the
# driver stops before any test that does not ask for `browser` (tests/conftest.py, pytest_runtest_setup), and
# browser tests run after the others (pytest_collection_modifyitems).
@pytest.fixture(scope="module")
def playwright() -> Playwright:
    return SHARED_BROWSER.driver()


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    instance = SHARED_BROWSER.browser()
    yield instance
    for context in list(instance.contexts):  # what a module left open goes with it, as its own browser did
        context.close()


@pytest.fixture(autouse=True)
def csp(request: pytest.FixtureRequest, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> Iterator[CspWatch]:
    """Every browser test runs with the policy on and fails if any page it opened broke it (or the server heard of
    a violation). Pages are watched from the start: every context the test opens through `browser` is."""
    server = request.getfixturevalue("live_server") if "live_server" in request.fixturenames else None
    watch = CspWatch(server)
    new_context = browser.new_context
    monkeypatch.setattr(browser, "new_context", lambda *args, **options: watch.watch(new_context(*args, **options)))
    yield watch
    found = watch.violations + watch.reported()
    if found:
        pytest.fail("Content Security Policy violations:\n" + "\n".join(found), pytrace=False)


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture(scope="module")
def example_deck(live_server: LiveServer) -> Iterator[LiveDeck]:
    """A session of the example deck, which has every kind, shared by a module's tests."""
    with live_deck(live_server, {"deck_slug": "distributed-leadership"}) as running:
        yield running
