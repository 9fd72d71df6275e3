"""Every kind's answer, moderation and tally in the JSON API's description (server/routes/kinds.py): the published
/openapi.json names each kind's models, every example answer in it is POSTed for real and stored, a wrong answer is
refused with the kind's own message, and every tally the server serves is valid against the document's own schema
for its kind (validated as a client would, with a JSON Schema validator over /openapi.json)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from starlette.testclient import TestClient

from activities import registry
from server.routes.kinds import DOC_END, DOC_START, camel, kinds_markdown
from tests.factories import Presenter, caught_up, eventually, join, respond

EVERY_KIND = (Path(__file__).resolve().parents[3] / "examples/scripts/every-kind.yaml").read_text()
ANSWERING = [kind.name for kind in registry.all() if kind.takes_answers]
# A wrong answer for each kind's activity in the every-kind deck, and what the server says of it.
WRONG = {
    "poll": ({"choice": "7"}, "That option is not part of this poll."),
    "wordcloud": ({"word": [""]}, "Type at least one word."),
    "sort": ({"card-0": "0"}, "Place every card before sending: 1 is left: “Building trust across teams”."),
    "points": ({"item-0": "50", "item-1": "30"}, "Your points add up to 80; add 20 more to make 100."),
    "scale": ({"statement-0": "9"}, "Rate “Listening in stereo” from 1 to 5."),
    "ranking": ({"rank-0": "1", "rank-1": "1", "rank-2": "2"}, "Rank 1 is used twice."),
    "open": ({"text": " "}, "Write an answer before sending."),
    "resources": (
        {"title": "A talk", "type": "podcast"},
        "Choose the type of resource: tool, video, activity, reading, other.",
    ),
    "qa": ({"question": ""}, "Write a question before sending."),
    "grid": ({"item-0-x": "30", "item-0-y": "1"}, "Place “Principal” from 0 to 10 on both axes."),
    "number": ({"value": "61"}, "Give a number from 0 to 60."),
    "pin": ({"x": "140", "y": "3"}, "“Across” should be a number from 0 to 100, not 140."),
    "quiz": ({"choice": "9"}, "That option is not part of this question."),
}
# The typed quiz question says what is missing rather than what is wrong with a pick.
WRONG_BY_TITLE = {"How many standards are there?": "Type your answer first."}


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


def schema_of(document: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(document["components"]["schemas"][name])


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A JSON Schema validator of `schema` whose references resolve in the document."""
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def test_every_kind_is_in_the_answer_union_of_a_response(document: dict[str, Any]) -> None:
    answer = schema_of(document, "ResponseCreate")["properties"]["answer"]
    refs = {choice.get("$ref") for choice in answer["anyOf"]}
    assert refs == {f"#/components/schemas/{camel(name)}Answer" for name in ANSWERING}
    assert "SlideAnswer" not in document["components"]["schemas"]  # a slide takes no answers
    for name in ANSWERING:
        assert schema_of(document, f"{camel(name)}Answer")["examples"], name


def test_every_kind_with_moderation_is_in_the_control_fields(document: dict[str, Any]) -> None:
    fields = schema_of(document, "ControlRequest")["properties"]["fields"]
    refs = {choice.get("$ref") for choice in fields["anyOf"]} - {None}
    moderated = [kind for kind in registry.all() if kind.moderation_actions]
    assert refs == {f"#/components/schemas/{camel(kind.name)}Moderation" for kind in moderated}
    assert {kind.name for kind in moderated} >= {"open", "resources", "qa", "wordcloud"}
    verbs = schema_of(document, "QaModeration")["properties"]["verb"]["enum"]
    assert set(verbs) == {"approve", "hide", "show", "answer", "reopen", "highlight", "unhighlight"}
    assert set(schema_of(document, "OpenModeration")["required"]) == {"verb", "answer"}


def test_a_tally_is_one_schema_per_kind_discriminated_by_kind(document: dict[str, Any]) -> None:
    operation = document["paths"]["/api/v1/sessions/{session_id}/activities/{activity_id}/tally"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["discriminator"]["propertyName"] == "kind"
    assert schema["discriminator"]["mapping"] == {
        kind.name: f"#/components/schemas/{camel(kind.name)}Tally" for kind in registry.all()
    }
    poll = schema_of(document, "PollTally")
    assert poll["properties"]["kind"]["const"] == "poll"
    assert poll["properties"]["results"]["$ref"] == "#/components/schemas/PollResults"


def test_every_example_answer_is_accepted_and_every_tally_is_as_the_document_says(
    client: TestClient, presenter: Presenter, document: dict[str, Any]
) -> None:
    session = presenter.start(EVERY_KIND)
    tally_schema = document["paths"]["/api/v1/sessions/{session_id}/activities/{activity_id}/tally"]["get"]
    tally_valid = validator(document, tally_schema["responses"]["200"]["content"]["application/json"]["schema"])
    answer_valid = validator(document, schema_of(document, "ResponseCreate"))
    for activity in session["activities"]:
        presenter.control(session["id"], "goto", activity["id"])
        caught_up(client, session["id"])
        kind = activity["kind"]
        stored = 0
        if kind in ANSWERING:
            for example in schema_of(document, f"{camel(kind)}Answer")["examples"]:
                body = {"activity_id": activity["id"], "answer": example}
                assert answer_valid.is_valid(body)
                token = join(client, session["code"])
                response = respond(client, token, activity["id"], **example)
                # A quiz's examples are a pick and a typed answer: each fits one of the deck's two questions.
                if kind == "quiz" and response.status_code == 422:
                    continue
                assert response.status_code == 201, (kind, example, response.text)
                stored += 1
            assert stored, kind
            answer, message = WRONG[kind]
            refused = respond(client, join(client, session["code"]), activity["id"], **answer)
            assert refused.status_code == 422, refused.text
            assert refused.json()["detail"] == WRONG_BY_TITLE.get(activity["title"], message)
        tally = eventually(partial(_counted, presenter, session["id"], activity["id"], stored))
        assert tally["kind"] == kind
        assert tally_valid.is_valid(tally), list(tally_valid.iter_errors(tally))[:3]
        assert registry[kind].results_model is not None
        registry[kind].results_model.model_validate(tally["results"])


def _counted(presenter: Presenter, session_id: int, activity_id: int, respondents: int) -> dict[str, Any]:
    tally = presenter.tally(session_id, activity_id)
    assert tally["respondents"] == respondents
    return tally


def test_the_document_refuses_a_tally_of_the_wrong_kinds_shape(document: dict[str, Any]) -> None:
    tally_schema = document["paths"]["/api/v1/sessions/{session_id}/activities/{activity_id}/tally"]["get"]
    valid = validator(document, tally_schema["responses"]["200"]["content"]["application/json"]["schema"])
    poll = {"activity_id": 1, "kind": "poll", "respondents": 0, "results": {"respondents": 0, "options": []}}
    assert valid.is_valid(poll)
    assert not valid.is_valid({**poll, "kind": "wordcloud"})
    assert not valid.is_valid({**poll, "results": {"respondents": 0, "options": [{"label": "x"}]}})


def test_the_docs_print_every_kinds_models_as_they_are() -> None:
    """docs/api.md's section on every kind is generated from the kinds' models (server/routes/kinds.py): regenerate
    it with `python -m server.routes.kinds docs/api.md` when a kind's model changes."""
    doc = (Path(__file__).resolve().parents[3] / "docs/api.md").read_text()
    start, end = doc.index(DOC_START), doc.index(DOC_END) + len(DOC_END)
    assert doc[start:end] == kinds_markdown(registry)
    for name in ANSWERING:
        assert f"#### `{name}`" in doc[start:end]
