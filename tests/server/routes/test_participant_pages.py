"""What a participant's phone gets over plain HTTP: the join form, the session page, the no-JavaScript form post."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.models import Participant, Response
from server.sessions import hash_token
from tests.factories import (
    TWO_QUESTIONS,
    Presenter,
    api_token,
    caught_up,
    csrf_from,
    eventually,
    home_csrf,
    make_user,
    stored,
)
from tests.hostile import PAYLOADS

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
HOSTILE = PAYLOADS["script_tag"]


@pytest.fixture
def session(client: TestClient, presenter: Presenter) -> dict[str, Any]:
    return presenter.start(TWO_QUESTIONS)


def show(client: TestClient, presenter: Presenter, session: dict[str, Any], position: int) -> int:
    """Put the activity at `position` on everyone's screen; its id."""
    activity_id = int(session["activities"][position]["id"])
    presenter.control(session["id"], "goto", activity_id)
    caught_up(client, session["id"])
    return activity_id


def participants(client: TestClient) -> list[Participant]:
    return stored(client, select(Participant))


# --- joining --------------------------------------------------------------------------------------------------------


def test_home_is_the_join_form(client: TestClient) -> None:
    page = client.get("/", headers=BROWSER)
    assert page.status_code == 200
    assert "Enter the code on the screen" in page.text
    assert '<form method="post" action="/join"' in page.text


def test_join_with_a_live_code_goes_to_the_session_page(client: TestClient, session: dict[str, Any]) -> None:
    response = client.post(
        "/join", data={"code": session["code"], "csrf_token": home_csrf(client)}, follow_redirects=False
    )
    assert (response.status_code, response.headers["location"]) == (303, f"/{session['code']}")


def test_join_accepts_the_code_as_it_is_read_off_the_screen(client: TestClient, session: dict[str, Any]) -> None:
    code = session["code"]
    response = client.post(
        "/join", data={"code": f" {code[:3]} {code[3:]} ", "csrf_token": home_csrf(client)}, follow_redirects=False
    )
    assert response.headers["location"] == f"/{code}"


def test_join_with_an_unknown_code_says_so_on_the_form(client: TestClient, session: dict[str, Any]) -> None:
    code = "000000" if session["code"] != "000000" else "000001"
    response = client.post("/join", data={"code": code, "csrf_token": home_csrf(client)})
    assert response.status_code == 404
    expected = f"No session is running with the code {code[:3]} {code[3:]}. Check the code on the screen."
    assert expected in response.text
    assert f'value="{code}"' in response.text


@pytest.mark.parametrize("typed", ["12345", "abcdef", "1234567890", ""])
def test_join_with_something_that_is_not_a_code_says_what_a_code_is(client: TestClient, typed: str) -> None:
    response = client.post("/join", data={"code": typed, "csrf_token": home_csrf(client)})
    assert response.status_code == 422
    assert "A code has six digits, like 123 456." in response.text


def test_join_an_ended_session_says_it_has_ended(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    presenter.control(session["id"], "end")
    code = session["code"]
    response = client.post("/join", data={"code": code, "csrf_token": home_csrf(client)})
    assert response.status_code == 404
    assert f"The session {code[:3]} {code[3:]} has ended. Thank you for taking part!" in response.text


def test_an_unknown_code_page_is_a_404_page_with_a_message(client: TestClient, session: dict[str, Any]) -> None:
    code = "000000" if session["code"] != "000000" else "000001"
    page = client.get(f"/{code}", headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No session is running with the code" in page.text
    assert 'href="/"' in page.text


def test_a_page_that_is_not_a_code_is_a_404_page(client: TestClient) -> None:
    page = client.get("/nothing-here", headers=BROWSER)
    assert page.status_code == 404
    assert "There is no page here. To join a session, type its six-digit code." in page.text


def test_an_ended_sessions_page_says_it_has_ended(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    presenter.control(session["id"], "end")
    page = client.get(f"/{session['code']}", headers=BROWSER)
    assert page.status_code == 404
    assert "has ended. Thank you for taking part!" in page.text


def test_a_code_typed_with_a_dash_redirects_to_the_plain_code(client: TestClient, session: dict[str, Any]) -> None:
    code = session["code"]
    response = client.get(f"/{code[:3]}-{code[3:]}", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, f"/{code}")


def test_the_join_qr_code_is_an_svg(client: TestClient, session: dict[str, Any]) -> None:
    response = client.get(f"/{session['code']}/qr.svg")
    assert response.headers["content-type"] == "image/svg+xml"
    assert ElementTree.fromstring(response.text).tag.endswith("svg")


# --- the participant cookie -----------------------------------------------------------------------------------------


def test_the_participant_cookie_is_http_only_and_same_site_lax(client: TestClient, session: dict[str, Any]) -> None:
    page = client.get(f"/{session['code']}", headers=BROWSER)
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("handsup_participant=")
    attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "httponly" in attributes
    assert attributes["samesite"].strip().lower() == "samesite=lax"
    assert "max-age" in attributes
    assert "secure" not in attributes


def test_the_cookie_is_secure_when_the_server_is_behind_https(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"https_cookies": True}))) as https:
        user = make_user(https)
        session = Presenter(https, user, api_token(https, user.email)).start(TWO_QUESTIONS)
        assert "Secure" in https.get(f"/{session['code']}").headers["set-cookie"]


def test_a_second_visit_with_the_cookie_is_the_same_participant(client: TestClient, session: dict[str, Any]) -> None:
    first = client.get(f"/{session['code']}", headers=BROWSER)
    token = first.cookies["handsup_participant"]
    client.get(f"/{session['code']}", headers=BROWSER)
    assert [p.token_hash for p in participants(client)] == [hash_token(token)]


def test_another_phone_is_another_participant(client: TestClient, session: dict[str, Any]) -> None:
    client.get(f"/{session['code']}")
    client.cookies.clear()
    client.get(f"/{session['code']}")
    assert len(participants(client)) == 2


def test_a_cookie_the_server_did_not_issue_is_replaced(client: TestClient, session: dict[str, Any]) -> None:
    client.cookies.set("handsup_participant", "me")
    page = client.get(f"/{session['code']}")
    issued = page.cookies["handsup_participant"]
    assert issued != "me" and len(issued) >= 32
    assert [p.token_hash for p in participants(client)] == [hash_token(issued)]


# --- the page -------------------------------------------------------------------------------------------------------


def test_in_the_lobby_the_page_says_you_are_in(client: TestClient, session: dict[str, Any]) -> None:
    page = client.get(f"/{session['code']}", headers=BROWSER)
    assert "You're in!" in page.text
    assert f'ws-connect="/ws/participant/{session["code"]}?stage=' in page.text


def test_the_page_shows_the_current_poll_as_a_form_that_works_without_javascript(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = show(client, presenter, session, 0)
    page = client.get(f"/{session['code']}", headers=BROWSER).text
    assert f'action="/{session["code"]}/respond" method="post"' in page
    assert f'<input type="hidden" name="activity" value="{poll}">' in page
    assert page.count('type="radio" name="choice"') == 3
    assert "Maintenance" in page


def test_a_form_post_stores_the_answer_and_returns_to_the_page(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = show(client, presenter, session, 0)
    client.get(f"/{session['code']}")
    response = client.post(
        f"/{session['code']}/respond",
        data={"activity": str(poll), "choice": "1", "csrf_token": home_csrf(client)},
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, f"/{session['code']}")
    [row] = stored(client, select(Response))
    assert row.payload == {"choices": [1]}
    page = client.get(f"/{session['code']}", headers=BROWSER).text
    assert "Received" in page
    assert "Update my answer" in page
    assert 'value="1" checked' in " ".join(page.split())


def test_a_phones_page_sets_no_session_and_its_own_token_posts_its_forms(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    """A phone's form token comes from its participant cookie, not a signed session: joining signs nothing."""
    poll = show(client, presenter, session, 0)
    page = client.get(f"/{session['code']}", headers=BROWSER)
    assert "handsup_session" not in page.headers.get("set-cookie", "")
    token = csrf_from(page.text)
    assert csrf_from(client.get(f"/{session['code']}", headers=BROWSER).text) == token  # the same on every load
    posted = client.post(
        f"/{session['code']}/respond",
        data={"activity": str(poll), "choice": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    [row] = stored(client, select(Response))
    assert row.payload == {"choices": [1]}


def test_a_phones_form_with_another_phones_token_or_a_forged_one_changes_nothing(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = show(client, presenter, session, 0)
    other = csrf_from(client.get(f"/{session['code']}", headers=BROWSER).text)
    client.cookies.clear()
    mine = csrf_from(client.get(f"/{session['code']}", headers=BROWSER).text)
    assert mine != other
    for token in (other, mine[:-2] + "xx", ""):
        posted = client.post(
            f"/{session['code']}/respond",
            data={"activity": str(poll), "choice": "1", "csrf_token": token},
            headers=BROWSER,
            follow_redirects=False,
        )
        assert posted.status_code == 403
        assert "This form has expired" in posted.text
    assert stored(client, select(Response)) == []


def test_an_address_of_digits_that_is_no_code_is_a_404_page_that_says_how_to_join(client: TestClient) -> None:
    for path in ("/12", "/1234567890123", "/12-34"):
        page = client.get(path, headers=BROWSER)
        assert page.status_code == 404
        assert "There is no page here. To join a session, type its six-digit code." in page.text
    assert client.get("/login", headers=BROWSER).status_code == 200  # the pages that come after codes are still found


def test_a_form_post_without_a_prior_visit_joins_and_sets_the_cookie(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = show(client, presenter, session, 0)
    response = client.post(
        f"/{session['code']}/respond",
        data={"activity": str(poll), "choice": "2", "csrf_token": home_csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    token = response.cookies["handsup_participant"]
    [participant] = participants(client)
    assert participant.token_hash == hash_token(token)
    [row] = stored(client, select(Response))
    assert row.participant_id == participant.id


def test_a_form_post_replaces_the_earlier_answer(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = show(client, presenter, session, 0)
    for choice in ("0", "2"):
        client.post(
            f"/{session['code']}/respond",
            data={"activity": str(poll), "choice": choice, "csrf_token": home_csrf(client)},
        )
    [row] = stored(client, select(Response))
    assert row.payload == {"choices": [2]}

    def counted() -> None:
        options = presenter.tally(session["id"], poll)["results"]["options"]
        assert [o["count"] for o in options] == [0, 0, 1]

    eventually(counted)


def test_an_invalid_form_post_shows_the_page_again_with_the_message(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = show(client, presenter, session, 0)
    response = client.post(f"/{session['code']}/respond", data={"activity": str(poll), "csrf_token": home_csrf(client)})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert f'id="status-{poll}" class="status error"' in response.text
    assert "Pick an option first." in response.text
    assert stored(client, select(Response)) == []


def test_a_form_post_for_an_activity_that_is_not_current_says_so(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    show(client, presenter, session, 0)
    cloud = session["activities"][1]["id"]
    response = client.post(
        f"/{session['code']}/respond", data={"activity": str(cloud), "word": "trust", "csrf_token": home_csrf(client)}
    )
    assert response.status_code == 422
    assert "The presenter has moved on; your screen now shows the current activity." in response.text
    assert stored(client, select(Response)) == []


def test_a_form_post_without_its_activity_says_so(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    show(client, presenter, session, 0)
    response = client.post(f"/{session['code']}/respond", data={"choice": "1", "csrf_token": home_csrf(client)})
    assert response.status_code == 422
    assert "That form does not say which activity it answers." in response.text
    assert stored(client, select(Response)) == []


def test_a_form_post_when_voting_is_closed_says_so(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    poll = show(client, presenter, session, 0)
    presenter.control(session["id"], "close")
    caught_up(client, session["id"])
    response = client.post(
        f"/{session['code']}/respond", data={"activity": str(poll), "choice": "1", "csrf_token": home_csrf(client)}
    )
    assert response.status_code == 422
    assert "Voting is closed for this activity." in response.text
    assert stored(client, select(Response)) == []


# --- hostile text ---------------------------------------------------------------------------------------------------


def test_hostile_words_are_escaped_on_the_participant_page(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    cloud = show(client, presenter, session, 1)
    response = client.post(
        f"/{session['code']}/respond", data={"activity": str(cloud), "word": HOSTILE, "csrf_token": home_csrf(client)}
    )
    assert response.status_code == 200  # after the redirect
    [row] = stored(client, select(Response))
    typed = row.payload["words"][0]["text"]
    assert "<script>" in typed
    page = client.get(f"/{session['code']}", headers=BROWSER).text
    assert "<script>alert" not in page
    assert html.escape(typed, quote=True) in page


def test_hostile_words_are_escaped_on_the_projector(
    client: TestClient, presenter: Presenter, session: dict[str, Any]
) -> None:
    cloud = show(client, presenter, session, 1)
    client.post(
        f"/{session['code']}/respond", data={"activity": str(cloud), "word": HOSTILE, "csrf_token": home_csrf(client)}
    )
    eventually(lambda: _respondents(presenter, session["id"], cloud, 1))
    page = client.get(session["projector_url"], headers=BROWSER).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert1&lt; script&gt;" in page


def _respondents(presenter: Presenter, session_id: int, activity_id: int, expected: int) -> None:
    assert presenter.tally(session_id, activity_id)["respondents"] == expected


def test_a_hostile_session_title_is_escaped(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(TWO_QUESTIONS.replace("title: Two questions", 'title: "<img src=x onerror=alert(1)>"'))
    page = client.get(f"/{session['code']}", headers=BROWSER).text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_session_page_loads_the_files_of_the_kinds_in_its_deck_and_no_others(
    client: TestClient, session: dict[str, Any]
) -> None:
    """The deck has a poll and a word cloud: the word cloud's script and style come with the page, Q&A's do not."""
    page = client.get(f"/{session['code']}", headers=BROWSER)
    assert '<script src="/static/kinds/wordcloud/wordcloud.js?v=' in page.text
    assert '<link rel="stylesheet" href="/static/kinds/wordcloud/wordcloud.css?v=' in page.text
    assert "/static/kinds/qa/" not in page.text and "/static/kinds/points/" not in page.text
    assert page.text.index("/static/js/handsup.js") < page.text.index("/static/kinds/wordcloud/wordcloud.js")
