"""The deck editor's routes: its page, the palette of kinds (forms from each kind's Config), and the previews of one
activity as a phone and the projector show it, rendered by the live templates without a session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from activities import load_registry, registry
from server.live.fragments import PREVIEW_CODE
from server.models import Deck, Session
from server.routes.editor import palette
from tests.factories import PASSWORD, csrf_from, login, make_user, run, services_of
from tests.hostile import PAYLOADS, deck_text, hostile_deck, inert

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"

# One activity of every built-in kind, as the editor's document holds it (what the deck's YAML loads to).
EXAMPLES: dict[str, dict[str, Any]] = {
    "wordcloud": {"kind": "wordcloud", "title": "Three words for leadership", "entries": 3},
    "poll": {"kind": "poll", "title": "Where does the week go?", "options": ["Meetings", "Teaching", "Email"]},
    "open": {"kind": "open", "title": "One thing you will try"},
    "qa": {"kind": "qa", "title": "Questions for the panel"},
    "points": {"kind": "points", "title": "Spend 100 points", "items": ["Time", "Money"]},
    "ranking": {"kind": "ranking", "title": "Rank the priorities", "items": ["Trust", "Data"]},
    "resources": {"kind": "resources", "title": "Share a resource"},
    "scale": {"kind": "scale", "title": "How true is this?", "statements": ["We share leadership"]},
    "sort": {"kind": "sort", "title": "Influence or authority?", "cards": ["Setting the timetable"]},
    "number": {"kind": "number", "title": "Hours a week on instruction?", "min": 0, "max": 80, "correct": 12},
    "pin": {
        "kind": "pin",
        "title": "Where are decisions made?",
        "image": {"media": "d" * 64 + ".png", "alt": "A school floor plan"},
        "areas": [{"label": "Office", "x": 0.1, "y": 0.1, "width": 0.3, "height": 0.2}],
    },
    "grid": {"kind": "grid", "title": "Who decides?", "items": ["Principal", "Teacher leader"]},
    "quiz": {"kind": "quiz", "title": "Which standard?", "options": ["Ethics", "Equity"], "correct": [2]},
}


def document(*activities: dict[str, Any], **deck: Any) -> dict[str, Any]:
    return {"title": "Spring Institute", "pace": "presenter", "language": "en", "activities": list(activities), **deck}


def signed_in(client: TestClient, email: str = "editor@example.org") -> str:
    """Sign a presenter in through the login form; their CSRF token (for the editor's JSON calls)."""
    make_user(client, email)
    login(client, email, PASSWORD)
    return csrf_from(client.get("/present").text)


def add_deck(client: TestClient, owner_email: str | None, *, template: bool = False) -> int:
    """A stored deck owned by the named account (None: a shipped template)."""

    async def add() -> int:
        async with services_of(client).db() as db:
            owner = None
            if owner_email is not None:
                from server.models import User

                owner = (await db.exec(select(User).where(User.email == owner_email))).one().id
            deck = Deck(slug=f"deck-{owner_email}-{template}", title="A deck", source="title: A deck\n", owner_id=owner)
            deck.template = template
            db.add(deck)
            await db.commit()
            await db.refresh(deck)
            assert deck.id is not None
            return deck.id

    return run(client, add)


def preview(client: TestClient, csrf: str, doc: dict[str, Any], index: int = 0, language: str = "en") -> Any:
    """The preview of one activity; sent as a browser's JSON.stringify does (a lone surrogate as an escape)."""
    response = client.post(
        "/present/decks/preview",
        content=json.dumps({"document": doc, "index": index, "language": language}),
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_every_example_covers_a_registered_kind() -> None:
    assert set(EXAMPLES) >= set(registry.names()) - {"slide"}


def test_kinds_json_lists_every_registered_kind_with_its_label_and_form(client: TestClient) -> None:
    signed_in(client)
    listed = client.get("/present/kinds.json").json()
    assert [kind["name"] for kind in listed["kinds"]] == registry.names()
    for kind in listed["kinds"]:
        assert kind["label"] and kind["label"] != kind["name"] or kind["name"] == "qa"
        assert kind["schema"]["type"] == "object" and "properties" in kind["schema"]
        assert set(kind["translatable"]) <= set(kind["schema"]["properties"])
    poll = next(kind for kind in listed["kinds"] if kind["name"] == "poll")
    assert poll["label"] == "Poll" and poll["description"] and poll["takes_answers"]
    assert poll["schema"]["properties"]["options"]["minItems"] == 2
    cloud = next(kind for kind in listed["kinds"] if kind["name"] == "wordcloud")
    assert cloud["takes_free_text"] and cloud["schema"]["properties"]["entries"]["maximum"] == 10
    assert listed["countdown"] == {"minimum": 5, "maximum": 3600}
    assert listed["activity"]["properties"]["notes"]["description"] == "Shown only to you in the presenter view"
    assert listed["deck"]["properties"]["pace"]["labels"]["audience"] == "Each person at their own pace"
    assert [language["code"] for language in listed["languages"]][:1] == ["en"]
    assert "es" in listed["deck"]["properties"]["language"]["enum"]


def test_kinds_json_needs_a_signed_in_presenter(client: TestClient) -> None:
    response = client.get("/present/kinds.json", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_plugin_kind_appears_in_the_palette_with_no_server_change(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.activities.test_plugin_kind import install

    site = install(Path(__import__("tempfile").mkdtemp()))
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.syspath_prepend(str(site))
    stars = next(kind for kind in palette(load_registry())["kinds"] if kind["name"] == "stars")
    assert stars["label"] == "Star rating"
    assert stars["schema"]["properties"]["most"] == {
        "default": 5,
        "description": "The most stars one may give",
        "maximum": 10,
        "minimum": 2,
        "title": "Most",
        "type": "integer",
    }


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_the_preview_of_each_kind_shows_its_title_on_the_phone_and_the_projector(client: TestClient, kind: str) -> None:
    csrf = signed_in(client)
    shown = preview(client, csrf, document(EXAMPLES["poll"], EXAMPLES[kind]), index=1)
    assert shown["problems"] == []
    title = EXAMPLES[kind]["title"]
    assert title in inert(shown["phone"]).text and title in inert(shown["projector"]).text
    assert "form" in shown["phone"] and f'class="answer kind-{kind}"' in shown["phone"]
    assert 'id="projector-stage"' in shown["projector"]
    assert run(client, lambda: stored_sessions(client)) == 0, "a preview never creates a session"


async def stored_sessions(client: TestClient) -> int:
    async with services_of(client).db() as db:
        return len((await db.exec(select(Session))).all())


def test_the_preview_shows_a_poll_s_options_and_hidden_results_as_the_room_would(client: TestClient) -> None:
    csrf = signed_in(client)
    hidden = {**EXAMPLES["poll"], "results": "hidden", "prompt": "Pick the biggest"}
    shown = preview(client, csrf, document(hidden))
    phone = inert(shown["phone"])
    assert all(option in phone.text for option in ("Meetings", "Teaching", "Email"))
    assert "Pick the biggest" in phone.text and PREVIEW_CODE[:3] in inert(shown["projector"]).text
    assert "Results will be revealed soon." in inert(shown["projector"]).text


def test_the_preview_speaks_the_language_asked_for_with_the_deck_s_texts_in_it(client: TestClient) -> None:
    csrf = signed_in(client)
    poll = {"kind": "poll", "title": {"en": "Lunch?", "es": "¿Almuerzo?"}, "options": [{"en": "Yes", "es": "Sí"}, "No"]}
    shown = preview(client, csrf, document(poll), language="es")
    assert "¿Almuerzo?" in inert(shown["phone"]).text and "Sí" in inert(shown["phone"]).text
    assert "Enviar" in shown["phone"]  # the page's own words are Spanish too


def test_an_activity_with_problems_gets_them_instead_of_a_preview(client: TestClient) -> None:
    csrf = signed_in(client)
    broken = {"kind": "poll", "title": "", "options": ["Only one"], "countdown": 2}
    shown = preview(client, csrf, document(EXAMPLES["wordcloud"], broken), index=1)
    assert shown["phone"] is None and shown["projector"] is None
    paths = {problem["path"] for problem in shown["problems"]}
    assert {"activities[1].title", "activities[1].countdown", "activities[1].options"} <= paths
    # Problems elsewhere in the deck (an empty deck title) do not stop this activity's preview.
    fine = preview(client, csrf, document(EXAMPLES["wordcloud"], broken, title=""), index=0)
    assert fine["problems"] == [] and "Three words" in fine["phone"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"document": {"activities": []}, "index": 0}, 200),
        ({"document": "not a deck", "index": 0}, 422),
        ({"index": 0}, 422),
        ({"document": {"activities": [{"kind": "nope", "title": "x"}]}, "index": -1}, 422),
    ],
)
def test_a_malformed_preview_is_refused_plainly(client: TestClient, body: dict[str, Any], status: int) -> None:
    csrf = signed_in(client)
    response = client.post("/present/decks/preview", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["problems"][0]["message"] == "no activity at this place"


def test_a_preview_needs_the_csrf_token_and_a_bounded_body(client: TestClient) -> None:
    csrf = signed_in(client)
    refused = client.post("/present/decks/preview", json={"document": document(EXAMPLES["poll"]), "index": 0})
    assert refused.status_code == 403
    huge = document({**EXAMPLES["open"], "prompt": "x" * 600_000})
    too_big = client.post("/present/decks/preview", json={"document": huge, "index": 0}, headers={"X-CSRF-Token": csrf})
    assert too_big.status_code == 413 and "KiB" in too_big.json()["detail"]


def test_hostile_text_in_every_field_previews_inert(client: TestClient) -> None:
    csrf = signed_in(client)
    deck = hostile_deck(PAYLOADS.values())
    for activity in deck["activities"]:
        activity["notes"] = PAYLOADS["script_tag"]
    for index, activity in enumerate(deck["activities"]):
        shown = preview(client, csrf, deck, index=index)
        if shown["problems"]:  # a payload a deck refuses (a control character): refused, with where
            assert all(problem["path"].startswith(f"activities[{index}]") for problem in shown["problems"])
            continue
        phone, projector = inert(shown["phone"]), inert(shown["projector"])  # no markup, handler or link from text
        title = deck_text(activity["title"])
        assert title in deck_text(phone.text) and title in deck_text(projector.text)


def test_the_editor_page_needs_sign_in(client: TestClient) -> None:
    response = client.get("/present/decks/1/edit", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_the_editor_page_is_404_for_an_unknown_deck_or_someone_else_s(client: TestClient) -> None:
    signed_in(client)
    make_user(client, "someone@example.org")
    theirs = add_deck(client, "someone@example.org")
    assert client.get("/present/decks/999999/edit").status_code == 404
    assert client.get(f"/present/decks/{theirs}/edit").status_code == 404


def test_the_editor_opens_a_deck_of_one_s_own_to_edit_and_a_template_read_only(client: TestClient) -> None:
    signed_in(client)
    own = add_deck(client, "editor@example.org")
    page = client.get(f"/present/decks/{own}/edit")
    assert page.status_code == 200
    assert f'data-deck="{own}"' in page.text and 'data-can-edit="true"' in page.text
    assert "editor.js" in page.text and "editor.css" in page.text
    template = add_deck(client, None, template=True)
    read_only = client.get(f"/present/decks/{template}/edit")
    assert read_only.status_code == 200 and 'data-can-edit="false"' in read_only.text
    assert "Make a copy to edit" in read_only.text


def test_the_editor_s_script_loads_only_on_editor_pages(client: TestClient) -> None:
    signed_in(client)
    assert "editor.js" not in client.get("/present").text


def test_the_editor_says_up_front_whether_powerpoint_files_can_be_imported(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    signed_in(client)
    own = add_deck(client, "editor@example.org")
    with_libreoffice = client.get(f"/present/decks/{own}/edit").text  # make test installs it
    assert "Import slides (PDF, PowerPoint)" in with_libreoffice and ".pptx" in with_libreoffice
    monkeypatch.setenv("PATH", str(tmp_path))  # a server whose PATH has no soffice and no libreoffice
    without = client.get(f"/present/decks/{own}/edit").text
    assert "Import slides (PDF)" in without and ".pptx" not in without
    assert "export the deck as PDF" in without
