"""Unions in the OpenAPI description: a request field or a response whose shape depends on a value (an answer's
fields, a tally's results) described as one named schema per value, joined into one union.

FastAPI describes each route from its Python types; a body whose shape the route takes as a plain mapping (and hands
on to code that knows the value) is described here instead, from the models that code declares. The description is
built once, at the first request of /openapi.json, from the models given at start: what serves the route is
unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class FieldUnion:
    """A field of a request body's schema (`component`.`field`) described as any of `models`; with `keep`, its own
    schema stays one more choice (what the field takes besides)."""

    component: str
    field: str
    models: Sequence[type[BaseModel]]
    keep: bool = False


@dataclass(frozen=True)
class ResponseUnion:
    """A route's response (`path`, `method`, `status`), whose schema is `component`, described per value of its
    property `tag`: for each value, a copy of `component` named `names[value]`, with `tag` that value and `field`
    of the value's model. The response is then one of them, discriminated by `tag`."""

    path: str
    method: str
    component: str
    tag: str
    field: str
    models: Mapping[str, type[BaseModel]]
    names: Mapping[str, str]
    status: str = "200"


def describe_unions(app: FastAPI, fields: Sequence[FieldUnion], responses: Sequence[ResponseUnion]) -> None:
    """Make the app's OpenAPI description carry these unions."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            apply(build(), fields, responses)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def apply(schema: dict[str, Any], fields: Sequence[FieldUnion], responses: Sequence[ResponseUnion]) -> None:
    """Add the unions to an OpenAPI description, in place."""
    components: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    models = [model for union in fields for model in union.models]
    models += [model for union in responses for model in union.models.values()]
    refs = _add_models(components, models)
    for field_union in fields:
        properties = components[field_union.component]["properties"]
        own = properties[field_union.field]
        choices = [refs[model] for model in field_union.models]
        if field_union.keep:
            choices.append({key: value for key, value in own.items() if key not in ("title", "description")})
        properties[field_union.field] = {
            "anyOf": choices,
            **{key: own[key] for key in ("title", "description") if key in own},
        }
    for response in responses:
        _describe_response(schema, components, response, refs)


def _add_models(components: dict[str, Any], models: Sequence[type[BaseModel]]) -> dict[type[BaseModel], dict[str, str]]:
    """Each model's schema (and those it refers to) among the components; its reference, by model."""
    unique = list(dict.fromkeys(models))
    keys, top = models_json_schema([(model, "validation") for model in unique], ref_template=REF)
    for name, definition in top.get("$defs", {}).items():
        if name in components and components[name] != definition:
            raise ValueError(f"Two schemas are both named {name!r} in the OpenAPI description")
        components[name] = definition
    return {model: dict(keys[(model, "validation")]) for model in unique}


def _describe_response(
    schema: dict[str, Any],
    components: dict[str, Any],
    response: ResponseUnion,
    refs: Mapping[type[BaseModel], dict[str, str]],
) -> None:
    base = components[response.component]
    mapping: dict[str, str] = {}
    for value, model in response.models.items():
        name = response.names[value]
        variant = copy.deepcopy(base)
        variant["title"] = name
        own = variant["properties"]
        own[response.tag] = {"type": "string", "const": value, "title": own[response.tag].get("title", "")}
        described = own[response.field].get("description")
        own[response.field] = {**refs[model], **({"description": described} if described else {})}
        if name in components and components[name] != variant:
            raise ValueError(f"Two schemas are both named {name!r} in the OpenAPI description")
        components[name] = variant
        mapping[value] = REF.format(model=name)
    content = schema["paths"][response.path][response.method]["responses"][response.status]["content"]
    content["application/json"]["schema"] = {
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": response.tag, "mapping": mapping},
    }
