"""A phone whose browser asks for Spanish joins, answers and switches to English; a projector in Spanish."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.factories import LAPTOP, PHONE, LiveDeck, PageErrors, live_deck, screenshot
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
DECK = """\
title: Distributed leadership
activities:
  - kind: poll
    title:
      en: How do school leaders spend their time?
      es: ¿En qué ocupan su tiempo los líderes escolares?
    options:
      - {en: Managing, es: Gestión}
      - {en: Instruction, es: Enseñanza}
      - {en: Community, es: Comunidad}
  - kind: wordcloud
    title: Three words
"""


@pytest.fixture
def live(live_server: LiveServer) -> Iterator[LiveDeck]:
    with live_deck(live_server, {"deck_yaml": DECK}) as running:
        yield running


def test_a_spanish_phone_answers_in_spanish_then_switches_to_english(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    phone = page_errors.watch(browser.new_context(**PHONE, locale="es-MX").new_page(), "phone")
    phone.goto(live_server.url + "/")
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    phone.get_by_label("Escribe el código que aparece en la pantalla").fill(live.code)
    phone.get_by_role("button", name="Entrar").click()
    expect(phone.get_by_role("heading", name="¡Ya estás dentro!")).to_be_visible()

    poll = live.goto(0)  # pushed over the socket, rendered in Spanish for this phone, the deck's texts too
    expect(phone.get_by_role("heading", name="¿En qué ocupan su tiempo los líderes escolares?")).to_be_visible()
    phone.get_by_label("Enseñanza").check()
    phone.get_by_role("button", name="Enviar").click()
    expect(phone.locator(".status.ok")).to_have_text(
        "✓ Recibida. Puedes cambiar tu respuesta mientras la votación siga abierta."
    )
    expect(phone.get_by_role("button", name="Actualizar mi respuesta")).to_be_visible()
    screenshot(phone, "phone-spanish")
    assert live.respondents(poll) == 1

    phone.get_by_role("navigation", name="Idioma").get_by_role("link", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator(".status.ok")).to_contain_text("Received. You can change your answer")
    expect(phone.get_by_role("heading", name=str(poll["title"]))).to_be_visible()
    expect(phone.get_by_label("Instruction")).to_be_checked()
    live.goto(1)  # the next push comes in English now
    expect(phone.get_by_placeholder("First word")).to_be_visible()
    expect(phone.get_by_role("button", name="Send")).to_be_visible()
    assert phone.get_by_role("navigation", name="Language").get_by_role("link", name="Español").is_visible()


def test_a_projector_in_spanish_shows_the_join_instructions_and_results_in_spanish(
    browser: Browser, live_server: LiveServer, live: LiveDeck, page_errors: PageErrors
) -> None:
    projector = page_errors.watch(browser.new_context(**LAPTOP, locale="es").new_page(), "projector")
    projector.goto(str(live.session["projector_url"]))
    expect(projector.locator("html")).to_have_attribute("lang", "es")
    expect(projector.get_by_text("Saca tu teléfono y únete con el código")).to_be_visible()
    expect(projector.locator(".join-banner")).to_contain_text("Entra en")
    screenshot(projector, "projector-spanish-lobby")
    live.goto(0)
    expect(projector.locator(".respondents")).to_have_text("0 personas respondieron")
    expect(projector.locator(".bar .label")).to_have_text(["Gestión", "Enseñanza", "Comunidad"])
    screenshot(projector, "projector-spanish-poll")
