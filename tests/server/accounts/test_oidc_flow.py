"""The way to a provider and back, through HTTP, against the real OpenID provider of the browser tests (npm
`oidc-provider` on loopback): what the authorization request carries, and how each bad answer is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from tests.factories import SECRET, free_port
from tests.services import OpenIdProvider, scratch_folder

CALLBACK = "http://testserver/login/oidc/district/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIdProvider]:
    running = OpenIdProvider(
        scratch_folder("oidc-"),
        [{"client_id": "district", "client_secret": "district-secret", "redirect_uris": [CALLBACK]}],
        {"ada": {"email": "ada@district.example.org", "email_verified": True, "name": "Ada"}},
    )
    running.start()
    yield running
    running.stop()


def settings(tmp_path: Any, issuer: str, **named: Any) -> Settings:
    district = {
        "name": "district",
        "title": "District",
        "issuer": issuer,
        "client_id": "district",
        "client_secret": "district-secret",
        "domains": {"district.example.org": "presenter"},
    }
    return Settings(env="test", data_dir=tmp_path, secret_key=SECRET, oidc_providers=[district], **named)


@pytest.fixture
def client(tmp_path: Any, provider: OpenIdProvider) -> Iterator[TestClient]:
    with TestClient(create_app(settings(tmp_path, provider.issuer)), base_url="http://testserver") as test_client:
        yield test_client


def start(client: TestClient) -> dict[str, str]:
    """Press the button: the parameters of the authorization request the browser is sent to."""
    leaving = client.get("/login/oidc/district?next=/present/decks", follow_redirects=False)
    assert leaving.status_code == 303, leaving.text
    return {key: values[0] for key, values in parse_qs(urlsplit(leaving.headers["location"]).query).items()}


def test_the_authorization_request_carries_state_nonce_and_a_pkce_challenge(
    client: TestClient, provider: OpenIdProvider
) -> None:
    leaving = client.get("/login/oidc/district", follow_redirects=False)
    assert leaving.headers["location"].startswith(f"{provider.issuer}/auth?")
    request = start(client)
    assert request["response_type"] == "code" and request["client_id"] == "district"
    assert request["redirect_uri"] == CALLBACK and request["scope"] == "openid email profile"
    assert request["code_challenge_method"] == "S256" and len(request["code_challenge"]) == 43
    assert len(request["state"]) >= 43 and len(request["nonce"]) >= 43
    again = start(client)
    assert again["state"] != request["state"] and again["nonce"] != request["nonce"]
    # The provider takes the request as it is: it answers with its own sign-in page, not an error.
    at_provider = httpx.get(leaving.headers["location"], follow_redirects=True)
    assert at_provider.status_code == 200 and 'name="login"' in at_provider.text


def test_a_cancelled_sign_in_says_so(client: TestClient) -> None:
    state = start(client)["state"]
    answer = client.get(f"/login/oidc/district/callback?error=access_denied&state={state}")
    assert answer.status_code == 400 and "The sign-in was cancelled at the provider." in answer.text


def test_a_code_the_provider_never_gave_is_refused_by_it(client: TestClient) -> None:
    state = start(client)["state"]
    answer = client.get(f"/login/oidc/district/callback?code=made-up&state={state}")
    assert answer.status_code == 400
    assert "The provider did not accept the sign-in code: it may have expired or been used already." in answer.text
    assert client.get("/present", follow_redirects=False).status_code == 303  # still signed out


def test_an_answer_for_another_browsers_sign_in_is_refused(client: TestClient) -> None:
    state = start(client)["state"]
    answer = client.get("/login/oidc/district/callback?code=x&state=someone-elses")
    assert answer.status_code == 400
    assert "The answer from the provider does not belong to the sign-in this browser started." in answer.text
    # The sign-in is spent: its real state does not work after that either.
    stray = client.get(f"/login/oidc/district/callback?code=x&state={state}")
    assert stray.status_code == 400 and "This sign-in has expired or was finished already." in stray.text


def test_failed_answers_count_against_the_sign_in_throttle(tmp_path: Any, provider: OpenIdProvider) -> None:
    limited = settings(tmp_path, provider.issuer, login_attempts_per_address=2)
    with TestClient(create_app(limited), base_url="http://testserver") as client:
        for _ in range(2):
            state = start(client)["state"]
            assert client.get(f"/login/oidc/district/callback?code=made-up&state={state}").status_code == 400
        state = start(client)["state"]
        throttled = client.get(f"/login/oidc/district/callback?code=made-up&state={state}")
        assert throttled.status_code == 429 and "Too many sign-in attempts" in throttled.text
        assert int(throttled.headers["Retry-After"]) > 0


def test_a_provider_that_does_not_answer_gets_a_clear_page(tmp_path: Any) -> None:
    down = settings(tmp_path, f"http://127.0.0.1:{free_port()}", oidc_timeout_seconds=2)
    with TestClient(create_app(down), base_url="http://testserver") as client:
        page = client.get("/login/oidc/district", follow_redirects=False)
        assert page.status_code == 502
        assert "District cannot be reached just now, so nobody can sign in with it." in page.text
