"""Webhooks: an account's subscriptions to events (a response stored, a session ended, an archive ready), posted
as signed JSON to the subscription's URL, retried with backoff, bounded everywhere.

Subscriptions belong to accounts (not to institutes): API tokens are an account's, and what an account may read is
already defined (sessions it presents or co-facilitates, the institutes it organizes, everything for an admin).
Each event is checked against that at delivery time, so a webhook never carries what its owner could not read,
even after a co-facilitator is removed.

The path of an event: the server's code calls `Webhooks.responses_stored` (the writer, after its commit),
`session_ended` or `archive_ready`. Those only put the event on a bounded queue (never awaited: when it is full the
event is dropped and counted, and a vote never waits). `Webhooks.run`, a background task of each worker, gathers
the responses of a session for `webhook_batch_seconds` into one `response.stored` event, finds the subscriptions that
want each event and may read it, records a delivery per subscription and posts it: at most `webhook_concurrency` at
once, retried on 5xx, 408, 429, timeouts and connection errors with exponential backoff and jitter, for at most
`webhook_attempts` attempts. A subscription whose deliveries fail `webhook_failures_to_pause` times in a row is
paused with the reason. Each worker delivers the events it produced (docs/api.md, "Webhooks").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import socket
import ssl
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import certifi
import httpx
from sqlalchemy import delete, func, or_
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.base import ResponseEvent
from activities.i18n import _
from server import __version__
from server.config import Settings
from server.models import (
    Cohort,
    Institute,
    Role,
    Session,
    SessionFacilitator,
    User,
    Webhook,
    WebhookDelivery,
    as_utc,
    utcnow,
)

log = logging.getLogger(__name__)

RESPONSE_STORED = "response.stored"
EVENT_TYPES: tuple[str, ...] = (RESPONSE_STORED, "session.ended", "archive.ready")
"""The events a webhook may ask for; a new one is added here and raised where it happens."""
MAX_URL = 2000
MAX_EVENTS_ASKED = 20  # names in one request, repeats included: a longer list is refused before it is looked at
SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "Handsup-Signature"
DELIVERY_HEADER = "Handsup-Delivery"
EVENT_HEADER = "Handsup-Event"
# Retried: the receiver is down or overwhelmed (5xx, 408, 429), or did not answer. Any other status is its answer.
RETRIED_STATUSES = frozenset({408, 429})
# How long a worker trusts its reading of which events any active webhook wants: a webhook added through another
# worker starts receiving this worker's events at most this much later (its own worker's at once).
WANTED_SECONDS = 2.0
# Errors shown to the owner are cut to what the table keeps.
MAX_ERROR = 300

Scope = Literal["session", "cohort", "institute"]


class WebhookRefused(ValueError):
    """A webhook that cannot be created or changed as asked; the message says why, for the person asking."""


class TargetUnreachable(WebhookRefused):
    """The host's name could not be resolved just now (the resolver failed, not the name): worth another attempt."""


class NoSuchWebhook(LookupError):
    """No such webhook among the account's."""


# --- targets: what a webhook may point at (SSRF) -------------------------------------------------------------------


def check_url(url: str, *, allow_local: bool) -> str:
    """The URL as it will be stored, or WebhookRefused saying what is wrong with it.

    https:// only (http:// on loopback when local targets are allowed, for development), a host name, no user or
    password in it, no fragment; an address written in it must not be private, loopback or link-local."""
    url = url.strip()
    if not url:
        raise WebhookRefused(_("Give the URL the events are posted to, such as https://example.org/handsup-events."))
    if len(url) > MAX_URL:
        raise WebhookRefused(_("The URL is longer than {count} characters.").format(count=MAX_URL))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookRefused(_("{url} is not a URL.").format(url=repr(url[:200]))) from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookRefused(_("The URL must start with https:// and name a host."))
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused(_("The URL must not carry a user name or password: verify the signature instead."))
    if parts.fragment:
        raise WebhookRefused(_("The URL must not have a #fragment."))
    if any(ord(c) < 33 or c in "\\<>\"'`" for c in url):
        raise WebhookRefused(_("The URL has spaces or characters a URL cannot hold."))
    if port == 0:
        raise WebhookRefused(_("The URL's port must be between 1 and 65535."))
    literal = _address(host)
    if parts.scheme == "http" and not (allow_local and (host == "localhost" or (literal and literal.is_loopback))):
        raise WebhookRefused(
            _("The URL must start with https:// (events are signed, but their content is not secret).")
        )
    if literal is not None:
        refused = refused_address(literal, allow_local=allow_local)
        if refused:
            raise WebhookRefused(refused)
    elif host == "localhost" or host.endswith(".localhost"):
        if not allow_local:
            raise WebhookRefused(_("The URL must not point at this server's own machine (localhost)."))
    return url


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_local: bool) -> str:
    """Why an address is no webhook target (empty: it may be one). Private, loopback, link-local and other special
    addresses reach this server's own network, not an integration's: refused unless local targets are allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_multicast or address.is_unspecified:
        return _("The address {address} cannot receive webhooks.").format(address=address)
    if address.is_loopback or address.is_link_local or address.is_private or not address.is_global:
        if allow_local:
            return ""
        return _(
            "The address {address} is private, loopback or link-local: webhooks go to public addresses only."
        ).format(address=address)
    if address.is_reserved:
        return _("The address {address} cannot receive webhooks.").format(address=address)
    return ""


async def resolve_target(url: str, *, allow_local: bool) -> tuple[str, str]:
    """The URL to connect to with its host replaced by one checked address, and the host name (for the Host header
    and TLS): resolved at each delivery, so a name that later points inside the network (DNS rebinding) is refused,
    and the connection goes to the address that was checked, not to a second lookup's."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = _address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            message = _("The host {host} cannot be found ({error}).").format(host=host, error=error.strerror or error)
            if isinstance(error, socket.gaierror) and error.errno == socket.EAI_AGAIN:
                raise TargetUnreachable(message) from None  # a resolver's hiccup, not a name that does not exist
            raise WebhookRefused(message) from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    for address in addresses:
        refused = refused_address(address, allow_local=allow_local)
        if refused:
            raise WebhookRefused(refused)
    chosen = addresses[0]
    netloc = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host


# --- signatures -------------------------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256, in hex, over `{timestamp}.{body}` with the webhook's secret."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The Handsup-Signature header: `t=<unix seconds>,v1=<hex HMAC>`."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """Whether a Handsup-Signature header is this body's, signed with this secret within `tolerance` seconds (what a
    receiver does; docs/api.md shows the same in a few lines for receivers without Handsup installed)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(fields.get("v1", ""), signature(secret, timestamp, body))


# --- subscriptions: what the routes (page and JSON API) do -----------------------------------------------------------


def check_events(events: Iterable[str]) -> list[str]:
    """The events asked for, each once, in the order of EVENT_TYPES; WebhookRefused for none or an unknown one."""
    asked = [str(event).strip() for event in events]
    if len(asked) > MAX_EVENTS_ASKED:
        raise WebhookRefused(
            _("Too many events asked for; the events are {events}.").format(events=", ".join(EVENT_TYPES))
        )
    unknown = sorted({event for event in asked if event not in EVENT_TYPES})
    if unknown:
        shown = ", ".join(repr(event[:40]) for event in unknown[:5])
        raise WebhookRefused(
            _("Unknown event {unknown}; the events are {events}.").format(unknown=shown, events=", ".join(EVENT_TYPES))
        )
    if not asked:
        raise WebhookRefused(_("Choose at least one event: {events}.").format(events=", ".join(EVENT_TYPES)))
    return [event for event in EVENT_TYPES if event in asked]


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


async def create_webhook(
    maker: async_sessionmaker[AsyncSession], settings: Settings, owner_id: int, url: str, events: Iterable[str]
) -> Webhook:
    """A new, active webhook of this account (its secret is in the returned row: show it once)."""
    checked_url = check_url(url, allow_local=settings.webhooks_allow_local)
    checked_events = check_events(events)
    async with maker() as db, db.begin():
        owner = await db.get(
            User, owner_id, with_for_update=True
        )  # one creation at a time per account: the limit holds
        assert owner is not None
        held = (await db.exec(select(func.count()).where(Webhook.owner_id == owner_id))).one()
        if held >= settings.webhooks_per_account:
            raise WebhookRefused(
                _("An account may have {count} webhooks; delete one you no longer use first.").format(
                    count=settings.webhooks_per_account
                )
            )
        webhook = Webhook(owner_id=owner_id, url=checked_url, events=checked_events, secret=new_secret())
        db.add(webhook)
    return webhook


async def webhooks_of(maker: async_sessionmaker[AsyncSession], owner_id: int) -> list[Webhook]:
    """The account's webhooks, oldest first."""
    async with maker() as db:
        found = await db.exec(select(Webhook).where(Webhook.owner_id == owner_id).order_by(col(Webhook.id)))
        return list(found.all())


async def webhook_of(maker: async_sessionmaker[AsyncSession], webhook_id: int, owner_id: int) -> Webhook:
    """One of the account's webhooks; NoSuchWebhook for another's, as for a missing one (ids cannot be probed)."""
    async with maker() as db:
        webhook = await db.get(Webhook, webhook_id)
    if webhook is None or webhook.owner_id != owner_id:
        raise NoSuchWebhook(_("No such webhook among yours."))
    return webhook


async def update_webhook(
    maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    webhook_id: int,
    owner_id: int,
    *,
    active: bool | None = None,
    url: str | None = None,
    events: Iterable[str] | None = None,
) -> Webhook:
    """Pause or resume a webhook, or change its URL or events; resuming forgets its failures and pause reason."""
    checked_url = check_url(url, allow_local=settings.webhooks_allow_local) if url is not None else None
    checked_events = check_events(events) if events is not None else None
    async with maker() as db, db.begin():
        webhook = await db.get(Webhook, webhook_id, with_for_update=True)
        if webhook is None or webhook.owner_id != owner_id:
            raise NoSuchWebhook(_("No such webhook among yours."))
        if checked_url is not None:
            webhook.url = checked_url
        if checked_events is not None:
            webhook.events = checked_events
        if active is not None:
            webhook.active = active
            webhook.paused_reason = ""
            if active:
                webhook.failures = 0
        db.add(webhook)
    return webhook


async def delete_webhook(maker: async_sessionmaker[AsyncSession], webhook_id: int, owner_id: int) -> None:
    """Delete a webhook and its deliveries' record; deliveries in flight finish but record nothing."""
    async with maker() as db, db.begin():
        webhook = await db.get(Webhook, webhook_id, with_for_update=True)
        if webhook is None or webhook.owner_id != owner_id:
            raise NoSuchWebhook(_("No such webhook among yours."))
        await db.exec(delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == webhook_id))
        await db.delete(webhook)


async def deliveries_of(
    maker: async_sessionmaker[AsyncSession], webhook_ids: Sequence[int], limit: int = 20
) -> dict[int, list[WebhookDelivery]]:
    """The most recent deliveries of each of these webhooks, newest first."""
    shown: dict[int, list[WebhookDelivery]] = {webhook_id: [] for webhook_id in webhook_ids}
    async with maker() as db:
        for webhook_id in webhook_ids:
            found = await db.exec(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == webhook_id)
                .order_by(col(WebhookDelivery.id).desc())
                .limit(limit)
            )
            shown[webhook_id] = list(found.all())
    return shown


@dataclass(frozen=True)
class AccountWebhooks:
    """What the account page shows of an account's webhooks."""

    webhooks: list[Webhook]
    deliveries: dict[int, list[WebhookDelivery]]
    limit: int
    event_types: tuple[str, ...] = EVENT_TYPES


async def account_webhooks(
    maker: async_sessionmaker[AsyncSession], settings: Settings, owner_id: int
) -> AccountWebhooks:
    """The account's webhooks with their ten most recent deliveries, for its page."""
    webhooks = await webhooks_of(maker, owner_id)
    deliveries = await deliveries_of(maker, [_id(webhook) for webhook in webhooks], limit=10)
    return AccountWebhooks(webhooks, deliveries, settings.webhooks_per_account)


# --- events and who may read them ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One event as posted: `{id, type, created_at, data}`; `scope` says whose data it is (never posted)."""

    type: str
    data: dict[str, Any]
    scope: tuple[Scope, int]
    id: str = field(default_factory=lambda: f"evt_{uuid.uuid4().hex}")
    created_at: datetime = field(default_factory=utcnow)

    def body(self) -> bytes:
        document = {"id": self.id, "type": self.type, "created_at": self.created_at.isoformat(), "data": self.data}
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


async def readers(db: AsyncSession, scope: Scope, scope_id: int) -> tuple[set[int], bool]:
    """Who may read a session's, cohort's or institute's data (the rules of server/accounts/access.py: its presenter
    and co-facilitators run a session; the institute's organizer sees its cohorts and sessions; admins see all), as
    account ids, and whether it still exists."""
    allowed: set[int] = set()
    institute_id: int | None = scope_id if scope == "institute" else None
    cohort_id: int | None = scope_id if scope == "cohort" else None
    if scope == "session":
        session = await db.get(Session, scope_id)
        if session is None:
            return allowed, False
        allowed.add(session.presenter_id)
        facilitators = await db.exec(
            select(SessionFacilitator.user_id).where(SessionFacilitator.session_id == scope_id)
        )
        allowed.update(facilitators.all())
        cohort_id = session.cohort_id
    if cohort_id is not None:
        cohort = await db.get(Cohort, cohort_id)
        if cohort is None and scope == "cohort":
            return allowed, False
        institute_id = cohort.institute_id if cohort is not None else None
    if institute_id is not None:
        institute = await db.get(Institute, institute_id)
        if institute is None and scope == "institute":
            return allowed, False
        if institute is not None and institute.created_by is not None:
            allowed.add(institute.created_by)
    return allowed, True


async def subscribers(db: AsyncSession, event_type: str, scope: Scope, scope_id: int) -> list[Webhook]:
    """The active webhooks that want this event and whose (enabled) owner may read its subject."""
    allowed, exists = await readers(db, scope, scope_id)
    if not exists:
        return []
    found = await db.exec(
        select(Webhook)
        .join(User, col(User.id) == col(Webhook.owner_id))
        .where(
            col(Webhook.active),
            col(User.disabled_at).is_(None),
            or_(col(User.role) == Role.admin, col(User.id).in_(allowed)),
        )
        .order_by(col(Webhook.id))
    )
    return [webhook for webhook in found.all() if event_type in webhook.events]


def session_ended_data(session: Session) -> dict[str, Any]:
    assert session.id is not None
    ended = as_utc(session.ended_at).isoformat() if session.ended_at else None
    return {"session_id": session.id, "code": session.code, "title": session.title, "ended_at": ended}


# --- delivery -----------------------------------------------------------------------------------------------------


@dataclass
class WebhookStats:
    """What this worker's webhooks did since it started."""

    raised: int = 0
    dropped: int = 0
    delivered: int = 0
    failed: int = 0
    attempts: int = 0
    paused: int = 0


@dataclass(frozen=True)
class _Stored:
    session_id: int
    events: tuple[ResponseEvent, ...]


@dataclass
class _Gathered:
    """Responses of one session waiting to go out as one response.stored event."""

    since: float
    responses: list[dict[str, Any]] = field(default_factory=list)
    dropped: int = 0


class Webhooks:
    """This worker's webhook deliveries: a bounded queue the server's code feeds without waiting, and `run`."""

    def __init__(self, maker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._maker = maker
        self._settings = settings
        self._queue: asyncio.Queue[_Stored | Event] = asyncio.Queue(maxsize=settings.webhook_queue_limit)
        self._gathered: dict[int, _Gathered] = {}
        # Responses of a session dropped at a full queue: told in the session's next response.stored event.
        self._dropped: defaultdict[int, int] = defaultdict(int)
        self._slots = asyncio.Semaphore(settings.webhook_concurrency)
        self._deliveries: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None  # made at the first delivery: most servers never make one
        # The event types some active webhook wants, and when that was read: a server without webhooks reads the
        # table once every WANTED_SECONDS, not once per session per batch.
        self._wanted: tuple[float, frozenset[str]] | None = None
        self.stats = WebhookStats()

    def changed(self) -> None:
        """A webhook was added, changed or deleted (in this worker): read which events are wanted afresh."""
        self._wanted = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                verify=_trusted(self._settings),
                timeout=httpx.Timeout(self._settings.webhook_timeout_seconds),
                follow_redirects=False,  # a redirect could lead anywhere, past the address checks
                headers={"User-Agent": f"Handsup-Webhooks/{__version__}"},
                trust_env=False,  # no proxy from the environment: the checked address is the one connected to
                # No connection is kept: one is opened to a checked address with one host's TLS name, and a pooled
                # connection to the same address must not carry another host's request.
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        return self._http

    # The server's code raises events with these three; none waits, and none fails the caller.

    def responses_stored(self, session_id: int, events: Sequence[ResponseEvent]) -> None:
        """Responses of a session were committed (the writer calls this after its commit, before publishing)."""
        if events and not self._nobody_wants_responses():
            self._put(_Stored(session_id, tuple(events)), session_id, len(events))

    def session_ended(self, session: Session) -> None:
        """A presenter ended a session."""
        assert session.id is not None
        self._put(Event("session.ended", session_ended_data(session), ("session", session.id)))

    def archive_ready(self, scope: Scope, scope_id: int, filename: str, counts: dict[str, int]) -> None:
        """An archive of a session, cohort or institute was built; the event says where to download one."""
        plural = {"session": "sessions", "cohort": "cohorts", "institute": "institutes"}[scope]
        data = {
            "scope": scope,
            "id": scope_id,
            "filename": filename,
            "counts": dict(counts),
            "download": f"/api/v1/{plural}/{scope_id}/archive.zip",
        }
        self._put(Event("archive.ready", data, (scope, scope_id)))

    def _put(self, item: _Stored | Event, session_id: int | None = None, size: int = 1) -> None:
        self.stats.raised += 1
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.stats.dropped += size
            if session_id is not None and (session_id in self._dropped or len(self._dropped) < 10_000):
                self._dropped[session_id] += size
            if self.stats.dropped == size or self.stats.dropped % 1000 < size:
                log.warning("webhook queue full: %d events dropped so far", self.stats.dropped)

    @property
    def depth(self) -> int:
        """Events waiting in the queue."""
        return self._queue.qsize()

    async def run(self) -> None:
        """The delivery loop: take events, gather responses per session, hand each event to its subscriptions."""
        window = self._settings.webhook_batch_seconds
        while True:
            wait = None
            if self._gathered:
                wait = max(0.0, min(g.since for g in self._gathered.values()) + window - time.monotonic())
            try:
                item = await asyncio.wait_for(self._queue.get(), wait) if wait is not None else await self._queue.get()
            except TimeoutError:
                item = None
            try:
                if isinstance(item, _Stored):
                    self._gather(item)
                elif isinstance(item, Event):
                    await self._dispatch(item)
                await self._flush(everything=False)
            except Exception:
                log.exception("webhook events could not be dispatched")

    async def close(self) -> None:
        """Send what is gathered, let deliveries in flight finish for a moment, then stop."""
        with contextlib.suppress(Exception):
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if isinstance(item, _Stored):
                    self._gather(item)
                else:
                    await self._dispatch(item)
            await self._flush(everything=True)
        if self._deliveries:
            await asyncio.wait(set(self._deliveries), timeout=self._settings.webhook_timeout_seconds)
        for task in set(self._deliveries):
            task.cancel()
        if self._http is not None:
            await self._http.aclose()

    def _nobody_wants_responses(self) -> bool:
        """Whether no webhook wants response.stored, as read within WANTED_SECONDS: then a busy room without webhooks
        costs no more than this test per commit and session (not a trip through the queue: 4 % of the server's
        samples with 200 rooms voting at once, docs/benchmarks.md)."""
        wanted = self._wanted
        if wanted is None or time.monotonic() - wanted[0] > WANTED_SECONDS:
            return False  # not known lately: the delivery loop reads it
        return RESPONSE_STORED not in wanted[1]

    def _gather(self, stored: _Stored) -> None:
        if self._nobody_wants_responses():
            return
        gathered = self._gathered.setdefault(stored.session_id, _Gathered(since=time.monotonic()))
        gathered.responses.extend(
            {
                "activity_id": event.activity_id,
                "participant_id": event.participant_id,
                "version": event.version,
                "answer": event.payload,
            }
            for event in stored.events
        )

    async def _flush(self, *, everything: bool) -> None:
        """Post gathered responses whose window is over (or that fill an event), one event per session."""
        now, limit = time.monotonic(), self._settings.webhook_batch_limit
        for session_id, gathered in list(self._gathered.items()):
            if not (everything or now - gathered.since >= self._settings.webhook_batch_seconds):
                if len(gathered.responses) < limit:
                    continue
            del self._gathered[session_id]
            dropped = self._dropped.pop(session_id, 0)
            for start in range(0, len(gathered.responses), limit):
                data: dict[str, Any] = {
                    "session_id": session_id,
                    "responses": gathered.responses[start : start + limit],
                }
                if dropped:
                    data["dropped"] = dropped  # lost at a full queue before these: re-read the session if it matters
                    dropped = 0
                await self._dispatch(Event("response.stored", data, ("session", session_id)))

    async def _dispatch(self, event: Event) -> None:
        """Record a delivery for each subscription that wants the event and may read it, and start posting it."""
        if event.type not in await self._wanted_types():
            return
        async with self._maker() as db, db.begin():
            chosen = await subscribers(db, event.type, *event.scope)
            deliveries = [
                WebhookDelivery(
                    webhook_id=_id(webhook), delivery_id=str(uuid.uuid4()), event_id=event.id, event_type=event.type
                )
                for webhook in chosen
            ]
            db.add_all(deliveries)
        for webhook, delivery in zip(chosen, deliveries, strict=True):
            await self._slots.acquire()  # bounded: past it, the loop waits and the queue fills (and then drops)
            task = asyncio.create_task(self._deliver(webhook, delivery, event))
            self._deliveries.add(task)
            task.add_done_callback(self._done)

    async def _wanted_types(self) -> frozenset[str]:
        now = time.monotonic()
        if self._wanted is None or now - self._wanted[0] > WANTED_SECONDS:
            async with self._maker() as db:
                lists = (await db.exec(select(Webhook.events).where(col(Webhook.active)))).all()
            self._wanted = (now, frozenset(event for events in lists for event in events))
        return self._wanted[1]

    def _done(self, task: asyncio.Task[None]) -> None:
        self._deliveries.discard(task)
        self._slots.release()

    async def _deliver(self, webhook: Webhook, delivery: WebhookDelivery, event: Event) -> None:
        """Post one event to one webhook until it is taken or the attempts run out; record the outcome."""
        settings = self._settings
        body = event.body()
        outcome = _Outcome()
        for attempt in range(1, settings.webhook_attempts + 1):
            if attempt > 1:
                await asyncio.sleep(
                    backoff(attempt - 1, settings.webhook_backoff_seconds, settings.webhook_backoff_cap_seconds)
                )
            self.stats.attempts += 1
            outcome = await self._attempt(webhook, delivery.delivery_id, event.type, body)
            outcome.attempts = attempt
            if not outcome.retry:
                break
        if outcome.ok:
            self.stats.delivered += 1
        else:
            self.stats.failed += 1
        try:
            await self._record(webhook, delivery, outcome)
        except Exception:
            log.exception("the outcome of webhook delivery %s could not be recorded", delivery.delivery_id)

    async def _attempt(self, webhook: Webhook, delivery_id: str, event_type: str, body: bytes) -> _Outcome:
        try:
            target, host = await resolve_target(webhook.url, allow_local=self._settings.webhooks_allow_local)
        except WebhookRefused as refused:
            return _Outcome(error=str(refused), retry=isinstance(refused, TargetUnreachable))
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Host": _host_header(webhook.url, host),
            EVENT_HEADER: event_type,
            DELIVERY_HEADER: delivery_id,
            SIGNATURE_HEADER: signature_header(webhook.secret, timestamp, body),
        }
        extensions = {"sni_hostname": host} if target.startswith("https:") and _address(host) is None else {}
        try:
            answer = await self._client().post(target, content=body, headers=headers, extensions=extensions)
        except httpx.TimeoutException:
            return _Outcome(error="No answer within the timeout.", retry=True)
        except httpx.HTTPError as error:
            return _Outcome(error=f"Could not connect: {error.__class__.__name__} {error}"[:MAX_ERROR], retry=True)
        status = answer.status_code
        if 200 <= status < 300:
            return _Outcome(ok=True, status=status)
        retry = status >= 500 or status in RETRIED_STATUSES
        return _Outcome(status=status, error=f"The receiver answered {status}.", retry=retry)

    async def _record(self, webhook: Webhook, delivery: WebhookDelivery, outcome: _Outcome) -> None:
        settings = self._settings
        async with self._maker() as db, db.begin():
            stored = await db.get(Webhook, webhook.id, with_for_update=True)
            if stored is None:
                return  # deleted meanwhile
            row = await db.get(WebhookDelivery, delivery.id)
            if row is not None:
                row.status = "delivered" if outcome.ok else "failed"
                row.attempts = outcome.attempts
                row.response_status = outcome.status
                row.error = outcome.error[:MAX_ERROR]
                row.finished_at = utcnow()
                db.add(row)
            if outcome.ok:
                stored.failures = 0
            else:
                stored.failures += 1
                if stored.active and stored.failures >= settings.webhook_failures_to_pause:
                    stored.active = False
                    stored.paused_reason = (
                        f"Paused by the server after {stored.failures} failed deliveries in a row "
                        f"(the last: {outcome.error})"
                    )[:MAX_ERROR]
                    self.stats.paused += 1
                    log.warning("webhook %s paused: %s", stored.id, stored.paused_reason)
            db.add(stored)
            # Only the most recent deliveries are kept: the record is for seeing what happens, not an archive.
            oldest_kept = (
                await db.exec(
                    select(WebhookDelivery.id)
                    .where(WebhookDelivery.webhook_id == stored.id)
                    .order_by(col(WebhookDelivery.id).desc())
                    .offset(settings.webhook_deliveries_kept - 1)
                    .limit(1)
                )
            ).first()
            if oldest_kept is not None:
                await db.exec(
                    delete(WebhookDelivery).where(
                        col(WebhookDelivery.webhook_id) == stored.id, col(WebhookDelivery.id) < oldest_kept
                    )
                )


@dataclass
class _Outcome:
    ok: bool = False
    status: int | None = None
    error: str = ""
    retry: bool = False
    attempts: int = 0


def _trusted(settings: Settings) -> ssl.SSLContext:
    """The certificates receivers are checked against: the public authorities, and the setting's file if any."""
    context = ssl.create_default_context(cafile=certifi.where())
    if settings.webhook_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.webhook_ca_file))
    return context


def backoff(retry: int, base: float, cap: float) -> float:
    """Seconds before retry number `retry` (1, 2, ...): base doubled each time, capped, with "full jitter" (a random
    share between half and all of it) so receivers coming back are not hit by every sender at once."""
    ceiling = min(cap, base * 2 ** (retry - 1))
    return random.uniform(ceiling / 2, ceiling)


def _host_header(url: str, host: str) -> str:
    parts = urlsplit(url)
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{parts.port}" if parts.port else shown


def _id(webhook: Webhook) -> int:
    assert webhook.id is not None
    return webhook.id
