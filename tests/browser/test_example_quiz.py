"""The example deck's quiz as a Spanish-speaking participant meets it: the three questions on the Professional
Standards for Educational Leaders in Spanish on a phone, each answered right (a typed "diez", a choice, every right
option of several), each reveal saying so with the points, and the rank at the end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.factories import PHONE, LiveDeck, PageErrors, screenshot
from tests.factories import LiveServer

pytestmark = pytest.mark.browser


def test_a_phone_in_spanish_answers_the_example_decks_quiz_right_and_is_ranked(
    browser: Browser, live_server: LiveServer, example_deck: LiveDeck, page_errors: PageErrors
) -> None:
    quizzes = [activity for activity in example_deck.session["activities"] if activity["kind"] == "quiz"]
    assert len(quizzes) == 3
    phone = page_errors.watch(browser.new_context(**PHONE).new_page(), "phone")
    phone.goto(f"{live_server.url}/{example_deck.code}")
    phone.get_by_role("link", name="Español").click()

    def sent_then_revealed(quiz: dict[str, object], name: str) -> None:
        phone.get_by_role("button", name="Enviar").click()
        expect(phone.get_by_role("status").filter(has_text="Recibid")).to_be_visible()
        screenshot(phone, f"example-quiz-{name}-es", full_page=False)
        example_deck.control("reveal", quiz)
        verdict = phone.locator(".quiz-verdict")
        expect(verdict).to_contain_text(re.compile(r"¡Correcto! \+\d+ puntos"))
        screenshot(phone, f"example-quiz-{name}-es-revealed", full_page=False)

    example_deck.goto(quizzes[0]["position"])
    expect(phone.get_by_role("heading", name="Estándares Profesionales para Líderes Educativos")).to_be_visible()
    phone.get_by_role("textbox", name="Tu respuesta").fill("diez")
    sent_then_revealed(quizzes[0], "typed")
    expect(phone.locator(".quiz-rank")).to_contain_text("Puesto 1 de 1")  # two questions to go: not final yet

    example_deck.goto(quizzes[1]["position"])
    expect(phone.get_by_role("heading", name="El estándar de la equidad")).to_be_visible()
    phone.get_by_label("Equidad y sensibilidad cultural").check()
    sent_then_revealed(quizzes[1], "choice")

    example_deck.goto(quizzes[2]["position"])
    expect(phone.get_by_role("heading", name="¿Cuáles de estos son estándares?")).to_be_visible()
    expect(phone.get_by_text("Elige todas las respuestas correctas.")).to_be_visible()
    for option in ("Comunidad profesional para docentes y personal", "Mejora escolar"):
        phone.get_by_label(option).check()
    phone.get_by_label("Participación significativa de las familias y la comunidad").check()
    sent_then_revealed(quizzes[2], "several")
    expect(phone.locator(".quiz-rank")).to_contain_text("Puesto final: 1 de 1")  # every scored question revealed
    assert page_errors.errors == []
