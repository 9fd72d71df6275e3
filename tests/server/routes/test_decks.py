"""The deck library's routes (server/routes/decks.py): the editor's source.json, YAML in and out, the library's
forms, and the JSON API's decks."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.decks import deck_yaml
from server.models import Deck, DeckShare, Role
from server.routes.participant import COOKIE
from tests.factories import DECK, TWO_QUESTIONS, Presenter, api_token, caught_up, join, make_user, stored
from tests.hostile import CORPUS, is_text
from tests.server.routes.factories import page_csrf, problem

DOCUMENT: dict[str, Any] = {
    "title": "Roles: who decides?",
    "language": "en",
    "activities": [
        {"kind": "poll", "title": "Who decides?", "options": ["Yes", "No", "1.0"], "notes": "Ask twice.\nThen wait."}
    ],
}


def template_id(client: TestClient) -> int:
    [deck] = stored(client, select(Deck).where(Deck.slug == "distributed-leadership"))
    assert deck.id is not None
    return deck.id


def new_deck(client: TestClient, presenter: Presenter, title: str = "Day one") -> dict[str, Any]:
    response = client.post("/api/v1/decks", json={"title": title}, headers=presenter.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def put(client: TestClient, csrf: str, deck_id: int, body: Any) -> Any:
    """PUT source.json as a browser's fetch does: JSON escapes what UTF-8 cannot carry (half a surrogate pair)."""
    return client.put(
        f"/present/decks/{deck_id}/source.json",
        content=json.dumps(body),
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )


# --- the API's list -----------------------------------------------------------------------------------------------


def test_list_decks_gives_the_decks_of_the_decks_folder(client: TestClient, presenter: Presenter) -> None:
    decks = client.get("/api/v1/decks", headers=presenter.headers).json()
    assert [(d["slug"], d["title"]) for d in decks] == [
        ("closing-quiz", "Closing quiz: what did we learn?"),
        ("distributed-leadership", "Transforming Schools Through Distributed Leadership"),
    ]
    for deck in decks:
        assert deck["template"] is True and deck["can_edit"] is False and deck["problems"] == 0
        assert deck["activities"] > 0 and deck["version"] == 1


# --- source.json ----------------------------------------------------------------------------------------------------


def test_source_json_gives_the_document_version_and_problems(client: TestClient, presenter: Presenter) -> None:
    created = new_deck(client, presenter)
    csrf = page_csrf(client, presenter.user.email)
    found = client.get(f"/present/decks/{created['id']}/source.json").json()
    assert found["id"] == created["id"] and found["version"] == 1 and found["can_edit"] is True
    assert found["template"] is False
    assert found["document"] == {"title": "Day one", "language": "en", "pace": "presenter", "activities": []}
    assert found["problems"] == [{"path": "activities", "line": 4, "message": "a list of at least one activity"}]
    assert found["updated_at"].endswith("Z")

    saved = put(client, csrf, created["id"], {"version": 1, "document": DOCUMENT})
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2 and saved.json()["problems"] == []
    assert saved.json()["title"] == "Roles: who decides?"
    again = client.get(f"/present/decks/{created['id']}/source.json").json()
    assert again["document"] == DOCUMENT and again["version"] == 2 and again["title"] == "Roles: who decides?"
    download = client.get(f"/present/decks/{created['id']}/deck.yaml")
    assert download.text == deck_yaml(DOCUMENT)
    assert download.headers["content-type"] == "text/yaml; charset=utf-8"


def test_a_save_on_an_older_version_is_refused_with_the_newer_one(client: TestClient, presenter: Presenter) -> None:
    created = new_deck(client, presenter)
    csrf = page_csrf(client, presenter.user.email)
    assert put(client, csrf, created["id"], {"version": 1, "document": DOCUMENT}).status_code == 200
    mine = {**DOCUMENT, "title": "Mine"}
    body = problem(put(client, csrf, created["id"], {"version": 1, "document": mine}), 409)
    assert body["title"] == "Someone else saved this deck"
    assert body["version"] == 2 and body["document"] == DOCUMENT and body["by"] == presenter.user.email
    assert presenter.user.email in body["detail"]
    saved_at = datetime.fromisoformat(body["saved_at"])  # when theirs was saved, for the editor's dialog
    assert saved_at.tzinfo is not None and f"{saved_at:%H:%M} UTC" in body["detail"]
    [deck] = stored(client, select(Deck).where(Deck.id == created["id"]))
    assert deck.title == "Roles: who decides?" and deck.version == 2


def test_a_view_only_or_template_deck_cannot_be_saved(client: TestClient, presenter: Presenter) -> None:
    csrf = page_csrf(client, presenter.user.email)
    template = template_id(client)
    body = problem(put(client, csrf, template, {"version": 1, "document": DOCUMENT}), 403)
    assert body["detail"] == "Templates are read-only: make a copy to edit."
    found = client.get(f"/present/decks/{template}/source.json").json()
    assert found["template"] is True and found["can_edit"] is False and found["problems"] == []


def test_another_presenters_deck_is_not_found(client: TestClient, presenter: Presenter) -> None:
    created = new_deck(client, presenter)
    stranger = make_user(client, "stranger@example.org")
    csrf = page_csrf(client, stranger.email)
    assert client.get(f"/present/decks/{created['id']}/source.json").status_code == 404
    problem(put(client, csrf, created["id"], {"version": 1, "document": DOCUMENT}), 404)
    assert client.get(f"/present/decks/{created['id']}/deck.yaml").status_code == 404
    [deck] = stored(client, select(Deck).where(Deck.id == created["id"]))
    assert deck.version == 1 and deck.title == "Day one"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"version": 1},
        {"document": {}},
        {"version": "1", "document": {}},
        {"version": True, "document": {}},
        {"version": 1, "document": []},
        {"version": 1, "document": "title: x"},
        {"version": 1, "document": {}, "source": "title: x"},
        {"version": 1, "document": {}, "extra": 1},
        [],
        "text",
    ],
)
def test_a_save_that_is_not_version_and_document_is_refused(
    client: TestClient, presenter: Presenter, body: Any
) -> None:
    created = new_deck(client, presenter)
    csrf = page_csrf(client, presenter.user.email)
    problem(put(client, csrf, created["id"], body), 422)
    [deck] = stored(client, select(Deck).where(Deck.id == created["id"]))
    assert deck.version == 1


def test_a_save_needs_the_csrf_token(client: TestClient, presenter: Presenter) -> None:
    created = new_deck(client, presenter)
    page_csrf(client, presenter.user.email)
    response = client.put(f"/present/decks/{created['id']}/source.json", json={"version": 1, "document": DOCUMENT})
    assert response.status_code == 403
    [deck] = stored(client, select(Deck).where(Deck.id == created["id"]))
    assert deck.version == 1


def test_a_save_over_the_size_limit_is_refused(client: TestClient, presenter: Presenter) -> None:
    created = new_deck(client, presenter)
    csrf = page_csrf(client, presenter.user.email)
    big = {**DOCUMENT, "description": "x" * 300_000}
    problem(put(client, csrf, created["id"], {"version": 1, "document": big}), 413)
    huge = {**DOCUMENT, "description": "x" * 2_000_000}
    problem(put(client, csrf, created["id"], {"version": 1, "document": huge}), 413)
    [deck] = stored(client, select(Deck).where(Deck.id == created["id"]))
    assert deck.version == 1


def test_a_document_nested_too_deeply_is_refused(client: TestClient, presenter: Presenter) -> None:
    created = new_deck(client, presenter)
    csrf = page_csrf(client, presenter.user.email)
    for depth in (900, 5000):
        body = '{"version": 1, "document": {"title": "T", "deep": ' + "[" * depth + '"x"' + "]" * depth + "}}"
        response = client.put(
            f"/present/decks/{created['id']}/source.json",
            content=body,
            headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
        )
        problem(response, 422)
    [deck] = stored(client, select(Deck).where(Deck.id == created["id"]))
    assert deck.version == 1


def test_the_stored_text_that_is_not_yaml_comes_with_a_null_document(client: TestClient, presenter: Presenter) -> None:
    response = client.post(
        "/api/v1/decks", json={"source": "title: Roles: who decides?\nactivities: []\n"}, headers=presenter.headers
    )
    assert response.status_code == 201, response.text
    found = response.json()
    assert found["document"] is None and found["title"] == "Untitled deck"
    [only] = found["problems"]
    assert only["line"] == 1
    assert 'put the text in quotes: title: "Roles: who decides?"' in only["message"]
    download = client.get(f"/api/v1/decks/{found['id']}/yaml", headers=presenter.headers)
    assert download.content == b"title: Roles: who decides?\nactivities: []\n"


# --- the JSON API ---------------------------------------------------------------------------------------------------


def test_the_api_saves_with_versions_and_refuses_a_stale_one(client: TestClient, presenter: Presenter) -> None:
    created = new_deck(client, presenter)
    url = f"/api/v1/decks/{created['id']}"
    saved = client.put(url, json={"version": 1, "source": TWO_QUESTIONS}, headers=presenter.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2 and saved.json()["title"] == "Two questions"
    assert client.get(f"{url}/yaml", headers=presenter.headers).text == TWO_QUESTIONS
    stale = problem(client.put(url, json={"version": 1, "document": DOCUMENT}, headers=presenter.headers), 409)
    assert stale["version"] == 2 and stale["document"]["title"] == "Two questions"
    assert client.get(url, headers=presenter.headers).json()["version"] == 2


def test_the_api_deletes_and_restores(client: TestClient, presenter: Presenter) -> None:
    created = new_deck(client, presenter)
    url = f"/api/v1/decks/{created['id']}"
    assert client.delete(url, headers=presenter.headers).status_code == 204
    assert client.get(url, headers=presenter.headers).status_code == 404
    assert created["id"] not in [d["id"] for d in client.get("/api/v1/decks", headers=presenter.headers).json()]
    restored = client.post(f"{url}/restore", headers=presenter.headers)
    assert restored.status_code == 200, restored.text
    assert client.get(url, headers=presenter.headers).status_code == 200


def test_the_api_copies_a_template_as_an_own_deck(client: TestClient, presenter: Presenter) -> None:
    template = template_id(client)
    response = client.post("/api/v1/decks", json={"copy_of": template}, headers=presenter.headers)
    assert response.status_code == 201, response.text
    copy = response.json()
    assert copy["template"] is False and copy["can_edit"] is True
    assert copy["title"] == "Copy of Transforming Schools Through Distributed Leadership"
    assert copy["document"]["title"] == copy["title"] and copy["problems"] == []
    original = DECK.read_text(encoding="utf-8")
    text = client.get(f"/api/v1/decks/{copy['id']}/yaml", headers=presenter.headers).text
    assert text.replace("title: Copy of ", "title: ", 1) == original  # only the title's value changed


def test_an_admin_edits_every_deck_and_an_organizer_their_institutes(client: TestClient, presenter: Presenter) -> None:
    created = new_deck(client, presenter)
    admin = make_user(client, "admin@example.org", Role.admin)
    as_admin = {"Authorization": f"Bearer {api_token(client, admin.email)}"}
    url = f"/api/v1/decks/{created['id']}"
    assert client.put(url, json={"version": 1, "document": DOCUMENT}, headers=as_admin).status_code == 200
    organizer = make_user(client, "organizer@example.org", Role.organizer)
    as_organizer = {"Authorization": f"Bearer {api_token(client, organizer.email)}"}
    assert client.get(url, headers=as_organizer).status_code == 404
    institute = client.post("/api/v1/institutes", json={"title": "Spring"}, headers=as_organizer).json()
    cohorts = f"/api/v1/institutes/{institute['id']}/cohorts"
    # A deck the organizer may not see cannot be put in their cohort (that would let them edit it).
    hidden = client.post(cohorts, json={"name": "Phoenix", "deck_ids": [created["id"]]}, headers=as_organizer)
    assert problem(hidden, 422)["detail"] == f"There is no deck {created['id']}."
    csrf = page_csrf(client, presenter.user.email)
    shared = client.post(
        f"/present/decks/{created['id']}/share",
        data={"csrf_token": csrf, "email": organizer.email, "access": "view"},
        follow_redirects=False,
    )
    assert shared.status_code == 303
    assert client.get(url, headers=as_organizer).json()["can_edit"] is False
    cohort = client.post(cohorts, json={"name": "Phoenix", "deck_ids": [created["id"]]}, headers=as_organizer)
    assert cohort.status_code == 201, cohort.text
    assert client.get(url, headers=as_organizer).json()["can_edit"] is True
    assert client.put(url, json={"version": 2, "document": DOCUMENT}, headers=as_organizer).status_code == 200


# --- presenter notes ------------------------------------------------------------------------------------------------

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
NOTES_DECK = """\
title: Roles
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
    notes: |
      Ask for a show of hands first.
        Then wait <script>alert(1)</script> ten seconds.
"""


def test_notes_show_in_the_presenter_view_only(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(NOTES_DECK)
    presenter.control(session["id"], "goto", session["activities"][0]["id"])
    caught_up(client, session["id"])
    assert "notes" not in session["activities"][0]
    token = join(client, session["code"])
    client.cookies.set(COOKIE, token)
    phone = client.get(f"/{session['code']}", headers=BROWSER)
    assert phone.status_code == 200 and "Where does the week go?" in phone.text
    projector = client.get(session["projector_url"], headers=BROWSER)
    assert projector.status_code == 200 and "Where does the week go?" in projector.text
    for page in (phone.text, projector.text):
        assert "show of hands" not in page and "Notes" not in page
    page_csrf(client, presenter.user.email)
    view = client.get(f"/present/{session['id']}").text
    assert '<h2 id="presenter-notes-heading">Notes</h2>' in view
    assert (
        "<p>Ask for a show of hands first.\n  Then wait &lt;script&gt;alert(1)&lt;/script&gt; ten seconds.</p>" in view
    )
    assert "<script>alert(1)" not in view


def test_notes_longer_than_the_limit_are_a_problem(client: TestClient, presenter: Presenter) -> None:
    response = client.post(
        "/api/v1/decks",
        json={"source": NOTES_DECK.replace("      Ask for", "      " + "x" * 4000 + " Ask for")},
        headers=presenter.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["problems"] == [
        {"path": "activities[0].notes", "line": 6, "message": "text of at most 4000 characters"}
    ]


# --- hostile input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", CORPUS, ids=[p.name for p in CORPUS])
def test_hostile_text_as_title_rename_share_and_notes_never_breaks_a_page(
    client: TestClient, presenter: Presenter, payload: Any
) -> None:
    created = client.post(
        "/api/v1/decks",
        content=json.dumps({"title": payload.text}),
        headers={**presenter.headers, "Content-Type": "application/json"},
    )
    assert created.status_code in (201, 422), created.text
    deck = new_deck(client, presenter)
    csrf = page_csrf(client, presenter.user.email)
    document = {**DOCUMENT, "activities": [{**DOCUMENT["activities"][0], "notes": payload.text}]}
    saved = put(client, csrf, deck["id"], {"version": 1, "document": document})
    again = client.get(f"/present/decks/{deck['id']}/source.json")
    if saved.status_code == 422:  # half a surrogate pair: the JSON reader refuses it, and nothing is saved
        assert not is_text(payload.text) and again.json()["version"] == 1
    else:
        assert saved.status_code == 200, saved.text
        assert again.status_code == 200 and again.json()["document"] == document
    if is_text(payload.text):  # a form field can carry it (UTF-8, no NUL)
        renamed = client.post(
            f"/present/decks/{deck['id']}/rename",
            data={"csrf_token": csrf, "title": payload.text},
            follow_redirects=False,
        )
        assert renamed.status_code in (303, 422), renamed.text
        shared = client.post(
            f"/present/decks/{deck['id']}/share", data={"csrf_token": csrf, "email": payload.text, "access": "edit"}
        )
        assert shared.status_code == 422
    library = client.get("/present/decks")
    assert library.status_code == 200
    assert "<script>alert" not in library.text and "onerror=" not in library.text.replace("onerror=&#34;", "")
    assert stored(client, select(DeckShare)) == []


def test_a_participant_cookie_opens_no_deck(client: TestClient, presenter: Presenter) -> None:
    deck = new_deck(client, presenter)
    session = presenter.start(TWO_QUESTIONS)
    client.cookies.clear()
    client.cookies.set(COOKIE, join(client, session["code"]))
    response = client.get(f"/present/decks/{deck['id']}/source.json", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    put_response = client.put(
        f"/present/decks/{deck['id']}/source.json",
        json={"version": 1, "document": DOCUMENT},
        headers={"X-CSRF-Token": "x" * 43},
        follow_redirects=False,
    )
    assert put_response.status_code == 303 and put_response.headers["location"].startswith("/login")
    [stored_deck] = stored(client, select(Deck).where(Deck.id == deck["id"]))
    assert stored_deck.version == 1


# --- the library's forms --------------------------------------------------------------------------------------------


def test_a_new_deck_from_the_form_opens_in_the_editor(client: TestClient, presenter: Presenter) -> None:
    csrf = page_csrf(client, presenter.user.email)
    response = client.post("/present/decks", data={"csrf_token": csrf, "title": "Day one"}, follow_redirects=False)
    assert response.status_code == 303
    [deck] = stored(client, select(Deck).where(Deck.owner_id == presenter.user.id))
    assert response.headers["location"] == f"/present/decks/{deck.id}/edit"
    library = client.get("/present/decks").text
    assert "1 problem to fix" in library and "Fix its problems to start a session." in library
    empty = client.post("/present/decks", data={"csrf_token": csrf, "title": "  "}, follow_redirects=False)
    assert problem(empty, 422)["detail"] == "Give the deck a title."


def test_a_delete_offers_an_undo(client: TestClient, presenter: Presenter) -> None:
    deck = new_deck(client, presenter)
    csrf = page_csrf(client, presenter.user.email)
    deleted = client.post(f"/present/decks/{deck['id']}/delete", data={"csrf_token": csrf}, follow_redirects=False)
    assert deleted.headers["location"] == f"/present/decks?deleted={deck['id']}"
    library = client.get(deleted.headers["location"]).text
    assert "“Day one” was deleted." in library and f'action="/present/decks/{deck["id"]}/restore"' in library
    restored = client.post(f"/present/decks/{deck['id']}/restore", data={"csrf_token": csrf}, follow_redirects=False)
    assert restored.status_code == 303
    assert "was deleted" not in client.get("/present/decks").text
    assert client.get(f"/present/decks/{deck['id']}/source.json").status_code == 200


def test_an_upload_over_the_limit_is_refused_at_the_door(client: TestClient, presenter: Presenter) -> None:
    csrf = page_csrf(client, presenter.user.email)
    before = stored(client, select(Deck))
    big = client.post(
        "/present/decks/upload",
        data={"csrf_token": csrf},
        files={"file": ("big.yaml", b"title: T\n#" + b"x" * (10 * 1024 * 1024), "text/yaml")},
        follow_redirects=False,
    )
    assert problem(big, 413)["detail"] == "A deck file may be at most 256 KiB."
    latin = client.post(
        "/present/decks/upload",
        data={"csrf_token": csrf},
        files={"file": ("latin.yaml", "title: caf\u00e9\n".encode("latin-1"), "text/yaml")},
        follow_redirects=False,
    )
    assert problem(latin, 422)["detail"] == "A deck file is YAML text in UTF-8: this file is not."
    unsigned = client.post(
        "/present/decks/upload", files={"file": ("a.yaml", b"title: T\n", "text/yaml")}, follow_redirects=False
    )
    assert unsigned.status_code == 403
    assert len(stored(client, select(Deck))) == len(before)


def test_an_upload_with_a_python_tag_is_kept_inert(client: TestClient, presenter: Presenter) -> None:
    csrf = page_csrf(client, presenter.user.email)
    text = b"title: !!python/object/apply:os.system [touch pwned]\nactivities: []\n"
    response = client.post(
        "/present/decks/upload",
        data={"csrf_token": csrf},
        files={"file": ("tagged.yaml", text, "text/yaml")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    deck_id = int(response.headers["location"].split("/")[3])
    found = client.get(f"/present/decks/{deck_id}/source.json").json()
    assert found["document"] is None and found["title"] == "tagged"
    assert "the tag !!python/object/apply:os.system is not allowed" in found["problems"][0]["message"]
    assert client.get(f"/present/decks/{deck_id}/deck.yaml").content == text
