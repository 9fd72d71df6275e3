"""The decks API (server/routes/decks.py)."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.factories import Presenter


def test_list_decks_gives_the_decks_of_the_decks_folder(client: TestClient, presenter: Presenter) -> None:
    decks = client.get("/api/v1/decks", headers=presenter.headers).json()
    assert [(d["slug"], d["title"]) for d in decks] == [
        ("distributed-leadership", "Transforming Schools Through Distributed Leadership")
    ]
