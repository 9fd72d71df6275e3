"""A facilitator in Spanish, in a real browser: one whose browser asks for Spanish, and one who picks Español with
the language switch, each creates a deck in the library, builds it in the editor, starts a session, runs it on the
presenter view with the projector open and a phone answering, ends it, and opens the report and the archive. Every
page says what it says in Spanish (no English word of the interface is left on screen, in an aria-label or a
tooltip), and axe finds nothing serious on any of them."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Frame, Page, expect

from tests.browser.axe import Audit
from tests.browser.factories import PageErrors, screenshot
from tests.factories import PASSWORD, LiveServer, cli, start_server, stop_server

pytestmark = pytest.mark.browser
FACILITATOR = "facilitadora@example.org"
LAPTOP = {"width": 1440, "height": 900}
PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
SAVED = re.compile(r"^Guardado a las \d")

# Words of the English interface, as whole words (case-sensitive where a Spanish word begins the same way). What
# people typed in this test is Spanish, so any of these on screen is a message the catalogue does not translate.
ENGLISH = re.compile(
    r"\b(?:the|and|of|to|your|Add|Added|Deck|Decks|Session|Sessions|Start|Started|Saved|Saving|Loading|Voting|"
    r"Results|Download|Delete|Preview|Phone|Activity|Activities|Next|Previous|Notes|Edit|Copy|Share|Shared|"
    r"Template|Templates|answered|joined|connected|Projector|Close|Open|Reveal|Remove|Undo|Problems?|Lobby|"
    r"Sign out|Account|Outline|settings|Settings|Word cloud|Poll|Title|Options|item|Waiting|Hide|Show|ended|"
    r"Upload|Import|Remote|Back|None|Move|Duplicate|Rename|Present|Skip|Entries|Characters|Countdown|Prompt|"
    r"Pace|Language|Description|Reset|End|Switch|reactions|filter|Join|code|Co-facilitators)\b"
)
# What a page's visible text and its accessible names say: innerText (what is laid out, visually hidden text
# included), the document's title, and every aria-label, title and placeholder.
SAID = """() => [document.title, document.body.innerText,
  ...[...document.querySelectorAll("[aria-label], [title], [placeholder]")].flatMap(
    (node) => ["aria-label", "title", "placeholder"].map((name) => node.getAttribute(name) || ""))].join("\\n")"""


def english_left(page: Page | Frame) -> list[str]:
    """The lines of a page (or frame) that still hold a word of the English interface."""
    said: str = page.evaluate(SAID)
    return [line.strip() for line in said.splitlines() if ENGLISH.search(line)]


def all_spanish(page: Page, name: str, audit: Audit) -> None:
    """The page is in Spanish throughout, and axe finds nothing serious on it."""
    expect(page.locator("html")).to_have_attribute("lang", "es")
    left = english_left(page)
    assert not left, f"{name}: English left on screen: {left[:10]}"
    audit.check(page, name)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of this module's own, with one presenter account."""
    running = start_server(tmp_path_factory.mktemp("spanish"))
    password = running.data_dir / "password"
    password.write_text(PASSWORD)
    cli(running, "user", "add", FACILITATOR, "--role", "presenter", "--password-file", str(password))
    yield running
    stop_server(running)


def sign_in(page: Page, server: LiveServer) -> None:
    """The sign-in form, by its fields' names (its words are another page's: they may be English or Spanish)."""
    page.goto(f"{server.url}/login")
    page.locator("#email").fill(FACILITATOR)
    page.locator("#password").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/present$"))


def facilitator(browser: Browser, server: LiveServer, errors: PageErrors, how: str) -> tuple[BrowserContext, Page]:
    """A signed-in facilitator in Spanish: by the browser's language, or by choosing Español on the join page."""
    options: dict[str, Any] = {"viewport": LAPTOP, "accept_downloads": True}
    context = browser.new_context(**options, locale="es-ES" if how == "browser" else "en-US")
    page = errors.watch(context.new_page(), f"{how}: facilitator")
    if how == "switch":
        page.goto(server.url + "/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
        expect(page.locator("html")).to_have_attribute("lang", "es")
    sign_in(page, server)
    return context, page


def build_deck(page: Page, audit: Audit, how: str) -> None:
    """From the library's New deck form to a saved deck of a poll and a word cloud, in the editor."""
    page.get_by_role("link", name="Presentaciones", exact=True).first.click()
    expect(page.get_by_role("heading", name="Presentaciones", exact=True)).to_be_visible()
    all_spanish(page, f"{how}: deck library", audit)
    screenshot(page, f"spanish-{how}-library", full_page=False)
    new = page.locator("form[action='/present/decks']")
    new.get_by_label("Título").fill("Liderazgo distribuido")
    new.get_by_role("button", name="Crear y editar").click()
    page.wait_for_url(re.compile(r"/present/decks/\d+/edit$"))
    expect(page.locator("#save-status")).to_have_text("Todos los cambios guardados")
    all_spanish(page, f"{how}: empty editor", audit)

    page.get_by_role("button", name="Añadir actividad").click()
    palette = page.locator("#palette")
    expect(palette.get_by_role("button", name=re.compile("^Encuesta"))).to_be_visible()
    all_spanish(page, f"{how}: editor palette", audit)
    palette.get_by_role("button", name=re.compile("^Encuesta")).click()
    form = page.locator("#activity-fields")
    form.get_by_label("Título", exact=True).fill("¿En qué se va la semana?")
    form.get_by_label("Opciones: elemento 1").fill("Apagar incendios")
    form.get_by_label("Opciones: elemento 2").fill("Mejorar la enseñanza")
    expect(page.locator("#save-status")).to_have_text(SAVED, timeout=10_000)
    expect(page.get_by_role("heading", name="Actividad 1: Encuesta")).to_be_visible()

    page.get_by_role("button", name="Añadir actividad").click()
    palette.get_by_role("button", name=re.compile("^Nube de palabras")).click()
    form.get_by_label("Título", exact=True).fill("Tres palabras para el liderazgo")
    expect(page.locator("#save-status")).to_have_text(SAVED, timeout=10_000)
    expect(page.locator("#activity-list .row-title")).to_have_text(
        ["¿En qué se va la semana?", "Tres palabras para el liderazgo"]
    )
    # The preview is in the deck's language, which a new deck takes from its facilitator's pages.
    phone = page.frame_locator("#phone-preview")
    expect(phone.get_by_role("heading", name="Tres palabras para el liderazgo")).to_be_visible()
    expect(phone.get_by_role("button", name="Enviar")).to_be_visible()
    assert not english_in_frame(page, "phone-preview"), english_in_frame(page, "phone-preview")
    # A problem, named in Spanish where the form names its field: the word cloud without a title.
    form.get_by_label("Título", exact=True).fill("")
    expect(page.locator("#problems-heading")).to_have_text("1 problema")
    expect(page.get_by_role("button", name="Iniciar una sesión")).to_be_disabled()
    expect(page.locator("#start-reason")).to_have_text("Resuelve el problema de arriba para iniciar una sesión.")
    all_spanish(page, f"{how}: editor with a problem", audit)
    form.get_by_label("Título", exact=True).fill("Tres palabras para el liderazgo")
    expect(page.locator("#save-status")).to_have_text(SAVED, timeout=10_000)
    expect(page.locator("#problems-summary")).to_be_hidden()
    all_spanish(page, f"{how}: editor", audit)
    at_both_sizes(page, f"spanish-{how}-editor")


def at_both_sizes(page: Page, name: str) -> None:
    """Pictures of the page on the laptop (1440x900) and at a projector's size (1280x720), where Spanish, about a
    fifth longer than English, wraps first; the page must still offer no sideways scrolling at the smaller."""
    screenshot(page, name, full_page=False)
    page.set_viewport_size(PROJECTOR)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), f"{name}: too wide"
    screenshot(page, f"{name}-1280", full_page=False)
    page.set_viewport_size(LAPTOP)


def english_in_frame(page: Page, frame_id: str) -> list[str]:
    """What english_left finds in one of the page's iframes (the editor's previews)."""
    handle = page.locator(f"#{frame_id}").element_handle()
    assert handle is not None
    content = handle.content_frame()
    assert content is not None
    return english_left(content)


@pytest.mark.parametrize("how", ["browser", "switch"])
def test_a_spanish_facilitator_edits_presents_and_downloads_the_report_in_spanish(
    browser: Browser, server: LiveServer, how: str
) -> None:
    errors, audit = PageErrors(), Audit()
    context, page = facilitator(browser, server, errors, how)
    expect(page.get_by_role("heading", name="Iniciar una sesión")).to_be_visible()
    all_spanish(page, f"{how}: dashboard", audit)
    build_deck(page, audit, how)

    page.get_by_role("button", name="Iniciar una sesión").click()
    expect(page).to_have_url(re.compile(r"/present/\d+$"))
    presenter = page
    expect(presenter.get_by_role("heading", name="Sala de espera")).to_be_visible()
    all_spanish(presenter, f"{how}: presenter lobby", audit)
    code = presenter.locator("header .code").inner_text().replace(" ", "")

    projector = errors.watch(browser.new_context(viewport=PROJECTOR, locale="es").new_page(), f"{how}: projector")
    projector.goto(server.url + str(presenter.locator("#projector-link").get_attribute("href")))
    phone = errors.watch(browser.new_context(**PHONE, locale="es-MX").new_page(), f"{how}: phone")
    phone.goto(f"{server.url}/{code}")
    expect(phone.get_by_role("heading", name="¡Ya estás dentro!")).to_be_visible()
    expect(presenter.locator("#counts")).to_contain_text("1 se unió")

    presenter.get_by_role("button", name="Siguiente ▶", exact=True).first.click()
    expect(phone.get_by_role("heading", name="¿En qué se va la semana?")).to_be_visible()
    phone.get_by_text("Mejorar la enseñanza").click()
    phone.get_by_role("button", name="Enviar").click()
    expect(projector.locator(".respondents")).to_have_text("1 persona respondió")
    expect(presenter.locator("#counts")).to_contain_text("1 respondió")
    expect(presenter.get_by_role("button", name="Cerrar la votación")).to_be_visible()
    expect(presenter.locator(".visibility")).to_contain_text("La votación está abierta.")
    all_spanish(presenter, f"{how}: presenter, a poll", audit)
    all_spanish(projector, f"{how}: projector, a poll", audit)
    at_both_sizes(presenter, f"spanish-{how}-presenter")
    screenshot(projector, f"spanish-{how}-projector", full_page=False)

    # The remote, on the facilitator's phone (signed in: the same browser profile), in Spanish too.
    remote = errors.watch(context.new_page(), f"{how}: remote")
    remote.set_viewport_size({"width": 390, "height": 844})
    remote.goto(str(presenter.locator("#remote-url").get_attribute("href")))
    expect(remote.locator(".remote-state")).to_contain_text("La votación está abierta.")
    all_spanish(remote, f"{how}: remote", audit)
    screenshot(remote, f"spanish-{how}-remote", full_page=False)
    remote.close()

    presenter.get_by_role("button", name="Siguiente ▶", exact=True).first.click()
    expect(presenter.locator("section.current > p.kind-badge")).to_have_text("Nube de palabras")
    all_spanish(presenter, f"{how}: presenter, a word cloud", audit)

    # Ending asks first, in Spanish.
    asked: list[str] = []
    presenter.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    presenter.get_by_role("button", name="Terminar la sesión").click()
    expect(presenter.get_by_role("heading", name="Esta sesión terminó.")).to_be_visible()
    assert asked == ["¿Terminar esta sesión? Se avisará a los participantes de que ha terminado."]
    all_spanish(presenter, f"{how}: presenter, ended", audit)
    screenshot(presenter, f"spanish-{how}-ended", full_page=False)
    assert not errors.errors, errors.errors

    # The report and the archive's human-readable parts are in the language of whoever downloads them (issue 17,
    # the report's piece): until that piece is merged, these last checks fail here, and only here.
    with context.expect_page() as opened:
        presenter.get_by_role("link", name="Abrir el informe").click()
    report = opened.value
    report.wait_for_load_state()
    all_spanish(report, f"{how}: report", audit)
    with presenter.expect_download() as download:
        presenter.get_by_role("link", name="Descargar el archivo (ZIP)").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        archived = archive.read("report.html").decode("utf-8")
    assert '<html lang="es">' in archived
    assert "¿En qué se va la semana?" in archived
    audit.assert_clean()
