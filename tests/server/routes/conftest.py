"""What the JSON API tests share: the problem+json check, a second presenter, a running session."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.conftest import (
    TWO_QUESTIONS,
    Presenter,
    api_token,
    caught_up,
    make_user,
)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of an error answer, checked for the fields every error has."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


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


def poll_of(session: dict[str, Any]) -> int:
    return int(session["activities"][0]["id"])


def cloud_of(session: dict[str, Any]) -> int:
    return int(session["activities"][1]["id"])
