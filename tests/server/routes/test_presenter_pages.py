"""The presenter's pages: signing in, the dashboard, the presenter view and its controls, the first-run setup link."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.accounts.security import setup_token
from server.models import Role, Session, User
from tests.factories import PASSWORD, Presenter, csrf_from, login, make_user, stored

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def signed_in(client: TestClient, presenter: Presenter) -> Presenter:
    login(client, presenter.user.email)
    return presenter


def dashboard_csrf(client: TestClient) -> str:
    return csrf_from(client.get("/present").text)


def current_of(client: TestClient, session_id: int) -> int | None:
    [session] = stored(client, select(Session).where(Session.id == session_id))
    return session.current_activity_id  # type: ignore[no-any-return]


# --- signing in -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "target"), [("/present", "/login?next=/present"), ("/present/7", "/login?next=/present/7")]
)
def test_presenter_pages_send_a_signed_out_browser_to_login(client: TestClient, path: str, target: str) -> None:
    response = client.get(path, headers=BROWSER, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, target)


def test_login_with_a_wrong_password_is_401_with_a_message(client: TestClient, presenter: Presenter) -> None:
    csrf = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"csrf_token": csrf, "email": presenter.user.email, "password": "wrong password"}
    )
    assert response.status_code == 401
    assert "That email and password do not match an account." in response.text
    assert f'value="{presenter.user.email}"' in response.text
    assert client.get("/present", follow_redirects=False).status_code == 303


def test_login_with_an_unknown_email_gets_the_same_answer(client: TestClient, presenter: Presenter) -> None:
    csrf = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"csrf_token": csrf, "email": "nobody@example.org", "password": PASSWORD})
    assert response.status_code == 401
    assert "That email and password do not match an account." in response.text


def test_login_needs_the_forms_csrf_token(client: TestClient, presenter: Presenter) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": presenter.user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/present", follow_redirects=False).status_code == 303


def test_login_opens_the_dashboard(client: TestClient, presenter: Presenter) -> None:
    login(client, presenter.user.email)
    page = client.get("/present")
    assert page.status_code == 200
    assert "Signed in as presenter@example.org (presenter)" in page.text
    assert "Transforming Schools Through Distributed Leadership" in page.text


def test_login_email_is_not_case_sensitive(client: TestClient, presenter: Presenter) -> None:
    login(client, "  Presenter@Example.ORG ")
    assert client.get("/present").status_code == 200


@pytest.mark.parametrize(
    ("wanted", "landing"),
    [
        ("/present/3", "/present/3"),
        ("//evil.example/x", "/present"),
        ("https://evil.example", "/present"),
        ("/\\evil", "/present"),
    ],
)
def test_login_goes_back_only_to_pages_of_this_server(
    client: TestClient, presenter: Presenter, wanted: str, landing: str
) -> None:
    csrf = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"csrf_token": csrf, "email": presenter.user.email, "password": PASSWORD, "next": wanted},
        follow_redirects=False,
    )
    assert response.headers["location"] == landing


def test_logout_needs_csrf_then_signs_out(client: TestClient, signed_in: Presenter) -> None:
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/present", follow_redirects=False).status_code == 200
    response = client.post("/logout", data={"csrf_token": dashboard_csrf(client)}, follow_redirects=False)
    assert response.headers["location"] == "/login"
    assert client.get("/present", follow_redirects=False).status_code == 303


# --- starting and running a session ---------------------------------------------------------------------------------


def deck_id(client: TestClient, presenter: Presenter) -> int:
    return int(client.get("/api/v1/decks", headers=presenter.headers).json()[0]["id"])


def test_starting_a_session_from_the_dashboard_needs_the_csrf_token(client: TestClient, signed_in: Presenter) -> None:
    response = client.post("/present/sessions", data={"deck_id": deck_id(client, signed_in)}, headers=BROWSER)
    assert response.status_code == 403
    assert "This form has expired. Reload the page and try again." in response.text
    assert stored(client, select(Session)) == []


def test_a_wrong_csrf_token_is_refused(client: TestClient, signed_in: Presenter) -> None:
    client.get("/present")
    response = client.post("/present/sessions", data={"deck_id": deck_id(client, signed_in), "csrf_token": "x" * 43})
    assert response.status_code == 403
    assert stored(client, select(Session)) == []


def test_starting_a_session_from_the_dashboard_opens_its_presenter_view(
    client: TestClient, signed_in: Presenter
) -> None:
    response = client.post(
        "/present/sessions",
        data={"csrf_token": dashboard_csrf(client), "deck_id": deck_id(client, signed_in), "title": "Flagstaff"},
        follow_redirects=False,
    )
    [session] = stored(client, select(Session))
    assert (response.status_code, response.headers["location"]) == (303, f"/present/{session.id}")
    assert (session.title, session.presenter_id) == ("Flagstaff", signed_in.user.id)
    page = client.get(f"/present/{session.id}").text
    assert f"{session.code[:3]} {session.code[3:]}" in page
    assert f'href="/projector/{session.projector_secret}"' in page
    assert f'ws-connect="/ws/presenter/{session.id}"' in page
    assert "Flagstaff" in client.get("/present").text


def test_starting_from_a_deck_that_does_not_exist_is_404(client: TestClient, signed_in: Presenter) -> None:
    response = client.post("/present/sessions", data={"csrf_token": dashboard_csrf(client), "deck_id": "999"})
    assert response.status_code == 404


def control_page_csrf(client: TestClient, session_id: int) -> str:
    return csrf_from(client.get(f"/present/{session_id}").text)


def test_control_posts_need_the_csrf_token(client: TestClient, signed_in: Presenter) -> None:
    session = signed_in.start()
    response = client.post(f"/present/{session['id']}/control", data={"action": "next"})
    assert response.status_code == 403
    assert current_of(client, session["id"]) is None


def test_a_control_form_post_moves_the_session_and_returns_to_the_page(
    client: TestClient, signed_in: Presenter
) -> None:
    session = signed_in.start()
    csrf = control_page_csrf(client, session["id"])
    response = client.post(
        f"/present/{session['id']}/control", data={"csrf_token": csrf, "action": "next"}, follow_redirects=False
    )
    assert (response.status_code, response.headers["location"]) == (303, f"/present/{session['id']}")
    assert current_of(client, session["id"]) == session["activities"][0]["id"]


def test_an_htmx_control_sends_csrf_in_a_header_and_gets_no_content(client: TestClient, signed_in: Presenter) -> None:
    session = signed_in.start()
    target = session["activities"][3]["id"]
    response = client.post(
        f"/present/{session['id']}/control",
        data={"action": "goto", "activity": str(target)},
        headers={"X-CSRF-Token": control_page_csrf(client, session["id"]), "HX-Request": "true"},
    )
    assert response.status_code == 204
    assert current_of(client, session["id"]) == target


def test_a_control_that_does_not_apply_is_409_with_the_reason(client: TestClient, signed_in: Presenter) -> None:
    session = signed_in.start()
    response = client.post(
        f"/present/{session['id']}/control",
        data={"action": "close"},
        headers={"X-CSRF-Token": control_page_csrf(client, session["id"]), "HX-Request": "true"},
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "Choose an activity of this session."


def test_the_presenter_page_of_someone_elses_session_is_404(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start()
    make_user(client, "other@example.org")
    login(client, "other@example.org")
    assert client.get(f"/present/{session['id']}", headers=BROWSER).status_code == 404
    csrf = dashboard_csrf(client)
    response = client.post(f"/present/{session['id']}/control", data={"csrf_token": csrf, "action": "next"})
    assert response.status_code == 404
    assert current_of(client, session["id"]) is None
    assert session["code"] not in client.get("/present").text


def test_an_admin_sees_and_runs_every_session(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start()
    make_user(client, "admin@example.org", Role.admin)
    login(client, "admin@example.org")
    assert client.get(f"/present/{session['id']}").status_code == 200
    assert f"{session['code'][:3]} {session['code'][3:]}" in client.get("/present").text


def test_the_presenter_page_of_a_session_that_does_not_exist_is_404(client: TestClient, signed_in: Presenter) -> None:
    assert client.get("/present/999", headers=BROWSER).status_code == 404


# --- the first-run setup link ---------------------------------------------------------------------------------------


def setup_link(client: TestClient) -> str:
    settings = client.app.state.services.settings  # type: ignore[attr-defined]
    return f"/setup/{setup_token(settings.resolved_secret_key)}"


def create_admin(client: TestClient, link: str, **fields: Any) -> Any:
    page = client.get(link)
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_from(page.text), "email": "admin@example.org", "password": PASSWORD, **fields}
    return client.post(link, data=data, follow_redirects=False)


def test_the_setup_link_creates_the_first_admin_and_signs_them_in(client: TestClient) -> None:
    response = create_admin(client, setup_link(client))
    assert (response.status_code, response.headers["location"]) == (303, "/present")
    [admin] = stored(client, select(User))
    assert (admin.email, admin.role) == ("admin@example.org", Role.admin)
    assert "Signed in as admin@example.org (admin)" in client.get("/present").text


def test_the_setup_link_is_refused_once_an_account_exists(client: TestClient) -> None:
    link = setup_link(client)
    create_admin(client, link)
    client.cookies.clear()
    page = client.get(link, headers=BROWSER)
    assert page.status_code == 404
    assert "This setup link is not valid any more" in page.text
    assert client.post(link, data={"email": "second@example.org", "password": PASSWORD}).status_code in {403, 404}
    assert [u.email for u in stored(client, select(User))] == ["admin@example.org"]


def test_a_setup_post_after_an_account_exists_creates_nothing(client: TestClient) -> None:
    link = setup_link(client)
    csrf = csrf_from(client.get(link).text)
    make_user(client, "presenter@example.org")
    response = client.post(link, data={"csrf_token": csrf, "email": "late@example.org", "password": PASSWORD})
    assert response.status_code == 404
    assert [u.email for u in stored(client, select(User))] == ["presenter@example.org"]


def test_a_forged_setup_link_is_404(client: TestClient) -> None:
    assert client.get("/setup/not-a-signed-token", headers=BROWSER).status_code == 404
    assert client.get(f"/setup/{setup_token('another-servers-secret-' + 'x' * 20)}").status_code == 404


def test_setup_with_a_short_password_says_why_and_creates_nothing(client: TestClient) -> None:
    response = create_admin(client, setup_link(client), password="short")
    assert response.status_code == 422
    assert "Use at least 10 characters." in response.text
    assert stored(client, select(User)) == []


def test_setup_needs_the_csrf_token(client: TestClient) -> None:
    link = setup_link(client)
    client.get(link)
    assert client.post(link, data={"email": "admin@example.org", "password": PASSWORD}).status_code == 403
    assert stored(client, select(User)) == []
