"""Every route the app serves, as one flat list: for the checks that must see all of them (CSRF, who may use what)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import BaseRoute, Mount, Route


class JoinCode(Convertor[str]):
    """A path segment that may be a join code as people type it: digits, with spaces or dashes between
    (server.sessions.clean_code says whether it is one). The participant's pages come first of all routes, so that a
    room joining at once is not matched against every other route first; this keeps them off `/login` and the rest."""

    regex = "[0-9][0-9 \u00a0-]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("code", JoinCode())
CODE = "/{code:code}"
"""The path of a participant's page, `/123456`; its actions are below it (`/123456/respond`)."""


@dataclass(frozen=True)
class Served:
    """One route: its full path, its methods ("WEBSOCKET" for a socket) and the route object itself."""

    path: str  # as written, without convertors: `/{code}`, not `/{code:code}`
    methods: frozenset[str]
    route: BaseRoute


def app_routes(app: FastAPI) -> list[Served]:
    """The app's routes, with included routers opened up (FastAPI keeps them as wrappers) and mounts as one entry."""
    return list(_walk(app.router.routes, ""))


def _walk(routes: Iterable[BaseRoute], prefix: str) -> Iterator[Served]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(included.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(route, APIWebSocketRoute):
            yield Served(prefix + route.path_format, frozenset({"WEBSOCKET"}), route)
        elif isinstance(route, APIRoute | Route):
            yield Served(prefix + route.path_format, frozenset(route.methods or ()), route)
        elif isinstance(route, Mount):
            yield Served(prefix + route.path, frozenset({"GET", "HEAD"}), route)


# --- every page action's twin in the JSON API ---------------------------------------------------------------------


@dataclass(frozen=True)
class Twin:
    """The /api/v1 route that does what a page route does, for a script with an API token."""

    method: str
    path: str


@dataclass(frozen=True)
class Exempt:
    """Why a page route has no API twin. `renders`: a page that only shows what API reads return (GET only);
    `browser`: a browser's own plumbing that means nothing to a token holder (signing in, a language cookie);
    `open`: needs no account and is itself what the API hands out (a join QR code, an image, health);
    `socket`: a live socket, the same for scripts (docs/protocol.md)."""

    why: Literal["renders", "browser", "open", "socket"]
    reason: str


_V1 = "/api/v1"
PAGE_TWINS: dict[tuple[str, str], Twin | Exempt] = {
    # the framework's own
    ("GET", "/openapi.json"): Exempt("open", "the API's own description"),
    ("GET", "/static"): Exempt("open", "stylesheets, scripts and fonts of the pages"),
    ("GET", "/static/kinds"): Exempt("open", "the kinds' stylesheets and scripts"),
    # signing in and the browser's own
    ("GET", "/login"): Exempt("browser", "the sign-in form; scripts hold an API token instead"),
    ("POST", "/login"): Exempt("browser", "signing a browser in; scripts hold an API token instead"),
    ("GET", "/login/oidc/{name}"): Exempt("browser", "sends a browser to a single sign-on provider"),
    ("GET", "/login/oidc/{name}/callback"): Exempt("browser", "a single sign-on provider sends the browser back"),
    ("POST", "/logout"): Exempt("browser", "signing a browser out; DELETE /api/v1/tokens/{id} ends a token"),
    ("GET", "/setup/{token}"): Exempt("browser", "the first admin's one-time setup form, before any token exists"),
    ("POST", "/setup/{token}"): Exempt("browser", "creates the first admin, before any token can exist"),
    ("GET", "/language/{code}"): Exempt("browser", "the language cookie of the pages; the API speaks JSON"),
    ("POST", "/csp-reports"): Exempt("browser", "browsers report Content-Security-Policy violations here"),
    ("GET", "/metrics"): Exempt("open", "the Prometheus scrape, itself an API (HANDSUP_METRICS_TOKEN)"),
    ("GET", "/healthz"): Exempt("open", "the health check, itself an API"),
    ("GET", "/media/{name}"): Exempt("open", "a stored image, at the URL the API's decks and uploads name"),
    # the account page
    ("GET", "/account"): Twin("GET", f"{_V1}/account"),
    ("POST", "/account/password"): Twin("PUT", f"{_V1}/account/password"),
    ("POST", "/account/tokens"): Twin("POST", f"{_V1}/tokens"),
    ("POST", "/account/tokens/{token_id}/revoke"): Twin("DELETE", f"{_V1}/tokens/{{token_id}}"),
    ("POST", "/account/webhooks"): Twin("POST", f"{_V1}/webhooks"),
    ("POST", "/account/webhooks/{webhook_id}/pause"): Twin("PATCH", f"{_V1}/webhooks/{{webhook_id}}"),
    ("POST", "/account/webhooks/{webhook_id}/resume"): Twin("PATCH", f"{_V1}/webhooks/{{webhook_id}}"),
    ("POST", "/account/webhooks/{webhook_id}/delete"): Twin("DELETE", f"{_V1}/webhooks/{{webhook_id}}"),
    # administrators
    ("GET", "/admin/people"): Twin("GET", f"{_V1}/people"),
    ("POST", "/admin/people"): Twin("POST", f"{_V1}/people"),
    ("POST", "/admin/people/{user_id}/role"): Twin("PATCH", f"{_V1}/people/{{user_id}}"),
    ("POST", "/admin/people/{user_id}/disable"): Twin("PATCH", f"{_V1}/people/{{user_id}}"),
    ("POST", "/admin/people/{user_id}/enable"): Twin("PATCH", f"{_V1}/people/{{user_id}}"),
    ("POST", "/admin/people/{user_id}/approve"): Twin("PATCH", f"{_V1}/people/{{user_id}}"),
    ("POST", "/admin/identities/{identity_id}/link"): Twin("POST", f"{_V1}/identities/{{identity_id}}/link"),
    ("POST", "/admin/identities/{identity_id}/unlink"): Twin("DELETE", f"{_V1}/identities/{{identity_id}}"),
    # the deck library and the editor
    ("GET", "/present/decks"): Twin("GET", f"{_V1}/decks"),
    ("POST", "/present/decks"): Twin("POST", f"{_V1}/decks"),
    ("POST", "/present/decks/upload"): Twin("POST", f"{_V1}/decks"),
    ("POST", "/present/decks/{deck_id}/copy"): Twin("POST", f"{_V1}/decks/{{deck_id}}/copy"),
    ("POST", "/present/decks/{deck_id}/rename"): Twin("PATCH", f"{_V1}/decks/{{deck_id}}"),
    ("POST", "/present/decks/{deck_id}/delete"): Twin("DELETE", f"{_V1}/decks/{{deck_id}}"),
    ("POST", "/present/decks/{deck_id}/restore"): Twin("POST", f"{_V1}/decks/{{deck_id}}/restore"),
    ("POST", "/present/decks/{deck_id}/share"): Twin("PUT", f"{_V1}/decks/{{deck_id}}/shares"),
    ("GET", "/present/decks/{deck_id}/source.json"): Twin("GET", f"{_V1}/decks/{{deck_id}}"),
    ("PUT", "/present/decks/{deck_id}/source.json"): Twin("PUT", f"{_V1}/decks/{{deck_id}}"),
    ("GET", "/present/decks/{deck_id}/deck.yaml"): Twin("GET", f"{_V1}/decks/{{deck_id}}/yaml"),
    ("GET", "/present/decks/{deck_id}/edit"): Twin("GET", f"{_V1}/decks/{{deck_id}}"),
    ("GET", "/present/kinds.json"): Twin("GET", f"{_V1}/kinds"),
    ("POST", "/present/decks/preview"): Twin("POST", f"{_V1}/decks/preview"),
    ("POST", "/present/slides"): Twin("POST", f"{_V1}/slides"),
    ("POST", "/present/media"): Twin("POST", f"{_V1}/media"),
    # presenting
    ("GET", "/present"): Twin("GET", f"{_V1}/sessions"),
    ("POST", "/present/sessions"): Twin("POST", f"{_V1}/sessions"),
    ("GET", "/present/{session_id}"): Twin("GET", f"{_V1}/sessions/{{session_id}}"),
    ("GET", "/present/{session_id}/remote"): Twin("GET", f"{_V1}/sessions/{{session_id}}"),
    ("POST", "/present/{session_id}/control"): Twin("POST", f"{_V1}/sessions/{{session_id}}/control"),
    ("POST", "/present/{session_id}/facilitators"): Twin("POST", f"{_V1}/sessions/{{session_id}}/facilitators"),
    ("POST", "/present/{session_id}/facilitators/{user_id}/remove"): Twin(
        "DELETE", f"{_V1}/sessions/{{session_id}}/facilitators/{{user_id}}"
    ),
    ("GET", "/present/{session_id}/archive.zip"): Twin("GET", f"{_V1}/sessions/{{session_id}}/archive.zip"),
    ("GET", "/present/{session_id}/report.html"): Twin("GET", f"{_V1}/sessions/{{session_id}}/report.html"),
    ("GET", "/present/{session_id}/activities/{activity_id}/export.{extension}"): Twin(
        "GET", f"{_V1}/sessions/{{session_id}}/activities/{{activity_id}}/export.{{extension}}"
    ),
    ("GET", "/present/{session_id}/activities/{activity_id}/{asset}"): Twin(
        "GET", f"{_V1}/sessions/{{session_id}}/activities/{{activity_id}}/{{asset}}"
    ),
    ("WEBSOCKET", "/ws/presenter/{session_id}"): Exempt("socket", "opens with a cookie or an API token"),
    # the projector
    ("GET", "/projector/{secret}"): Exempt("renders", "the projector's screen; GET /api/v1/sessions/{id} reads it"),
    ("GET", "/projector/{secret}/activities/{activity_id}/{asset}"): Twin(
        "GET", f"{_V1}/sessions/{{session_id}}/activities/{{activity_id}}/{{asset}}"
    ),
    ("WEBSOCKET", "/ws/projector/{secret}"): Exempt("socket", "its secret is the key; an API token is accepted"),
    # organizers
    ("GET", "/organize"): Twin("GET", f"{_V1}/institutes"),
    ("POST", "/organize/institutes"): Twin("POST", f"{_V1}/institutes"),
    ("GET", "/organize/institutes/{institute_id}"): Twin("GET", f"{_V1}/institutes/{{institute_id}}"),
    ("POST", "/organize/institutes/{institute_id}/cohorts"): Twin("POST", f"{_V1}/institutes/{{institute_id}}/cohorts"),
    ("GET", "/organize/cohorts/{cohort_id}"): Twin("GET", f"{_V1}/cohorts/{{cohort_id}}"),
    ("POST", "/organize/cohorts/{cohort_id}"): Twin("PATCH", f"{_V1}/cohorts/{{cohort_id}}"),
    ("POST", "/organize/cohorts/{cohort_id}/sessions"): Twin("POST", f"{_V1}/cohorts/{{cohort_id}}/sessions"),
    ("POST", "/organize/cohorts/{cohort_id}/prune"): Twin("POST", f"{_V1}/cohorts/{{cohort_id}}/prune"),
    ("POST", "/organize/cohorts/{cohort_id}/delete"): Twin("DELETE", f"{_V1}/cohorts/{{cohort_id}}"),
    ("GET", "/organize/sessions/{session_id}/archive.zip"): Twin(
        "GET", f"{_V1}/cohorts/{{cohort_id}}/sessions/{{session_id}}/archive.zip"
    ),
    ("GET", "/organize/cohorts/{cohort_id}/archive.zip"): Twin("GET", f"{_V1}/cohorts/{{cohort_id}}/archive.zip"),
    ("GET", "/organize/institutes/{institute_id}/archive.zip"): Twin(
        "GET", f"{_V1}/institutes/{{institute_id}}/archive.zip"
    ),
    ("GET", "/organize/import"): Exempt("renders", "the import form; POST /api/v1/archives imports"),
    ("POST", "/organize/import"): Twin("POST", f"{_V1}/archives"),
    ("GET", "/organize/institutes/{institute_id}/compare"): Twin("GET", f"{_V1}/institutes/{{institute_id}}/compare"),
    ("GET", "/organize/institutes/{institute_id}/compare/{key}"): Twin(
        "GET", f"{_V1}/institutes/{{institute_id}}/compare/{{key}}"
    ),
    ("GET", "/organize/institutes/{institute_id}/compare/{key}/export.csv"): Twin(
        "GET", f"{_V1}/institutes/{{institute_id}}/compare/{{key}}/export.csv"
    ),
    ("GET", "/organize/institutes/{institute_id}/compare/{key}/{column}/{asset}"): Twin(
        "GET", f"{_V1}/institutes/{{institute_id}}/compare/{{key}}/{{column}}/{{asset}}"
    ),
    ("GET", "/organize/institutes/{institute_id}/pools/{kind}"): Twin(
        "GET", f"{_V1}/institutes/{{institute_id}}/pools/{{kind}}"
    ),
    ("GET", "/organize/institutes/{institute_id}/pools/{kind}/export.{extension}"): Twin(
        "GET", f"{_V1}/institutes/{{institute_id}}/pools/{{kind}}/export.{{extension}}"
    ),
    # participants (phones): the join pages and their JSON twins
    ("GET", "/"): Exempt("renders", "the join form; POST /api/v1/join joins"),
    ("POST", "/join"): Twin("POST", f"{_V1}/join"),
    ("GET", "/{code}"): Twin("GET", f"{_V1}/live"),
    ("GET", "/{code}/qr.svg"): Exempt("open", "the join QR code, at the `qr_svg_url` the API's sessions give"),
    ("POST", "/{code}/respond"): Twin("POST", f"{_V1}/responses"),
    ("GET", "/{code}/name"): Twin("GET", f"{_V1}/live"),
    ("POST", "/{code}/name"): Twin("PUT", f"{_V1}/sessions/{{session_id}}/name"),
    ("POST", "/{code}/react"): Twin("POST", f"{_V1}/sessions/{{session_id}}/reactions"),
    ("GET", "/{code}/events"): Exempt("socket", "the participant socket's fallback over server-sent events"),
    ("WEBSOCKET", "/ws/participant/{code}"): Exempt("socket", "opens with the participant token of /api/v1/join"),
    ("GET", "/{text}"): Exempt("open", "any other one-segment address: a 404 page that says how to join"),
}
"""Every route outside /api/ with its API twin or why it has none (tests/server/routes/test_api_twins.py checks the
router against it both ways: every page route is here, and every twin exists)."""

DOWNLOAD = re.compile(r"\.(\w+|\{extension\})$|\{asset\}$")
"""A page route whose answer is a file to keep (an archive, an export, a rendered image)."""


def is_page(served: Served) -> bool:
    """A route people's browsers use, outside the JSON API."""
    return not served.path.startswith(_V1 + "/")
