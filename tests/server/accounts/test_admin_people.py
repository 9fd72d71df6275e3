"""The people page: administrators create accounts, change roles, disable and enable accounts, through HTTP."""

from __future__ import annotations

import re
from http.cookiejar import Cookie

import httpx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.live.connections import GONE
from server.models import Role, User, UserIdentity
from tests.factories import (
    PASSWORD,
    TWO_QUESTIONS,
    Presenter,
    api_token,
    csrf_from,
    link_request,
    login,
    make_user,
    receive,
    root_id,
    set_pending,
    stored,
)

PAGE = {"Accept": "text/html"}
ADMIN = "admin@example.org"
NEW_PASSWORD = "my very own password"


@pytest.fixture
def admin(client: TestClient) -> User:
    """An administrator, signed in through the login form."""
    user = make_user(client, ADMIN, Role.admin)
    login(client, ADMIN)
    return user


def people_page(client: TestClient) -> str:
    page = client.get("/admin/people", headers=PAGE, follow_redirects=False)
    assert page.status_code == 200, page.text
    return page.text


def post(client: TestClient, path: str, **fields: str) -> httpx.Response:
    """A form post from the people page, with its CSRF token."""
    data = {"csrf_token": csrf_from(people_page(client)), **fields}
    return client.post(path, data=data, headers=PAGE, follow_redirects=False)


def create(client: TestClient, email: str, role: str = "presenter", password: str = "") -> httpx.Response:
    return post(client, "/admin/people", email=email, role=role, password=password)


def account(client: TestClient, email: str) -> User:
    [user] = stored(client, select(User).where(User.email == email))
    return user


def sign_in(client: TestClient, email: str, password: str) -> httpx.Response:
    """The login form as someone else would fill it (this client's browser session is replaced)."""
    client.cookies.clear()
    page = client.get("/login")
    return client.post(
        "/login",
        data={"csrf_token": csrf_from(page.text), "email": email, "password": password, "next": "/present"},
        follow_redirects=False,
    )


def row(page: str, email: str) -> str:
    """The people table's row of one account."""
    [found] = [r for r in re.findall(r"<tr[ >].*?</tr>", page, re.S) if f"<td>{email}" in r]
    return found


def switch_to(client: TestClient, browser: list[Cookie]) -> None:
    """Go on as another browser: its cookies (as kept from `client.cookies.jar`) replace the current ones."""
    client.cookies.clear()
    for cookie in browser:
        client.cookies.jar.set_cookie(cookie)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- who may ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.presenter, Role.organizer])
def test_the_people_page_is_for_administrators_only(client: TestClient, role: Role) -> None:
    make_user(client, "someone@example.org", role)
    login(client, "someone@example.org")
    page = client.get("/admin/people", headers=PAGE)
    assert page.status_code == 403
    assert "Administrators only" in page.text and "This page is for administrators" in page.text
    csrf = csrf_from(client.get("/account").text)
    created = client.post("/admin/people", data={"csrf_token": csrf, "email": "x@example.org", "role": "admin"})
    assert created.status_code == 403
    promoted = client.post("/admin/people/1/role", data={"csrf_token": csrf, "role": "admin"})
    assert promoted.status_code == 403
    assert account(client, "someone@example.org").role == role
    assert len(stored(client, select(User))) == 1


def test_the_people_page_needs_a_signed_in_browser(client: TestClient) -> None:
    response = client.get("/admin/people", headers=PAGE, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/admin/people")


def test_admins_see_the_people_link_in_their_top_bars(client: TestClient, admin: User) -> None:
    assert '<a href="/admin/people">People</a>' in client.get("/present").text
    assert '<a href="/admin/people">People</a>' in client.get("/organize").text


def test_people_forms_without_their_csrf_token_are_refused(client: TestClient, admin: User) -> None:
    other = make_user(client, "bo@example.org")
    for path, data in [
        ("/admin/people", {"email": "new@example.org", "role": "presenter"}),
        (f"/admin/people/{other.id}/role", {"role": "admin"}),
        (f"/admin/people/{other.id}/disable", {}),
    ]:
        assert client.post(path, data=data, headers=PAGE).status_code == 403
    bo = account(client, "bo@example.org")
    assert (bo.role, bo.disabled_at) == (Role.presenter, None)
    assert len(stored(client, select(User))) == 2


# --- the list and new accounts -------------------------------------------------------------------------------------


def test_the_people_page_lists_every_account_with_its_tokens(client: TestClient, admin: User) -> None:
    make_user(client, "bo@example.org")
    api_token(client, "bo@example.org")
    api_token(client, "bo@example.org")
    page = people_page(client)
    assert "(you)" in row(page, ADMIN)
    bo = row(page, "bo@example.org")
    assert '<td class="mono">2</td>' in bo and "active" in bo and "Disable bo@example.org" in bo
    assert "Disable admin@example.org" not in page  # nobody disables themselves


def test_an_admin_creates_an_account_with_a_password_made_for_it(client: TestClient, admin: User) -> None:
    page = create(client, " Cleo@Example.org ", "organizer")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Account created for cleo@example.org (organizer)." in page.text
    match = re.search(r'<input class="mono" type="text" value="([^"]+)" readonly', page.text)
    assert match, "the one-time password is on the page"
    one_time = match.group(1)
    assert len(one_time) >= 16 and one_time not in people_page(client)
    cleo = account(client, "cleo@example.org")
    assert (cleo.role, cleo.password_temporary) == (Role.organizer, True)
    assert "one-time password" in row(people_page(client), "cleo@example.org")
    assert sign_in(client, "cleo@example.org", one_time).status_code == 303


def test_a_password_the_admin_chose_is_not_shown_back(client: TestClient, admin: User) -> None:
    page = create(client, "dan@example.org", password="chosen by the admin")
    assert "Pass the password you chose on to them." in page.text
    assert "chosen by the admin" not in page.text
    assert account(client, "dan@example.org").password_temporary


@pytest.mark.parametrize(
    ("email", "role", "password", "message"),
    [
        ("not an address", "presenter", "", "is not an email address: An email address must have an @-sign."),
        (
            "<script>alert(1)</script>@example.org",
            "presenter",
            "",
            "is not an email address: it holds ( ) &lt; &gt;, which no address may.",
        ),
        (ADMIN, "presenter", "", "An account for admin@example.org exists already."),
        ("eve@example.org", "presenter", "short", "Use at least 10 characters."),
        ("eve@example.org", "owner", "", "Choose a role: presenter, organizer or admin."),
    ],
)
def test_an_account_that_cannot_be_created_says_why_and_nothing_is_saved(
    client: TestClient, admin: User, email: str, role: str, password: str, message: str
) -> None:
    page = create(client, email, role, password)
    assert page.status_code == 422
    assert message in page.text
    assert len(stored(client, select(User))) == 1


def test_hostile_emails_are_refused_and_shown_back_as_text(client: TestClient, admin: User) -> None:
    """Markup for an email is not an address (issue 17): refused with the reason, echoed inert, never stored."""
    hostile = "<script>alert(1)</script>@example.org"
    answer = create(client, hostile)
    assert answer.status_code == 422
    assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.org" in answer.text
    assert "is not an email address" in answer.text
    listing = people_page(client)
    assert "<script>alert(1)</script>" not in listing and "&lt;script&gt;" not in listing
    assert [user.email for user in stored(client, select(User))] == [ADMIN]


# --- a one-time password is changed at first sign-in --------------------------------------------------------------


def test_a_new_account_chooses_its_own_password_before_anything_else(client: TestClient, admin: User) -> None:
    create(client, "fay@example.org", password="the one-time one")
    signed = sign_in(client, "fay@example.org", "the one-time one")
    assert signed.status_code == 303
    for path in ("/present", "/organize", "/admin/people"):
        response = client.get(path, headers=PAGE, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/account"), path
    page = client.get("/account").text
    assert "You signed in with a one-time password. Choose your own to continue." in page
    assert "Create a token" not in page
    fields = {"current_password": "the one-time one", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    changed = client.post("/account/password", data={"csrf_token": csrf_from(page), **fields}, follow_redirects=False)
    assert changed.status_code == 303
    assert client.get("/present", follow_redirects=False).status_code == 200
    assert not account(client, "fay@example.org").password_temporary


# --- roles --------------------------------------------------------------------------------------------------------


def test_an_admin_changes_a_role(client: TestClient, admin: User) -> None:
    bo = make_user(client, "bo@example.org")
    changed = post(client, f"/admin/people/{bo.id}/role", role="organizer")
    assert (changed.status_code, changed.headers["location"]) == (303, "/admin/people?done=role")
    assert account(client, "bo@example.org").role == Role.organizer
    assert "The role is changed." in client.get(changed.headers["location"]).text


def test_the_last_admin_cannot_be_demoted(client: TestClient, admin: User) -> None:
    refused = post(client, f"/admin/people/{admin.id}/role", role="presenter")
    assert refused.status_code == 409
    assert "admin@example.org is the only administrator: make someone else one first. Nothing was changed." in (
        refused.text
    )
    assert account(client, ADMIN).role == Role.admin


def test_an_admin_may_step_down_once_another_admin_exists(client: TestClient, admin: User) -> None:
    other = make_user(client, "second@example.org", Role.admin)
    assert post(client, f"/admin/people/{admin.id}/role", role="organizer").status_code == 303
    assert account(client, ADMIN).role == Role.organizer
    assert client.get("/admin/people", headers=PAGE).status_code == 403
    login(client, "second@example.org")
    refused = post(client, f"/admin/people/{other.id}/role", role="presenter")
    assert refused.status_code == 409 and "is the only administrator" in refused.text


def test_a_disabled_admin_does_not_count_as_the_one_left(client: TestClient, admin: User) -> None:
    other = make_user(client, "second@example.org", Role.admin)
    assert post(client, f"/admin/people/{other.id}/disable").status_code == 303
    assert post(client, f"/admin/people/{admin.id}/role", role="presenter").status_code == 409


# --- disabling ----------------------------------------------------------------------------------------------------


def test_a_disabled_account_cannot_sign_in_nor_use_its_tokens(client: TestClient, admin: User) -> None:
    bo = make_user(client, "bo@example.org")
    token = api_token(client, "bo@example.org")
    assert client.get("/api/v1/decks", headers=bearer(token)).status_code == 200
    disabled = post(client, f"/admin/people/{bo.id}/disable")
    assert (disabled.status_code, disabled.headers["location"]) == (303, "/admin/people?done=disabled")
    assert "disabled " in row(people_page(client), "bo@example.org")

    refused = client.get("/api/v1/decks", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The account of this API token is disabled; ask an administrator."
    signing_in = sign_in(client, "bo@example.org", PASSWORD)
    assert signing_in.status_code == 403
    assert "This account is disabled. Ask an administrator to enable it again." in signing_in.text
    assert sign_in(client, "bo@example.org", "a wrong password").status_code == 401  # nothing told without it


def test_disabling_signs_the_account_out_of_its_browsers(client: TestClient, admin: User) -> None:
    bo = make_user(client, "bo@example.org")
    admin_browser = list(client.cookies.jar)
    login(client, "bo@example.org")
    bo_browser = list(client.cookies.jar)
    switch_to(client, admin_browser)
    assert post(client, f"/admin/people/{bo.id}/disable").status_code == 303
    assert post(client, f"/admin/people/{bo.id}/enable").status_code == 303
    switch_to(client, bo_browser)
    response = client.get("/present", headers=PAGE, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/present")


def test_an_enabled_account_signs_in_and_uses_its_tokens_again(client: TestClient, admin: User) -> None:
    bo = make_user(client, "bo@example.org")
    token = api_token(client, "bo@example.org")
    post(client, f"/admin/people/{bo.id}/disable")
    enabled = post(client, f"/admin/people/{bo.id}/enable")
    assert (enabled.status_code, enabled.headers["location"]) == (303, "/admin/people?done=enabled")
    assert account(client, "bo@example.org").disabled_at is None
    assert client.get("/api/v1/decks", headers=bearer(token)).status_code == 200
    assert sign_in(client, "bo@example.org", PASSWORD).status_code == 303


def test_nobody_disables_their_own_account(client: TestClient, admin: User) -> None:
    refused = post(client, f"/admin/people/{admin.id}/disable")
    assert refused.status_code == 409
    assert "You cannot disable your own account: ask another administrator." in refused.text
    assert account(client, ADMIN).disabled_at is None


def test_changing_an_account_that_does_not_exist_says_so(client: TestClient, admin: User) -> None:
    for path, fields in [("/admin/people/999/role", {"role": "admin"}), ("/admin/people/999/disable", {})]:
        refused = post(client, path, **fields)
        assert refused.status_code == 409 and "There is no such account." in refused.text


def test_a_disabled_presenter_cannot_open_the_presenter_socket(client: TestClient, admin: User) -> None:
    admin_browser = list(client.cookies.jar)
    bo = make_user(client, "bo@example.org")
    started = Presenter(client, bo, api_token(client, "bo@example.org")).start(TWO_QUESTIONS)
    login(client, "bo@example.org")
    bo_browser = list(client.cookies.jar)
    with client.websocket_connect(f"/ws/presenter/{started['id']}") as ws:
        assert root_id(receive(ws)) == "presenter-live"
    switch_to(client, admin_browser)
    post(client, f"/admin/people/{bo.id}/disable")
    switch_to(client, bo_browser)
    with client.websocket_connect(f"/ws/presenter/{started['id']}") as ws, pytest.raises(WebSocketDisconnect) as closed:
        receive(ws)
    assert closed.value.code == GONE


# --- single sign-on: accounts without passwords, approval, linking ----------------------------------------------


def test_an_admin_creates_an_account_that_signs_in_only_through_a_provider(client: TestClient, admin: User) -> None:
    page = post(client, "/admin/people", email="fay@example.org", role="organizer", sign_in="provider")
    assert page.status_code == 200
    assert "It has no password: its owner signs in with a sign-in button on the sign-in page." in page.text
    created = account(client, "fay@example.org")
    assert not created.has_password and not created.password_temporary and created.role == Role.organizer
    assert "single sign-on" in people_page(client)


def test_an_admin_approves_a_waiting_account_and_links_a_sign_in(client: TestClient, admin: User) -> None:
    waiting = make_user(client, "bo@example.net")
    owner = make_user(client, "eve@example.org")
    set_pending(client, waiting.id or 0)
    identity = link_request(client, owner.id or 0, "eve@example.org")
    listing = people_page(client)
    assert "waiting for approval" in listing
    assert "A sign-in with district as eve@example.org asks to use this account." in listing

    approved = post(client, f"/admin/people/{waiting.id}/approve")
    assert approved.status_code == 303 and approved.headers["location"] == "/admin/people?done=approved"
    assert not account(client, "bo@example.net").pending
    linked = post(client, f"/admin/identities/{identity}/link")
    assert linked.status_code == 303 and linked.headers["location"] == "/admin/people?done=linked"
    [row] = stored(client, select(UserIdentity))
    assert row.linked and row.user_id == owner.id
    assert "Signs in with district" in people_page(client)
    removed = post(client, f"/admin/identities/{identity}/unlink")
    assert removed.status_code == 303 and stored(client, select(UserIdentity)) == []


def test_approving_an_account_that_is_not_there_says_so(client: TestClient, admin: User) -> None:
    page = post(client, "/admin/people/4242/approve")
    assert page.status_code == 404 and "There is no such account." in page.text
    page = post(client, "/admin/identities/4242/link")
    assert page.status_code == 404 and "There is no such sign-in to link." in page.text


def test_the_people_page_speaks_spanish(client: TestClient, admin: User) -> None:
    waiting = make_user(client, "bo@example.net")
    set_pending(client, waiting.id or 0)
    page = client.get("/admin/people", headers={**PAGE, "Accept-Language": "es"}).text
    for spanish in ("Personas", "Cuenta nueva", "Crear la cuenta", "esperando aprobación", "Aprobar a bo@example.net"):
        assert spanish in page
    refused = client.post(
        "/admin/people",
        data={"csrf_token": csrf_from(page), "email": "not an address", "role": "presenter"},
        headers={**PAGE, "Accept-Language": "es"},
    )
    assert refused.status_code == 422 and "no es una dirección de correo" in refused.text
