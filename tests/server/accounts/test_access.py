"""Who may use what: every route of the app, taken from the router itself, tried as every role.

Each route declares its `Access` (server/accounts/access.py). This file checks the declaration exists and holds: a
person the route is not for gets a refusal (sign-in page, 401, 403, or 404 for someone else's thing), a person it is for
gets past the door (whatever the empty request then earns: 200, 303, 422...). A new route without a declaration,
or with a path parameter this file has no value for, fails here until someone says who it is for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.accounts.access import Access, route_access
from server.accounts.people import create_token
from server.app import create_app
from server.config import Settings
from server.decks import parse_deck
from server.media import store_image
from server.models import Role
from server.routes.participant import COOKIE
from server.sessions import create_session
from server.web.routing import Served, app_routes
from tests.factories import (
    SECRET,
    TWO_QUESTIONS,
    api_token,
    csrf_from,
    event_stream,
    link_request,
    login,
    make_user,
    run,
    services_of,
)
from tests.images import picture

PERSONAS = (
    "anonymous",
    "participant",
    "presenter",
    "co-facilitator",
    "other presenter",
    "organizer",
    "other organizer",
    "admin",
)
ACCOUNTS = {
    "presenter": Role.presenter,
    "co-facilitator": Role.presenter,
    "other presenter": Role.presenter,
    "organizer": Role.organizer,
    "other organizer": Role.organizer,
    "admin": Role.admin,
}
# Routes the framework adds: the API description and the static files are for everyone.
FRAMEWORK = {"/openapi.json": Access.anyone, "/static": Access.anyone, "/static/kinds": Access.anyone}


@dataclass
class Persona:
    name: str
    session_cookie: str = ""
    csrf: str = ""
    token: str | None = None  # an API token (accounts) or a participant token (the participant)
    participant_cookie: str | None = None


@dataclass
class World:
    client: TestClient
    personas: dict[str, Persona]
    values: dict[str, str]
    # Values that are each persona's own: their spare API token (revoking it changes nothing else).
    own: dict[str, dict[str, str]] = field(default_factory=dict)


def _email(name: str) -> str:
    return name.replace(" ", "-") + "@example.org"


def _sign_in(client: TestClient, persona: Persona) -> None:
    """A browser of this persona: its session cookie (signed in for accounts) and the CSRF token of that session."""
    client.cookies.clear()
    if persona.name in ACCOUNTS:
        login(client, _email(persona.name))
    persona.csrf = csrf_from(client.get("/present" if persona.name in ACCOUNTS else "/login").text)
    persona.session_cookie = client.cookies["handsup_session"]
    client.cookies.clear()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = Settings(
        env="test",
        data_dir=tmp_path_factory.mktemp("access"),
        secret_key=SECRET,
        commit_interval_ms=5,
        push_interval_ms=20,
    )
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        personas = {name: Persona(name) for name in PERSONAS}
        user_ids: dict[str, int] = {}
        for name, role in ACCOUNTS.items():
            user = make_user(client, _email(name), role)
            assert user.id is not None
            user_ids[name] = user.id
            personas[name].token = api_token(client, _email(name))
        bystander = make_user(client, "bystander@example.org")
        assert bystander.id is not None

        def as_(name: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {personas[name].token}"}

        institute = client.post("/api/v1/institutes", json={"title": "Spring Institute"}, headers=as_("organizer"))
        assert institute.status_code == 201, institute.text
        institute_id = institute.json()["id"]
        cohort = client.post(
            f"/api/v1/institutes/{institute_id}/cohorts", json={"name": "Phoenix"}, headers=as_("organizer")
        )
        assert cohort.status_code == 201, cohort.text
        cohort_id = cohort.json()["id"]
        services = services_of(client)
        spec = parse_deck(TWO_QUESTIONS, services.registry)
        session = run(
            client,
            lambda: create_session(services.db, spec, presenter_id=user_ids["presenter"], cohort_id=cohort_id),
        )
        added = client.post(
            f"/api/v1/sessions/{session.id}/facilitators",
            json={"email": _email("co-facilitator")},
            headers=as_("presenter"),
        )
        assert added.status_code == 201, added.text
        cloud = added.json()["activities"][1]
        assert cloud["kind"] == "wordcloud"

        joined = client.post("/api/v1/join", json={"code": session.code})
        assert joined.status_code == 201, joined.text
        participant = personas["participant"]
        participant.token = participant.participant_cookie = joined.json()["participant_token"]
        client.cookies.clear()

        matched = client.get(f"/api/v1/institutes/{institute_id}/compare", headers=as_("organizer")).json()
        key = next(item["key"] for item in matched if item["kind"] == "wordcloud")
        compared = client.get(f"/api/v1/institutes/{institute_id}/compare/{key}", headers=as_("organizer")).json()

        own: dict[str, dict[str, str]] = {}
        for name in ACCOUNTS:
            run(client, lambda name=name: create_token(services.db, _email(name), "spare"))
            listed = client.get("/api/v1/tokens", headers=as_(name)).json()
            own[name] = {"token_id": str(next(token["id"] for token in listed if token["name"] == "spare"))}
            # A deck of their own: the deck routes act on it (each account may; a stranger's is not found).
            deck = client.post("/api/v1/decks", json={"title": f"{name}'s deck"}, headers=as_(name))
            assert deck.status_code == 201, deck.text
            own[name]["deck_id"] = str(deck.json()["id"])
            own[name]["webhook_id"] = _new_webhook(client, personas[name].token)
        own["anonymous"] = own["participant"] = own["admin"]
        for persona in personas.values():
            _sign_in(client, persona)
        values = {
            "session_id": str(session.id),
            "activity_id": str(cloud["id"]),
            "asset": "cloud.svg",
            "extension": "csv",
            "code": session.code,
            "secret": session.projector_secret,
            "institute_id": str(institute_id),
            "cohort_id": str(cohort_id),
            "key": key,
            "kind": "resources",  # the kind whose pool the pool routes show
            "column": compared["columns"][0]["key"],
            "token": "not-a-setup-link",
            "text": "nothing-here",  # an address that is no join code: the 404 page that says how to join
            # Someone who is nobody's co-facilitator: the routes that name a person change nothing with it.
            "user_id": str(bystander.id),
            # The bystander's sign-in at a provider, asking to be linked (linked, then unlinked, by the admin).
            "identity_id": str(link_request(client, bystander.id or 0, "bystander@example.org", "b-1")),
            # A stored image: anyone may load it (phones and projectors show it).
            "name": run(client, lambda: store_image(services, picture(), user_id=None)).name,
        }
        yield World(client, personas, values, own)


def _new_webhook(client: TestClient, token: str | None) -> str:
    """A webhook of the token's account (to a host that never resolves: nothing is ever delivered), by its id."""
    body = {"url": "https://webhooks.invalid/hook", "events": ["archive.ready"]}
    created = client.post("/api/v1/webhooks", json=body, headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _routes() -> list[Served]:
    app = create_app(Settings(env="test", secret_key=SECRET))
    return sorted(app_routes(app), key=lambda served: (served.path, sorted(served.methods)))


ROUTES = _routes()


def _access(served: Served) -> Access:
    if served.path in FRAMEWORK:
        return FRAMEWORK[served.path]
    dependant = getattr(served.route, "dependant", None)
    declared = route_access(dependant) if dependant is not None else set()
    assert len(declared) == 1, (
        f"{served.path} must declare exactly one Access (server/accounts/access.py); it has {declared}"
    )
    return declared.pop()


def _case_id(case: tuple[Served, str]) -> str:
    served, method = case
    return f"{method} {served.path}"


CASES = [(served, method) for served in ROUTES for method in sorted(served.methods - {"HEAD"})]


def test_every_route_declares_who_may_use_it() -> None:
    undeclared = []
    for served in ROUTES:
        try:
            _access(served)
        except AssertionError as error:
            undeclared.append(str(error))
    assert not undeclared, "\n".join(undeclared)


def test_the_matrix_covers_every_route_the_app_serves() -> None:
    assert len(CASES) >= 70
    assert {case[1] for case in CASES} >= {"GET", "POST", "WEBSOCKET"}


def _expected(access: Access, persona: str, served: Served) -> bool:
    """Whether the persona may pass the route's door."""
    api = served.path.startswith("/api/")
    if access is Access.anyone or access is Access.projector:
        return True
    if access is Access.participant:
        if served.path == "/api/v1/join" or (not api and "WEBSOCKET" not in served.methods and not _streams(served)):
            return True  # whoever has the join code may join and answer: that is how a phone takes part
        return persona == "participant"
    if access is Access.signed_in:
        return persona in ACCOUNTS
    if access is Access.session:
        return persona in {"presenter", "co-facilitator", "admin"}
    if access is Access.session_owner:
        return persona in {"presenter", "admin"}
    if access is Access.metrics:
        return False  # the scraper's token or this machine's loopback: no persona holds either (a test client)
    if access is Access.organizer:
        names_something = any(f"{{{name}}}" in served.path for name in ("institute_id", "cohort_id", "session_id"))
        return persona in {"organizer", "admin"} or (persona == "other organizer" and not names_something)
    return persona == "admin"


def _path(served: Served, values: dict[str, str]) -> str:
    """The route's path with a real value for each parameter, and its required query parameters."""
    dependant = getattr(served.route, "dependant", None)
    query = [p.name for p in dependant.query_params if p.field_info.is_required()] if dependant is not None else []
    names = re.findall(r"{(\w+)}", served.path) + query
    missing = [name for name in names if name not in values]
    assert not missing, f"tests/server/accounts/test_access.py needs a value for {missing} (route {served.path})"
    path = re.sub(r"{(\w+)}", lambda match: values[match.group(1)], served.path)
    return path + ("?" + "&".join(f"{name}={values[name]}" for name in query) if query else "")


def _body(served: Served, world: World, method: str) -> dict[str, Any] | None:
    """A well-formed body where the route reads who is asking only after the body is valid (participant routes)."""
    if served.path == "/api/v1/responses":
        return {"activity_id": int(world.values["activity_id"]), "answer": {}}
    if served.path.endswith("/reactions"):
        return {"reaction": "like"}
    if served.path == "/api/v1/sessions/{session_id}/name":
        return {"nickname": "Ana", "team": ""}
    if served.path == "/api/v1/webhooks":
        return {"url": "https://webhooks.invalid/hook", "events": ["session.ended"]}
    return HARMLESS_BODIES.get((method, served.path))


# Well-formed bodies for the routes of every page action's twin, each changing nothing that matters to the walk (a
# wrong confirmation, a deck the cohort does not have, a bystander's role as it is), so the walk tests the door.
HARMLESS_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("DELETE", "/api/v1/cohorts/{cohort_id}"): {"confirm": "not the cohort's name"},
    ("PATCH", "/api/v1/cohorts/{cohort_id}"): {"site": "Phoenix, AZ"},
    ("PATCH", "/api/v1/decks/{deck_id}"): {"title": "A deck renamed by the walk"},
    ("POST", "/api/v1/cohorts/{cohort_id}/prune"): {"confirm": "not the cohort's name"},
    ("POST", "/api/v1/cohorts/{cohort_id}/sessions"): {"deck_id": 1},
    ("PUT", "/api/v1/decks/{deck_id}/shares"): {"email": "bystander@example.org", "access": "view"},
    ("POST", "/api/v1/decks/preview"): {"document": {"title": "Preview", "activities": []}, "index": 0},
    ("PUT", "/api/v1/account/password"): {
        "current_password": "not the password",
        "new_password": "a new long password",
    },
    ("POST", "/api/v1/tokens"): {"name": "from the access walk"},
    ("POST", "/api/v1/people"): {"email": "not an address", "role": "presenter"},
    ("PATCH", "/api/v1/people/{user_id}"): {"role": "presenter"},
    ("POST", "/api/v1/sessions/{session_id}/activities/{activity_id}/moderation"): {"verb": "hide", "word": "walk"},
}


def _headers(world: World, persona: Persona, served: Served) -> dict[str, str]:
    cookies = [f"handsup_session={persona.session_cookie}"]
    if persona.participant_cookie:
        cookies.append(f"{COOKIE}={persona.participant_cookie}")
    headers = {"Cookie": "; ".join(cookies), "X-CSRF-Token": persona.csrf}
    if served.path.startswith("/api/"):
        # Everyone but the participant shows a well-formed participant token this session never saw.
        headers["X-Participant-Token"] = "x" * 43
        if persona.name == "participant" and persona.token:
            headers["X-Participant-Token"] = persona.token
        elif persona.token:
            headers["Authorization"] = f"Bearer {persona.token}"
    return headers


def _refused(response: Any) -> str | None:
    """How a response turned the caller away, or None when it let them through."""
    if response.status_code == 303 and response.headers["location"].startswith("/login"):
        return "sent to sign in"
    if response.status_code in (401, 403, 404):
        assert "expired" not in response.text, "the CSRF token was sent: a refusal must be about who is asking"
        return str(response.status_code)
    return None


def _streams(served: Served) -> bool:
    """An event stream: the socket's twin (server/live/sse.py), with the socket's door, and a body that never ends."""
    return served.path.endswith("/events")


def _stream(world: World, persona: Persona, served: Served, path: str) -> str | None:
    world.client.cookies.clear()
    with event_stream(world.client, path, _headers(world, persona, served)) as stream:
        return None if stream.status == 200 else str(stream.status)


def _socket(world: World, persona: Persona, served: Served, path: str) -> str | None:
    client = world.client
    client.cookies.clear()
    try:
        with client.websocket_connect(path, headers=_headers(world, persona, served)) as socket:
            socket.receive_text()
    except WebSocketDisconnect as closed:
        return f"closed {closed.code}"
    return None


@pytest.mark.parametrize("persona_name", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[_case_id(case) for case in CASES])
def test_route_lets_in_exactly_whom_it_declares(world: World, case: tuple[Served, str], persona_name: str) -> None:
    served, method = case
    access = _access(served)
    persona = world.personas[persona_name]
    path = _path(served, {**world.values, **world.own[persona_name]})
    if method == "WEBSOCKET":
        refused = _socket(world, persona, served, path)
    elif _streams(served):
        refused = _stream(world, persona, served, path)
    else:
        world.client.cookies.clear()
        response = world.client.request(
            method,
            path,
            headers=_headers(world, persona, served),
            json=_body(served, world, method),
            follow_redirects=False,
        )
        refused = _refused(response)
        if "{deck_id}" in served.path and (method == "DELETE" or served.path.endswith("/delete")):
            _restore_deck(world, persona_name)  # so the routes after this one find the deck as it was
        unlinked = method == "DELETE" or served.path.endswith("/unlink")
        if "{identity_id}" in served.path and unlinked and refused is None:  # the routes after it find a request
            bystander = int(world.values["user_id"])
            world.values["identity_id"] = str(link_request(world.client, bystander, "bystander@example.org", "b-1"))
        deleted = method == "DELETE" or served.path.endswith("/delete")
        if "{webhook_id}" in served.path and deleted and refused is None:
            owner = persona_name if persona_name in ACCOUNTS else "admin"
            world.own[owner]["webhook_id"] = _new_webhook(world.client, world.personas[owner].token)
        if access is Access.anyone:
            # An open route has no door: it may still not find what it is asked for (a used setup link), or send
            # someone to the sign-in page as its answer (signing out), but it never asks who is calling.
            refused = None if response.status_code not in (401, 403) else refused
    allowed = _expected(access, persona_name, served)
    if allowed:
        assert refused is None, f"{persona_name} should pass {method} {served.path} ({access}) but was {refused}"
    else:
        assert refused is not None, f"{persona_name} got through {method} {served.path}, which is for {access}"


def _restore_deck(world: World, persona_name: str) -> None:
    owner = persona_name if persona_name in ACCOUNTS else "admin"
    deck_id = world.own[owner]["deck_id"]
    token = world.personas[owner].token
    restored = world.client.post(f"/api/v1/decks/{deck_id}/restore", headers={"Authorization": f"Bearer {token}"})
    assert restored.status_code == 200, restored.text


def test_a_wrong_projector_secret_opens_nothing(world: World) -> None:
    for served in ROUTES:
        if _access(served) is not Access.projector:
            continue
        path = _path(served, {**world.values, "secret": "x" * 32})
        if "WEBSOCKET" in served.methods:
            assert _socket(world, world.personas["admin"], served, path) is not None
        else:
            assert world.client.get(path).status_code == 404


def test_the_declared_access_of_some_routes_reads_as_the_product_promises() -> None:
    declared = {(served.path, method): _access(served) for served, method in CASES}
    assert declared["/present/{session_id}", "GET"] is Access.session
    assert declared["/ws/presenter/{session_id}", "WEBSOCKET"] is Access.session
    assert declared["/organize/cohorts/{cohort_id}/delete", "POST"] is Access.organizer
    assert declared["/{code}/respond", "POST"] is Access.participant
    assert declared["/api/v1/responses", "POST"] is Access.participant
    assert declared["/projector/{secret}", "GET"] is Access.projector
    assert declared["/login", "POST"] is Access.anyone
    assert declared["/metrics", "GET"] is Access.metrics
    # Every page action's API twin has its page's door (tests/server/routes/test_api_twins.py checks them all).
    assert declared["/api/v1/cohorts/{cohort_id}", "DELETE"] is Access.organizer
    assert declared["/api/v1/cohorts/{cohort_id}/prune", "POST"] is Access.organizer
    assert declared["/api/v1/people/{user_id}", "PATCH"] is Access.admin
    assert declared["/api/v1/sessions/{session_id}/activities/{activity_id}/moderation", "POST"] is Access.session
    assert declared["/api/v1/tokens", "POST"] is Access.signed_in
