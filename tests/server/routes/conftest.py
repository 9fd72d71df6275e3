"""What the JSON API tests share: the problem+json check, a second presenter, a running session."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.factories import (
    TWO_QUESTIONS,
    Presenter,
    api_token,
    caught_up,
    make_user,
)


@pytest.fixture
def other(client: TestClient) -> Presenter:
    user = make_user(client, "other@example.org")
    return Presenter(client, user, api_token(client, user.email))


@pytest.fixture
def running(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    """A session from the small deck, on its poll."""
    session = presenter.start(TWO_QUESTIONS)
    presenter.control(session["id"], "goto", session["activities"][0]["id"])
    caught_up(client, session["id"])
    return session
