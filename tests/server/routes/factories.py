"""Helpers the tests of tests/server/routes/ share; import them from here: conftest.py keeps only fixtures and hooks."""

from __future__ import annotations

from typing import Any

import httpx


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of an error answer, checked for the fields every error has."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def poll_of(session: dict[str, Any]) -> int:
    return int(session["activities"][0]["id"])


def cloud_of(session: dict[str, Any]) -> int:
    return int(session["activities"][1]["id"])


def page_csrf(client: Any, email: str) -> str:
    """Sign the client in through the login form; the CSRF token its pages carry (for X-CSRF-Token)."""
    from tests.factories import csrf_from, login

    client.cookies.clear()
    login(client, email)
    return csrf_from(client.get("/present").text)
