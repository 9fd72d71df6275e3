"""The facilitator's pages in Spanish (issue 17): the editor's palette and script messages, the deck library's
contents, deck problems and refusals follow the page's language; English stays exactly as it was."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from activities import registry
from activities.images import ImageRef
from activities.pin import PinArea
from server.decks import DeckInvalid, parse_deck
from server.decks.store import Contents
from server.routes.editor import ActivityFields, DeckFields, FilterFields, editor_messages, palette
from server.web.i18n import speaking
from tests.factories import PASSWORD, csrf_from, login, make_user

EDITOR_JS = Path(__file__).resolve().parents[3] / "static" / "js" / "editor.js"

SPANISH = {"accept-language": "es-ES,es;q=0.9"}


def signed_in(client: TestClient, headers: dict[str, str]) -> str:
    make_user(client, "facilitadora@example.org")
    login(client, "facilitadora@example.org", PASSWORD)
    return csrf_from(client.get("/present", headers=headers).text)


def texts_of(schema: Any) -> list[str]:
    """Every description, label and option label of a JSON schema (what the editor's forms show)."""
    found: list[str] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):  # named fields: a field may be called "labels"
                for field in value.values():
                    found += texts_of(field)
            elif key in ("description", "label") and isinstance(value, str) and value:
                found.append(value)
            elif key == "labels" and isinstance(value, dict):
                found += [text for text in value.values() if isinstance(text, str)]
            else:
                found += texts_of(value)
    elif isinstance(schema, list):
        for item in schema:
            found += texts_of(item)
    return found


def test_the_palette_in_spanish_translates_every_kind_and_field_it_shows() -> None:
    english = palette(registry)
    with speaking("es"):
        spanish = palette(registry)
    labels = {kind["name"]: kind["label"] for kind in spanish["kinds"]}
    assert labels["poll"] == "Encuesta" and labels["wordcloud"] == "Nube de palabras"
    assert all(kind["description"] for kind in spanish["kinds"] if kind["name"] != "slide")
    poll = next(kind for kind in spanish["kinds"] if kind["name"] == "poll")
    assert poll["schema"]["properties"]["options"]["label"] == "Opciones"
    assert poll["schema"]["properties"]["multiple"]["description"] == "Se puede elegir más de una opción"
    assert spanish["activity"]["properties"]["results"]["labels"]["hidden"] == "Ocultos hasta que los muestres"
    # Every text a form shows is translated: none is left as the English one, but for words the same in both
    # languages, the names of languages (each in itself), and the docstrings pydantic copies into the schemas.
    docstrings = {model.__doc__ for model in (ImageRef, PinArea, FilterFields, DeckFields, ActivityFields)}
    same = {"English", "Español", "X", "Y", "Total", *docstrings}
    shown_in_english = set(texts_of(english))
    left = {text for text in texts_of(spanish) if text in shown_in_english and text not in same}
    assert not left, left


def test_english_field_names_stay_the_keys_made_readable() -> None:
    quiz = next(kind for kind in palette(registry)["kinds"] if kind["name"] == "quiz")
    assert quiz["schema"]["properties"]["correct"]["label"] == "Correct"
    assert quiz["schema"]["properties"]["time_limit"]["label"] == "Time limit"


def test_every_message_editor_js_asks_for_is_in_the_page_s_catalogue() -> None:
    """The script's t("key") calls against the messages the page carries: none missing, none unused."""
    with speaking("es"):
        messages = editor_messages()
    asked = set(re.findall(r'\bt\("(\w+)"', EDITOR_JS.read_text(encoding="utf-8")))
    assert asked and set(messages) == asked
    assert messages["all_saved"] == "Todos los cambios guardados"
    assert messages["problems"] == ["1 problema", "{count} problemas"]
    assert editor_messages()["problems"] == ["1 problem", "{count} problems"]


def test_the_editor_page_carries_its_messages_as_json_data_in_the_page_s_language(client: TestClient) -> None:
    signed_in(client, SPANISH)
    created = client.post(
        "/present/decks",
        data={"title": "Liderazgo", "csrf_token": csrf_from(client.get("/present/decks", headers=SPANISH).text)},
        headers=SPANISH,
        follow_redirects=False,
    )
    editor = created.headers["location"]
    page = client.get(editor, headers=SPANISH).text
    assert '<html lang="es">' in page and "Editor de presentaciones" in page
    found = re.search(r'<script type="application/json" id="editor-messages">(.*?)</script>', page, re.S)
    assert found is not None
    messages = json.loads(html.unescape(found.group(1)))
    assert messages["saving"] == "Guardando…"
    # A deck made from the library in Spanish is written in Spanish (its previews show phones in it).
    source = client.get(editor.replace("/edit", "/source.json"), headers=SPANISH).json()
    assert source["document"]["language"] == "es"


def test_the_library_counts_kinds_in_the_page_s_language() -> None:
    contents = Contents(3, (("Word cloud", 2), ("Poll", 1)))
    assert str(contents) == "3 activities: 2 word clouds, 1 poll"
    with speaking("es"):
        assert str(contents) == "3 actividades: Nube de palabras (2), Encuesta (1)"
        assert str(Contents(0, ())) == "Todavía no hay actividades"


def problems_of(text: str) -> list[str]:
    try:
        parse_deck(text, registry)
    except DeckInvalid as invalid:
        return [str(problem) for problem in invalid.problems]
    return []


def test_deck_problems_speak_the_page_s_language_and_english_keeps_pydantic_s_words() -> None:
    deck = "title: ''\nactivities:\n  - kind: poll\n    title: Sí\n    options: [Una]\n"
    english = problems_of(deck)
    assert "line 1: title: a title of 1 to 200 characters is required" in english
    assert any("List should have at least 2 items" in problem for problem in english)
    with speaking("es"):
        spanish = problems_of(deck)
    assert "línea 1: title: hace falta un título de 1 a 200 caracteres" in spanish
    assert any(problem.endswith("al menos 2 elementos") for problem in spanish), spanish
    repeated = "title: Dos\nactivities:\n  - kind: poll\n    title: Sí\n    options: [Una, una]\n"
    assert problems_of(repeated) == ["line 5: activities[0].options: two options are the same"]
    with speaking("es"):
        assert problems_of(repeated) == ["línea 5: activities[0].options: hay dos iguales"]


def test_a_refusal_is_in_the_facilitator_s_language_on_a_page_and_over_the_api(client: TestClient) -> None:
    csrf = signed_in(client, SPANISH)
    refused = client.post("/present/decks/preview", content=b"{}", headers={**SPANISH, "X-CSRF-Token": csrf}).json()
    assert refused["title"] == "No es una vista previa"
    assert client.get("/api/v1/decks/999999", headers=SPANISH).json()["title"] == "Hace falta iniciar sesión"
    assert client.get("/api/v1/decks/999999").json()["title"] == "Sign-in needed"  # a script that asks for nothing
