"""Co-facilitators run a session with its presenter; organizers reach only the institutes they own."""

from __future__ import annotations

from starlette.testclient import TestClient

from server.models import Role
from tests.factories import TWO_QUESTIONS, Presenter, api_token, csrf_from, login, make_user, receive


def _account(client: TestClient, email: str, role: Role = Role.presenter) -> Presenter:
    user = make_user(client, email, role)
    return Presenter(client, user, api_token(client, email))


def test_a_presenter_adds_a_co_facilitator_who_then_runs_the_session(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    colleague = _account(client, "colleague@example.org")
    assert client.get(f"/api/v1/sessions/{session['id']}", headers=colleague.headers).status_code == 404

    login(client, presenter.user.email)
    page = client.get(f"/present/{session['id']}")
    assert "Co-facilitators" in page.text
    added = client.post(
        f"/present/{session['id']}/facilitators",
        data={"csrf_token": csrf_from(page.text), "email": " Colleague@Example.org "},
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert "colleague@example.org" in client.get(f"/present/{session['id']}").text

    read = client.get(f"/api/v1/sessions/{session['id']}", headers=colleague.headers)
    assert read.status_code == 200
    assert [person["email"] for person in read.json()["facilitators"]] == ["colleague@example.org"]
    assert colleague.control(session["id"], "next")["current_activity_id"] == session["activities"][0]["id"]

    client.cookies.clear()
    login(client, colleague.user.email)
    assert session["title"] in client.get("/present").text  # on the co-facilitator's dashboard
    with client.websocket_connect(f"/ws/presenter/{session['id']}") as socket:
        assert "Where does the week go?" in receive(socket)


def test_only_the_presenter_changes_who_co_facilitates(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    colleague = _account(client, "colleague@example.org")
    third = _account(client, "third@example.org")
    base = f"/api/v1/sessions/{session['id']}/facilitators"
    assert client.post(base, json={"email": colleague.user.email}, headers=presenter.headers).status_code == 201

    refused = client.post(base, json={"email": third.user.email}, headers=colleague.headers)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only the session's presenter (or an admin) may do this."
    assert client.delete(f"{base}/{colleague.user.id}", headers=colleague.headers).status_code == 403

    login(client, colleague.user.email)
    page = client.get(f"/present/{session['id']}")
    assert 'action="/present/' + str(session["id"]) + '/facilitators"' not in page.text  # no form to add


def test_adding_someone_without_an_account_or_the_presenter_says_why(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    base = f"/api/v1/sessions/{session['id']}/facilitators"
    unknown = client.post(base, json={"email": "nobody@example.org"}, headers=presenter.headers)
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "There is no account for nobody@example.org; an admin can create one."
    itself = client.post(base, json={"email": presenter.user.email}, headers=presenter.headers)
    assert itself.status_code == 422
    assert "presents this session already" in itself.json()["detail"]
    assert client.get(f"/api/v1/sessions/{session['id']}", headers=presenter.headers).json()["facilitators"] == []


def test_a_removed_co_facilitator_loses_the_session_at_once(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS)
    colleague = _account(client, "colleague@example.org")
    base = f"/api/v1/sessions/{session['id']}/facilitators"
    client.post(base, json={"email": colleague.user.email}, headers=presenter.headers)
    assert client.get(f"/api/v1/sessions/{session['id']}", headers=colleague.headers).status_code == 200

    assert client.delete(f"{base}/{colleague.user.id}", headers=presenter.headers).status_code == 204
    assert client.get(f"/api/v1/sessions/{session['id']}", headers=colleague.headers).status_code == 404
    again = client.delete(f"{base}/{colleague.user.id}", headers=presenter.headers)
    assert again.status_code == 422
    assert again.json()["detail"] == "That account is not a co-facilitator of this session."


def test_an_organizer_sees_only_the_institutes_they_own(client: TestClient) -> None:
    owner = _account(client, "owner@example.org", Role.organizer)
    other = _account(client, "other@example.org", Role.organizer)
    admin = _account(client, "admin@example.org", Role.admin)
    created = client.post("/api/v1/institutes", json={"title": "Spring Institute"}, headers=owner.headers).json()
    cohort = client.post(
        f"/api/v1/institutes/{created['id']}/cohorts", json={"name": "Phoenix"}, headers=owner.headers
    ).json()

    assert [item["title"] for item in client.get("/api/v1/institutes", headers=other.headers).json()] == []
    assert [item["title"] for item in client.get("/api/v1/institutes", headers=admin.headers).json()] == [
        "Spring Institute"
    ]
    for path in (f"/api/v1/institutes/{created['id']}", f"/api/v1/cohorts/{cohort['id']}"):
        assert client.get(path, headers=other.headers).status_code == 404
        assert client.get(path, headers=admin.headers).status_code == 200

    login(client, other.user.email)
    assert f'href="/organize/institutes/{created["id"]}"' not in client.get("/organize").text
    assert client.get(f"/organize/institutes/{created['id']}").status_code == 404


def test_only_the_institutes_organizer_files_sessions_under_its_cohorts(
    client: TestClient, presenter: Presenter
) -> None:
    owner = _account(client, "owner@example.org", Role.organizer)
    created = client.post("/api/v1/institutes", json={"title": "Spring Institute"}, headers=owner.headers).json()
    cohort = client.post(
        f"/api/v1/institutes/{created['id']}/cohorts", json={"name": "Phoenix"}, headers=owner.headers
    ).json()
    body = {"deck_yaml": TWO_QUESTIONS, "cohort_id": cohort["id"]}

    refused = client.post("/api/v1/sessions", json=body, headers=presenter.headers)
    assert refused.status_code == 404
    assert refused.json()["detail"] == f"There is no cohort {cohort['id']} among your institutes."
    assert client.post("/api/v1/sessions", json=body, headers=owner.headers).status_code == 201
