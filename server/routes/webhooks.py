"""An account's webhooks (server/webhooks.py): the JSON API under /api/v1/webhooks and the account page's section."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from server.accounts.access import ACCOUNT_PAGE, ApiUser, PageUser
from server.accounts.csrf import check_csrf, csrf_token
from server.models import User, Webhook, WebhookDelivery, as_utc
from server.services import Services
from server.web.deps import Id, ServicesDep, Text
from server.web.headers import NO_STORE
from server.web.i18n import in_their_language
from server.web.problems import API_ERRORS, Problem
from server.webhooks import (
    EVENT_TYPES,
    MAX_URL,
    NoSuchWebhook,
    WebhookRefused,
    create_webhook,
    delete_webhook,
    deliveries_of,
    update_webhook,
    webhook_of,
    webhooks_of,
)

EventType = Literal["response.stored", "session.ended", "archive.ready"]
assert set(EventType.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]  # the API's list is the module's
SECTION = f"{ACCOUNT_PAGE}#webhooks"

# --- JSON API -----------------------------------------------------------------------------------------------------

api_router = APIRouter(
    prefix="/api/v1/webhooks", tags=["v1: webhooks"], responses=API_ERRORS, dependencies=[Depends(in_their_language)]
)


class WebhookCreate(BaseModel):
    """A new webhook: where events are posted, and which."""

    url: Text = Field(
        max_length=MAX_URL,
        description="https:// address the events are posted to (no user or password in it; public addresses only)",
        examples=["https://example.org/handsup-events"],
    )
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES), examples=[["session.ended"]])


class WebhookUpdate(BaseModel):
    """What to change: pause or resume (`active`), the URL, the events; fields left out stay as they are."""

    active: bool | None = Field(default=None, description="false pauses it, true resumes it (and forgets failures)")
    url: Text | None = Field(default=None, max_length=MAX_URL)
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES))


class WebhookPublic(BaseModel):
    """A webhook as its owner sees it: never its secret, which is shown once, at creation."""

    id: int
    url: str
    events: list[str]
    active: bool
    paused_reason: str = Field(description="Why the server paused it (empty when its owner did, or when active)")
    failures: int = Field(description="Deliveries in a row that failed after all their attempts")
    created_at: datetime


class WebhookCreated(WebhookPublic):
    """The new webhook, with its signing secret: keep it now, it is not shown again."""

    secret: str = Field(description="Verifies the Handsup-Signature header of each delivery (docs/api.md)")


class DeliveryPublic(BaseModel):
    """One event posted to the webhook, and how it went."""

    delivery_id: str = Field(description="The Handsup-Delivery header: the same on each attempt (idempotency key)")
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    response_status: int | None = Field(description="The receiver's last HTTP status, if it answered")
    error: str
    created_at: datetime
    finished_at: datetime | None


@api_router.get("", response_model=list[WebhookPublic])
async def list_webhooks(user: ApiUser, services: ServicesDep) -> list[WebhookPublic]:
    """The caller's webhooks, oldest first."""
    return [_public(webhook) for webhook in await webhooks_of(services.db, _user_id(user))]


@api_router.post("", status_code=201, response_model=WebhookCreated)
async def add_webhook(body: WebhookCreate, user: ApiUser, services: ServicesDep) -> WebhookCreated:
    """Subscribe a URL to events; the answer holds the signing secret, once."""
    webhook = await _create(services, user, body.url, list(body.events))
    return WebhookCreated(**_public(webhook).model_dump(), secret=webhook.secret)


@api_router.get("/{webhook_id}", response_model=WebhookPublic)
async def get_webhook(webhook_id: Id, user: ApiUser, services: ServicesDep) -> WebhookPublic:
    """One of the caller's webhooks."""
    try:
        return _public(await webhook_of(services.db, webhook_id, _user_id(user)))
    except NoSuchWebhook as missing:
        raise Problem(404, "Not found", str(missing)) from None


@api_router.patch("/{webhook_id}", response_model=WebhookPublic)
async def change_webhook(webhook_id: Id, body: WebhookUpdate, user: ApiUser, services: ServicesDep) -> WebhookPublic:
    """Pause, resume or change one of the caller's webhooks."""
    events = [str(event) for event in body.events] if body.events is not None else None
    return _public(await _update(services, user, webhook_id, active=body.active, url=body.url, events=events))


@api_router.delete("/{webhook_id}", status_code=204, response_class=Response)
async def remove_webhook(webhook_id: Id, user: ApiUser, services: ServicesDep) -> Response:
    """Delete one of the caller's webhooks and the record of its deliveries."""
    await _delete(services, user, webhook_id)
    return Response(status_code=204)


@api_router.get("/{webhook_id}/deliveries", response_model=list[DeliveryPublic])
async def list_deliveries(webhook_id: Id, user: ApiUser, services: ServicesDep) -> list[DeliveryPublic]:
    """The webhook's most recent deliveries (up to 50), newest first."""
    try:
        await webhook_of(services.db, webhook_id, _user_id(user))
    except NoSuchWebhook as missing:
        raise Problem(404, "Not found", str(missing)) from None
    found = await deliveries_of(services.db, [webhook_id], limit=50)
    return [_delivery(delivery) for delivery in found[webhook_id]]


# --- the account page's section -------------------------------------------------------------------------------------

# In the visitor's language, as the account page around the section is (issue 17 brings every staff page to Spanish).
router = APIRouter(
    prefix=f"{ACCOUNT_PAGE}/webhooks", include_in_schema=False, dependencies=[Depends(in_their_language)]
)


@router.post("", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def add_webhook_form(
    request: Request,
    user: PageUser,
    services: ServicesDep,
    url: Annotated[str, Form(max_length=MAX_URL + 100)] = "",
    events: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Add a webhook from the account page; the answer shows its secret once (or what to correct)."""
    try:
        webhook = await _create(services, user, url, events or [])
    except Problem as refused:
        page = _render(services, request, user, error=str(refused.detail), url=url, events=events or [])
        return HTMLResponse(page, status_code=422, headers=NO_STORE)
    return HTMLResponse(_render(services, request, user, created=webhook), headers=NO_STORE)


@router.post("/{webhook_id}/pause", dependencies=[Depends(check_csrf)])
async def pause_webhook_form(webhook_id: Id, user: PageUser, services: ServicesDep) -> Response:
    await _update(services, user, webhook_id, active=False)
    return RedirectResponse(SECTION, status_code=303)


@router.post("/{webhook_id}/resume", dependencies=[Depends(check_csrf)])
async def resume_webhook_form(webhook_id: Id, user: PageUser, services: ServicesDep) -> Response:
    await _update(services, user, webhook_id, active=True)
    return RedirectResponse(SECTION, status_code=303)


@router.post("/{webhook_id}/delete", dependencies=[Depends(check_csrf)])
async def delete_webhook_form(webhook_id: Id, user: PageUser, services: ServicesDep) -> Response:
    await _delete(services, user, webhook_id)
    return RedirectResponse(SECTION, status_code=303)


def _render(services: Services, request: Request, user: User, **context: object) -> str:
    return services.views.render(
        "account/webhook_added.html", user=user, csrf=csrf_token(request), event_types=EVENT_TYPES, **context
    )


# --- shared by both -------------------------------------------------------------------------------------------------


def _user_id(user: User) -> int:
    assert user.id is not None
    return user.id


async def _create(services: Services, user: User, url: str, events: list[str]) -> Webhook:
    try:
        webhook = await create_webhook(services.db, services.settings, _user_id(user), url, events)
    except WebhookRefused as refused:
        raise Problem(422, "Not a webhook this server takes", str(refused)) from None
    services.webhooks.changed()
    return webhook


async def _update(
    services: Services,
    user: User,
    webhook_id: int,
    *,
    active: bool | None = None,
    url: str | None = None,
    events: list[str] | None = None,
) -> Webhook:
    try:
        webhook = await update_webhook(
            services.db, services.settings, webhook_id, _user_id(user), active=active, url=url, events=events
        )
    except NoSuchWebhook as missing:
        raise Problem(404, "Not found", str(missing)) from None
    except WebhookRefused as refused:
        raise Problem(422, "Not a webhook this server takes", str(refused)) from None
    services.webhooks.changed()
    return webhook


async def _delete(services: Services, user: User, webhook_id: int) -> None:
    try:
        await delete_webhook(services.db, webhook_id, _user_id(user))
    except NoSuchWebhook as missing:
        raise Problem(404, "Not found", str(missing)) from None
    services.webhooks.changed()


def _public(webhook: Webhook) -> WebhookPublic:
    assert webhook.id is not None
    return WebhookPublic(
        id=webhook.id,
        url=webhook.url,
        events=list(webhook.events),
        active=webhook.active,
        paused_reason=webhook.paused_reason,
        failures=webhook.failures,
        created_at=as_utc(webhook.created_at),
    )


def _delivery(delivery: WebhookDelivery) -> DeliveryPublic:
    return DeliveryPublic(
        delivery_id=delivery.delivery_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        response_status=delivery.response_status,
        error=delivery.error,
        created_at=as_utc(delivery.created_at),
        finished_at=as_utc(delivery.finished_at) if delivery.finished_at else None,
    )
