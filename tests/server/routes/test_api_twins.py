"""Every page action has its /api/v1 twin: the router, walked, against server/web/routing.py PAGE_TWINS, both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.accounts.access import Access, route_access
from server.app import create_app
from server.config import Settings
from server.web.routing import DOWNLOAD, PAGE_TWINS, Exempt, Served, Twin, app_routes, is_page
from tests.factories import SECRET

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def served() -> list[Served]:
    return app_routes(create_app(Settings(env="test", secret_key=SECRET)))


def _methods(route: Served) -> set[str]:
    return set(route.methods) - {"HEAD"}


def _pages(served: list[Served]) -> dict[tuple[str, str], Served]:
    return {(method, route.path): route for route in served if is_page(route) for method in _methods(route)}


def _api(served: list[Served]) -> set[tuple[str, str]]:
    return {(method, route.path) for route in served if not is_page(route) for method in _methods(route)}


def test_every_page_route_is_marked_with_its_twin_or_why_it_has_none(served: list[Served]) -> None:
    unmarked = sorted(set(_pages(served)) - set(PAGE_TWINS))
    assert not unmarked, f"mark these in server/web/routing.py PAGE_TWINS: {unmarked}"


def test_every_marked_page_route_exists(served: list[Served]) -> None:
    stale = sorted(set(PAGE_TWINS) - set(_pages(served)))
    assert not stale, f"PAGE_TWINS names routes the app does not serve: {stale}"


def test_every_twin_is_an_api_route_the_app_serves(served: list[Served]) -> None:
    api = _api(served)
    missing = sorted(
        (page, (twin.method, twin.path))
        for page, twin in PAGE_TWINS.items()
        if isinstance(twin, Twin) and (twin.method, twin.path) not in api
    )
    assert not missing, f"these twins are not served: {missing}"
    assert all(path.startswith("/api/v1/") for _, path in api)


def test_every_page_action_and_download_has_a_twin(served: list[Served]) -> None:
    """A mutating page route or a download has an API twin; the only ones without are browsers' own plumbing
    (signing in, CSP reports) and open routes that are themselves what the API hands out."""
    lacking = []
    for (method, path), mark in PAGE_TWINS.items():
        if (method in MUTATING or DOWNLOAD.search(path)) and isinstance(mark, Exempt):
            if mark.why not in ("browser", "open"):
                lacking.append((method, path, mark.why))
    assert not lacking, f"page actions without an API twin: {lacking}"


def test_exemptions_say_why_and_fit_the_route(served: list[Served]) -> None:
    for (method, path), mark in PAGE_TWINS.items():
        if not isinstance(mark, Exempt):
            continue
        assert len(mark.reason) > 10, (method, path)
        if mark.why == "renders":
            assert method == "GET" and not DOWNLOAD.search(path), f"{method} {path} does more than render"
        if mark.why == "socket":
            assert method == "WEBSOCKET" or path.endswith("/events"), f"{method} {path} is no live socket"


def test_the_walk_sees_the_actions_issue_17_named(served: list[Served]) -> None:
    """Retention, editing a cohort, the editor, tokens and people: each has its twin (issue 17, part 3)."""
    twin_of = {page: (mark.method, mark.path) for page, mark in PAGE_TWINS.items() if isinstance(mark, Twin)}
    assert twin_of["POST", "/organize/cohorts/{cohort_id}/prune"] == ("POST", "/api/v1/cohorts/{cohort_id}/prune")
    assert twin_of["POST", "/organize/cohorts/{cohort_id}/delete"] == ("DELETE", "/api/v1/cohorts/{cohort_id}")
    assert twin_of["POST", "/organize/cohorts/{cohort_id}"] == ("PATCH", "/api/v1/cohorts/{cohort_id}")
    assert twin_of["POST", "/account/tokens"] == ("POST", "/api/v1/tokens")
    assert twin_of["POST", "/present/decks/preview"] == ("POST", "/api/v1/decks/preview")
    assert twin_of["GET", "/present/kinds.json"] == ("GET", "/api/v1/kinds")
    assert twin_of["POST", "/admin/people/{user_id}/disable"] == ("PATCH", "/api/v1/people/{user_id}")
    assert len([mark for mark in PAGE_TWINS.values() if isinstance(mark, Twin)]) >= 60


# A twin whose door differs from its page's, and why: the rest let in exactly whom their page lets in.
OTHER_DOORS = {
    # The projector's screen is keyed by its secret link; a script reads the same file as someone who runs the session.
    ("GET", "/projector/{secret}/activities/{activity_id}/{asset}"): (Access.projector, Access.session),
    # The join form is open to anyone; the API's join is open too, and counts as the participant's (it makes one).
    ("POST", "/join"): (Access.anyone, Access.participant),
}


def test_every_twin_lets_in_whom_its_page_lets_in(served: list[Served]) -> None:
    access = {
        (method, route.path): route_access(route.route.dependant)  # type: ignore[attr-defined]
        for route in served
        if hasattr(route.route, "dependant")
        for method in _methods(route)
    }
    differing = {}
    for page, mark in PAGE_TWINS.items():
        if isinstance(mark, Twin):
            doors = (access[page], access[mark.method, mark.path])
            if doors[0] != doors[1]:
                differing[page] = tuple(door.pop() for door in doors)
    assert differing == OTHER_DOORS


def test_the_docs_table_of_twins_is_page_twins() -> None:
    """docs/api.md "Which route does what a page does" lists every entry of PAGE_TWINS but the pages that only show
    something, in its order: a new page action's twin is documented, or this fails."""
    rows = [
        f"| {method} `{path}` | "
        + (f"{mark.method} `{mark.path}`" if isinstance(mark, Twin) else f"none ({mark.why}): {mark.reason}")
        + " |"
        for (method, path), mark in PAGE_TWINS.items()
        if not (method == "GET" and isinstance(mark, Exempt))
    ]
    doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    header = "| page | API twin |\n|---|---|\n"
    start = doc.index(header) + len(header)
    assert doc[start : doc.index("\n\n", start)].splitlines() == rows
