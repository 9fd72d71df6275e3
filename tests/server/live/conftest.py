"""The live tests' usual room: a session of two questions, and the same with its poll on every screen."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.factories import TWO_QUESTIONS, Presenter, caught_up


@pytest.fixture
def session(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    return presenter.start(TWO_QUESTIONS)


@pytest.fixture
def on_poll(client: TestClient, presenter: Presenter, session: dict[str, Any]) -> int:
    """The session's first activity, a poll, shown to everyone: its id."""
    poll = int(session["activities"][0]["id"])
    presenter.control(session["id"], "goto", poll)
    caught_up(client, session["id"])
    return poll
