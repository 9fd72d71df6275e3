"""The deck library's and the editor's actions over the JSON API: copy, rename, shares, the palette, previews."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.factories import TWO_QUESTIONS, Presenter
from tests.server.routes.factories import problem


def _deck(presenter: Presenter, **body: Any) -> dict[str, Any]:
    made = presenter.client.post("/api/v1/decks", json=body or {"source": TWO_QUESTIONS}, headers=presenter.headers)
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_copy_makes_a_deck_of_one_s_own_from_one_shared_to_view(presenter: Presenter, other: Presenter) -> None:
    deck = _deck(other)
    problem(presenter.client.post(f"/api/v1/decks/{deck['id']}/copy", headers=presenter.headers), 404)
    shared = other.client.put(
        f"/api/v1/decks/{deck['id']}/shares", json={"email": presenter.user.email}, headers=other.headers
    )
    assert shared.json() == [{"user_id": presenter.user.id, "email": presenter.user.email, "access": "view"}]
    copied = presenter.client.post(f"/api/v1/decks/{deck['id']}/copy", headers=presenter.headers)
    assert copied.status_code == 201, copied.text
    body = copied.json()
    assert (body["title"], body["can_edit"], body["id"] != deck["id"]) == ("Copy of Two questions", True, True)
    assert body["document"]["activities"] == deck["document"]["activities"]


def test_rename_changes_the_title_in_the_text_as_a_new_version(presenter: Presenter, other: Presenter) -> None:
    deck = _deck(presenter)
    renamed = presenter.client.patch(
        f"/api/v1/decks/{deck['id']}", json={"title": "Closing circle"}, headers=presenter.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["title"], renamed.json()["version"]) == ("Closing circle", deck["version"] + 1)
    text = presenter.client.get(f"/api/v1/decks/{deck['id']}/yaml", headers=presenter.headers).text
    assert text.startswith("title: Closing circle\n") and "Where does the week go?" in text
    problem(presenter.client.patch(f"/api/v1/decks/{deck['id']}", json={"title": ""}, headers=presenter.headers), 422)
    problem(other.client.patch(f"/api/v1/decks/{deck['id']}", json={"title": "Mine"}, headers=other.headers), 404)


def test_sharing_to_edit_then_unsharing(presenter: Presenter, other: Presenter) -> None:
    deck = _deck(presenter)
    url = f"/api/v1/decks/{deck['id']}/shares"
    assert presenter.client.get(url, headers=presenter.headers).json() == []
    presenter.client.put(url, json={"email": other.user.email, "access": "edit"}, headers=presenter.headers)
    renamed = other.client.patch(f"/api/v1/decks/{deck['id']}", json={"title": "Ours"}, headers=other.headers)
    assert renamed.status_code == 200, renamed.text
    problem(other.client.get(url, headers=other.headers), 403)  # an editor does not choose who else may
    nobody = presenter.client.put(url, json={"email": "nobody@example.org"}, headers=presenter.headers)
    assert problem(nobody, 422)["title"] == "No such account"
    gone = presenter.client.delete(f"{url}/{other.user.id}", headers=presenter.headers)
    assert gone.status_code == 204
    assert presenter.client.get(url, headers=presenter.headers).json() == []
    problem(other.client.get(f"/api/v1/decks/{deck['id']}", headers=other.headers), 404)
    assert presenter.client.delete(f"{url}/{other.user.id}", headers=presenter.headers).status_code == 204


def test_the_palette_is_the_editor_s(client: TestClient, presenter: Presenter) -> None:
    palette = client.get("/api/v1/kinds", headers=presenter.headers)
    assert palette.status_code == 200
    body = palette.json()
    kinds = {kind["name"]: kind for kind in body["kinds"]}
    assert {"poll", "wordcloud", "qa", "open"} <= set(kinds)
    assert kinds["poll"]["schema"]["properties"]["options"]
    assert {"code": "es", "name": "Español"} in body["languages"]
    problem(client.get("/api/v1/kinds"), 401)


def test_a_preview_shows_the_phone_and_the_projector_or_the_problems(client: TestClient, presenter: Presenter) -> None:
    document = {"title": "Draft", "activities": [{"kind": "poll", "title": "Lunch?", "options": ["Yes", "No"]}]}
    shown = client.post("/api/v1/decks/preview", json={"document": document, "index": 0}, headers=presenter.headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["problems"] == [] and "Lunch?" in body["phone"] and "Lunch?" in body["projector"]
    spanish = client.post(
        "/api/v1/decks/preview", json={"document": document, "index": 0, "language": "es"}, headers=presenter.headers
    ).json()
    assert 'lang="es"' in spanish["phone"]
    document["activities"][0]["options"] = []
    broken = client.post("/api/v1/decks/preview", json={"document": document, "index": 0}, headers=presenter.headers)
    assert broken.json()["phone"] is None
    assert broken.json()["problems"][0]["path"].startswith("activities[0]")
    problem(client.post("/api/v1/decks/preview", json={"index": 0}, headers=presenter.headers), 422)
