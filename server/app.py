"""The application: create_app(settings) wires the database, backplane, writer, hub and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlmodel import col, select
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from activities import registry as default_registry
from server import ROOT, __version__, metrics
from server.accounts.access import LoginRequired, login_redirect
from server.accounts.csrf import FormExpired, form_expired_page
from server.accounts.people import count_users
from server.accounts.security import setup_token
from server.backplane import from_url
from server.collector import CollectorSchedule, SweepPolicy
from server.config import ConfigError, Settings, get_settings
from server.db import create_engine, session_factory, upgrade
from server.decks import DeckInvalid, deck_files, parse_deck
from server.live.fragments import KIND_STATIC, BundleUnknown, Views, kind_bundle, make_environment
from server.live.writer import ResponseWriter
from server.media import ImageRefused, store_shipped_images, sweep_images
from server.models import Deck, utcnow
from server.routes import ROUTERS
from server.routes.kinds import describe_kinds
from server.routes.participant import is_phone_socket, serve_phone_socket
from server.services import Services
from server.web import headers, i18n
from server.web.asgi import HttpOnly
from server.web.problems import http_exception_handler, validation_exception_handler

log = logging.getLogger("handsup")
DECKS_LOCK = 0x4445434B  # "DECK": the advisory lock PostgreSQL workers take to store the shipped decks
# Compress what is worth it: a participant's first load is mostly text (htmx, the stylesheet), on slow Wi-Fi.
# Starlette's middleware leaves event streams and websockets alone, and responses already encoded.
GZIP_MINIMUM_BYTES = 500
YEAR = 365 * 24 * 3600


# Errors that answer with a page or a problem body of their own, wherever they are raised.
EXCEPTION_HANDLERS: dict[type[Exception], Callable[[Request, Any], Awaitable[Response]]] = {
    StarletteHTTPException: http_exception_handler,
    RequestValidationError: validation_exception_handler,
    FormExpired: form_expired_page,
    LoginRequired: login_redirect,
}


class Assets(StaticFiles):
    """static/: a URL with a content digest (server.live.fragments.static_url) is cached for a year, without asking
    again; any other is checked each time (ETag)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        versioned = b"v=" in scope.get("query_string", b"") and response.status_code in (200, 304)
        response.headers["cache-control"] = f"public, max-age={YEAR}, immutable" if versioned else "no-cache"
        return response


class Handsup(FastAPI):
    """The app: FastAPI's, but for a phone's socket, which it hands to its endpoint directly
    (server/routes/participant.py serve_phone_socket: a room holds thousands open, and each layer of the framework
    would keep a frame per socket alive)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if is_phone_socket(scope):
            scope["app"] = self
            await serve_phone_socket(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


BUNDLE_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


async def kind_bundle_response(request: Request) -> Response:
    """`/static/kinds/bundle.css?kinds=grid,poll&v=<digest>` (or `.js`): the named kinds' files as one response,
    with the cache rules of static/. A digest that is not this server's (a page rendered by a worker of another
    release, during a rolling deploy) gets this server's bundle, checked each time rather than kept a year."""
    suffix = "." + request.path_params["suffix"]
    kinds = tuple(request.query_params.get("kinds", "").split(","))
    try:
        bundle = kind_bundle(default_registry, kinds, suffix)
    except BundleUnknown as unknown:
        raise StarletteHTTPException(404, detail=str(unknown)) from None
    current = request.query_params.get("v") == bundle.digest
    headers = {
        "cache-control": f"public, max-age={YEAR}, immutable" if current else "no-cache",
        "etag": f'"{bundle.digest}"',
    }
    if request.headers.get("if-none-match") == headers["etag"]:
        return Response(status_code=304, headers=headers)
    return Response(bundle.content, media_type=BUNDLE_TYPES[suffix], headers=headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A Handsup app for these settings (from the environment when none are given)."""
    settings = settings or get_settings()
    observed = metrics.Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await _start(settings)
        app.state.services = services
        observed.attach(services)
        writer_task = asyncio.create_task(services.writer.run())
        webhooks_task = asyncio.create_task(services.webhooks.run())
        services.hub.start()
        collector = _collector(services)
        sweep = _image_sweep(services)
        try:
            yield
        finally:
            if sweep is not None:
                sweep.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweep
            if collector is not None:
                await collector.close()
            await services.hub.close()
            writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer_task
            await services.writer.drain()
            webhooks_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await webhooks_task
            await services.webhooks.close()  # what was gathered goes out; deliveries in flight get a moment
            await services.backplane.close()
            services.close_pool()
            await services.engine.dispose()

    app = Handsup(
        title="Handsup",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="Self-hosted, real-time workshop facilitation. Errors are application/problem+json.",
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key,
        session_cookie="handsup_session",
        max_age=14 * 24 * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(HttpOnly, middleware=GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    # Which page is being answered, for the language switch every page shows to come back to (issue 17).
    app.add_middleware(HttpOnly, middleware=i18n.PageAddress)
    # Every response gets the headers, error pages and problems included.
    public_https = bool(settings.public_url and settings.public_url.lower().startswith("https://"))
    app.add_middleware(HttpOnly, middleware=headers.SecurityHeaders, always_https=public_https)
    # Outermost of ours: counts and logs each response as it finally went out.
    app.state.metrics = observed
    app.add_middleware(metrics.RequestMetrics, metrics=observed)
    app.state.csp_reports = headers.CspReports(settings.csp_reports_logged_per_minute)
    for error, handler in EXCEPTION_HANDLERS.items():
        app.add_exception_handler(error, handler)

    # Each kind's static/ under one mount, ahead of /static (which would take these URLs for its own), and the
    # bundles that join several kinds' files for one page (server.live.fragments.kind_static_urls).
    kinds: list[BaseRoute] = [Route("/bundle.{suffix:str}", kind_bundle_response, methods=["GET"])]
    kinds += [
        Mount(f"/{k.name}", Assets(directory=k.static_dir)) for k in default_registry.all() if k.static_dir.is_dir()
    ]
    app.mount(KIND_STATIC, Router(kinds), name="kind-static")
    app.mount("/static", Assets(directory=ROOT / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router)
    # Each kind's answer, moderation and tally models in /openapi.json (issue 17).
    describe_kinds(app, default_registry)
    return app


async def _start(settings: Settings) -> Services:
    url = settings.resolved_database_url
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    backplane = from_url(
        settings.backplane_url,
        settings.backplane_queue_limit,
        publish_timeout=settings.backplane_publish_timeout_ms / 1000,
    )
    await backplane.connect()
    writer = ResponseWriter(
        engine,
        backplane,
        interval_ms=settings.commit_interval_ms,
        batch_limit=settings.commit_batch_limit,
        queue_limit=settings.write_queue_limit,
    )
    services = Services(
        settings=settings,
        engine=engine,
        db=session_factory(engine),
        backplane=backplane,
        writer=writer,
        registry=default_registry,
        views=Views(make_environment(default_registry, settings.time_zone), default_registry),
    )
    await load_decks(services)
    if not await count_users(services.db):
        link = f"{settings.public_url or f'http://{settings.host}:{settings.port}'}/setup/"
        # The console is where the person starting the server looks for it; a log shipper gets it as one record.
        token = setup_token(settings.resolved_secret_key)
        if settings.log_format == "json":
            log.warning(
                "No accounts yet: create the first (admin) account at setup_link", extra={"setup_link": link + token}
            )
        else:
            sys.stderr.write(f"\n  No accounts yet. Create the first (admin) account here:\n  {link}{token}\n\n")
            sys.stderr.flush()
    return services


def _collector(services: Services) -> CollectorSchedule | None:
    """The garbage-collection schedule (server/collector.py), unless the settings turn it off."""
    settings = services.settings
    if settings.gc_freeze_seconds <= 0:
        return None
    hub, writer = services.hub, services.writer
    collector = CollectorSchedule(
        lambda: writer.committed + hub.stats.socket_changes,
        settings.gc_freeze_seconds,
        SweepPolicy(quiet_s=settings.gc_sweep_quiet_seconds, every_s=settings.gc_sweep_seconds),
    )
    collector.start()
    return collector


def _image_sweep(services: Services) -> asyncio.Task[None] | None:
    """Retention for uploaded images (server/media.py): unused ones are removed periodically, unless turned off."""
    every = services.settings.media_sweep_seconds
    return asyncio.create_task(sweep_images(services.db, every)) if every > 0 else None


async def load_decks(services: Services) -> None:
    """Store (or refresh) every deck of the decks folder as a read-only template (copies people edited are never
    touched), and the pictures they show (`media/` beside them); a broken shipped deck or picture stops the start
    loudly."""
    folder = services.settings.decks_dir
    if folder is not None:
        try:
            await store_shipped_images(services, folder / "media")
        except ImageRefused as refused:
            raise ConfigError(f"A picture in {folder / 'media'} cannot be used: {refused}") from None
    for path in deck_files(folder):
        source = path.read_text(encoding="utf-8")
        try:
            spec = parse_deck(source, services.registry)
        except DeckInvalid as error:
            raise ConfigError(f"The deck {path} has problems (check it with: handsup deck check):\n{error}") from None
        async with services.db() as db, db.begin():
            if services.engine.dialect.name == "postgresql":
                # Workers starting together store a deck one at a time: the second finds the first one's row.
                await (await db.connection()).execute(text(f"SELECT pg_advisory_xact_lock({DECKS_LOCK})"))
            deck = (await db.exec(select(Deck).where(Deck.slug == path.stem, col(Deck.template)))).first()
            if deck is None:
                db.add(Deck(slug=path.stem, title=spec.title, source=source, template=True))
            elif deck.source != source:
                deck.source, deck.title, deck.updated_at = source, spec.title, utcnow()
                db.add(deck)
