"""Sessions: starting one from a deck, join codes, participants, and the presenter's controls."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from starlette.testclient import TestClient

import server.sessions
from activities import registry
from activities.base import SubmissionInvalid
from server.app import create_app
from server.backplane import session_channel
from server.config import Settings
from server.decks import parse_deck
from server.models import Activity, Participant, Response, ResultsMode, Session, SessionState, User
from server.sessions import (
    CONTROL_ACTIONS,
    ControlRefused,
    NoFreeCode,
    NotFound,
    SessionSnapshot,
    clean_code,
    control,
    control_action,
    create_session,
    find_live_session,
    format_code,
    handler,
    hash_token,
    load_snapshot,
    stored_answer,
)
from tests.factories import (
    DECK,
    SECRET,
    TWO_QUESTIONS,
    Presenter,
    api_token,
    caught_up,
    csrf_from,
    eventually,
    login,
    make_user,
    respond,
    run,
    services_of,
    stored,
)
from tests.factories import join as join_by_api

pytestmark = pytest.mark.postgresql  # each test here runs on SQLite and on PostgreSQL

SPEC = parse_deck(DECK.read_text(encoding="utf-8"), registry)


@pytest.fixture
def user(client: TestClient) -> User:
    return make_user(client)


def start(client: TestClient, user: User, title: str | None = None) -> Session:
    assert user.id is not None
    presenter_id = user.id
    return run(client, lambda: create_session(services_of(client).db, SPEC, presenter_id=presenter_id, title=title))


def act(
    client: TestClient, session: Session, action: str, activity: Activity | int | None = None, **form: list[str]
) -> None:
    services = services_of(client)
    activity_id = activity.id if isinstance(activity, Activity) else activity
    assert session.id is not None
    session_id = session.id
    run(
        client,
        lambda: control(
            services.db, services.backplane, services.registry, session_id, control_action(action), activity_id, form
        ),
    )


def refusal(client: TestClient, session: Session, action: str, activity: Activity | int | None = None) -> str:
    with pytest.raises(ControlRefused) as refused:
        act(client, session, action, activity)
    return str(refused.value)


def fresh(client: TestClient, session: Session) -> Session:
    [row] = stored(client, select(Session).where(Session.id == session.id))
    return row  # type: ignore[no-any-return]


def activities(client: TestClient, session: Session) -> list[Activity]:
    return stored(client, select(Activity).where(Activity.session_id == session.id).order_by(Activity.position))


def current(client: TestClient, session: Session) -> int | None:
    return fresh(client, session).current_activity_id


@pytest.fixture
def forced_codes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The codes create_session will draw, in order (then random ones); secrets.token_urlsafe stays real."""
    queue: list[int] = []

    def randbelow(limit: int) -> int:
        return queue.pop(0) if queue else secrets.randbelow(limit)

    monkeypatch.setattr(
        server.sessions, "secrets", SimpleNamespace(randbelow=randbelow, token_urlsafe=secrets.token_urlsafe)
    )
    return queue


# --- codes --------------------------------------------------------------------------------------------------------


def test_codes_are_six_digits(client: TestClient, user: User) -> None:
    for _ in range(10):
        assert re.fullmatch(r"\d{6}", start(client, user).code)


def test_codes_keep_their_leading_zeros(client: TestClient, user: User, forced_codes: list[int]) -> None:
    forced_codes.append(42)
    assert start(client, user).code == "000042"


def test_a_code_taken_by_a_live_session_is_drawn_again(client: TestClient, user: User, forced_codes: list[int]) -> None:
    forced_codes.extend([123456, 123456, 123456, 654321])
    first, second = start(client, user), start(client, user)
    assert (first.code, second.code) == ("123456", "654321")
    assert forced_codes == []
    assert len(stored(client, select(Session))) == 2
    assert len(stored(client, select(Activity))) == 2 * len(SPEC.activities)


def test_no_free_code_after_every_attempt_says_so(client: TestClient, user: User, forced_codes: list[int]) -> None:
    forced_codes.append(111111)
    start(client, user)
    forced_codes.extend([111111] * server.sessions.CODE_ATTEMPTS)
    with pytest.raises(NoFreeCode, match="No free join code: end some live sessions or set HANDSUP_JOIN_CODE_DIGITS=7"):
        start(client, user)
    assert len(stored(client, select(Session))) == 1


def start_with(client: TestClient, user: User, digits: int) -> Session:
    assert user.id is not None
    presenter_id = user.id
    return run(client, lambda: create_session(services_of(client).db, SPEC, presenter_id=presenter_id, digits=digits))


def test_live_sessions_never_share_a_code_even_in_a_tiny_code_space(client: TestClient, user: User) -> None:
    codes = [start_with(client, user, digits=1).code for _ in range(5)]  # five of the ten one-digit codes
    assert len(set(codes)) == 5


def test_a_full_code_space_says_no_free_code_and_starts_nothing(client: TestClient, user: User) -> None:
    assert user.id is not None
    presenter_id = user.id

    async def fill() -> None:  # every one-digit code taken by a live session
        async with services_of(client).db() as db, db.begin():
            for n in range(10):
                db.add(Session(code=str(n), title="Full", presenter_id=presenter_id, projector_secret=f"full-{n:030d}"))

    run(client, fill)
    with pytest.raises(NoFreeCode, match="No free join code"):
        start_with(client, user, digits=1)
    assert len(stored(client, select(Session))) == 10
    assert len(stored(client, select(Activity))) == 0


def test_the_database_refuses_a_second_live_session_with_a_code(client: TestClient, user: User) -> None:
    """The partial unique index itself, whatever create_session does: live codes are unique, ended ones may repeat."""
    first = start(client, user)
    assert user.id is not None
    presenter_id = user.id

    async def insert(secret: str) -> None:
        async with services_of(client).db() as db, db.begin():
            db.add(Session(code=first.code, title="Twin", presenter_id=presenter_id, projector_secret=secret))

    with pytest.raises(IntegrityError):
        run(client, insert, "twin-" + "x" * 30)
    act(client, first, "end")
    run(client, insert, "twin-" + "y" * 30)
    assert [s.state for s in stored(client, select(Session).where(Session.code == first.code))] == [
        SessionState.ended,
        SessionState.live,
    ]


def test_the_join_code_digits_setting_makes_longer_codes(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path, secret_key=SECRET, join_code_digits=8)
    with TestClient(create_app(settings)) as client:
        make_user(client)
        presenter = Presenter(client, make_user(client, "other@example.org"), api_token(client, "other@example.org"))
        session = presenter.start(TWO_QUESTIONS)
        assert re.fullmatch(r"\d{8}", session["code"])
        assert client.post("/api/v1/join", json={"code": format_code(session["code"])}).status_code == 201
        assert format_code(session["code"]) in client.get(f"/{session['code']}").text


@pytest.mark.parametrize("digits", [5, 10])
def test_the_join_code_digits_setting_is_six_to_nine(tmp_path: Path, digits: int) -> None:
    with pytest.raises(ValidationError, match="join_code_digits"):
        Settings(env="test", data_dir=tmp_path, secret_key=SECRET, join_code_digits=digits)


def test_no_free_code_is_a_409_problem_for_the_api_and_a_page_for_the_presenter(
    client: TestClient, presenter: Presenter, forced_codes: list[int]
) -> None:
    forced_codes.append(333333)
    presenter.start(TWO_QUESTIONS)
    forced_codes.extend([333333] * server.sessions.CODE_ATTEMPTS)
    response = client.post("/api/v1/sessions", json={"deck_yaml": TWO_QUESTIONS}, headers=presenter.headers)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "No free join code: end some live sessions or set HANDSUP_JOIN_CODE_DIGITS=7."
    login(client, presenter.user.email)
    dashboard = client.get("/present")
    [deck_id] = re.findall(r'name="deck_id" value="(\d+)"', dashboard.text)[:1]
    forced_codes.extend([333333] * server.sessions.CODE_ATTEMPTS)
    page = client.post(
        "/present/sessions",
        data={"deck_id": deck_id, "csrf_token": csrf_from(dashboard.text)},
        headers={"Accept": "text/html"},
    )
    assert page.status_code == 409
    assert "HANDSUP_JOIN_CODE_DIGITS=7" in page.text and page.headers["content-type"].startswith("text/html")


def test_an_ended_sessions_code_can_be_used_again(client: TestClient, user: User, forced_codes: list[int]) -> None:
    forced_codes.append(222222)
    old = start(client, user)
    act(client, old, "end")
    forced_codes.append(222222)
    new = start(client, user)
    assert new.code == old.code == "222222"
    assert run(client, lambda: find_live_session(services_of(client).db, "222222")).id == new.id


def test_find_live_session_does_not_find_an_ended_one(client: TestClient, user: User) -> None:
    session = start(client, user)
    act(client, session, "end")
    with pytest.raises(NotFound):
        run(client, lambda: find_live_session(services_of(client).db, session.code))


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("902180", "902180"),
        ("902 180", "902180"),
        ("902-180", "902180"),
        (" 902\u00a0180 ", "902180"),
        ("90218", None),
        ("9021800", "9021800"),
        ("902 180 123", "902180123"),
        ("9021801234", None),
        ("abcdef", None),
        ("９０２１８０", None),
        ("", None),
    ],
)
def test_clean_code_accepts_six_to_nine_digits_with_spaces_or_dashes(typed: str, code: str | None) -> None:
    assert clean_code(typed) == code


def test_format_code_splits_the_code_for_reading_aloud() -> None:
    assert [format_code(code) for code in ("902180", "9021801", "90218012", "902180123")] == [
        "902 180",
        "902 1801",
        "9021 8012",
        "902 180 123",
    ]


# --- starting a session ---------------------------------------------------------------------------------------------


def test_a_session_copies_the_decks_activities_in_order(client: TestClient, user: User) -> None:
    session = start(client, user)
    copied = activities(client, session)
    assert [(a.position, a.kind, a.title) for a in copied] == [
        (n, spec.kind, spec.title) for n, spec in enumerate(SPEC.activities)
    ]
    assert copied[1].config == SPEC.activities[1].config
    assert copied[6].results == ResultsMode.hidden
    assert all(a.voting_open and not a.revealed and a.epoch == 0 for a in copied)
    assert session.state == SessionState.live and session.current_activity_id is None
    assert session.title == SPEC.title


def test_a_session_may_be_given_its_own_title(client: TestClient, user: User) -> None:
    assert start(client, user, title="  Phoenix, April 24  ").title == "Phoenix, April 24"


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_a_blank_session_title_falls_back_to_the_decks(client: TestClient, user: User, blank: str | None) -> None:
    assert start(client, user, title=blank).title == SPEC.title


def test_each_session_has_its_own_projector_secret(client: TestClient, user: User) -> None:
    one, two = start(client, user), start(client, user)
    assert len(one.projector_secret) >= 32 and one.projector_secret != two.projector_secret


def test_load_snapshot_parses_each_activitys_config(client: TestClient, user: User) -> None:
    session = start(client, user)
    assert session.id is not None
    session_id = session.id
    snapshot = run(client, lambda: load_snapshot(services_of(client).db, registry, session_id))
    assert snapshot.live and snapshot.current is None
    poll = snapshot.activities[1]
    assert poll.id is not None
    assert snapshot.configs[poll.id].options[0] == "Putting out fires"  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        run(client, lambda: load_snapshot(services_of(client).db, registry, 999_999))


# --- participants ---------------------------------------------------------------------------------------------------


def test_join_gives_the_same_participant_for_the_same_token(client: TestClient, user: User) -> None:
    session = start(client, user)
    assert session.id is not None
    session_id = session.id
    writer = services_of(client).writer
    first = run(client, lambda: writer.join(session_id, hash_token("token-one")))
    again = run(client, lambda: writer.join(session_id, hash_token("token-one")))
    other = run(client, lambda: writer.join(session_id, hash_token("token-two")))
    assert first[1] and not again[1] and other[1]
    assert first[0] == again[0] != other[0]
    hashes = {p.token_hash for p in stored(client, select(Participant))}
    assert hashes == {hash_token("token-one"), hash_token("token-two")}
    assert "token-one" not in hashes


def test_the_same_token_is_a_different_participant_in_another_session(client: TestClient, user: User) -> None:
    one, two = start(client, user), start(client, user)
    assert one.id is not None and two.id is not None
    ids = (one.id, two.id)
    writer = services_of(client).writer
    assert run(client, lambda: writer.join(ids[0], "t"))[0] != run(client, lambda: writer.join(ids[1], "t"))[0]


def test_phones_joining_at_once_are_inserted_in_one_group_commit(client: TestClient, user: User) -> None:
    """A room scanning the code: every join waits for the writer's next group, not for a transaction of its own;
    two tabs of one phone in the same group are one participant, and a returning phone keeps its row."""
    session = start(client, user)
    assert session.id is not None
    session_id = session.id
    writer = services_of(client).writer
    returning = run(client, lambda: writer.join(session_id, hash_token("back")))
    batches = writer.batches

    async def crowd() -> list[tuple[int, bool]]:
        hashes = [hash_token(f"phone-{i}") for i in range(300)] + [hash_token("phone-7"), hash_token("back")]
        return list(await asyncio.gather(*(writer.join(session_id, h) for h in hashes)))

    joined = run(client, crowd)
    assert writer.batches - batches <= 2  # one group (two if the writer woke between the first joins and the rest)
    assert len({pid for pid, _ in joined}) == 301
    assert joined[7][0] == joined[300][0] and joined[7][1] and joined[300][1]  # the two tabs: one new participant
    assert joined[301] == (returning[0], False)
    assert len(stored(client, select(Participant).where(Participant.session_id == session_id))) == 301


# --- controls -------------------------------------------------------------------------------------------------------


def test_next_and_previous_walk_the_deck_from_the_lobby(client: TestClient, user: User) -> None:
    session = start(client, user)
    first, second = activities(client, session)[:2]
    act(client, session, "next")
    assert current(client, session) == first.id
    act(client, session, "next")
    assert current(client, session) == second.id
    act(client, session, "previous")
    assert current(client, session) == first.id
    act(client, session, "previous")
    assert current(client, session) is None


def test_next_after_the_last_activity_is_refused(client: TestClient, user: User) -> None:
    session = start(client, user)
    act(client, session, "goto", activities(client, session)[-1])
    assert refusal(client, session, "next") == "This is the last activity."


def test_goto_jumps_to_any_activity_of_the_session(client: TestClient, user: User) -> None:
    session = start(client, user)
    target = activities(client, session)[4]
    act(client, session, "goto", target)
    assert current(client, session) == target.id


def test_goto_without_an_activity_returns_to_the_lobby(client: TestClient, user: User) -> None:
    session = start(client, user)
    act(client, session, "goto", activities(client, session)[2])
    act(client, session, "goto")
    assert current(client, session) is None


def test_goto_an_activity_of_another_session_is_refused(client: TestClient, user: User) -> None:
    session, other = start(client, user), start(client, user)
    act(client, session, "next")
    before = current(client, session)
    assert refusal(client, session, "goto", activities(client, other)[0]) == (
        "That activity is not part of this session."
    )
    assert current(client, session) == before


@pytest.mark.parametrize("action", ["open", "close", "reveal", "conceal", "reset"])
def test_an_action_on_an_activity_needs_one(client: TestClient, user: User, action: str) -> None:
    session = start(client, user)
    assert refusal(client, session, action) == "Choose an activity of this session."


@pytest.mark.parametrize("action", ["open", "close", "reveal", "conceal", "reset", "moderate"])
def test_an_action_on_another_sessions_activity_is_refused(client: TestClient, user: User, action: str) -> None:
    session, other = start(client, user), start(client, user)
    foreign = activities(client, other)[0]
    assert refusal(client, session, action, foreign) == "That activity is not part of this session."
    assert activities(client, other)[0] == foreign


def test_an_unknown_action_is_refused_with_the_known_ones(client: TestClient, user: User) -> None:
    session = start(client, user)
    message = refusal(client, session, "shuffle")
    assert message.startswith("Unknown action 'shuffle'; one of goto, next, previous")


def test_every_control_action_names_its_handler() -> None:
    """mypy checks the match in handler() is exhaustive; this checks the names a request may use reach it."""
    assert all(callable(handler(control_action(action))) for action in CONTROL_ACTIONS)


def test_close_and_open_voting_on_the_current_activity(client: TestClient, user: User) -> None:
    session = start(client, user)
    act(client, session, "next")
    act(client, session, "close")
    assert not activities(client, session)[0].voting_open
    act(client, session, "open")
    assert activities(client, session)[0].voting_open


def test_close_voting_on_a_named_activity(client: TestClient, user: User) -> None:
    session = start(client, user)
    target = activities(client, session)[3]
    act(client, session, "close", target)
    assert [a.voting_open for a in activities(client, session)] == [n != 3 for n in range(len(SPEC.activities))]


def test_reveal_and_conceal_hidden_results(client: TestClient, user: User) -> None:
    session = start(client, user)
    hidden = activities(client, session)[6]
    assert not SessionSnapshot.results_visible(hidden)
    act(client, session, "reveal", hidden)
    assert activities(client, session)[6].revealed
    assert SessionSnapshot.results_visible(activities(client, session)[6])
    act(client, session, "conceal", hidden)
    assert not activities(client, session)[6].revealed


def test_moderate_hides_a_word_of_a_word_cloud(client: TestClient, user: User) -> None:
    session = start(client, user)
    cloud = activities(client, session)[0]
    act(client, session, "moderate", cloud, verb=["hide"], word=["rude"])
    assert activities(client, session)[0].moderation == {"hidden": ["rude"]}
    act(client, session, "moderate", cloud, verb=["show"], word=["rude"])
    assert activities(client, session)[0].moderation == {"hidden": [], "allowed": ["rude"]}


def test_moderate_a_poll_is_refused_by_its_kind(client: TestClient, user: User) -> None:
    session = start(client, user)
    with pytest.raises(SubmissionInvalid, match="Poll has no moderation action 'hide'"):
        act(client, session, "moderate", activities(client, session)[1], verb=["hide"], word=["x"])


def test_end_ends_the_session_and_refuses_further_controls(client: TestClient, user: User) -> None:
    session = start(client, user)
    act(client, session, "end")
    ended = fresh(client, session)
    assert ended.state == SessionState.ended and ended.ended_at is not None
    for action in ("next", "goto", "end", "open"):
        assert refusal(client, session, action) == "This session has ended."


def test_control_of_a_session_that_does_not_exist_is_not_found(client: TestClient) -> None:
    with pytest.raises(NotFound):
        act(client, Session(id=999_999, code="000000", title="-", presenter_id=1, projector_secret="-"), "next")


def test_control_tells_every_worker_to_reload_the_sessions_state(client: TestClient, user: User) -> None:
    session = start(client, user)
    services = services_of(client)
    assert session.id is not None
    session_id = session.id

    async def next_and_listen() -> Any:
        async with services.backplane.subscribe(session_channel(session_id)) as subscription:
            await control(services.db, services.backplane, services.registry, session_id, "next")
            return await subscription.get()

    assert run(client, next_and_listen) == {"type": "state"}


def test_a_refused_control_changes_nothing_and_tells_nobody(client: TestClient, user: User) -> None:
    session = start(client, user)
    act(client, session, "goto", activities(client, session)[-1])
    before = (fresh(client, session), activities(client, session))
    with pytest.raises(ControlRefused):
        act(client, session, "next")
    assert (fresh(client, session), activities(client, session)) == before


# --- reset ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def voted(client: TestClient, presenter: Presenter) -> Iterator[tuple[dict[str, Any], int, list[str]]]:
    """A session on its poll with three stored votes, as counted by the presenter's tally."""
    session = presenter.start()
    poll = session["activities"][1]["id"]
    presenter.control(session["id"], "goto", poll)
    caught_up(client, session["id"])
    tokens = [join_by_api(client, session["code"]) for _ in range(3)]
    for n, token in enumerate(tokens):
        assert respond(client, token, poll, choice=[str(n % 2)]).status_code == 201
    eventually(lambda: _respondents(presenter, session["id"], poll, 3))
    yield session, poll, tokens


def _respondents(presenter: Presenter, session_id: int, activity_id: int, expected: int) -> None:
    assert presenter.tally(session_id, activity_id)["respondents"] == expected


def test_reset_empties_the_tally_and_deletes_the_responses(
    client: TestClient, presenter: Presenter, voted: tuple[dict[str, Any], int, list[str]]
) -> None:
    session, poll, _ = voted
    assert len(stored(client, select(Response).where(Response.activity_id == poll))) == 3
    presenter.control(session["id"], "reset", poll)
    tally = eventually(lambda: _emptied(presenter, session["id"], poll))
    assert [option["count"] for option in tally["results"]["options"]] == [0, 0, 0]
    assert stored(client, select(Response).where(Response.activity_id == poll)) == []
    [activity] = stored(client, select(Activity).where(Activity.id == poll))
    assert activity.epoch == 1


def _emptied(presenter: Presenter, session_id: int, activity_id: int) -> dict[str, Any]:
    tally = presenter.tally(session_id, activity_id)
    assert tally["respondents"] == 0
    return tally


def test_after_a_reset_new_answers_count_again(
    client: TestClient, presenter: Presenter, voted: tuple[dict[str, Any], int, list[str]]
) -> None:
    session, poll, tokens = voted
    presenter.control(session["id"], "reset", poll)
    eventually(lambda: _emptied(presenter, session["id"], poll))
    assert respond(client, tokens[0], poll, choice=["2"]).status_code == 201
    eventually(lambda: _respondents(presenter, session["id"], poll, 1))
    [row] = stored(client, select(Response).where(Response.activity_id == poll))
    assert (row.epoch, row.payload) == (1, {"choices": [2]})


def test_reset_of_one_activity_keeps_the_others(
    client: TestClient, presenter: Presenter, voted: tuple[dict[str, Any], int, list[str]]
) -> None:
    session, poll, tokens = voted
    cloud = session["activities"][0]["id"]
    presenter.control(session["id"], "goto", cloud)
    caught_up(client, session["id"])
    assert respond(client, tokens[0], cloud, word=["trust"]).status_code == 201
    presenter.control(session["id"], "reset", poll)
    assert len(stored(client, select(Response).where(Response.activity_id == cloud))) == 1
    eventually(lambda: _respondents(presenter, session["id"], cloud, 1))


def test_stored_answer_is_the_answer_of_the_current_epoch(
    client: TestClient, presenter: Presenter, voted: tuple[dict[str, Any], int, list[str]]
) -> None:
    session, poll, tokens = voted
    [participant] = stored(client, select(Participant.id).where(Participant.token_hash == hash_token(tokens[1])))
    db = services_of(client).db

    def answer() -> Any:
        [activity] = stored(client, select(Activity).where(Activity.id == poll))
        return run(client, lambda: stored_answer(db, activity, participant))

    assert answer() == {"choices": [1]}
    presenter.control(session["id"], "reset", poll)
    assert answer() is None
