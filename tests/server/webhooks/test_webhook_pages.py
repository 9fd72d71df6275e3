"""The account page's webhooks section: add (the secret shown once), pause, resume, delete, see deliveries."""

from __future__ import annotations

import re

from sqlmodel import select
from starlette.testclient import TestClient

from server.models import Webhook
from tests.factories import csrf_from, login, make_user, stored


def signed_in(client: TestClient, email: str = "presenter@example.org") -> str:
    """Sign in through the form; the account page's CSRF token."""
    make_user(client, email)
    login(client, email)
    return csrf_from(client.get("/account").text)


def add(client: TestClient, csrf: str, url: str, events: list[str]) -> str:
    answer = client.post("/account/webhooks", data={"csrf_token": csrf, "url": url, "events": events})
    return answer.text if answer.status_code == 200 else f"{answer.status_code}: {answer.text}"


def test_the_account_page_has_a_webhooks_section_with_the_form(client: TestClient) -> None:
    signed_in(client)
    page = client.get("/account").text
    assert 'id="webhooks"' in page and "No webhooks yet." in page
    for event in ("response.stored", "session.ended", "archive.ready"):
        assert f'name="events" value="{event}"' in page


def test_adding_a_webhook_shows_its_secret_once(client: TestClient) -> None:
    csrf = signed_in(client)
    page = add(client, csrf, "https://hooks.example.com/in", ["session.ended", "archive.ready"])
    secret = re.search(r'value="(whsec_[^"]+)" readonly', page)
    assert secret, page
    [webhook] = stored(client, select(Webhook))
    assert webhook.secret == secret.group(1) and webhook.events == ["session.ended", "archive.ready"]
    account = client.get("/account").text
    assert "https://hooks.example.com/in" in account and secret.group(1) not in account
    assert "Active" in account and "No deliveries yet." in account


def test_a_refused_url_is_explained_beside_the_filled_form_and_nothing_is_stored(client: TestClient) -> None:
    csrf = signed_in(client)
    answer = client.post(
        "/account/webhooks", data={"csrf_token": csrf, "url": "https://10.0.0.5/hooks", "events": ["session.ended"]}
    )
    assert answer.status_code == 422
    assert "private, loopback or link-local" in answer.text
    assert 'value="https://10.0.0.5/hooks"' in answer.text  # the form comes back as it was sent
    assert 'value="session.ended"\n      checked' in answer.text or 'value="session.ended" checked' in answer.text
    unknown = client.post(
        "/account/webhooks", data={"csrf_token": csrf, "url": "https://example.org/h", "events": ["nope"]}
    )
    assert unknown.status_code == 422 and "Unknown event" in unknown.text
    none = client.post("/account/webhooks", data={"csrf_token": csrf, "url": "https://example.org/h"})
    assert none.status_code == 422 and "at least one event" in none.text
    assert stored(client, select(Webhook)) == []


def test_pause_resume_and_delete_from_the_page(client: TestClient) -> None:
    csrf = signed_in(client)
    add(client, csrf, "https://hooks.example.com/in", ["session.ended"])
    [webhook] = stored(client, select(Webhook))
    paused = client.post(f"/account/webhooks/{webhook.id}/pause", data={"csrf_token": csrf}, follow_redirects=False)
    assert paused.status_code == 303 and paused.headers["location"] == "/account#webhooks"
    assert "Paused" in client.get("/account").text
    client.post(f"/account/webhooks/{webhook.id}/resume", data={"csrf_token": csrf})
    [resumed] = stored(client, select(Webhook))
    assert resumed.active is True
    client.post(f"/account/webhooks/{webhook.id}/delete", data={"csrf_token": csrf})
    assert stored(client, select(Webhook)) == []
    assert "No webhooks yet." in client.get("/account").text


def test_another_accounts_webhook_cannot_be_paused_or_deleted_from_the_page(client: TestClient) -> None:
    csrf = signed_in(client, "owner@example.org")
    add(client, csrf, "https://hooks.example.com/in", ["session.ended"])
    [webhook] = stored(client, select(Webhook))
    client.cookies.clear()
    other = signed_in(client, "other@example.org")
    for action in ("pause", "delete"):
        refused = client.post(f"/account/webhooks/{webhook.id}/{action}", data={"csrf_token": other})
        assert refused.status_code == 404
    assert "https://hooks.example.com/in" not in client.get("/account").text
    [kept] = stored(client, select(Webhook))
    assert kept.active is True


def test_a_form_without_its_csrf_token_changes_nothing(client: TestClient) -> None:
    signed_in(client)
    answer = client.post("/account/webhooks", data={"url": "https://example.org/h", "events": ["session.ended"]})
    assert answer.status_code in (403, 422) or "expired" in answer.text.lower()
    assert stored(client, select(Webhook)) == []


def test_adding_a_webhook_speaks_the_visitors_language(client: TestClient) -> None:
    """The section's words come from the catalogue: the account page around it switches language with its own
    piece of issue 17; the pages this router answers with already follow the visitor's choice."""
    csrf = signed_in(client)
    client.cookies.set("handsup_language", "es")
    refused = client.post(
        "/account/webhooks", data={"csrf_token": csrf, "url": "https://10.0.0.5/hooks", "events": ["session.ended"]}
    )
    assert refused.status_code == 422
    assert "es privada, de bucle local o de enlace local" in refused.text
    assert "Añadir un webhook" in refused.text and "Volver a su cuenta" in refused.text
    added = add(client, csrf, "https://hooks.example.com/in", ["session.ended"])
    assert "Su webhook a https://hooks.example.com/in está añadido." in added and "Secreto de firma" in added
