"""Webhooks (server/webhooks.py, server/routes/webhooks.py), delivered to a real HTTP receiver on loopback."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.decks import parse_deck
from server.models import Role, Webhook, WebhookDelivery
from server.sessions import create_session
from server.webhooks import backoff, verify
from tests.factories import (
    TWO_QUESTIONS,
    Presenter,
    api_token,
    caught_up,
    eventually,
    join,
    limits,
    make_user,
    respond,
    run,
    services_of,
    stored,
)
from tests.server.webhooks.receiver import Receiver, receiving

# Deliveries to this machine's loopback (the receiver), quickly gathered and quickly retried.
LOCAL = {
    "webhooks_allow_local": True,
    "webhook_batch_seconds": 0.05,
    "webhook_backoff_seconds": 0.01,
    "webhook_backoff_cap_seconds": 0.05,
}
ALL_EVENTS = ["response.stored", "session.ended", "archive.ready"]


def add_webhook(presenter: Presenter, url: str, events: list[str] | None = None) -> dict[str, Any]:
    body = {"url": url, "events": events or ALL_EVENTS}
    created = presenter.client.post("/api/v1/webhooks", json=body, headers=presenter.headers)
    assert created.status_code == 201, created.text
    return dict(created.json())


def deliveries(presenter: Presenter, webhook_id: int) -> list[dict[str, Any]]:
    listed = presenter.client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=presenter.headers)
    assert listed.status_code == 200, listed.text
    return list(listed.json())


def finished(presenter: Presenter, webhook_id: int, count: int) -> list[dict[str, Any]]:
    """The webhook's deliveries once `count` of them are finished (delivered or failed)."""

    def probe() -> list[dict[str, Any]]:
        done = [d for d in deliveries(presenter, webhook_id) if d["status"] != "pending"]
        assert len(done) >= count, done
        return done

    return eventually(probe, seconds=15)


def on_the_poll(presenter: Presenter) -> tuple[dict[str, Any], int]:
    """A session of the small deck, showing its poll: the session and the poll's id."""
    session = presenter.start(TWO_QUESTIONS)
    poll = int(session["activities"][0]["id"])
    presenter.control(session["id"], "goto", poll)
    caught_up(presenter.client, session["id"])
    return session, poll


def someone(client: TestClient, email: str, role: Role = Role.presenter) -> Presenter:
    return Presenter(client, make_user(client, email, role), api_token(client, email))


def verified(receiver: Receiver, event_type: str, secret: str) -> list[dict[str, Any]]:
    """The documents of one type the receiver got, each checked against its signature."""
    documents = []
    for request in receiver.of_type(event_type):
        assert verify(secret, request.headers["Handsup-Signature"], request.body), request.headers
        assert request.headers["Handsup-Event"] == event_type
        assert request.headers["Content-Type"] == "application/json"
        documents.append(request.document)
    return documents


@pytest.mark.postgresql
@limits(**LOCAL)
def test_a_session_with_a_webhook_sends_responses_its_end_and_its_archive_signed(presenter: Presenter) -> None:
    client = presenter.client
    with receiving() as receiver:
        webhook = add_webhook(presenter, receiver.url)
        assert webhook["secret"].startswith("whsec_") and webhook["active"] is True
        session, poll = on_the_poll(presenter)
        voters = [join(client, session["code"]) for _ in range(3)]
        for number, token in enumerate(voters):
            assert respond(client, token, poll, choice=str(number % 2)).status_code == 201
        eventually(lambda: _counted(receiver, "response.stored", 3), seconds=15)
        presenter.control(session["id"], "end")
        eventually(lambda: _counted(receiver, "session.ended", 1), seconds=15)
        archive = client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers)
        assert archive.status_code == 200
        eventually(lambda: _counted(receiver, "archive.ready", 1), seconds=15)

    secret = webhook["secret"]
    stored_events = verified(receiver, "response.stored", secret)
    answers = [r for document in stored_events for r in document["data"]["responses"]]
    assert len(answers) == 3 and {r["activity_id"] for r in answers} == {poll}
    assert sorted(r["answer"]["choices"][0] for r in answers) == [0, 0, 1], answers
    assert all(document["data"]["session_id"] == session["id"] for document in stored_events)
    (ended,) = verified(receiver, "session.ended", secret)
    assert ended["data"]["session_id"] == session["id"] and ended["data"]["code"] == session["code"]
    assert set(ended) == {"id", "type", "created_at", "data"} and ended["id"].startswith("evt_")
    (ready,) = verified(receiver, "archive.ready", secret)
    assert ready["data"]["scope"] == "session" and ready["data"]["id"] == session["id"]
    assert ready["data"]["download"] == f"/api/v1/sessions/{session['id']}/archive.zip"
    assert ready["data"]["filename"].endswith(".zip")
    # Every delivery has its own id (the receiver's idempotency key), and the record says each went through.
    ids = [request.headers["Handsup-Delivery"] for request in receiver.received]
    assert len(set(ids)) == len(ids)
    record = finished(presenter, webhook["id"], len(ids))
    assert {d["status"] for d in record} == {"delivered"} and {d["response_status"] for d in record} == {200}
    assert {d["delivery_id"] for d in record} == set(ids)


def _counted(receiver: Receiver, event_type: str, at_least: int) -> None:
    if event_type == "response.stored":
        got = sum(len(r.document["data"]["responses"]) for r in receiver.of_type(event_type))
    else:
        got = len(receiver.of_type(event_type))
    assert got >= at_least, f"{got} {event_type}"


@limits(**LOCAL)
def test_a_signature_fails_for_another_secret_a_changed_body_or_an_old_timestamp(presenter: Presenter) -> None:
    with receiving() as receiver:
        webhook = add_webhook(presenter, receiver.url, ["session.ended"])
        session = presenter.start(TWO_QUESTIONS)
        presenter.control(session["id"], "end")
        eventually(lambda: _counted(receiver, "session.ended", 1), seconds=15)
    (request,) = receiver.received
    header = request.headers["Handsup-Signature"]
    assert verify(webhook["secret"], header, request.body)
    assert not verify("whsec_someone-else", header, request.body)
    assert not verify(webhook["secret"], header, request.body.replace(b'"session.ended"', b'"session.ende"'))
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert not verify(webhook["secret"], header, request.body, now=timestamp + 301)
    assert not verify(webhook["secret"], "v1=nothing", request.body)


@limits(**LOCAL)
def test_a_delivery_is_retried_after_500s_with_the_same_delivery_id(presenter: Presenter) -> None:
    with receiving(statuses=[500, 503]) as receiver:
        webhook = add_webhook(presenter, receiver.url, ["session.ended"])
        session = presenter.start(TWO_QUESTIONS)
        presenter.control(session["id"], "end")
        (record,) = finished(presenter, webhook["id"], 1)
    assert len(receiver.received) == 3
    assert len({request.headers["Handsup-Delivery"] for request in receiver.received}) == 1
    assert len({request.body for request in receiver.received}) == 1  # the same event each time
    assert record["status"] == "delivered" and record["attempts"] == 3 and record["response_status"] == 200


@limits(**LOCAL, webhook_attempts=4)
def test_attempts_are_bounded_and_a_refusal_is_not_retried(presenter: Presenter) -> None:
    with receiving(otherwise=502) as failing, receiving(statuses=[410]) as gone:
        down = add_webhook(presenter, failing.url, ["session.ended"])
        refusing = add_webhook(presenter, gone.url, ["session.ended"])
        session = presenter.start(TWO_QUESTIONS)
        presenter.control(session["id"], "end")
        (failed,) = finished(presenter, down["id"], 1)
        (refused,) = finished(presenter, refusing["id"], 1)
    assert len(failing.received) == 4
    assert failed["status"] == "failed" and failed["attempts"] == 4 and failed["response_status"] == 502
    assert len(gone.received) == 1  # a 4xx is the receiver's answer: asking again would get the same
    assert refused["status"] == "failed" and refused["attempts"] == 1 and refused["response_status"] == 410
    shown = presenter.client.get(f"/api/v1/webhooks/{down['id']}", headers=presenter.headers).json()
    assert shown["failures"] == 1 and shown["active"] is True


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    for retry in range(1, 30):
        ceiling = min(60.0, 0.5 * 2 ** (retry - 1))
        for _ in range(20):
            assert ceiling / 2 <= backoff(retry, 0.5, 60.0) <= ceiling
    assert len({backoff(3, 1.0, 60.0) for _ in range(20)}) > 1  # jitter: senders do not retry in step


@pytest.mark.postgresql
@limits(**LOCAL, webhook_attempts=1, webhook_failures_to_pause=2)
def test_a_webhook_that_keeps_failing_is_paused_with_its_reason(presenter: Presenter) -> None:
    client = presenter.client
    with receiving(otherwise=500) as failing, receiving() as working:
        flaky = add_webhook(presenter, failing.url, ["session.ended", "archive.ready"])
        session = presenter.start(TWO_QUESTIONS)
        presenter.control(session["id"], "end")
        finished(presenter, flaky["id"], 1)
        assert client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers).status_code == 200
        finished(presenter, flaky["id"], 2)
        shown = client.get(f"/api/v1/webhooks/{flaky['id']}", headers=presenter.headers).json()
        assert shown["active"] is False and shown["failures"] == 2
        assert "2 failed deliveries in a row" in shown["paused_reason"] and "500" in shown["paused_reason"]
        # Paused, it gets nothing more: a working webhook gets the next archive, the paused one no delivery.
        healthy = add_webhook(presenter, working.url, ["archive.ready"])
        assert client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers).status_code == 200
        finished(presenter, healthy["id"], 1)
        assert len(deliveries(presenter, flaky["id"])) == 2 and len(failing.received) == 2
        # Resuming forgets the failures and the reason.
        resumed = client.patch(f"/api/v1/webhooks/{flaky['id']}", json={"active": True}, headers=presenter.headers)
        assert resumed.status_code == 200
        assert resumed.json()["active"] is True and resumed.json()["failures"] == 0
        assert resumed.json()["paused_reason"] == ""


@limits(**LOCAL)
def test_a_webhook_gets_only_what_its_owner_may_read(client: TestClient) -> None:
    owner = someone(client, "owner@example.org")
    helper = someone(client, "helper@example.org")
    stranger = someone(client, "stranger@example.org")
    admin = someone(client, "admin@example.org", Role.admin)
    with receiving() as receiver:
        url = receiver.url.removesuffix("/hooks")
        hooks = {
            name: add_webhook(p, f"{url}/{name}", ["session.ended"])
            for name, p in {"owner": owner, "helper": helper, "stranger": stranger, "admin": admin}.items()
        }
        session = owner.start(TWO_QUESTIONS)
        added = client.post(
            f"/api/v1/sessions/{session['id']}/facilitators",
            json={"email": "helper@example.org"},
            headers=owner.headers,
        )
        assert added.status_code == 201, added.text
        owner.control(session["id"], "end")
        for name in ("owner", "helper", "admin"):
            finished({"owner": owner, "helper": helper, "admin": admin}[name], hooks[name]["id"], 1)
    assert sorted(request.path for request in receiver.received) == ["/admin", "/helper", "/owner"]
    assert deliveries(stranger, hooks["stranger"]["id"]) == []


@pytest.mark.postgresql
@limits(**LOCAL)
def test_an_organizer_gets_their_institutes_events_and_a_presenter_not_the_cohorts_archive(client: TestClient) -> None:
    organizer = someone(client, "organizer@example.org", Role.organizer)
    other_organizer = someone(client, "other-organizer@example.org", Role.organizer)
    presenter = someone(client, "presenter@example.org")
    institute = client.post("/api/v1/institutes", json={"title": "Spring Institute"}, headers=organizer.headers)
    assert institute.status_code == 201, institute.text
    cohort = client.post(
        f"/api/v1/institutes/{institute.json()['id']}/cohorts", json={"name": "Phoenix"}, headers=organizer.headers
    )
    assert cohort.status_code == 201, cohort.text
    cohort_id = cohort.json()["id"]
    services = services_of(client)
    spec = parse_deck(TWO_QUESTIONS, services.registry)
    assert presenter.user.id is not None
    session = run(
        client, lambda: create_session(services.db, spec, presenter_id=presenter.user.id, cohort_id=cohort_id)
    )
    with receiving() as receiver:
        base = receiver.url.removesuffix("/hooks")
        people = {"organizer": organizer, "other-organizer": other_organizer, "presenter": presenter}
        hooks = {
            name: add_webhook(p, f"{base}/{name}", ["session.ended", "archive.ready"]) for name, p in people.items()
        }
        presenter.control(session.id, "end")
        cohort_archive = client.get(f"/api/v1/cohorts/{cohort_id}/archive.zip", headers=organizer.headers)
        assert cohort_archive.status_code == 200
        finished(organizer, hooks["organizer"]["id"], 2)
        finished(presenter, hooks["presenter"]["id"], 1)
    got = sorted((request.path, request.type) for request in receiver.received)
    assert got == [
        ("/organizer", "archive.ready"),
        ("/organizer", "session.ended"),
        ("/presenter", "session.ended"),  # the presenter may not download the cohort's archive: not told of it
    ]
    assert deliveries(other_organizer, hooks["other-organizer"]["id"]) == []


@limits(**LOCAL)
def test_another_accounts_webhook_is_not_found(client: TestClient) -> None:
    owner = someone(client, "owner@example.org")
    other = someone(client, "other@example.org")
    webhook = add_webhook(owner, "https://example.org/hooks")
    path = f"/api/v1/webhooks/{webhook['id']}"
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"active": False}),
        ("DELETE", "", None),
        ("GET", "/deliveries", None),
    ):
        answer = client.request(method, path + suffix, json=body, headers=other.headers)
        assert answer.status_code == 404, (method, suffix, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/webhooks", headers=other.headers).json() == []
    still = client.get(path, headers=owner.headers).json()
    assert still["active"] is True and still["url"] == "https://example.org/hooks"
    assert client.get("/api/v1/webhooks").status_code == 401


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://example.org/hooks", "https://"),
        ("ftp://example.org/hooks", "https://"),
        ("https://user:secret@example.org/hooks", "user name or password"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://192.168.1.20/hooks", "private"),
        ("https://127.0.0.1/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[::1]/hooks", "private"),
        ("https://[::ffff:10.0.0.1]/hooks", "private"),
        ("https://localhost/hooks", "localhost"),
        ("https://0.0.0.0/hooks", "cannot receive"),
        ("https://example.org:99999/hooks", "not a URL"),
        ("https://exa mple.org/hooks", "spaces"),
        ("not a url", "https://"),
        ("https://example.org/hooks#part", "fragment"),
    ],
)
def test_targets_inside_the_network_and_malformed_urls_are_refused(presenter: Presenter, url: str, says: str) -> None:
    refused = presenter.client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["session.ended"]}, headers=presenter.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert says in refused.json()["detail"]
    assert stored(presenter.client, _webhooks()) == []


def _webhooks() -> Any:
    return select(Webhook)


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([], 422),
        (["session.started"], 422),
        (["session.ended"] * 1000, 422),
        ("session.ended", 422),
    ],
)
def test_no_events_unknown_events_and_huge_lists_are_refused(presenter: Presenter, events: Any, status: int) -> None:
    refused = presenter.client.post(
        "/api/v1/webhooks", json={"url": "https://example.org/hooks", "events": events}, headers=presenter.headers
    )
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert stored(presenter.client, _webhooks()) == []


@limits(webhooks_per_account=2)
def test_an_account_holds_a_bounded_number_of_webhooks(presenter: Presenter) -> None:
    for number in range(2):
        add_webhook(presenter, f"https://example.org/hooks/{number}")
    refused = presenter.client.post(
        "/api/v1/webhooks", json={"url": "https://example.org/more", "events": ALL_EVENTS}, headers=presenter.headers
    )
    assert refused.status_code == 422 and "2 webhooks" in refused.json()["detail"]


@limits(webhook_batch_seconds=0.05)
def test_a_name_resolving_inside_the_network_is_refused_at_delivery_time(presenter: Presenter) -> None:
    """A webhook whose host later points at a private address (DNS rebinding, here `localhost`) gets nothing."""
    with receiving() as receiver:
        assert presenter.user.id is not None
        local = f"https://localhost:{receiver.port}/hooks"

        async def plant() -> int:
            async with services_of(presenter.client).db() as db, db.begin():
                row = Webhook(owner_id=presenter.user.id, url=local, events=["session.ended"], secret="whsec_x")
                db.add(row)
            services_of(presenter.client).webhooks.changed()  # as the routes do after a change
            assert row.id is not None
            return row.id

        webhook_id = run(presenter.client, plant)
        session = presenter.start(TWO_QUESTIONS)
        presenter.control(session["id"], "end")
        (record,) = finished(presenter, webhook_id, 1)
    assert receiver.received == []
    assert record["status"] == "failed" and "loopback" in record["error"] and record["attempts"] == 1


@limits(**LOCAL, webhook_queue_limit=2, webhook_concurrency=1, webhook_timeout_seconds=60)
def test_a_vote_burst_is_not_slowed_by_a_receiver_that_hangs(presenter: Presenter) -> None:
    """The receiver holds every request: deliveries stall, the queue fills, and every vote is still stored and
    acknowledged; the events that did not fit are counted, and the session's next event says how many."""
    client = presenter.client
    hold = threading.Event()
    with receiving(hold=hold) as receiver:
        add_webhook(presenter, receiver.url, ["response.stored"])
        session, poll = on_the_poll(presenter)
        webhooks = services_of(client).webhooks
        first = join(client, session["code"])
        assert respond(client, first, poll, choice="0").status_code == 201
        eventually(lambda: _holding(receiver), seconds=15)  # the one delivery slot is taken, and stays taken
        voters = [join(client, session["code"]) for _ in range(40)]
        for token in voters:
            assert respond(client, token, poll, choice="1").status_code == 201
        assert webhooks.stats.dropped > 0
        assert presenter.tally(session["id"], poll)["respondents"] == 41
        hold.set()
        eventually(lambda: _told_of_drops(receiver), seconds=15)


def _holding(receiver: Receiver) -> None:
    assert len(receiver.received) >= 1


def _told_of_drops(receiver: Receiver) -> None:
    assert any(r.document["data"].get("dropped", 0) > 0 for r in receiver.of_type("response.stored"))


def test_a_deleted_webhook_and_its_deliveries_are_gone(presenter: Presenter) -> None:
    webhook = add_webhook(presenter, "https://example.org/hooks")
    path = f"/api/v1/webhooks/{webhook['id']}"
    assert presenter.client.delete(path, headers=presenter.headers).status_code == 204
    assert presenter.client.get(path, headers=presenter.headers).status_code == 404
    assert stored(presenter.client, _webhooks()) == []
    assert stored(presenter.client, select(WebhookDelivery)) == []


def test_a_change_is_checked_as_an_addition_is(presenter: Presenter) -> None:
    webhook = add_webhook(presenter, "https://example.org/hooks", ["session.ended"])
    path = f"/api/v1/webhooks/{webhook['id']}"
    for body in (
        {"url": "https://169.254.169.254/latest"},
        {"url": "http://example.org/hooks"},
        {"events": ["session.started"]},
        {"events": []},
    ):
        refused = presenter.client.patch(path, json=body, headers=presenter.headers)
        assert refused.status_code == 422, (body, refused.text)
    changed = presenter.client.patch(
        path, json={"url": "https://example.org/other", "events": ["archive.ready"]}, headers=presenter.headers
    )
    assert changed.status_code == 200
    assert changed.json()["url"] == "https://example.org/other" and changed.json()["events"] == ["archive.ready"]
    assert "secret" not in changed.json()
    listed = presenter.client.get("/api/v1/webhooks", headers=presenter.headers).json()
    assert [w["url"] for w in listed] == ["https://example.org/other"] and "secret" not in listed[0]


@limits(**LOCAL)
def test_without_a_webhook_for_them_stored_responses_never_enter_the_queue(presenter: Presenter) -> None:
    """A busy room on a server without webhooks: once the wanted events are read, a commit's responses skip the
    delivery queue altogether; a webhook added for them is served from the next commit on."""
    session, poll = on_the_poll(presenter)
    client = presenter.client
    webhooks = services_of(client).webhooks
    assert respond(client, join(client, session["code"]), poll, choice="0").status_code == 201

    def read_and_idle() -> None:  # the delivery loop has read which events are wanted, and taken the first commit
        assert webhooks._wanted is not None and webhooks.depth == 0

    eventually(read_and_idle)
    raised = webhooks.stats.raised
    for choice in ("1", "0"):
        assert respond(client, join(client, session["code"]), poll, choice=choice).status_code == 201
    assert webhooks.stats.raised == raised  # neither commit queued anything
    with receiving() as receiver:
        add_webhook(presenter, receiver.url, ["response.stored"])
        assert respond(client, join(client, session["code"]), poll, choice="1").status_code == 201
        assert webhooks.stats.raised == raised + 1

        def delivered() -> None:
            assert len(receiver.received) == 1

        eventually(delivered, seconds=15)
