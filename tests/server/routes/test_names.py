"""Nicknames and teams through the server: the session's options at start, the phone's form (a plain post and the
socket), the lock at the first quiz question, every worker knowing the names, and the leaderboard showing them."""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from server.messages import NameChosen, publish
from server.models import Deck, Participant, Role, Session
from server.names import generated_name
from tests.factories import (
    Presenter,
    api_token,
    caught_up,
    csrf_from,
    eventually,
    join,
    login,
    make_user,
    receive_until,
    respond,
    run,
    services_of,
    stored,
)
from tests.server.routes.factories import problem

DECK = """\
title: Team quiz
activities:
  - kind: poll
    title: Warm-up
    options: [Yes, No]
  - kind: quiz
    title: Which PSEL standard is about equity?
    options: [Mission and vision, Ethics, Equity and cultural responsiveness, Curriculum]
    correct: [3]
    time_limit: 20
"""
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def start(presenter: Presenter, **options: Any) -> dict[str, Any]:
    response = presenter.client.post("/api/v1/sessions", json={"deck_yaml": DECK, **options}, headers=presenter.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


class Phone:
    """One participant's browser: its own cookies (participant, language), the session's code."""

    def __init__(self, client: TestClient, code: str, language: str = "") -> None:
        self.client, self.code, self.language = client, code, language
        self.token = join(client, code)

    def _as_me(self) -> Any:
        kept = self.client.cookies
        self.client.cookies = type(kept)()
        self.client.cookies.set("handsup_participant", self.token)
        if self.language:
            self.client.cookies.set("handsup_language", self.language)
        return kept

    def page(self, path: str = "") -> str:
        kept = self._as_me()
        try:
            return self.client.get(f"/{self.code}{path}").text
        finally:
            self.client.cookies = kept

    def name(self, nickname: str = "", team: str = "") -> Any:
        kept = self._as_me()
        try:
            token = csrf_from(self.client.get(f"/{self.code}/name").text)
            return self.client.post(
                f"/{self.code}/name",
                data={"csrf_token": token, "name_form": "1", "nickname": nickname, "team": team},
                follow_redirects=False,
            )
        finally:
            self.client.cookies = kept


# --- the session's options -------------------------------------------------------------------------------------------


def test_a_session_started_over_the_api_keeps_its_options(client: TestClient, presenter: Presenter) -> None:
    session = start(presenter, nicknames=True, teams=[" Phoenix ", "", "Dragón  Azul"], streak=True)
    assert (session["nicknames"], session["teams"], session["streak"]) == (True, ["Phoenix", "Dragón Azul"], True)
    read = client.get(f"/api/v1/sessions/{session['id']}", headers=presenter.headers).json()
    assert (read["nicknames"], read["teams"], read["streak"]) == (True, ["Phoenix", "Dragón Azul"], True)
    plain = start(presenter)
    assert (plain["nicknames"], plain["teams"], plain["streak"]) == (False, [], False)


@pytest.mark.parametrize(
    ("teams", "why"),
    [
        ([f"Team {n}" for n in range(13)], "at most 12 teams"),
        (["Phoenix", "phoenix"], "same name"),
        (["Équipe", "equipe"], "same name"),
        (["x" * 61], "at most 60 characters"),
        (["Phoenix", "Fuck Yeah"], "profanity filter"),
    ],
)
def test_teams_that_cannot_be_used_are_refused_and_nothing_is_started(
    client: TestClient, presenter: Presenter, teams: list[str], why: str
) -> None:
    before = len(stored(client, select(Session)))
    response = client.post("/api/v1/sessions", json={"deck_yaml": DECK, "teams": teams}, headers=presenter.headers)
    assert why in problem(response, 422)["detail"]
    assert len(stored(client, select(Session))) == before


def test_the_start_form_takes_the_options_and_refuses_bad_teams(client: TestClient, presenter: Presenter) -> None:
    login(client, presenter.user.email)
    dashboard = client.get("/present").text
    assert 'name="nicknames"' in dashboard and 'name="teams"' in dashboard and 'name="streak"' in dashboard
    assert 'name="site_teams"' not in dashboard  # no cohort: no sites to make teams of
    token = csrf_from(dashboard)
    found = re.search(r'name="deck_id" value="(\d+)"', dashboard)
    assert found
    deck_id = int(found.group(1))
    form = {
        "csrf_token": token,
        "deck_id": str(deck_id),
        "nicknames": "on",
        "teams": "Owls\r\nFoxes\r\n",
        "streak": "on",
    }
    started = client.post("/present/sessions", data=form, follow_redirects=False)
    assert started.status_code == 303
    session = stored(client, select(Session).order_by(col(Session.id).desc()))[0]
    assert (session.nicknames, session.teams, session.streak) == (True, ["Owls", "Foxes"], True)
    count = len(stored(client, select(Session)))
    refused = client.post("/present/sessions", data={**form, "teams": "Owls\nOWLS"}, follow_redirects=False)
    assert refused.status_code == 422 and "same name" in html.unescape(refused.text)
    assert len(stored(client, select(Session))) == count


def test_a_cohort_session_may_have_one_team_per_site_of_the_institute(client: TestClient) -> None:
    organizer_user = make_user(client, "organizer@example.org", Role.organizer)
    organizer = Presenter(client, organizer_user, api_token(client, organizer_user.email))
    headers = organizer.headers
    institute = client.post("/api/v1/institutes", json={"title": "Spring Institute"}, headers=headers).json()
    deck_ids = stored(client, select(Deck.id))[:1]
    cohorts = [
        client.post(
            f"/api/v1/institutes/{institute['id']}/cohorts",
            json={"name": name, "site": site, "deck_ids": deck_ids},
            headers=headers,
        ).json()
        for name, site in [
            ("Oakland", "Oakland, CA"),
            ("Fresno", "Fresno, CA"),
            ("Oakland 2", "oakland, ca"),
            ("Web", ""),
        ]
    ]
    body = {"deck_yaml": DECK, "cohort_id": cohorts[0]["id"], "site_teams": True}
    session = client.post("/api/v1/sessions", json=body, headers=headers)
    assert session.status_code == 201, session.text
    assert session.json()["teams"] == ["Oakland, CA", "Fresno, CA"]  # each site once, blank ones left out
    no_cohort = client.post("/api/v1/sessions", json={"deck_yaml": DECK, "site_teams": True}, headers=headers)
    assert "needs the cohort" in problem(no_cohort, 422)["detail"]
    login(client, organizer_user.email)
    page = client.get(f"/organize/cohorts/{cohorts[1]['id']}").text
    assert 'name="site_teams"' in page
    form = {"csrf_token": csrf_from(page), "deck_id": str(deck_ids[0]), "site_teams": "on", "nicknames": "on"}
    started = client.post(f"/organize/cohorts/{cohorts[1]['id']}/sessions", data=form, follow_redirects=False)
    assert started.status_code == 303
    newest = stored(client, select(Session).order_by(col(Session.id).desc()))[0]
    assert (newest.cohort_id, newest.teams, newest.nicknames) == (cohorts[1]["id"], ["Oakland, CA", "Fresno, CA"], True)
    bad = {**form, "site_teams": "", "teams": "Owls\nowls"}
    refused = client.post(f"/organize/cohorts/{cohorts[1]['id']}/sessions", data=bad, follow_redirects=False)
    assert refused.status_code == 422 and "same name" in html.unescape(refused.text)


# --- the phone's name and team ---------------------------------------------------------------------------------------


@pytest.fixture
def named_session(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    return start(presenter, nicknames=True, teams=["Phoenix", "Dragon"])


def test_a_phone_chooses_its_name_and_team_before_anything_else(
    client: TestClient, presenter: Presenter, named_session: dict[str, Any]
) -> None:
    phone = Phone(client, named_session["code"])
    first = phone.page()
    assert "Your name and team" in first and 'name="nickname"' in first and 'value="Phoenix"' in first
    assert "You&#39;re in!" not in first and "You're in!" not in first  # the form in place of the lobby
    saved = phone.name("Ana Sofía", "Phoenix")
    assert saved.status_code == 303 and saved.headers["location"] == f"/{named_session['code']}"
    page = phone.page()
    assert "Your name and team" not in page and "You're in!" in html.unescape(page)
    assert "Ana Sofía" in page and "Team Phoenix" in page and f'href="/{named_session["code"]}/name"' in page
    [row] = stored(client, select(Participant.nickname, Participant.team).where(Participant.nickname != ""))
    assert tuple(row) == ("Ana Sofía", "Phoenix")
    changing = phone.page("/name")
    assert 'value="Ana Sofía"' in changing and 'value="Phoenix" required checked' in changing
    assert phone.name("Ana", "Dragon").status_code == 303
    assert "Team Dragon" in phone.page()


@pytest.mark.parametrize(
    ("nickname", "team", "why"),
    [
        ("A", "Phoenix", "A nickname has 2 to 24 characters."),
        ("Mucho texto para un apodo tan largo", "Phoenix", "A nickname has 2 to 24 characters."),
        ("<script>", "Phoenix", "A nickname may have letters, numbers"),
        ("shit", "Phoenix", "Please choose another nickname."),
        ("Ana", "", "Choose one of the teams."),
        ("Ana", "Unicorns", "Choose one of the teams."),
    ],
)
def test_a_name_the_rules_refuse_is_shown_again_with_why_and_nothing_is_stored(
    client: TestClient, named_session: dict[str, Any], nickname: str, team: str, why: str
) -> None:
    phone = Phone(client, named_session["code"])
    refused = phone.name(nickname, team)
    assert refused.status_code == 422
    assert why in html.unescape(refused.text) and "Your name and team" in refused.text
    assert "<script>" not in refused.text.split("</header>", 1)[1]  # what was typed is shown inert, if at all
    assert stored(client, select(Participant.id).where(Participant.nickname != "")) == []


def test_a_name_taken_ignoring_case_and_accents_is_refused(client: TestClient, named_session: dict[str, Any]) -> None:
    first, second = Phone(client, named_session["code"]), Phone(client, named_session["code"])
    assert first.name("José María", "Phoenix").status_code == 303
    for taken in ("jose maria", "JOSÉ  MARÍA"):
        refused = second.name(taken, "Dragon")
        assert refused.status_code == 422 and "That name is taken: choose another." in html.unescape(refused.text)
    assert first.name("josé maría", "Dragon").status_code == 303  # your own name is yours to respell


def test_team_names_are_shown_inert(client: TestClient, presenter: Presenter) -> None:
    session = start(presenter, teams=["<script>alert(1)</script>", "Owls"])
    page = Phone(client, session["code"]).page()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert 'name="nickname"' not in page  # teams only: no nickname asked


def test_names_are_fixed_once_the_first_quiz_question_is_shown_open(
    client: TestClient, presenter: Presenter, named_session: dict[str, Any]
) -> None:
    warmup, question = (a["id"] for a in named_session["activities"])
    phone, late = Phone(client, named_session["code"]), Phone(client, named_session["code"])
    assert phone.name("Kim", "Phoenix").status_code == 303
    presenter.control(named_session["id"], "goto", warmup)  # a poll scores nothing: names stay open
    caught_up(client, named_session["id"])
    assert phone.name("Kimberly", "Phoenix").status_code == 303
    presenter.control(named_session["id"], "goto", question)
    caught_up(client, named_session["id"])
    refused = phone.name("Kimmy", "Dragon")
    assert refused.status_code == 422
    assert "Names and teams are fixed now: the quiz has begun." in html.unescape(refused.text)
    page = phone.page()
    assert "Kimberly" in page and "Team Phoenix" in page and '/name"' not in page  # no "Change" link any more
    assert "Which PSEL standard is about equity?" in page
    # A phone that never chose is not held at the form: it answers, under its generated name.
    assert "Which PSEL standard is about equity?" in late.page() and "Your name and team" not in late.page()


def test_spanish_phones_read_the_form_and_its_refusals_in_spanish(
    client: TestClient, named_session: dict[str, Any]
) -> None:
    phone = Phone(client, named_session["code"], language="es")
    assert "Tu nombre y tu equipo" in phone.page()
    assert "Un apodo tiene de 2 a 24 caracteres." in html.unescape(phone.name("x", "Phoenix").text)


# --- over the socket ------------------------------------------------------------------------------------------------


def test_a_phone_names_itself_over_the_socket(client: TestClient, named_session: dict[str, Any]) -> None:
    code = named_session["code"]
    taker, phone = Phone(client, code), Phone(client, code)
    assert taker.name("Otter", "Phoenix").status_code == 303
    headers = {"cookie": f"handsup_participant={phone.token}"}
    with client.websocket_connect(f"/ws/participant/{code}", headers=headers) as ws:
        first = receive_until(ws, lambda frame: 'id="stage"' in frame)
        assert "Your name and team" in first
        message = {"name_form": "1", "nickname": "OTTER", "team": "Dragon", "HEADERS": {"HX-Request": "true"}}
        ws.send_text(json.dumps(message))
        refused = receive_until(ws, lambda frame: 'id="name-status"' in frame)
        assert "That name is taken: choose another." in html.unescape(refused)
        ws.send_text(json.dumps({**message, "nickname": "Beaver"}))
        reply = receive_until(ws, lambda frame: "You&#39;re in!" in frame or "You're in!" in frame)
        assert 'id="me"' in reply and "Beaver" in reply and "Team Dragon" in reply


def test_a_phone_still_at_the_form_is_sent_the_question_when_the_quiz_begins(
    client: TestClient, presenter: Presenter, named_session: dict[str, Any]
) -> None:
    code = named_session["code"]
    phone = Phone(client, code)
    with client.websocket_connect(
        f"/ws/participant/{code}", headers={"cookie": f"handsup_participant={phone.token}"}
    ) as ws:
        assert "Your name and team" in receive_until(ws, lambda frame: 'id="stage"' in frame)
        presenter.control(named_session["id"], "goto", named_session["activities"][1]["id"])
        pushed = receive_until(ws, lambda frame: 'id="stage"' in frame)
        assert "Which PSEL standard is about equity?" in pushed and "Your name and team" not in pushed
        message = {"name_form": "1", "nickname": "Late", "team": "Phoenix", "HEADERS": {"HX-Request": "true"}}
        ws.send_text(json.dumps(message))
        refused = receive_until(ws, lambda frame: 'id="name-status"' in frame)
        assert "Names and teams are fixed now: the quiz has begun." in html.unescape(refused)


# --- every worker knows the names ------------------------------------------------------------------------------------


def test_names_chosen_on_another_worker_arrive_and_a_rebuilt_room_loads_them(
    client: TestClient, named_session: dict[str, Any]
) -> None:
    services = services_of(client)
    session_id = named_session["id"]
    phone = Phone(client, named_session["code"])
    assert phone.name("Lark", "Phoenix").status_code == 303
    other = Phone(client, named_session["code"])
    other_id = run(client, lambda: _participant_id(services, session_id, other.token))

    async def told_by_another_worker() -> None:  # what a second worker publishes after storing a name
        await publish(services.backplane, session_id, NameChosen(other_id, "Swift", "Dragon"))

    run(client, told_by_another_worker)

    async def names() -> dict[int, tuple[str, str]]:
        room = await services.hub.room(session_id)
        return {pid: (named.nickname, named.team) for pid, named in room.names.items()}

    eventually(lambda: _has(run(client, names), other_id, ("Swift", "Dragon")))
    before = run(client, names)

    async def rebuild() -> None:
        await services.hub.forget(session_id)

    run(client, rebuild)
    rebuilt = run(client, names)  # a new room: from the database, which has the names stored by this worker
    assert rebuilt[run(client, lambda: _participant_id(services, session_id, phone.token))] == ("Lark", "Phoenix")
    assert {pid: value for pid, value in rebuilt.items() if pid != other_id} == {
        pid: value for pid, value in before.items() if pid != other_id
    }


def _has(names: dict[int, tuple[str, str]], pid: int, value: tuple[str, str]) -> None:
    assert names.get(pid) == value


async def _participant_id(services: Any, session_id: int, token: str) -> int:
    from server.sessions import hash_token

    async with services.db() as db:
        found = (
            await db.exec(
                select(Participant.id).where(
                    Participant.session_id == session_id, Participant.token_hash == hash_token(token)
                )
            )
        ).one()
    return int(found)


# --- the leaderboard --------------------------------------------------------------------------------------------------


def test_the_projector_shows_names_and_team_scores_and_each_phone_its_teams_place(
    client: TestClient, presenter: Presenter, named_session: dict[str, Any]
) -> None:
    code, session_id = named_session["code"], named_session["id"]
    question = named_session["activities"][1]["id"]
    ana, ben, cai = (Phone(client, code) for _ in range(3))
    assert ana.name("Ana", "Phoenix").status_code == 303
    assert ben.name("Ben", "Phoenix").status_code == 303
    assert cai.name("Cai", "Dragon").status_code == 303
    silent = Phone(client, code)  # never chose: shown by a generated name, in no team
    presenter.control(session_id, "goto", question)
    caught_up(client, session_id)
    for phone, choice in ((ana, "2"), (cai, "2"), (ben, "0"), (silent, "2")):
        assert respond(client, phone.token, question, choice=[choice]).status_code == 201
        time.sleep(0.05)
    presenter.control(session_id, "reveal", question)
    caught_up(client, session_id)
    tally = presenter.tally(session_id, question)
    assert tally["respondents"] == 4
    projector = html.unescape(client.get(named_session["projector_url"], headers=BROWSER).text)
    silent_id = run(client, lambda: _participant_id(services_of(client), session_id, silent.token))
    assert "Ana" in projector and "Cai" in projector and "Ben" in projector
    assert generated_name(session_id, silent_id) in projector and "Participant " not in projector
    assert "Teams" in projector and "A team's score is the mean of its players' points." in projector
    # Ana was faster than Cai; Ben scored 0: Phoenix's mean is half of Ana's points, Dragon's is Cai's.
    board = run(client, lambda: _standings(services_of(client), session_id))
    points = {pid: points for pid, points in board}
    ana_id = run(client, lambda: _participant_id(services_of(client), session_id, ana.token))
    cai_id = run(client, lambda: _participant_id(services_of(client), session_id, cai.token))
    phoenix, dragon = (points[ana_id] + 1) // 2, points[cai_id]
    assert "Dragon 1 player" in projector.replace("</small>", "").replace('<small class="quiz-team">', "")
    assert f"{dragon} points" in projector and f"{phoenix} points" in projector
    assert "Team Dragon: place 1 of 2" in html.unescape(cai.page())
    ben_page = html.unescape(ben.page())
    assert "Team Phoenix: place 2 of 2" in ben_page, ben_page[ben_page.find("quiz-own") :][:800]
    assert "Team " not in html.unescape(silent.page()).split("</header>", 1)[1].split("quiz-own", 1)[1][:400]


async def _standings(services: Any, session_id: int) -> list[tuple[int, int]]:
    room = await services.hub.room(session_id)
    return [(row.participant_id, row.points) for row in room.standings().rows]


def test_the_presenter_sees_how_many_chose_a_name_and_the_teams_sizes(
    client: TestClient, presenter: Presenter, named_session: dict[str, Any]
) -> None:
    phones = [Phone(client, named_session["code"]) for _ in range(3)]
    assert phones[0].name("Ana", "Phoenix").status_code == 303
    assert phones[1].name("Ben", "Phoenix").status_code == 303
    login(client, presenter.user.email)
    page = client.get(f"/present/{named_session['id']}").text
    counts = page.split('id="counts"', 1)[1].split("</p>", 1)[0]
    flat = " ".join(counts.replace("<strong>", "").replace("</strong>", "").split())
    assert "2 named" in flat and "teams: Phoenix 2, Dragon 0" in flat


def test_a_decks_settings_are_what_its_sessions_start_with_and_the_start_adds_to_them(
    client: TestClient, presenter: Presenter
) -> None:
    deck = DECK.replace("title: Team quiz\n", "title: Team quiz\nnicknames: true\nteams: [Owls, Foxes]\n")
    started = client.post("/api/v1/sessions", json={"deck_yaml": deck}, headers=presenter.headers).json()
    assert (started["nicknames"], started["teams"], started["streak"]) == (True, ["Owls", "Foxes"], False)
    body = {"deck_yaml": deck, "teams": ["Bees"], "streak": True}
    added = client.post("/api/v1/sessions", json=body, headers=presenter.headers).json()
    assert (added["nicknames"], added["teams"], added["streak"]) == (True, ["Bees"], True)


def test_the_projector_shows_generated_names_in_its_own_language(
    client: TestClient, presenter: Presenter, named_session: dict[str, Any]
) -> None:
    question = named_session["activities"][1]["id"]
    phone = Phone(client, named_session["code"])
    presenter.control(named_session["id"], "goto", question)
    caught_up(client, named_session["id"])
    assert respond(client, phone.token, question, choice=["3"]).status_code == 201
    presenter.control(named_session["id"], "reveal", question)
    caught_up(client, named_session["id"])
    pid = run(client, lambda: _participant_id(services_of(client), named_session["id"], phone.token))
    spanish = generated_name(named_session["id"], pid, "es")
    english = generated_name(named_session["id"], pid, "en")
    client.cookies.set("handsup_language", "es")
    try:
        page = html.unescape(client.get(named_session["projector_url"], headers=BROWSER).text)
    finally:
        client.cookies.delete("handsup_language")
    assert spanish in page and english not in page and "Clasificación" in page


def test_a_participant_chooses_a_name_over_the_api(
    client: TestClient, presenter: Presenter, named_session: dict[str, Any]
) -> None:
    session_id = named_session["id"]
    first, second = join(client, named_session["code"]), join(client, named_session["code"])

    def put(token: str, **body: str) -> Any:
        return client.put(f"/api/v1/sessions/{session_id}/name", json=body, headers={"X-Participant-Token": token})

    chosen = put(first, nickname="  Ana  Sofía ", team="Phoenix")
    assert chosen.status_code == 200 and chosen.json() == {"nickname": "Ana Sofía", "team": "Phoenix"}
    assert problem(put(second, nickname="ANA SOFIA", team="Dragon"), 409)["detail"] == (
        "That name is taken: choose another."
    )
    assert problem(put(second, nickname="x", team="Dragon"), 422)["detail"] == "A nickname has 2 to 24 characters."
    assert problem(put(second, nickname="Ben", team="Owls"), 422)["detail"] == "Choose one of the teams."
    stranger = join(client, start(presenter)["code"])
    assert problem(put(stranger, nickname="Ben", team="Dragon"), 403)["title"] == "Not joined"
    presenter.control(session_id, "goto", named_session["activities"][1]["id"])
    caught_up(client, session_id)
    assert problem(put(second, nickname="Ben", team="Dragon"), 409)["detail"] == (
        "Names and teams are fixed now: the quiz has begun."
    )
