"""Participant and projector pages and pushes in each person's language: Accept-Language, the switch, its cookie."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.web.i18n import COOKIE
from tests.factories import TWO_QUESTIONS, Presenter, caught_up, join, receive_until, root_id, services_of

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SPANISH = {**BROWSER, "Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
ENGLISH = {**BROWSER, "Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture
def session(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    return presenter.start(TWO_QUESTIONS)


def lang_of(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "the page names its language"
    return match.group(1)


def test_the_join_page_speaks_the_browsers_language(client: TestClient) -> None:
    spanish = client.get("/", headers=SPANISH).text
    assert lang_of(spanish) == "es"
    assert "Escribe el código que aparece en la pantalla" in spanish
    english = client.get("/", headers=ENGLISH).text
    assert lang_of(english) == "en"
    assert "Enter the code on the screen" in english


def test_a_wrong_code_is_explained_in_spanish(client: TestClient) -> None:
    page = client.get("/", headers=SPANISH)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    refused = client.post("/join", data={"code": "12", "csrf_token": token.group(1)}, headers=SPANISH)
    assert refused.status_code == 422
    assert "Un código tiene seis dígitos, como 123 456." in refused.text


def test_a_spanish_phone_sees_the_lobby_and_the_switch_in_spanish(client: TestClient, session: dict[str, Any]) -> None:
    page = client.get(f"/{session['code']}", headers=SPANISH).text
    assert lang_of(page) == "es"
    assert "¡Ya estás dentro!" in page
    assert "You're in!" not in page
    # The switch: the other language as a plain link back to this page, the current one marked.
    assert f'href="/language/en?next=/{session["code"]}"' in page
    assert '<span lang="es" aria-current="true">Español</span>' in page


def test_the_switch_remembers_the_choice_over_accept_language(client: TestClient, session: dict[str, Any]) -> None:
    code = session["code"]
    switched = client.get(f"/language/en?next=/{code}", headers=SPANISH, follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == f"/{code}"
    assert f"{COOKIE}=en" in switched.headers["set-cookie"]
    page = client.get(f"/{code}", headers=SPANISH).text
    assert lang_of(page) == "en"
    assert "You're in!" in page
    client.get("/language/es", headers=ENGLISH, follow_redirects=False)
    assert lang_of(client.get(f"/{code}", headers=ENGLISH).text) == "es"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil", "/a\r\nb"])
def test_the_switch_never_sends_anyone_to_another_site(client: TestClient, target: str) -> None:
    response = client.get("/language/es", params={"next": target}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_switch_refuses_a_language_it_does_not_have(client: TestClient) -> None:
    response = client.get("/language/xx", headers=BROWSER, follow_redirects=False)
    assert response.status_code == 404
    assert COOKIE not in response.headers.get("set-cookie", "")


def test_a_spanish_answer_is_refused_and_received_in_spanish(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = int(session["activities"][0]["id"])
    presenter.control(session["id"], "goto", poll)
    caught_up(client, session["id"])
    code = session["code"]
    page = client.get(f"/{code}", headers=SPANISH).text
    assert "Enviar" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    refused = client.post(f"/{code}/respond", data={"activity": poll, "csrf_token": csrf.group(1)}, headers=SPANISH)
    assert refused.status_code == 422
    assert "Primero elige una opción." in refused.text
    with client.websocket_connect(f"/ws/participant/{code}", headers={"accept-language": "es"}) as ws:
        receive_until(ws, lambda frame: root_id(frame) == "stage")
        ws.send_text(json.dumps({"activity": str(poll), "choice": "1"}))
        status = receive_until(ws, lambda frame: root_id(frame) == f"status-{poll}")
    assert "Recibida. Puedes cambiar tu respuesta mientras la votación siga abierta." in status


def test_pushed_stages_arrive_in_each_phones_language_rendered_once_per_language(
    client: TestClient, presenter: Presenter, session: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, poll = session["code"], int(session["activities"][0]["id"])
    views = services_of(client).views
    renderings: list[str] = []
    render = views.participant_stage

    def counted(*args: Any, **kwargs: Any) -> str:
        html = render(*args, **kwargs)
        renderings.append(html)
        return html

    monkeypatch.setattr(views, "participant_stage", counted)
    phones = [("es", join(client, code)), ("es", join(client, code)), ("en", join(client, code))]
    sockets = [
        client.websocket_connect(
            f"/ws/participant/{code}", headers={"cookie": f"handsup_participant={token}", "accept-language": language}
        )
        for language, token in phones
    ]
    with sockets[0] as first, sockets[1] as second, sockets[2] as third:
        for ws in (first, second, third):
            receive_until(ws, lambda frame: root_id(frame) == "stage")  # the lobby
        renderings.clear()
        presenter.control(session["id"], "goto", poll)
        stages = [receive_until(ws, lambda frame: root_id(frame) == "stage") for ws in (first, second, third)]
    assert all("Enviar" in stage and "Send" not in stage for stage in stages[:2])
    assert "Send" in stages[2] and "Enviar" not in stages[2]
    assert len(renderings) == 2  # one Spanish, one English: not one per phone


def test_the_projector_speaks_the_browsers_language_on_its_page_and_pushes(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    page = client.get(session["projector_url"], headers=SPANISH).text
    assert lang_of(page) == "es"
    assert "Saca tu teléfono y únete con el código" in page
    assert "Entra en <strong>" in page
    secret = session["projector_url"].rstrip("/").rsplit("/", 1)[-1]
    poll = int(session["activities"][0]["id"])
    with (
        client.websocket_connect(f"/ws/projector/{secret}", headers={"accept-language": "es"}) as spanish,
        client.websocket_connect(f"/ws/projector/{secret}", headers={"accept-language": "en"}) as english,
    ):
        for ws in (spanish, english):
            receive_until(ws, lambda frame: root_id(frame) == "projector-stage")
        presenter.control(session["id"], "goto", poll)
        in_spanish = receive_until(spanish, lambda frame: root_id(frame) == "projector-stage")
        in_english = receive_until(english, lambda frame: root_id(frame) == "projector-stage")
    assert "0 personas respondieron" in in_spanish
    assert "0 people answered" in in_english


def test_presenter_pages_speak_the_facilitator_s_language(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    page = client.get(f"/present/{session['id']}", headers={**SPANISH, **presenter.headers})
    assert lang_of(page.text) == "es"
    assert lang_of(client.get(f"/present/{session['id']}", headers=presenter.headers).text) == "en"


BILINGUAL = """\
title: Two languages
activities:
  - kind: poll
    title: {en: "Where does the week go?", es: "¿En qué se va la semana?"}
    prompt: {en: Pick one., es: Elige una.}
    options:
      - {en: Fires, es: Incendios}
      - Maintenance
"""


def test_a_decks_texts_follow_each_phones_language_and_answers_mean_the_same(
    client: TestClient, presenter: Presenter
) -> None:
    session = presenter.start(BILINGUAL)
    poll = int(session["activities"][0]["id"])
    presenter.control(session["id"], "goto", poll)
    caught_up(client, session["id"])
    spanish = client.get(f"/{session['code']}", headers=SPANISH).text
    assert "¿En qué se va la semana?" in spanish and "Elige una." in spanish
    assert "Incendios" in spanish and "Maintenance" in spanish  # an option without Spanish keeps the deck's text
    english = client.get(f"/{session['code']}", headers=ENGLISH).text
    assert "Where does the week go?" in english and "Fires" in english and "Incendios" not in english
    projector = client.get(session["projector_url"], headers=SPANISH).text
    assert "¿En qué se va la semana?" in projector
    assert '<span class="label">Incendios</span>' in projector  # the results, labelled in the projector's language
    assert '<span class="label">Fires</span>' in client.get(session["projector_url"], headers=ENGLISH).text
    # The options are the same in both languages: a Spanish "Incendios" counts as the deck's "Fires".
    token = join(client, session["code"])
    with client.websocket_connect(
        f"/ws/participant/{session['code']}",
        headers={"cookie": f"handsup_participant={token}", "accept-language": "es"},
    ) as ws:
        receive_until(ws, lambda frame: root_id(frame) == "stage")
        ws.send_text(json.dumps({"activity": str(poll), "choice": "0"}))
        receive_until(ws, lambda frame: root_id(frame) == f"status-{poll}")
    options = presenter.tally(session["id"], poll)["results"]["options"]
    assert [(option["label"], option["count"]) for option in options] == [("Fires", 1), ("Maintenance", 0)]
