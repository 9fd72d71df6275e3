"""Every route the app serves, as one flat list: for the checks that must see all of them (CSRF, who may use what)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Mount, Route


@dataclass(frozen=True)
class Served:
    """One route: its full path, its methods ("WEBSOCKET" for a socket) and the route object itself."""

    path: str
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
            yield Served(prefix + route.path, frozenset({"WEBSOCKET"}), route)
        elif isinstance(route, APIRoute | Route):
            yield Served(prefix + route.path, frozenset(route.methods or ()), route)
        elif isinstance(route, Mount):
            yield Served(prefix + route.path, frozenset({"GET", "HEAD"}), route)
