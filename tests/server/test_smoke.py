from __future__ import annotations

from starlette.testclient import TestClient

from tests.factories import Presenter, join, respond


def test_healthz_answers_once_ready(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"


def test_a_vote_reaches_the_tally(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start()
    first = session["activities"][1]  # the poll
    presenter.control(session["id"], "goto", first["id"])
    token = join(client, session["code"])
    assert respond(client, token, first["id"], choice=["2"]).status_code == 201
    tally = presenter.tally(session["id"], first["id"])
    assert tally["respondents"] == 1
