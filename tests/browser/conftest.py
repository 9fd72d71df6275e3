"""Real-browser fixtures: Debian's Chromium driven by Playwright, against a real uvicorn."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

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
