"""The unions of the OpenAPI description (server/web/openapi.py), and a kind that declares no models: it is still
described (generic form fields, an object of results), so a plug-in that predates the models is not left out."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from activities import Registry, registry
from activities.poll import Poll
from server.routes import participant, presenter
from server.routes.kinds import camel, describe_kinds
from server.web.openapi import FieldUnion, ResponseUnion, apply


class Bare(Poll):
    """A kind that declares none of the API models (as a plug-in written before them)."""

    name = "bare-poll"
    answer_model = None
    results_model = None


def app_with(kinds: Registry) -> dict[str, Any]:
    app = FastAPI()
    app.include_router(presenter.api_router)
    app.include_router(participant.api_router)
    describe_kinds(app, kinds)
    return app.openapi()


def test_a_kind_without_models_is_described_by_the_generic_fields_and_an_object() -> None:
    kinds = Registry()
    kinds.register(registry["poll"])
    kinds.register(Bare())
    document = app_with(kinds)
    schemas = document["components"]["schemas"]
    answer = schemas["ResponseCreate"]["properties"]["answer"]["anyOf"]
    assert answer[0] == {"$ref": "#/components/schemas/PollAnswer"}
    assert answer[1]["type"] == "object" and "additionalProperties" in answer[1]  # what the API always took
    assert schemas["BarePollTally"]["properties"]["results"] == {"$ref": "#/components/schemas/BarePollResults"}
    assert schemas["BarePollResults"]["additionalProperties"] is True
    assert camel("bare-poll") == "BarePoll" and camel("wordcloud") == "Wordcloud"


def test_every_kind_declaring_an_answer_leaves_no_generic_choice() -> None:
    schemas = app_with(registry)["components"]["schemas"]
    assert all("$ref" in choice for choice in schemas["ResponseCreate"]["properties"]["answer"]["anyOf"])


class One(BaseModel):
    a: int


class Two(BaseModel):
    b: str


def document() -> dict[str, Any]:
    return {
        "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {}}}}}}}},
        "components": {
            "schemas": {
                "Body": {"properties": {"field": {"type": "object", "description": "d"}}},
                "Out": {"properties": {"tag": {"type": "string"}, "value": {"type": "object"}}},
            }
        },
    }


def test_a_field_union_keeps_its_description_and_optionally_its_own_schema() -> None:
    doc = document()
    apply(doc, [FieldUnion("Body", "field", [One, Two], keep=True)], [])
    field = doc["components"]["schemas"]["Body"]["properties"]["field"]
    assert field == {
        "anyOf": [{"$ref": "#/components/schemas/One"}, {"$ref": "#/components/schemas/Two"}, {"type": "object"}],
        "description": "d",
    }


def test_a_response_union_is_one_named_copy_per_value_discriminated_by_its_tag() -> None:
    doc = document()
    union = ResponseUnion(
        "/x", "get", "Out", "tag", "value", {"one": One, "two": Two}, {"one": "OutOne", "two": "OutTwo"}
    )
    apply(doc, [], [union])
    schemas = doc["components"]["schemas"]
    assert schemas["OutOne"]["properties"]["tag"]["const"] == "one"
    assert schemas["OutTwo"]["properties"]["value"] == {"$ref": "#/components/schemas/Two"}
    served = doc["paths"]["/x"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert served["discriminator"] == {
        "propertyName": "tag",
        "mapping": {"one": "#/components/schemas/OutOne", "two": "#/components/schemas/OutTwo"},
    }


def test_two_different_schemas_of_one_name_are_refused() -> None:
    doc = document()
    doc["components"]["schemas"]["One"] = {"type": "string"}
    with pytest.raises(ValueError, match="Two schemas are both named 'One'"):
        apply(doc, [FieldUnion("Body", "field", [One])], [])
