"""A Spanish-speaking organizer (issue 17): signs in, picks Español with the switch in the top bar, sets up an
institute with two cohorts, compares them, and takes a cohort's archive home; every page in Spanish, and axe clean."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import Audit
from tests.browser.factories import PASSWORD, PageErrors, organizer_api, screenshot
from tests.factories import LiveServer

pytestmark = pytest.mark.browser
ORGANIZER = "organizadora@example.org"
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
POLL = "¿En qué se va la semana?"
DECK = f"""\
title: Liderazgo distribuido
activities:
  - kind: poll
    title: "{POLL}"
    options: [Apagar fuegos, Mantener la organización, Mejorar]
"""
# Each cohort: name, site, days, and its phones' choices (option numbers).
COHORTS = [
    ("Phoenix, abril", "Phoenix, AZ", "2017-04-24", "2017-04-25", ["0", "2"]),
    ("Oakland, abril", "Oakland, CA", "2017-04-27", "2017-04-28", ["0", "0", "1"]),
]


@pytest.fixture(scope="module")
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    with organizer_api(live_server, ORGANIZER) as client:
        yield client


def run_session(server: LiveServer, api: httpx.Client, cohort_id: int, choices: list[str]) -> None:
    """A cohort's session: its phones answer the poll (through the participants' API), then it ends."""
    started = api.post("/api/v1/sessions", json={"deck_yaml": DECK, "cohort_id": cohort_id})
    assert started.status_code == 201, started.text
    session = started.json()
    poll = session["activities"][0]["id"]
    control = f"/api/v1/sessions/{session['id']}/control"
    assert api.post(control, json={"action": "goto", "activity_id": poll}).status_code == 200
    with httpx.Client(base_url=server.url) as phones:
        for choice in choices:
            joined = phones.post("/api/v1/join", json={"code": session["code"]})
            assert joined.status_code == 201, joined.text
            answer = {"activity_id": poll, "answer": {"choice": choice}}
            token = {"X-Participant-Token": joined.json()["participant_token"]}
            assert phones.post("/api/v1/responses", json=answer, headers=token).status_code == 201
    assert api.post(control, json={"action": "end"}).status_code == 200


def add_cohort(page: Page, name: str, site: str, first: str, last: str) -> int:
    page.get_by_label("Nombre", exact=True).fill(name)
    page.get_by_label("Sede", exact=True).fill(site)
    page.get_by_label("Primer día").fill(first)
    page.get_by_label("Último día").fill(last)
    page.get_by_label("Zona horaria de la sede").select_option("America/Phoenix")
    page.get_by_role("button", name="Añadir la cohorte").click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    match = re.search(r"/organize/cohorts/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def column(page: Page, name: str) -> Any:
    return page.locator("section.compare-column").filter(has=page.get_by_role("heading", name=name, exact=True))


def test_a_spanish_organizer_sets_up_compares_and_downloads_in_spanish(
    browser: Browser, live_server: LiveServer, api: httpx.Client, page_errors: PageErrors
) -> None:
    audit = Audit()
    page = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "organizer")
    page.goto(f"{live_server.url}/login?next=/organize")
    page.get_by_label("Email").fill(ORGANIZER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Institutes")).to_be_visible()

    # The switch is in the top bar; choosing Español comes back to the same page, in Spanish, and stays chosen.
    page.locator("header.topbar").get_by_role("link", name="Español").click()
    expect(page.get_by_role("heading", name="Institutos")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("header.topbar [aria-current=true]")).to_have_text("Español")
    audit.check(page, "institutos")
    screenshot(page, "es-organizer-home")

    page.get_by_label("Título").fill("Instituto de primavera 2017")
    page.get_by_role("button", name="Crear el instituto").click()
    expect(page.get_by_role("heading", name="Instituto de primavera 2017")).to_be_visible()
    institute_url = page.url
    # A mistake is explained in Spanish, and nothing is created.
    page.get_by_label("Nombre", exact=True).fill("Phoenix")
    page.get_by_label("Primer día").fill("2017-04-25")
    page.get_by_label("Último día").fill("2017-04-24")
    page.get_by_role("button", name="Añadir la cohorte").click()
    expect(page.get_by_role("alert")).to_have_text("El último día es anterior al primero.")
    page.goto(institute_url)
    expect(page.get_by_text("Todavía no hay cohortes")).to_be_visible()

    cohort_ids = []
    for name, site, first, last, _ in COHORTS:
        cohort_ids.append(add_cohort(page, name, site, first, last))
        page.goto(institute_url)
    for cohort_id, (*_, choices) in zip(cohort_ids, COHORTS, strict=True):
        run_session(live_server, api, cohort_id, choices)

    page.reload()
    cohorts = page.locator("table.cohorts")
    expect(cohorts.get_by_role("columnheader")).to_have_text(
        ["Cohorte", "Sede", "Fechas", "Facilitadores", "Presentaciones", "Sesiones"]
    )
    expect(cohorts.locator("tbody tr").first).to_contain_text("24 abr 2017 – 25 abr 2017")
    audit.check(page, "instituto")
    screenshot(page, "es-organizer-institute")

    # Compare: each cohort's counts and all of them together, headed in Spanish.
    page.get_by_role("link", name="Comparar cohortes").click()
    expect(page.get_by_role("heading", name="Comparar cohortes")).to_be_visible()
    expect(page.locator("table.compare-index tbody tr").first).to_contain_text("2 de 2: Phoenix, abril, Oakland, abril")
    audit.check(page, "comparar")
    page.get_by_role("link", name=POLL).click()
    expect(page.locator("section.compare-column h2")).to_have_text(
        ["Phoenix, abril", "Oakland, abril", "Todas las cohortes"]
    )
    everyone = column(page, "Todas las cohortes")
    expect(everyone.locator(".compare-meta")).to_contain_text("2 sesiones · 5 personas respondieron")
    expect(column(page, "Phoenix, abril").locator(".compare-meta")).to_contain_text(
        "Phoenix, AZ · 1 sesión · 2 personas respondieron"
    )
    expect(page.get_by_role("link", name="Otras actividades")).to_be_visible()
    audit.check(page, "comparación")
    screenshot(page, "es-organizer-compare")

    # The cohort's page and its archive: the report and the workbook's headings in Spanish.
    page.goto(f"{live_server.url}/organize/cohorts/{cohort_ids[0]}")
    expect(page.get_by_text("Las horas se muestran en America/Phoenix")).to_be_visible()
    sessions = page.locator("table.sessions")
    expect(sessions.get_by_role("columnheader")).to_have_text(["Sesión", "Código", "Estado", "Inicio", "Archivo"])
    expect(sessions.locator("tbody td").nth(2)).to_have_text("terminada")
    expect(sessions.locator("tbody td").nth(3)).to_have_text(re.compile(r"^\d{1,2} \w{3} \d{4}, \d{1,2}:\d{2} MST$"))
    audit.check(page, "cohorte")
    screenshot(page, "es-organizer-cohort")
    with page.expect_download() as info:
        page.get_by_role("link", name="Descargar el archivo de la cohorte (ZIP)").click()
    archive = zipfile.ZipFile(Path(info.value.path()))
    report = archive.read("report.html").decode()
    assert '<html lang="es">' in report and "Archivo de la cohorte" in report and "<h2>Sesiones</h2>" in report
    assert "<td>24 abr 2017 – 25 abr 2017</td>" in report and "2 personas respondieron" in report
    assert re.search(r"Phoenix, abril · \d{1,2} \w{3} \d{4} · código \d{3} \d{3} ·\s+2 participantes", report)
    book = openpyxl.load_workbook(io.BytesIO(archive.read("workbook.xlsx")))
    assert book["Results"]["A1"].value == "Resultados: Instituto de primavera 2017: Phoenix, abril"
    responses = book[book.sheetnames[2]]
    assert [cell.value for cell in responses[1]][:2] == ["Participante", "Respondida (America/Phoenix)"]

    # The report as the organizer reads it, opened from the download.
    reader = page.context.new_page()
    reader.set_content(report)
    expect(reader.get_by_role("heading", level=1)).to_have_text("Instituto de primavera 2017: Phoenix, abril")
    screenshot(reader, "es-report")
    audit.check(reader, "informe")
    audit.assert_clean()


def test_every_staff_page_offers_the_language_switch(
    browser: Browser, live_server: LiveServer, api: httpx.Client, page_errors: PageErrors
) -> None:
    """Pages with a top bar of their own (organizer, account) place the switch in it; any other page (sign-in,
    presenter, editor) gets it from the layout, above the page, and it comes back to the page it was on."""
    page = page_errors.watch(browser.new_context(**LAPTOP).new_page(), "staff")
    page.goto(f"{live_server.url}/login?next=/present")
    switch = page.get_by_role("navigation", name="Language")
    expect(switch).to_have_count(1)
    expect(switch.get_by_role("link", name="Español")).to_have_attribute(
        "href", "/language/es?next=/login%3Fnext%3D/present"
    )
    screenshot(page, "switch-login")
    page.get_by_label("Email").fill(ORGANIZER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/present$"))
    for path in ("/present", "/present/decks", "/account", "/organize", "/organize/import"):
        page.goto(f"{live_server.url}{path}")
        switches = page.get_by_role("navigation", name=re.compile("^(Language|Idioma)$"))
        expect(switches).to_have_count(1)
        expect(switches.get_by_role("link", name="Español")).to_have_attribute("href", f"/language/es?next={path}")
    screenshot(page, "switch-import")
    page.goto(f"{live_server.url}/present")
    screenshot(page, "switch-present")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    page.wait_for_url(re.compile(r"/present$"))
    page.goto(f"{live_server.url}/account")
    expect(page.get_by_role("heading", name="Tu cuenta")).to_be_visible()
    expect(page.get_by_role("navigation", name="Idioma").locator("[aria-current=true]")).to_have_text("Español")
    page.get_by_label("Nombre de un token nuevo").fill("script del portátil")
    page.get_by_role("button", name="Crear un token").click()
    expect(page.get_by_text("Tu token nuevo «script del portátil».")).to_be_visible()
    expect(page.get_by_role("button", name="Revocar script del portátil")).to_be_visible()
    audit = Audit()
    audit.check(page, "cuenta")
    audit.assert_clean()
    screenshot(page, "es-account")
    # On a phone the top bar wraps, and the switch stays on screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/organize")
    expect(page.get_by_role("navigation", name="Idioma").get_by_role("link", name="English")).to_be_in_viewport()
    screenshot(page, "switch-organize-phone", full_page=False)
