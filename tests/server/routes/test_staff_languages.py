"""Staff pages, reports and workbooks in each person's language (issue 17): organizer and account pages follow
Accept-Language or the switch's choice, every page has the switch, refusals come in the page's language, and an
archive's report and workbook headings are in the language of whoever downloads it while its machine files are not."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.models import Cohort, Role
from server.web.i18n import COOKIE
from tests.factories import Presenter, api_token, csrf_from, join, login, make_user, respond, stored

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
SPANISH = {**HTML, "Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
ENGLISH = {**HTML, "Accept-Language": "en-US,en;q=0.9"}
DECK = """\
title: Day one
activities:
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance, Improvement]
"""


@pytest.fixture
def organizer(client: TestClient) -> Presenter:
    user = make_user(client, "organizer@example.org", Role.organizer)
    login(client, user.email)
    return Presenter(client, user, api_token(client, user.email))


def lang_of(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "the page names its language"
    return match.group(1)


def institute_with_cohort(client: TestClient, headers: dict[str, str]) -> tuple[int, int]:
    """An institute with a Phoenix cohort over two days, made through the pages."""
    created = client.post(
        "/organize/institutes",
        data={"csrf_token": csrf_from(client.get("/organize").text), "title": "2017 Spring Institute"},
        headers=headers,
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    institute = int(created.headers["location"].rsplit("/", 1)[1])
    cohort = {
        "csrf_token": csrf_from(client.get("/organize").text),
        "name": "Phoenix",
        "site": "Phoenix, AZ",
        "starts_on": "2017-04-24",
        "ends_on": "2017-04-25",
        "time_zone": "America/Phoenix",
    }
    added = client.post(f"/organize/institutes/{institute}/cohorts", data=cohort, follow_redirects=False)
    assert added.status_code == 303, added.text
    [cohort_id] = stored(client, select(Cohort.id))
    return institute, int(cohort_id)


def run_a_session(client: TestClient, organizer: Presenter, cohort: int) -> None:
    response = client.post("/api/v1/sessions", json={"deck_yaml": DECK, "cohort_id": cohort}, headers=organizer.headers)
    assert response.status_code == 201, response.text
    session = response.json()
    poll = int(session["activities"][0]["id"])
    organizer.control(session["id"], "goto", poll)
    for choice in ("0", "2", "2"):
        assert respond(client, join(client, session["code"]), poll, choice=choice).status_code == 201
    organizer.control(session["id"], "end")


# --- pages --------------------------------------------------------------------------------------------------------


def test_the_organizer_pages_speak_the_browsers_language(client: TestClient, organizer: Presenter) -> None:
    page = client.get("/organize", headers=SPANISH).text
    assert lang_of(page) == "es"
    assert "<h1>Institutos</h1>" in page and "Nuevo instituto" in page and "Crear el instituto" in page
    assert "Organizar · organizer@example.org (organizador)" in page
    assert 'placeholder="Instituto de primavera 2017"' in page
    # The switch sits in the top bar and comes back to this page; no second one above it.
    assert 'href="/language/en?next=/organize"' in page
    assert page.count('<nav class="language-switch"') == 1 and 'class="language-bar"' not in page
    english = client.get("/organize", headers=ENGLISH).text
    assert lang_of(english) == "en" and "<h1>Institutes</h1>" in english


def test_a_cohort_page_writes_its_days_and_times_in_spanish(client: TestClient, organizer: Presenter) -> None:
    _institute, cohort = institute_with_cohort(client, SPANISH)
    run_a_session(client, organizer, cohort)
    page = client.get(f"/organize/cohorts/{cohort}", headers=SPANISH).text
    assert "Phoenix, AZ · 24 abr 2017 – 25 abr 2017" in page
    assert "Las horas se muestran en America/Phoenix" in page
    assert "<td>terminada</td>" in page and "Descargar el archivo de la cohorte (ZIP)" in page
    started = re.search(r"<td>(\d{1,2} \w{3} \d{4}, \d{1,2}:\d{2} MST)</td>", page)
    assert started, "the session's start as Spanish writes it, in the cohort's zone"
    english = client.get(f"/organize/cohorts/{cohort}", headers=ENGLISH).text
    assert "Phoenix, AZ · Apr 24, 2017 – Apr 25, 2017" in english and "<td>ended</td>" in english


def test_a_refusal_on_the_organizer_pages_is_in_the_pages_language(client: TestClient, organizer: Presenter) -> None:
    institute, cohort = institute_with_cohort(client, SPANISH)
    empty = {"csrf_token": csrf_from(client.get("/organize").text), "name": " "}
    refused = client.post(f"/organize/institutes/{institute}/cohorts", data=empty, headers=SPANISH)
    assert refused.status_code == 422
    assert "Ponle un nombre a la cohorte, por ejemplo «Phoenix, abril»." in refused.text
    wrong = {"csrf_token": csrf_from(client.get("/organize").text), "confirm": "Phoenix?"}
    kept = client.post(f"/organize/cohorts/{cohort}/delete", data=wrong, headers=SPANISH)
    assert kept.status_code == 422
    assert "No se eliminó nada: escribe exactamente el nombre de la cohorte para confirmar." in kept.text
    assert stored(client, select(Cohort.id)) == [cohort]


def test_the_switch_choice_wins_over_accept_language_on_the_account_page(
    client: TestClient, organizer: Presenter
) -> None:
    chosen = client.get("/language/es?next=/account", headers=ENGLISH, follow_redirects=False)
    assert (chosen.status_code, chosen.headers["location"]) == (303, "/account")
    assert client.cookies.get(COOKIE) == "es"
    page = client.get("/account", headers=ENGLISH).text
    assert lang_of(page) == "es"
    assert "<h1>Tu cuenta</h1>" in page and "<dd>organizador</dd>" in page and "Cambia tu contraseña" in page
    assert '<span lang="es" aria-current="true">Español</span>' in page
    assert 'href="/language/en?next=/account"' in page
    created = client.post(
        "/account/tokens", data={"csrf_token": csrf_from(page), "name": " "}, headers={**ENGLISH, "Referer": ""}
    )
    assert created.status_code == 422
    assert "Ponle un nombre al token" in created.text


def test_a_page_with_no_switch_of_its_own_gets_one_from_the_layout(client: TestClient) -> None:
    page = client.get("/login", headers=SPANISH).text
    assert 'class="language-bar"' in page and page.count('<nav class="language-switch"') == 1
    # The join page places its own, so the layout adds none.
    join_page = client.get("/", headers=SPANISH).text
    assert join_page.count('<nav class="language-switch"') == 1 and 'class="language-bar"' not in join_page


def test_an_import_is_refused_in_the_pages_language(client: TestClient, organizer: Presenter) -> None:
    token = csrf_from(client.get("/organize/import").text)
    refused = client.post(
        "/organize/import",
        data={"csrf_token": token},
        files={"archive": ("phoenix.zip", b"not a zip at all", "application/zip")},
        headers=SPANISH,
    )
    assert refused.status_code == 422
    assert "Esto no es un archivo de Handsup: no es un fichero ZIP, o está incompleto." in refused.text
    assert "No se importó nada." in refused.text


# --- archives -----------------------------------------------------------------------------------------------------


def cohort_archive(client: TestClient, organizer: Presenter, cohort: int, language: str) -> zipfile.ZipFile:
    headers = {**organizer.headers, "Accept-Language": language}
    response = client.get(f"/api/v1/cohorts/{cohort}/archive.zip", headers=headers)
    assert response.status_code == 200, response.text
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_report_is_in_the_language_of_whoever_downloads_it(client: TestClient, organizer: Presenter) -> None:
    _institute, cohort = institute_with_cohort(client, ENGLISH)
    run_a_session(client, organizer, cohort)
    report = cohort_archive(client, organizer, cohort, "es").read("report.html").decode()
    assert lang_of(report) == "es"
    assert "Archivo de la cohorte" in report and "<h2>Sesiones</h2>" in report
    assert "1 sesión," in report and "3 participantes," in report and "3 respuestas" in report
    assert "<td>24 abr 2017 – 25 abr 2017</td>" in report
    assert "3 personas respondieron" in report
    english = cohort_archive(client, organizer, cohort, "en").read("report.html").decode()
    assert lang_of(english) == "en" and "Cohort archive" in english and "3 respondents" in english


def test_the_workbook_headings_are_spanish_and_its_machine_files_are_not(
    client: TestClient, organizer: Presenter
) -> None:
    _institute, cohort = institute_with_cohort(client, ENGLISH)
    run_a_session(client, organizer, cohort)
    spanish, english = (cohort_archive(client, organizer, cohort, language) for language in ("es", "en"))
    book = openpyxl.load_workbook(io.BytesIO(spanish.read("workbook.xlsx")))
    assert book.sheetnames[:2] == ["Results", "Summary"]  # sheet names stay, for scripts
    results = [[cell for cell in row if cell is not None] for row in book["Results"].iter_rows(values_only=True)]
    assert results[0] == ["Resultados: 2017 Spring Institute: Phoenix"]
    [about] = results[3]
    assert re.fullmatch(
        r"Phoenix · iniciada el \d{1,2} \w{3} \d{4}, \d{1,2}:\d{2} MST · horas en America/Phoenix · 3 participantes",
        about,
    )
    assert results[6] == ["Encuesta · 3 personas respondieron · respuestas en la hoja «1 Where does the week go»"]
    assert results[7][1:] == ["Recuento", "%"]  # the kind names its own first column ("Option")
    responses = book[book.sheetnames[2]]
    header = next(responses.iter_rows(max_row=1, values_only=True))
    assert header[:2] == ("Participante", "Respondida (America/Phoenix)")
    assert next(responses.iter_rows(min_row=2, max_row=2, values_only=True))[0] == "Participante 1"
    # The machine-readable files are the same whoever downloads them.
    for name in spanish.namelist():
        if name.endswith(".csv"):
            assert spanish.read(name) == english.read(name), name
    summary_header = next(book["Summary"].iter_rows(max_row=1, values_only=True))
    english_book = openpyxl.load_workbook(io.BytesIO(english.read("workbook.xlsx")))
    assert summary_header == next(english_book["Summary"].iter_rows(max_row=1, values_only=True))
    assert english_book["Results"]["A1"].value == "Results: 2017 Spring Institute: Phoenix"


def test_the_organizers_api_explains_a_refusal_in_the_language_asked_for(
    client: TestClient, organizer: Presenter
) -> None:
    spanish = {**organizer.headers, "Accept-Language": "es"}
    refused = client.post("/api/v1/institutes", json={"title": " "}, headers=spanish)
    assert refused.status_code == 422
    assert refused.json()["title"] == "El instituto no es válido"
    assert refused.json()["detail"] == "Ponle un título al instituto, por ejemplo «Instituto de primavera 2017»."
    english = client.post("/api/v1/institutes", json={"title": " "}, headers=organizer.headers)
    assert english.json()["detail"] == "Give the institute a title, for example “2017 Spring Institute”."
