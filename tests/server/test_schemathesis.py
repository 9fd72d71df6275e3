"""Fuzzing the JSON API with schemathesis: every /api/v1 operation of /openapi.json gets a bounded number of generated
requests, valid and not, against a real app on a real SQLite file; no answer may be a server error or stray from what
the document promises (status codes, content types, headers, bodies), and a request the document calls malformed must
be refused.

The data is seeded once per run, through the API as a script would, and each operation then runs on its own server
over a fresh copy of it: what one operation's requests did (ending the session, revoking a token) never changes what
another's meet, so a run does not depend on the order of the operations. Generated ids, codes, tokens and answers are
swapped for real ones three times in four, so requests reach real objects rather than only 404s. Requests are sent
as the organizer, who may use every route. Generation is derandomized: the same code gives the same requests.

HANDSUP_FUZZ_EXAMPLES sets the number of examples per operation (docs/security/fuzzing.md).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case
from sqlmodel import select
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.models import Institute, Role, Session
from tests.factories import SECRET, api_token, join, make_user, respond, stored

FUZZ_EXAMPLES = int(os.environ.get("HANDSUP_FUZZ_EXAMPLES", "25"))
# What must hold of every answer: no 5xx; a documented status, content type and headers; a body of the documented
# shape; and a request that breaks the document (a wrong type, a missing field, too long) is refused with a 4xx.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.negative_data_rejection,
]
# The form fields each kind reads from an answer (its submission_from_form), so that generated answers get past
# "pick an option first" into the kinds' own checks.
KIND_FIELDS = {
    "poll": ["choice"],
    "wordcloud": ["word"],
    "open": ["text"],
    "qa": ["question", "name", "upvote", "withdraw"],
    "resources": ["type", "title", "link", "note", "upvote"],
    "sort": ["card-0", "card-1", "card-2"],
    "scale": ["statement-0", "statement-1", "statement-2"],
    "points": ["item-0", "item-1", "item-2"],
    "ranking": ["rank-0", "rank-1", "rank-2"],
    "number": ["value"],
    "pin": ["x", "y"],
    "grid": ["item-0-x", "item-0-y", "item-1-skip"],
    "quiz": ["choice", "answer"],
    "slide": ["text"],  # a content slide takes no answers: whatever is sent to it is refused as documented
}


def openapi_document() -> dict[str, Any]:
    """/openapi.json as the server serves it (serving the document needs no database: the app is not started)."""
    app = create_app(Settings(env="test", secret_key=SECRET))
    document: dict[str, Any] = TestClient(app).get("/openapi.json").json()
    return document


# Unknown query parameters and headers are ignored, as HTTP APIs do (a proxy's or a client's own must not break a
# request), so requests that add some are not generated as ones to refuse.
CONFIG = schemathesis.Config.from_dict({"generation": {"allow-extra-parameters": False}})
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG).include(path_regex="^/api/v1/")

# What a request's Authorization header says until it is sent: the organizer's (the token is the run's own).
AS_ORGANIZER = "Bearer <the organizer's token>"
# Real values to point generated requests at, by parameter or body field name, for the operation under test: filled
# by `world`. Module-level because the schema's hooks, which draw from it, are registered when the module loads.
KNOWN: dict[str, st.SearchStrategy[Any]] = {}


def fuzz_settings(data_dir: Path) -> Settings:
    return Settings(env="test", data_dir=data_dir, secret_key=SECRET, commit_interval_ms=5, push_interval_ms=20)


@dataclass(frozen=True)
class Seeded:
    """A data folder whose database holds real objects of every sort the API names; their ids, codes and tokens."""

    data_dir: Path
    organizer_token: str
    known: dict[str, list[Any]]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """A presenter and an organizer with their API tokens; the organizer's institute with a cohort; a live session of
    the example deck (every kind) for the cohort, run by the organizer at the audience's pace, with two participants
    who answered its word cloud; a session of the presenter's own; and the cohort's archive."""
    data_dir = tmp_path_factory.mktemp("fuzz-seed")
    with TestClient(create_app(fuzz_settings(data_dir))) as client:
        presenter = make_user(client, "presenter@example.org", Role.presenter)
        organizer = make_user(client, "organizer@example.org", Role.organizer)
        organizer_token = api_token(client, organizer.email)
        as_organizer = {"Authorization": f"Bearer {organizer_token}"}

        def post(path: str, body: dict[str, Any], headers: dict[str, str] = as_organizer) -> dict[str, Any]:
            response = client.post(path, json=body, headers=headers)
            assert response.status_code in {200, 201}, response.text
            return dict(response.json())

        decks = [
            d for d in client.get("/api/v1/decks", headers=as_organizer).json() if d["slug"] == "distributed-leadership"
        ]
        institute = post("/api/v1/institutes", {"title": "Spring Institute"})
        cohorts = f"/api/v1/institutes/{institute['id']}/cohorts"
        cohort = post(cohorts, {"name": "Phoenix", "deck_ids": [decks[0]["id"]]})
        session = post("/api/v1/sessions", {"deck_id": decks[0]["id"], "cohort_id": cohort["id"]})
        others = post(
            "/api/v1/sessions",
            {"deck_slug": decks[0]["slug"]},
            {"Authorization": f"Bearer {api_token(client, presenter.email)}"},
        )
        control = f"/api/v1/sessions/{session['id']}/control"
        first = session["activities"][0]
        post(control, {"action": "goto", "activity_id": first["id"]})
        tokens = [join(client, session["code"]) for _ in range(2)]
        for token, word in zip(tokens, ("trust", "listening"), strict=True):
            assert respond(client, token, first["id"], word=[word]).status_code == 201
        post(control, {"action": "pace", "fields": {"pace": "audience"}})
        compared = client.get(f"/api/v1/institutes/{institute['id']}/compare", headers=as_organizer).json()
        archive = client.get(f"/api/v1/cohorts/{cohort['id']}/archive.zip", headers=as_organizer)
        assert archive.status_code == 200, archive.text
        # A webhook of the organizer's, to a host that never resolves: the webhook routes reach a real one.
        webhook = post("/api/v1/webhooks", {"url": "https://webhooks.invalid/in", "events": ["archive.ready"]})
    known = {
        "session_id": [session["id"], others["id"]],
        "activity_id": [activity["id"] for activity in session["activities"]],
        "activity": [(activity["id"], activity["kind"]) for activity in session["activities"]],
        "institute_id": [institute["id"]],
        "cohort_id": [cohort["id"]],
        "deck_id": [deck["id"] for deck in decks],
        "deck_ids": [[deck["id"] for deck in decks]],
        "deck_slug": [deck["slug"] for deck in decks],
        "code": [session["code"]],
        "key": [item["key"] for item in compared],
        "column": ["all", f"c{cohort['id']}"],
        "asset": ["cloud.png", "cloud.svg"],
        "extension": ["csv", "md", "html"],
        "x-participant-token": tokens,
        "email": [presenter.email],
        "user_id": [presenter.id],
        "archive": [archive.content],
        "webhook_id": [webhook["id"]],
    }
    return Seeded(data_dir, organizer_token, known)


@dataclass(frozen=True)
class World:
    """A running server on a copy of the seeded data, the token requests are sent with, and the statuses they got."""

    client: TestClient
    organizer_token: str
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def world(seeded: Seeded, tmp_path: Path) -> Iterator[World]:
    """A server of the operation's own, on a fresh copy of the seeded data folder. Afterwards: some request got past
    the token and the schema (else the run proved nothing of the route itself)."""
    data_dir = tmp_path / "data"
    shutil.copytree(seeded.data_dir, data_dir)
    with TestClient(create_app(fuzz_settings(data_dir))) as client:
        KNOWN.update({name: st.sampled_from(values) for name, values in seeded.known.items()})
        KNOWN["activity_answer"] = KNOWN["activity"].flatmap(lambda activity: answer_to(*activity))
        world = World(client, seeded.organizer_token)
        try:
            yield world
        finally:
            KNOWN.clear()
    reached = [status for status in world.statuses if status not in {401, 405, 422}]
    assert reached, f"no request reached the route: every answer was one of {sorted(set(world.statuses))}"


def answer_to(activity_id: int, kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """A body for POST /responses: an answer to the activity, of its kind's fields, with text, numbers and lists of
    them as values."""
    value = st.one_of(st.text(max_size=30), st.integers(min_value=-2, max_value=12), st.integers())
    answer = st.dictionaries(st.sampled_from(KIND_FIELDS[kind]), value | st.lists(value, max_size=4), max_size=4)
    return st.fixed_dictionaries({"activity_id": st.just(activity_id), "answer": answer})


def real_or(name: str, generated: Any) -> st.SearchStrategy[Any]:
    """A real value for the name three times in four, else the generated one."""
    real = KNOWN.get(name)
    if real is None:
        return st.just(generated)
    return st.integers(min_value=0, max_value=3).flatmap(lambda pick: real if pick else st.just(generated))


def aimed(generated: Any) -> st.SearchStrategy[Any]:
    """A generated container with the values of known names swapped for real ones (an answer, with its activity)."""
    if not isinstance(generated, Mapping):
        return st.just(generated)
    fields = st.fixed_dictionaries({name: real_or(name, value) for name, value in generated.items()})
    if {"activity_id", "answer"} <= generated.keys():
        return st.tuples(fields, real_or("activity_answer", {})).map(lambda both: {**both[0], **both[1]})
    return fields


def pointed(case: Case, path: Any, query: Any, headers: Any, body: Any) -> Case:
    """The case with the containers that changed replaced (assigning them has schemathesis check them again, so a
    request that became valid is no longer expected to be refused)."""
    for name, value in (("path_parameters", path), ("query", query), ("headers", headers), ("body", body)):
        if value != getattr(case, name):
            setattr(case, name, value)
    return case


@schema.hook
def flatmap_case(context: schemathesis.HookContext, case: Case) -> st.SearchStrategy[Case]:
    """Point generated ids, codes, tokens and answers at real objects, often enough to reach them."""
    parts = st.tuples(aimed(case.path_parameters), aimed(case.query), aimed(case.headers), aimed(case.body))
    return parts.map(lambda part: pointed(case, *part))


@schema.auth(refresh_interval=None)
class OrganizerToken:
    """Every request is the organizer's, except those generated without a token to see them refused."""

    def get(self, case: Case, context: schemathesis.AuthContext) -> str:
        return AS_ORGANIZER

    def set(self, case: Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers["Authorization"] = data


@st.composite
def zip_bodies(draw: st.DrawFn) -> bytes:
    """Bodies for POST /api/v1/archives: a real archive, one with members changed or left out, a ZIP of an archive's
    file names with arbitrary contents, or arbitrary bytes."""
    originals = KNOWN.get("archive")
    pick = draw(st.integers(min_value=0, max_value=3))
    if pick == 0:
        return draw(st.binary(max_size=400))
    if pick == 1 or originals is None:
        names = st.sampled_from(["manifest.json", "data.json", "summary.csv", "../escape.txt", "report.html"])
        return zipped(draw(st.dictionaries(names | st.text(min_size=1, max_size=20), st.binary(max_size=200))))
    with zipfile.ZipFile(io.BytesIO(draw(originals))) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if pick == 3:
        for name in draw(st.lists(st.sampled_from(sorted(members)), max_size=3, unique=True)):
            changed = draw(st.none() | st.binary(max_size=200))
            if changed is None:
                del members[name]
            else:
                members[name] = changed
    return zipped(members)


def zipped(members: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


schemathesis.openapi.media_type("application/zip", zip_bodies())


def send(client: TestClient, case: Case, token: str) -> httpx.Response:
    """The case as a request to the app in this process, with the bytes schemathesis would put on the wire."""
    request = case.as_transport_kwargs(base_url=str(client.base_url))
    headers = {name: str(value) for name, value in request["headers"].items()}
    if headers.get("Authorization") == AS_ORGANIZER:
        headers["Authorization"] = f"Bearer {token}"
    content: str | bytes | None = None
    if "json" in request:  # serialised as requests does it (its Content-Type header is among `headers` already)
        content = json.dumps(request["json"], allow_nan=False)
    elif isinstance(request.get("data"), str | bytes):
        content = request["data"]
    elif "files" in request:  # multipart (the image upload): encoded by httpx, then sent as bytes like the others
        files = [(name, _file_part(part)) for name, part in request["files"]]
        encoded = httpx.Request("POST", "http://multipart", files=files, data=request.get("data") or None)
        content = encoded.read()
        headers = {name: value for name, value in headers.items() if name.lower() != "content-type"}
        headers["Content-Type"] = encoded.headers["content-type"]
    elif "data" in request:
        raise AssertionError(f"a urlencoded form body, which no API route takes: {request}")
    latin1 = {name: value.encode("latin-1") for name, value in headers.items()}
    return client.request(request["method"], request["url"], params=request["params"], headers=latin1, content=content)


def _file_part(part: Any) -> tuple[str, bytes]:
    """A generated multipart part as bytes: negative cases put numbers, objects or text where the file goes."""
    filename, value = part if isinstance(part, tuple) else ("file", part)
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass")
    elif not isinstance(value, bytes):
        value = json.dumps(value).encode()
    return str(filename), value


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_operation_answers_as_documented(case: Case, world: World) -> None:
    response = send(world.client, case, world.organizer_token)
    world.statuses.append(response.status_code)
    case.validate_response(response, checks=CHECKS)


# --- what the fuzzing found, pinned down ------------------------------------------------------------------------

TOO_LARGE_ID = 2**63  # past SQLite's 64-bit integers (and PostgreSQL's 32-bit keys long before)


@pytest.fixture
def organizer(client: TestClient) -> dict[str, str]:
    user = make_user(client, "organizer@example.org", Role.organizer)
    return {"Authorization": f"Bearer {api_token(client, user.email)}"}


def not_valid(response: httpx.Response) -> str:
    """The detail of a 422 problem."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return str(response.json()["detail"])


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/v1/sessions/{TOO_LARGE_ID}", None),
        ("GET", f"/api/v1/institutes/{TOO_LARGE_ID}/compare", None),
        ("GET", f"/api/v1/cohorts/{-TOO_LARGE_ID}/archive.zip", None),
        ("GET", f"/api/v1/live?session_id={TOO_LARGE_ID}", None),
        ("POST", "/api/v1/sessions", {"deck_slug": "distributed-leadership", "cohort_id": TOO_LARGE_ID}),
        ("POST", "/api/v1/responses", {"activity_id": TOO_LARGE_ID, "answer": {}}),
    ],
)
def test_an_id_no_database_holds_is_not_valid_rather_than_a_server_error(
    client: TestClient, organizer: dict[str, str], method: str, path: str, body: dict[str, Any] | None
) -> None:
    headers = {**organizer, "X-Participant-Token": "x" * 43}
    detail = not_valid(client.request(method, path, json=body, headers=headers))
    assert "less than or equal to 2147483647" in detail or "greater than or equal to 1" in detail


@pytest.mark.parametrize(
    ("path", "body", "said"),
    [
        ("/api/v1/institutes", {"title": "Spring\x00Institute"}, "body.title: the control character U+0000"),
        (
            "/api/v1/institutes",
            {"title": "Spring", "description": "bell\x07"},
            "body.description: the control character U+0007",
        ),
        (
            "/api/v1/sessions",
            {"deck_slug": "distributed-leadership", "title": "Day\x1b[31m"},
            "title: the control character U+001B",
        ),
    ],
)
def test_text_with_a_control_character_is_refused_saying_which(
    client: TestClient, organizer: dict[str, str], path: str, body: dict[str, Any], said: str
) -> None:
    detail = not_valid(client.post(path, json=body, headers=organizer))
    assert detail == f"{said} cannot be stored or shown: remove it"
    assert stored(client, select(Institute)) == [] and stored(client, select(Session)) == []


def test_a_cohort_refuses_a_control_character_in_a_facilitator_and_keeps_tabs_and_accents(
    client: TestClient, organizer: dict[str, str]
) -> None:
    institute = client.post("/api/v1/institutes", json={"title": "Spring"}, headers=organizer).json()
    cohorts = f"/api/v1/institutes/{institute['id']}/cohorts"
    detail = not_valid(client.post(cohorts, json={"name": "Phoenix", "facilitators": ["Ana\x00"]}, headers=organizer))
    assert detail == "body.facilitators.0: the control character U+0000 cannot be stored or shown: remove it"
    created = client.post(cohorts, json={"name": "Phoenix\tÁrea", "facilitators": ["Zoë"]}, headers=organizer)
    assert created.status_code == 201, created.text
    assert created.json()["facilitators"] == ["Zoë"]


def test_a_body_that_is_not_json_gets_the_documented_400(client: TestClient, organizer: dict[str, str]) -> None:
    headers = {**organizer, "Content-Type": "application/json"}
    response = client.post("/api/v1/institutes", content=b"\xff{", headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    documented = client.get("/openapi.json").json()["paths"]["/api/v1/institutes"]["post"]["responses"]
    assert "application/problem+json" in documented["400"]["content"]
