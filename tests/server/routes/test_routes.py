"""The JSON API as a whole (server/routes/__init__.py ROUTERS): API tokens, problem+json errors, the OpenAPI
description."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from sqlmodel import select
from starlette.testclient import TestClient

from server.models import ApiToken, utcnow
from server.routes import ROUTERS
from tests.factories import Presenter, run, services_of, stored
from tests.server.routes.factories import problem

# --- authentication -------------------------------------------------------------------------------------------------

PRESENTER_ROUTES = [
    ("GET", "/api/v1/decks"),
    ("POST", "/api/v1/sessions"),
    ("GET", "/api/v1/sessions/1"),
    ("POST", "/api/v1/sessions/1/control"),
    ("GET", "/api/v1/sessions/1/activities/1/tally"),
]


@pytest.mark.parametrize(("method", "path"), PRESENTER_ROUTES)
def test_presenter_routes_need_an_api_token(client: TestClient, method: str, path: str) -> None:
    body = problem(client.request(method, path, json={"action": "next"}), 401)
    assert body["detail"] == "Send an API token: Authorization: Bearer <token>."


@pytest.mark.parametrize(("method", "path"), PRESENTER_ROUTES)
def test_presenter_routes_refuse_an_unknown_token(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={"action": "next"}, headers={"Authorization": "Bearer hsu_nope"})
    assert problem(response, 401)["detail"] == "That API token is not valid or was revoked."
    assert response.headers["www-authenticate"] == "Bearer"


def test_missing_token_answer_says_how_to_authenticate(client: TestClient) -> None:
    assert client.get("/api/v1/decks").headers["www-authenticate"] == "Bearer"


def test_a_token_sent_with_another_scheme_is_refused(client: TestClient, presenter: Presenter) -> None:
    problem(client.get("/api/v1/decks", headers={"Authorization": f"Basic {presenter.token}"}), 401)
    problem(client.get("/api/v1/decks", headers={"Authorization": presenter.token}), 401)


def test_a_revoked_token_is_refused(client: TestClient, presenter: Presenter) -> None:
    async def revoke() -> None:
        async with services_of(client).db() as db, db.begin():
            for row in (await db.exec(select(ApiToken))).all():
                row.revoked_at = utcnow()
                db.add(row)

    assert client.get("/api/v1/decks", headers=presenter.headers).status_code == 200
    run(client, revoke)
    problem(client.get("/api/v1/decks", headers=presenter.headers), 401)


def test_using_a_token_records_when_it_was_last_used(client: TestClient, presenter: Presenter) -> None:
    [before] = stored(client, select(ApiToken))
    assert before.last_used_at is None
    client.get("/api/v1/decks", headers=presenter.headers)
    [after] = stored(client, select(ApiToken))
    assert after.last_used_at is not None


# --- errors and the OpenAPI description -----------------------------------------------------------------------------


def test_an_unknown_api_path_is_a_problem_even_for_a_browser(client: TestClient) -> None:
    problem(client.get("/api/v1/nothing-here", headers={"Accept": "text/html"}), 404)


def test_a_wrong_method_is_a_problem(client: TestClient) -> None:
    problem(client.delete("/api/v1/decks"), 405)


# the decks API (6), POST /api/v1/media, POST /api/v1/slides, PUT /api/v1/sessions/{id}/name; issue 17: every page
# action's twin (22: server/web/routing.py PAGE_TWINS), single sign-on's links (2: /api/v1/identities) and the
# webhooks API (6)
API_ROUTES = 68
"""Every route of the JSON API, across its routers: a new one must be added here and to docs/api.md."""


def test_openapi_lists_every_api_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    routes = {
        (method.lower(), route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/api/")
        for method in route.methods
    }
    assert len(routes) == API_ROUTES
    listed = {(method, path) for path, item in spec["paths"].items() for method in item if path.startswith("/api/")}
    assert listed == routes


def test_openapi_describes_the_yaml_body_and_problem_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    create = spec["paths"]["/api/v1/sessions"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json", "application/yaml"}
    assert "application/problem+json" in create["responses"]["422"]["content"]
    assert "application/problem+json" in spec["paths"]["/api/v1/responses"]["post"]["responses"]["409"]["content"]
