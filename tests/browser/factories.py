"""Helpers the tests of tests/browser/ share; import them from here: conftest.py keeps only fixtures and hooks."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    PlaywrightContextManager,
    expect,
    sync_playwright,
)

from tests.factories import PASSWORD, LiveServer, cli

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


CHROME_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


LAPTOP = {"viewport": {"width": 1280, "height": 800}}


def chromium_path() -> str:
    """Debian's Chromium (`make test` installs it); a missing browser fails the run, it never skips it."""
    path = os.environ.get("HANDSUP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Chromium is not installed: run `make test` (it installs the chromium package) or set "
            "HANDSUP_CHROMIUM to a Chromium binary."
        )
    return path


class SharedBrowser:
    """Playwright's driver and Chromium, started on first use and kept until stop(): one for a run of browser tests."""

    def __init__(self) -> None:
        self._manager: PlaywrightContextManager | None = None
        self._driver: Playwright | None = None
        self._browser: Browser | None = None

    def driver(self) -> Playwright:
        if self._driver is None:
            self._manager = sync_playwright()
            self._driver = self._manager.start()
        return self._driver

    def browser(self) -> Browser:
        if self._browser is None or not self._browser.is_connected():
            self._browser = self.driver().chromium.launch(executable_path=chromium_path(), args=CHROME_ARGS)
        return self._browser

    def stop(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._manager is not None:
            self._manager.__exit__(None, None, None)
            self._manager = self._driver = None


SHARED_BROWSER = SharedBrowser()


# In every page: each CSP violation goes to Python at once (surviving navigation) and onto window (to wait for).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (event) {
  var violation = {directive: event.effectiveDirective, blocked: event.blockedURI, page: event.documentURI,
                   source: event.sourceFile + ":" + event.lineNumber, sample: event.sample};
  window.handsupCspViolation(violation);
  (window.handsupCspViolations = window.handsupCspViolations || []).push(violation);
}, true);
"""


CSP_REPORT_LINE = "CSP violation report:"  # server/web/headers.py logs one such line per report it is sent


class CspWatch:
    """The Content Security Policy violations of every page a test opens, as the pages see them (events, console)
    and as the live server was told (its log: the server runs in another process, so its log is where its report
    counter can be read from outside)."""

    def __init__(self, server: LiveServer | None) -> None:
        self.server = server
        self.violations: list[str] = []
        self._log_at = self._log_size()

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.expose_binding("handsupCspViolation", lambda source, found: self.violations.append(_described(found)))
        context.add_init_script(CSP_LISTENER)
        context.on("page", lambda page: page.on("console", self._console))
        return context

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(f"console of {message.page.url if message.page else '?'}: {message.text}")

    def _log_size(self) -> int:
        return self.server.log.stat().st_size if self.server is not None else 0

    def reported(self) -> list[str]:
        """The server's log lines about reports it received since this test began (or since forget())."""
        if self.server is None:
            return []
        with self.server.log.open("rb") as log:
            log.seek(self._log_at)
            return [line for line in log.read().decode(errors="replace").splitlines() if CSP_REPORT_LINE in line]

    def forget(self) -> None:
        """For a test that causes violations on purpose, once it has seen them."""
        self.violations.clear()
        self._log_at = self._log_size()


def _described(found: dict[str, Any]) -> str:
    sample = f" ({found.get('sample')!r})" if found.get("sample") else ""
    where = f"{found.get('page')} at {found.get('source')}"
    return f"{found.get('directive')} blocked {found.get('blocked')!r}{sample} on {where}"


class PageErrors:
    """Collects uncaught script errors of every page opened through it; a test asserts there were none."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page, name: str) -> Page:
        page.on("pageerror", lambda error: self.errors.append(f"{name}: {error}"))
        return page


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Keep a picture of what a person sees (git-ignored folder; docs/screenshots holds the chosen ones). A full-page
    picture re-applies the device emulation, which drops a text size set through CDP: those take the viewport."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


PRESENTER = "presenter@example.org"


@dataclass
class LiveDeck:
    """A session running on a live server, driven through the JSON API as a presenter's script would."""

    api: httpx.Client
    session: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.session["code"])

    def goto(self, position: int) -> dict[str, Any]:
        activity = dict(self.session["activities"][position])
        self.control("goto", activity)
        return activity

    def control(self, action: str, activity: dict[str, Any]) -> None:
        response = self.api.post(
            f"/api/v1/sessions/{self.session['id']}/control", json={"action": action, "activity_id": activity["id"]}
        )
        assert response.status_code == 200, response.text

    def respondents(self, activity: dict[str, Any]) -> int:
        response = self.api.get(f"/api/v1/sessions/{self.session['id']}/activities/{activity['id']}/tally")
        return int(response.json()["respondents"])


@contextmanager
def live_deck(server: LiveServer, start: dict[str, Any]) -> Iterator[LiveDeck]:
    """A presenter account and API token made with the real CLI, and a session started with `start`
    (`{"deck_yaml": ...}`, `{"deck_slug": ...}`, or `{"deck_source": ...}`: YAML stored as a deck first). The
    account and its token are made on a live server's first call, the token kept in its data folder: each CLI run
    is a Python start-up (1-2.5 s on a busy machine), and the tests that start a session each made one per test."""
    password_file = server.data_dir / "password"
    if not password_file.exists():
        password_file.write_text(PASSWORD)
        cli(server, "user", "add", PRESENTER, "--password-file", str(password_file))
    token_file = server.data_dir / "presenter-token"
    if not token_file.exists():
        token_file.write_text(cli(server, "token", "create", PRESENTER))
    token = token_file.read_text()
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        if "deck_source" in start:  # stored as a deck of the presenter's first, so its session can be started again
            deck = api.post("/api/v1/decks", json={"source": start["deck_source"]})
            assert deck.status_code == 201, deck.text
            start = {"deck_id": deck.json()["id"]}
        response = api.post("/api/v1/sessions", json=start)
        assert response.status_code == 201, response.text
        yield LiveDeck(api, response.json())


def first_of_each_kind(session: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each kind's first activity in a session, by kind, in deck order."""
    found: dict[str, dict[str, Any]] = {}
    for activity in session["activities"]:
        found.setdefault(activity["kind"], activity)
    return found


def sign_in(page: Page, server: LiveServer, session_id: int) -> None:
    """Sign the presenter in through the login page and open the session's presenter view."""
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(PRESENTER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{server.url}/present/{session_id}")


@contextmanager
def organizer_api(server: LiveServer, email: str) -> Iterator[httpx.Client]:
    """An organizer's account and API token, made with the real CLI as an operator would on the box."""
    password_file = server.data_dir / f"{email}-password"
    password_file.write_text(PASSWORD)
    cli(server, "user", "add", email, "--role", "organizer", "--password-file", str(password_file))
    token = cli(server, "token", "create", email)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def sign_in_organizer(page: Page, server: LiveServer, email: str) -> None:
    """Sign an organizer in through the login page; they land on their institutes."""
    page.goto(f"{server.url}/login?next=/organize")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Institutes")).to_be_visible()
