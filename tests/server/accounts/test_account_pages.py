"""The account page (password change, API tokens), the token API, and the cookies' attributes, through HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import Cookie
from typing import Any

import httpx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.models import ApiToken, Role, User
from tests.factories import (
    PASSWORD,
    TWO_QUESTIONS,
    Presenter,
    api_token,
    csrf_from,
    login,
    make_user,
    stored,
)

PAGE = {"Accept": "text/html"}
NEW_PASSWORD = "a longer new password, 2026"
ANA = "ana@example.org"


@pytest.fixture
def ana(client: TestClient) -> User:
    """A presenter, signed in through the login form."""
    user = make_user(client, ANA)
    login(client, ANA)
    return user


def account(client: TestClient) -> httpx.Response:
    page = client.get("/account", headers=PAGE, follow_redirects=False)
    assert page.status_code == 200, page.text
    return page


def post(client: TestClient, path: str, **fields: str) -> httpx.Response:
    """A form post from the account page, with its CSRF token."""
    data = {"csrf_token": csrf_from(account(client).text), **fields}
    return client.post(path, data=data, headers=PAGE, follow_redirects=False)


def change_password(
    client: TestClient, current: str = PASSWORD, new: str = NEW_PASSWORD, again: str | None = None
) -> httpx.Response:
    fields = {"current_password": current, "new_password": new, "new_password_again": new if again is None else again}
    return post(client, "/account/password", **fields)


def new_token(client: TestClient, name: str) -> str:
    page = post(client, "/account/tokens", name=name)
    assert page.status_code == 200, page.text
    match = re.search(r'value="(hsu_[A-Za-z0-9_-]+)" readonly', page.text)
    assert match, "the new token's secret is on the page"
    return match.group(1)


def token_row(page: str, name: str) -> str:
    """The row of the account page's token table that names this token."""
    [row] = [row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if f"<td>{name}</td>" in row]
    return row


def cookies_of(client: TestClient) -> list[Cookie]:
    return list(client.cookies.jar)


def use_cookies(client: TestClient, cookies: list[Cookie]) -> None:
    client.cookies.clear()
    for cookie in cookies:
        client.cookies.jar.set_cookie(cookie)


@contextmanager
def another_browser(client: TestClient) -> Iterator[None]:
    """Requests from another browser: its own cookies for the duration, then the first one's back."""
    kept = cookies_of(client)
    client.cookies.clear()
    try:
        yield
    finally:
        use_cookies(client, kept)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in(client: TestClient) -> bool:
    return client.get("/account", headers=PAGE, follow_redirects=False).status_code == 200


# --- the page -------------------------------------------------------------------------------------------------


def test_the_account_page_shows_who_is_signed_in(client: TestClient, ana: User) -> None:
    page = account(client).text
    assert "<dd>ana@example.org</dd>" in page and "<dd>presenter</dd>" in page
    assert "Change your password" in page and "No tokens yet." in page


def test_the_account_page_needs_a_signed_in_browser(client: TestClient) -> None:
    response = client.get("/account", headers=PAGE, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/account")


def test_the_dashboard_and_organizer_pages_link_the_account_page(client: TestClient, ana: User) -> None:
    assert '<a href="/account">Account</a>' in client.get("/present").text
    assert '<a href="/admin/people">' not in client.get("/present").text
    make_user(client, "olga@example.org", Role.organizer)
    login(client, "olga@example.org")
    assert '<a href="/account">Account</a>' in client.get("/organize").text


# --- changing the password --------------------------------------------------------------------------------------


def test_a_password_change_signs_out_the_other_browsers_and_the_old_password_stops_working(
    client: TestClient, ana: User
) -> None:
    with another_browser(client):
        login(client, ANA)
        assert signed_in(client)
        laptop = cookies_of(client)
    changed = change_password(client)
    assert (changed.status_code, changed.headers["location"]) == (303, "/account?done=password")
    assert (
        "Your other browsers are signed out; this one stays signed in." in client.get(changed.headers["location"]).text
    )
    with another_browser(client):
        use_cookies(client, laptop)
        assert not signed_in(client)
        response = client.get("/present", headers=PAGE, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/login?next=/present")
    with another_browser(client):
        page = client.get("/login")
        refused = client.post(
            "/login",
            data={"csrf_token": csrf_from(page.text), "email": ANA, "password": PASSWORD},
            follow_redirects=False,
        )
        assert refused.status_code == 401
        login(client, ANA, NEW_PASSWORD)
        assert signed_in(client)


def test_a_password_change_keeps_the_api_tokens_working(client: TestClient, ana: User) -> None:
    token = api_token(client, ANA)
    assert change_password(client).status_code == 303
    assert client.get("/api/v1/tokens", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("not my password", NEW_PASSWORD, None, "The current password is not right. Nothing was changed."),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "The two new passwords differ."),
        (PASSWORD, "short", None, "The new password is not accepted: use at least 10 characters."),
        (PASSWORD, PASSWORD, None, "choose a new password, not the current one."),
        (PASSWORD, "ana@example.org-forever", None, "choose a password that does not contain your email address."),
    ],
)
def test_a_password_change_that_cannot_be_made_says_why_in_the_page_and_changes_nothing(
    client: TestClient, ana: User, current: str, new: str, again: str | None, message: str
) -> None:
    refused = change_password(client, current, new, again)
    assert refused.status_code == 422
    assert message in refused.text and 'role="alert"' in refused.text
    [stored_user] = stored(client, select(User).where(User.email == ANA))
    assert stored_user.password_hash == ana.password_hash and stored_user.session_generation == 0
    assert signed_in(client)


def test_guessing_the_current_password_is_throttled_as_sign_ins_are(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"login_attempts_per_account": 2}))) as client:
        make_user(client, ANA)
        login(client, ANA)
        assert change_password(client, "guess one").status_code == 422
        assert change_password(client, "guess two").status_code == 422
        throttled = change_password(client)
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
        assert "Too many sign-in attempts; try again in" in throttled.text
        [user] = stored(client, select(User))
        assert user.session_generation == 0


def test_account_forms_without_their_csrf_token_are_refused(client: TestClient, ana: User) -> None:
    token = api_token(client, ANA)
    [row] = stored(client, select(ApiToken))
    for path, data in [
        ("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        ("/account/tokens", {"name": "sneaky"}),
        (f"/account/tokens/{row.id}/revoke", {}),
    ]:
        assert client.post(path, data=data, headers=PAGE).status_code == 403
        assert client.post(path, data={**data, "csrf_token": "forged"}, headers=PAGE).status_code == 403
    assert client.get("/api/v1/tokens", headers=bearer(token)).status_code == 200
    assert len(stored(client, select(ApiToken))) == 1
    login(client, ANA)  # the password is unchanged


# --- API tokens on the page ---------------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_works(client: TestClient, ana: User) -> None:
    page = post(client, "/account/tokens", name="  laptop   script ")
    assert page.headers["cache-control"] == "no-store"
    secret = new_token(client, "second")
    assert "it is not shown again" in page.text
    listing = account(client).text
    assert "laptop script" in listing and "second" in listing
    assert secret not in listing and "hsu_" not in listing
    assert "<td>never</td>" in token_row(account(client).text, "second")
    assert client.get("/api/v1/tokens", headers=bearer(secret)).status_code == 200
    assert "<td>never</td>" not in token_row(account(client).text, "second")


def test_a_token_needs_a_name(client: TestClient, ana: User) -> None:
    refused = post(client, "/account/tokens", name="   ")
    assert refused.status_code == 422
    assert "Give the token a name" in refused.text
    assert stored(client, select(ApiToken)) == []


def test_a_revoked_token_is_refused_at_once(client: TestClient, ana: User) -> None:
    secret = new_token(client, "old script")
    [row] = stored(client, select(ApiToken))
    revoked = post(client, f"/account/tokens/{row.id}/revoke")
    assert (revoked.status_code, revoked.headers["location"]) == (303, "/account?done=revoked")
    page = client.get(revoked.headers["location"]).text
    assert "The token is revoked: it is refused from now on." in page
    assert "<td>revoked " in token_row(page, "old script")
    response = client.get("/api/v1/tokens", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["detail"] == "That API token is not valid or was revoked."


def test_nobody_revokes_another_persons_token_from_their_page(client: TestClient, ana: User) -> None:
    make_user(client, "bo@example.org")
    theirs = api_token(client, "bo@example.org")
    [row] = stored(client, select(ApiToken))
    assert post(client, f"/account/tokens/{row.id}/revoke").status_code == 404
    assert client.get("/api/v1/tokens", headers=bearer(theirs)).status_code == 200


def test_an_account_holds_a_bounded_number_of_tokens(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"api_tokens_per_account": 2}))) as client:
        make_user(client, ANA)
        login(client, ANA)
        new_token(client, "one")
        new_token(client, "two")
        refused = post(client, "/account/tokens", name="three")
        assert refused.status_code == 422
        assert "This account has 2 API tokens already" in refused.text
        [first, *_] = stored(client, select(ApiToken.id).order_by(ApiToken.id))
        post(client, f"/account/tokens/{first}/revoke")
        new_token(client, "three")


def test_hostile_token_names_are_shown_as_text(client: TestClient, ana: User) -> None:
    page = post(client, "/account/tokens", name='<img src=x onerror="alert(1)">').text
    assert "<img src=x" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "<img src=x" not in account(client).text


# --- the token API ------------------------------------------------------------------------------------------------


def test_the_token_api_lists_the_callers_tokens_without_secrets(client: TestClient, presenter: Presenter) -> None:
    make_user(client, "bo@example.org")
    api_token(client, "bo@example.org")
    response = client.get("/api/v1/tokens", headers=presenter.headers)
    assert response.status_code == 200
    [token] = response.json()
    assert set(token) == {"id", "name", "created_at", "last_used_at", "revoked_at"}
    assert token["revoked_at"] is None and token["last_used_at"] is not None
    assert presenter.token not in response.text


def test_deleting_a_token_through_the_api_revokes_it(client: TestClient, presenter: Presenter) -> None:
    spare = api_token(client, presenter.user.email)
    listed = client.get("/api/v1/tokens", headers=presenter.headers).json()
    spare_id = max(token["id"] for token in listed)
    deleted = client.delete(f"/api/v1/tokens/{spare_id}", headers=presenter.headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert client.get("/api/v1/tokens", headers=bearer(spare)).status_code == 401
    [revoked] = [t for t in client.get("/api/v1/tokens", headers=presenter.headers).json() if t["id"] == spare_id]
    assert revoked["revoked_at"] is not None
    assert client.delete(f"/api/v1/tokens/{spare_id}", headers=presenter.headers).status_code == 204


def test_a_token_can_revoke_itself(client: TestClient, presenter: Presenter) -> None:
    [own] = client.get("/api/v1/tokens", headers=presenter.headers).json()
    assert client.delete(f"/api/v1/tokens/{own['id']}", headers=presenter.headers).status_code == 204
    assert client.get("/api/v1/tokens", headers=presenter.headers).status_code == 401


def test_another_accounts_token_is_not_found(client: TestClient, presenter: Presenter) -> None:
    make_user(client, "bo@example.org")
    theirs = api_token(client, "bo@example.org")
    their_id = client.get("/api/v1/tokens", headers=bearer(theirs)).json()[0]["id"]
    response = client.delete(f"/api/v1/tokens/{their_id}", headers=presenter.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == f"There is no API token {their_id} among yours."
    assert client.get("/api/v1/tokens", headers=bearer(theirs)).status_code == 200


def test_the_token_api_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/tokens").status_code == 401
    assert client.delete("/api/v1/tokens/1").status_code == 401


# --- cookies --------------------------------------------------------------------------------------------------


def cookie_attributes(header: str) -> dict[str, str]:
    """A Set-Cookie header's attributes, by lower-case name ("secure": "" when present)."""
    parts = [part.strip() for part in header.split(";")]
    return {name.lower(): value for name, _, value in (part.partition("=") for part in parts[1:])}


def set_cookie(response: httpx.Response, name: str) -> dict[str, str]:
    [header] = [value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")]
    return cookie_attributes(header)


@pytest.mark.parametrize(
    ("public_url", "https_cookies", "secure"),
    [
        (None, None, False),
        ("http://handsup.example.org", None, False),
        ("https://handsup.example.org", None, True),
        ("HTTPS://handsup.example.org/", None, True),
        ("https://handsup.example.org", False, False),
        ("http://handsup.example.org", True, True),
    ],
)
def test_the_session_and_participant_cookies_are_secure_behind_https(
    settings: Settings, public_url: str | None, https_cookies: bool | None, secure: bool
) -> None:
    configured = Settings(**{**settings.model_dump(), "public_url": public_url, "https_cookies": https_cookies})
    assert configured.secure_cookies is secure
    with TestClient(create_app(configured)) as client:
        session_cookie = set_cookie(client.get("/login"), "handsup_session")
        user = make_user(client, ANA)
        started: dict[str, Any] = Presenter(client, user, api_token(client, ANA)).start(TWO_QUESTIONS)
        participant_cookie = set_cookie(client.get(f"/{started['code']}", headers=PAGE), "handsup_participant")
    for attributes in (session_cookie, participant_cookie):
        assert "httponly" in attributes
        assert attributes["samesite"].lower() == "lax"
        assert attributes["path"] == "/"
        assert ("secure" in attributes) is secure


def test_https_cookies_follows_public_url_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANDSUP_HTTPS_COOKIES", raising=False)
    monkeypatch.setenv("HANDSUP_PUBLIC_URL", "https://handsup.example.org")
    assert Settings(env="test").secure_cookies is True
    monkeypatch.setenv("HANDSUP_HTTPS_COOKIES", "false")
    assert Settings(env="test").secure_cookies is False
