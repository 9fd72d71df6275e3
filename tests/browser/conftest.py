"""Real-browser fixtures: Debian's Chromium driven by Playwright, against a real uvicorn."""

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
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.conftest import PASSWORD, LiveServer, cli

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


# Module scope: Playwright's sync API keeps an event loop running in the main thread while it lives, which
# would break every later test that calls asyncio.run() (the CLI's tests do).
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROME_ARGS)
    yield instance
    instance.close()


class PageErrors:
    """Collects uncaught script errors of every page opened through it; a test asserts there were none."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page, name: str) -> Page:
        page.on("pageerror", lambda error: self.errors.append(f"{name}: {error}"))
        return page


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of what a person sees (git-ignored folder; docs/screenshots holds the chosen ones)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


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
    (`{"deck_yaml": ...}` or `{"deck_slug": ...}`). The account is made on a live server's first call."""
    password_file = server.data_dir / "password"
    if not password_file.exists():
        password_file.write_text(PASSWORD)
        cli(server, "user", "add", PRESENTER, "--password-file", str(password_file))
    token = cli(server, "token", "create", PRESENTER)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as api:
        response = api.post("/api/v1/sessions", json=start)
        assert response.status_code == 201, response.text
        yield LiveDeck(api, response.json())


def sign_in(page: Page, server: LiveServer, session_id: int) -> None:
    """Sign the presenter in through the login page and open the session's presenter view."""
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(PRESENTER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{server.url}/present/{session_id}")
