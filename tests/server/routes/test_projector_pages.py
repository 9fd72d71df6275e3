"""The projector view, opened by its secret link, and the word-cloud pictures served to projector and presenter."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.factories import Presenter, caught_up, eventually, join, login, respond

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DECK = """\
title: Influence
activities:
  - kind: wordcloud
    title: Three words
  - kind: poll
    title: Hardest risk
    results: hidden
    options: [Disagreement, Non-discussables, Power]
  - kind: wordcloud
    title: Hidden words
    results: hidden
"""


@pytest.fixture
def session(presenter: Presenter) -> dict[str, Any]:
    return presenter.start(DECK)


def show(client: TestClient, presenter: Presenter, session: dict[str, Any], position: int) -> int:
    activity_id = int(session["activities"][position]["id"])
    presenter.control(session["id"], "goto", activity_id)
    caught_up(client, session["id"])
    return activity_id


def counted(presenter: Presenter, session: dict[str, Any], activity_id: int, expected: int) -> None:
    assert presenter.tally(session["id"], activity_id)["respondents"] == expected


def test_the_projector_lobby_shows_the_code_and_a_qr_code(client: TestClient, session: dict[str, Any]) -> None:
    page = client.get(session["projector_url"], headers=BROWSER)
    assert page.status_code == 200
    code = session["code"]
    assert "Take out your phone and join with the code" in page.text
    assert f"{code[:3]} {code[3:]}" in page.text
    assert "<svg" in page.text


@pytest.mark.parametrize("secret", ["x" * 32, "short", "y" * 65])
def test_a_projector_link_that_is_not_valid_is_a_404_page(
    client: TestClient, session: dict[str, Any], secret: str
) -> None:
    page = client.get(f"/projector/{secret}", headers=BROWSER)
    assert page.status_code == 404
    assert "This projector link is not valid. Copy it again from the presenter view." in page.text


def test_the_projector_shows_live_results(client: TestClient, presenter: Presenter, session: dict[str, Any]) -> None:
    cloud = show(client, presenter, session, 0)
    assert respond(client, join(client, session["code"]), cloud, word=["Trust", "care"]).status_code == 201
    eventually(lambda: counted(presenter, session, cloud, 1))
    page = client.get(session["projector_url"]).text
    assert '<span class="word-text">trust</span>' in page
    assert "1 person answered" in page


def test_the_projector_shows_only_a_count_until_results_are_revealed(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = show(client, presenter, session, 1)
    for choice in ("0", "2"):
        assert respond(client, join(client, session["code"]), poll, choice=choice).status_code == 201
    eventually(lambda: counted(presenter, session, poll, 2))
    page = client.get(session["projector_url"]).text
    assert "<strong>2</strong> answers so far" in page and "Results will be revealed soon." in page
    assert "Disagreement" not in page
    presenter.control(session["id"], "reveal", poll)
    caught_up(client, session["id"])
    page = client.get(session["projector_url"]).text
    assert "Disagreement" in page and "50%<small> (1)</small>" in page


def test_the_projector_says_thank_you_when_the_session_has_ended(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    presenter.control(session["id"], "end")
    caught_up(client, session["id"])
    page = client.get(session["projector_url"], headers=BROWSER)
    assert page.status_code == 200
    assert "This session has ended." in page.text


def test_hidden_word_cloud_pictures_are_not_served_to_the_projector(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    hidden = show(client, presenter, session, 2)
    assert respond(client, join(client, session["code"]), hidden, word=["secret"]).status_code == 201
    eventually(lambda: counted(presenter, session, hidden, 1))
    response = client.get(f"{session['projector_url']}/activities/{hidden}/cloud.png")
    assert response.status_code == 404
    assert response.json()["detail"] == "These results are not shown yet."


def test_the_projector_gets_the_cloud_picture_of_shown_results(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    cloud = show(client, presenter, session, 0)
    assert respond(client, join(client, session["code"]), cloud, word=["trust", "care"]).status_code == 201
    eventually(lambda: counted(presenter, session, cloud, 1))
    png = client.get(f"{session['projector_url']}/activities/{cloud}/cloud.png")
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG_SIGNATURE)
    svg = client.get(f"{session['projector_url']}/activities/{cloud}/cloud.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    texts = {node.text for node in ElementTree.fromstring(svg.content).iter("{http://www.w3.org/2000/svg}text")}
    assert texts == {"trust", "care"}


def test_a_picture_a_kind_does_not_offer_is_404(client: TestClient, session: dict[str, Any]) -> None:
    poll = session["activities"][1]["id"]
    cloud = session["activities"][0]["id"]
    assert client.get(f"{session['projector_url']}/activities/{poll}/cloud.png").status_code == 404
    assert client.get(f"{session['projector_url']}/activities/{cloud}/cloud.gif").status_code == 404


def test_the_presenter_gets_hidden_clouds_and_needs_to_be_signed_in(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    hidden = show(client, presenter, session, 2)
    path = f"/present/{session['id']}/activities/{hidden}/cloud.svg"
    assert client.get(path, follow_redirects=False).status_code == 303
    login(client, presenter.user.email)
    svg = client.get(path)
    assert svg.status_code == 200
    assert ElementTree.fromstring(svg.content).tag == "{http://www.w3.org/2000/svg}svg"
