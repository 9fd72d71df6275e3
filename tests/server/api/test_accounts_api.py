"""The account page's and the people page's actions over the JSON API: who the token is, the password, a new token;
accounts, roles, disabling and enabling (administrators)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from starlette.testclient import TestClient

from server.models import Role, UserIdentity
from tests.factories import PASSWORD, Presenter, api_token, link_request, login, make_user, set_pending, stored
from tests.server.routes.factories import problem


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_account_says_who_the_token_is(client: TestClient, presenter: Presenter) -> None:
    me = client.get("/api/v1/account", headers=presenter.headers).json()
    assert me == {
        "id": presenter.user.id,
        "email": presenter.user.email,
        "role": "presenter",
        "password_temporary": False,
    }


def test_a_new_token_is_shown_once_and_works(client: TestClient, presenter: Presenter) -> None:
    made = client.post("/api/v1/tokens", json={"name": "  laptop   script "}, headers=presenter.headers)
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    body = made.json()
    assert body["name"] == "laptop script" and body["secret"].startswith("hsu_") and body["revoked_at"] is None
    assert client.get("/api/v1/account", headers=_bearer(body["secret"])).json()["email"] == presenter.user.email
    listed = client.get("/api/v1/tokens", headers=presenter.headers).json()
    assert body["id"] in [token["id"] for token in listed]
    assert all("secret" not in token for token in listed)
    problem(client.post("/api/v1/tokens", json={"name": " "}, headers=presenter.headers), 422)


def test_the_token_limit_is_the_page_s(client: TestClient, presenter: Presenter) -> None:
    limit = client.app.state.services.settings.api_tokens_per_account  # type: ignore[attr-defined]
    for number in range(limit - 1):  # the presenter holds one already
        assert client.post("/api/v1/tokens", json={"name": f"t{number}"}, headers=presenter.headers).status_code == 201
    refused = problem(client.post("/api/v1/tokens", json={"name": "one more"}, headers=presenter.headers), 422)
    assert f"{limit} API tokens already" in refused["detail"]


def test_changing_the_password_signs_browsers_out_and_keeps_tokens(client: TestClient, presenter: Presenter) -> None:
    login(client, presenter.user.email)
    assert client.get("/present", follow_redirects=False).status_code == 200
    wrong = client.put(
        "/api/v1/account/password",
        json={"current_password": "not it", "new_password": "a brand new passphrase"},
        headers=presenter.headers,
    )
    assert problem(wrong, 422)["title"] == "Not changed"
    short = client.put(
        "/api/v1/account/password", json={"current_password": PASSWORD, "new_password": "x"}, headers=presenter.headers
    )
    problem(short, 422)
    changed = client.put(
        "/api/v1/account/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=presenter.headers,
    )
    assert changed.status_code == 204, changed.text
    assert client.get("/present", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get("/api/v1/account", headers=presenter.headers).status_code == 200
    client.cookies.clear()
    login(client, presenter.user.email, "a brand new passphrase")


def _admin(client: TestClient) -> dict[str, str]:
    make_user(client, "admin@example.org", Role.admin)
    return _bearer(api_token(client, "admin@example.org"))


def test_an_admin_creates_an_account_with_a_one_time_password(client: TestClient) -> None:
    admin = _admin(client)
    made = client.post("/api/v1/people", json={"email": "New.Person@Example.org", "role": "organizer"}, headers=admin)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["email"], body["role"], body["password_temporary"], body["disabled"]) == (
        "new.person@example.org",
        "organizer",
        True,
        False,
    )
    login(client, "new.person@example.org", body["password"])
    assert client.get("/present", follow_redirects=False).headers["location"] == "/account"
    given = client.post(
        "/api/v1/people", json={"email": "b@example.org", "password": "passed on by hand"}, headers=admin
    )
    assert given.json()["password"] is None
    problem(client.post("/api/v1/people", json={"email": "b@example.org"}, headers=admin), 422)
    people = client.get("/api/v1/people", headers=admin).json()
    assert [person["email"] for person in people] == ["admin@example.org", "b@example.org", "new.person@example.org"]


def test_an_admin_changes_a_role_and_disables_an_account(client: TestClient, presenter: Presenter) -> None:
    admin = _admin(client)
    url = f"/api/v1/people/{presenter.user.id}"
    promoted = client.patch(url, json={"role": "organizer"}, headers=admin).json()
    assert promoted["role"] == "organizer"
    assert client.get("/api/v1/institutes", headers=presenter.headers).status_code == 200
    disabled = client.patch(url, json={"disabled": True}, headers=admin).json()
    assert disabled["disabled"] is True
    assert "disabled" in problem(client.get("/api/v1/account", headers=presenter.headers), 401)["detail"]
    assert client.patch(url, json={"disabled": False}, headers=admin).json()["disabled"] is False
    assert client.get("/api/v1/account", headers=presenter.headers).status_code == 200


def test_the_last_admin_stays_and_strangers_are_refused(client: TestClient, presenter: Presenter) -> None:
    admin = _admin(client)
    me = client.get("/api/v1/account", headers=admin).json()["id"]
    assert (
        "only administrator"
        in problem(client.patch(f"/api/v1/people/{me}", json={"role": "presenter"}, headers=admin), 409)["detail"]
    )
    problem(client.patch(f"/api/v1/people/{me}", json={"disabled": True}, headers=admin), 409)
    problem(client.patch("/api/v1/people/999999", json={"role": "admin"}, headers=admin), 404)
    problem(client.get("/api/v1/people", headers=presenter.headers), 403)
    problem(client.patch(f"/api/v1/people/{me}", json={"role": "presenter"}, headers=presenter.headers), 403)
    assert client.get("/api/v1/account", headers=admin).json()["role"] == "admin"


def test_single_sign_on_accounts_over_the_api(client: TestClient) -> None:
    """The people page's single sign-on actions have their twins: an account without a password, approving an
    account a provider made waiting, and linking or refusing a provider's sign-in."""
    admin = _admin(client)
    made = client.post("/api/v1/people", json={"email": "fay@example.org", "sign_in": "provider"}, headers=admin)
    assert made.status_code == 201, made.text
    assert (made.json()["password"], made.json()["password_temporary"], made.json()["identities"]) == (None, False, [])
    refused = client.post(
        "/api/v1/people", json={"email": "gil@example.org", "sign_in": "provider", "password": "x" * 20}, headers=admin
    )
    assert "no password" in problem(refused, 422)["detail"]
    assert "gil@example.org" not in [person["email"] for person in client.get("/api/v1/people", headers=admin).json()]

    waiting = made.json()["id"]
    set_pending(client, waiting)
    assert _person(client, admin, waiting)["pending"] is True
    approved = client.patch(f"/api/v1/people/{waiting}", json={"pending": False}, headers=admin)
    assert approved.status_code == 200 and approved.json()["pending"] is False
    problem(client.patch(f"/api/v1/people/{waiting}", json={"pending": True}, headers=admin), 422)
    problem(client.patch("/api/v1/people/999999", json={"pending": False}, headers=admin), 404)

    identity = link_request(client, waiting, "fay@example.org", "f-1")
    [asked] = _person(client, admin, waiting)["identities"]
    assert asked == {
        "id": identity,
        "provider": "district",
        "issuer": "https://id.example.org",
        "subject": "f-1",
        "email": "fay@example.org",
        "linked": False,
    }
    linked = client.post(f"/api/v1/identities/{identity}/link", headers=admin)
    assert linked.status_code == 200 and linked.json()["identities"][0]["linked"] is True
    problem(client.post("/api/v1/identities/999999/link", headers=admin), 404)
    assert client.delete(f"/api/v1/identities/{identity}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/identities/{identity}", headers=admin).status_code == 204  # gone already: so be it
    assert _person(client, admin, waiting)["identities"] == []
    assert stored(client, select(UserIdentity)) == []


def _person(client: TestClient, admin: dict[str, str], user_id: int) -> dict[str, Any]:
    [found] = [person for person in client.get("/api/v1/people", headers=admin).json() if person["id"] == user_id]
    return found
