"""Each activity kind's models in the JSON API's description, joined over the registry the app serves: an answer's
fields (`POST /api/v1/responses`, and a participant socket's frame), a presenter's moderation (the `moderate`
control's `fields`) and a tally (`GET /api/v1/sessions/{id}/activities/{id}/tally`, one schema per kind,
discriminated by `kind`). A kind declares them (activities/base.py `answer_model`, `moderation_model`,
`results_model`), so a new kind, a plug-in's included, documents itself; one that declares none is described by the
generic form fields and an object of results.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, create_model

from activities import Registry
from activities.base import ActivityKind
from server.routes.participant import ResponseCreate
from server.routes.presenter import ControlRequest, TallyPublic, read_tally
from server.routes.presenter import api_router as presenter_api
from server.web.openapi import FieldUnion, ResponseUnion, describe_unions


def describe_kinds(app: FastAPI, registry: Registry) -> None:
    """Describe every kind of `registry` in the app's OpenAPI description."""
    kinds = registry.all()
    answering = [kind for kind in kinds if kind.takes_answers]
    answers = [kind.answer_model for kind in answering if kind.answer_model is not None]
    moderations = [kind.moderation_model for kind in kinds if kind.moderation_model is not None]
    results = {kind.name: kind.results_model or _any_results(kind) for kind in kinds}
    describe_unions(
        app,
        [
            FieldUnion(ResponseCreate.__name__, "answer", answers, keep=len(answers) < len(answering)),
            FieldUnion(ControlRequest.__name__, "fields", moderations, keep=True),
        ],
        [
            ResponseUnion(
                path=_path_of(presenter_api, read_tally),
                method="get",
                component=TallyPublic.__name__,
                tag="kind",
                field="results",
                models=results,
                names={kind.name: f"{camel(kind.name)}Tally" for kind in kinds},
            )
        ],
    )


def camel(name: str) -> str:
    """A kind's name as the start of its schemas' names: `wordcloud` -> `Wordcloud`, `star-rating` -> `StarRating`."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-"))


def _any_results(kind: ActivityKind[Any, Any]) -> type[BaseModel]:
    """The results of a kind that declares no model: an object, described as such."""
    model: type[BaseModel] = create_model(
        f"{camel(kind.name)}Results",
        __config__=ConfigDict(
            extra="allow", json_schema_extra={"description": f"{kind.label}'s results (its kind declares no model)"}
        ),
    )
    return model


def _path_of(router: APIRouter, endpoint: Any) -> str:
    """The path a route function is served at."""
    for route in router.routes:
        if getattr(route, "endpoint", None) is endpoint:
            return str(getattr(route, "path"))  # noqa: B009
    raise LookupError(f"{endpoint.__name__} is not a route of this router")
