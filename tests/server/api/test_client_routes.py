"""The Python client covers the whole JSON API (issue 17, part 3), against a real `handsup serve`.

Every operation of the server's /openapi.json under /api/v1 is called by a method of handsup_client (each method
declares its route in `handsup_client.client.ROUTES`): a new route without a method fails here. The methods of the
routes every page action got are driven against the real server as a script would: a cohort's edits, sessions and
retention (with the typed confirmation), decks copied, renamed and shared, the editor's palette and previews, a
token made and used, webhooks created, listed and delivered to a receiver on loopback (signature checked as the docs
say), accounts made, changed and approved, a single sign-on link made through the real OpenID provider of the
browser tests, and the presenter's and projector's sockets opened with an API token, a control pushing to them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import io
import json
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from handsup_client import (
    ROUTES,
    ApiError,
    Handsup,
    Participant,
    SocketRefused,
    presenter_socket,
    projector_secret,
    projector_socket,
)
from tests.factories import PASSWORD, LiveServer, cli, eventually, free_port, start_server, stop_server
from tests.server.api.test_docs_client import ROOT, code_blocks, run_python
from tests.server.slide_files import hand_pdf
from tests.services import OpenIdProvider, scratch_folder

ADMIN = "admin@example.org"
DISTRICT = "district.example.org"
ACCOUNTS = {
    "cy": {"email": f"cy@{DISTRICT}", "email_verified": True, "name": "Cy"},
    "bo": {"email": "bo@partner.example.net", "email_verified": True, "name": "Bo"},
}
DECK = """\
title: Closing circle
activities:
  - kind: poll
    title: Ready to go?
    options: [Yes, Not yet]
  - kind: wordcloud
    title: One word for today
"""


@dataclass
class Site:
    server: LiveServer
    provider: OpenIdProvider
    token: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A server with webhooks allowed to loopback and two single sign-on providers of the real OpenID provider:
    the district (its domain let in as presenters) and partners (anyone, once an admin approves)."""
    port = free_port()
    clients = [
        {
            "client_id": name,
            "client_secret": f"{name}-secret",
            "redirect_uris": [f"http://127.0.0.1:{port}/login/oidc/{name}/callback"],
        }
        for name in ("district", "partners")
    ]
    provider = OpenIdProvider(scratch_folder("oidc-"), clients, ACCOUNTS)
    provider.start()
    providers = [
        {
            "name": "district",
            "title": "District",
            "issuer": provider.issuer,
            "client_id": "district",
            "client_secret": "district-secret",
            "domains": {DISTRICT: "presenter"},
        },
        {
            "name": "partners",
            "title": "Partners",
            "issuer": provider.issuer,
            "client_id": "partners",
            "client_secret": "partners-secret",
            "approval": True,
        },
    ]
    server = start_server(
        tmp_path_factory.mktemp("client-routes"),
        port,
        HANDSUP_OIDC_PROVIDERS=json.dumps(providers),
        HANDSUP_WEBHOOKS_ALLOW_LOCAL="true",
        HANDSUP_WEBHOOK_BATCH_SECONDS="0.2",
    )
    try:
        secret = server.data_dir / "admin-password"
        secret.write_text(PASSWORD + "\n")
        cli(server, "user", "add", ADMIN, "--role", "admin", "--password-file", str(secret))
        yield Site(server, provider, cli(server, "token", "create", ADMIN, "--name", "client routes"))
    finally:
        stop_server(server)
        provider.stop()


# --- coverage ------------------------------------------------------------------------------------------------------


def operations(openapi: dict[str, Any]) -> set[tuple[str, str]]:
    """The (method, path) of every JSON API operation an OpenAPI description lists."""
    verbs = {"get", "post", "put", "patch", "delete"}
    return {
        (verb.upper(), path)
        for path, item in openapi["paths"].items()
        if path.startswith("/api/v1/")
        for verb in item
        if verb in verbs
    }


def uncovered(openapi: dict[str, Any]) -> list[str]:
    """The operations no client method calls, and the routes a client method names that the server lacks."""
    served = operations(openapi)
    missing = [f"no client method calls {method} {path}" for method, path in sorted(served - set(ROUTES))]
    stale = [f"{ROUTES[key]} calls {key[0]} {key[1]}, which the server has not" for key in sorted(set(ROUTES) - served)]
    return missing + stale


def test_every_operation_of_the_api_is_called_by_a_client_method(site: Site) -> None:
    openapi = httpx.get(f"{site.server.url}/openapi.json").json()
    assert len(operations(openapi)) > 60  # the whole API, not an empty description
    assert uncovered(openapi) == []


def test_a_new_route_without_a_client_method_fails_the_coverage(site: Site) -> None:
    openapi = httpx.get(f"{site.server.url}/openapi.json").json()
    openapi["paths"]["/api/v1/widgets/{widget_id}"] = {"get": {}, "delete": {}, "parameters": []}
    del openapi["paths"]["/api/v1/kinds"]
    assert uncovered(openapi) == [
        "no client method calls DELETE /api/v1/widgets/{widget_id}",
        "no client method calls GET /api/v1/widgets/{widget_id}",
        "Handsup.kinds calls GET /api/v1/kinds, which the server has not",
    ]


def mismatches(routes: dict[tuple[str, str], str]) -> list[str]:
    """The methods whose code does not send the route they declare: its path (any names in its braces), its verb."""
    owners = {"Handsup": Handsup, "Participant": Participant}
    found = []
    for (method, path), name in sorted(routes.items()):
        owner, attribute = name.split(".")
        source = inspect.getsource(getattr(owners[owner], attribute))
        pattern = r"\{[^}]+\}".join(re.escape(part) for part in re.split(r"\{[^}]+\}", path))
        if not re.search(pattern + '"', source):
            found.append(f"{name} does not send {path}")
        if f".{method.lower()}(" not in source and f'request("{method}"' not in source:
            found.append(f"{name} does not send a {method}")
    return found


def test_each_method_sends_the_request_it_declares() -> None:
    assert mismatches(ROUTES) == []
    wrong = {
        ("GET", "/api/v1/kinds"): "Handsup.people",
        ("PUT", "/api/v1/decks/{deck_id}/shares"): "Handsup.deck_shares",
    }
    assert mismatches(wrong) == [
        "Handsup.people does not send /api/v1/kinds",
        "Handsup.deck_shares does not send a PUT",
    ]


# --- cohorts: editing, a session, retention --------------------------------------------------------------------------


def test_a_cohort_is_edited_runs_a_session_and_is_pruned_then_deleted_with_its_name_typed(site: Site) -> None:
    with Handsup(site.server.url, site.token) as handsup:
        deck = handsup.create_deck(source=DECK)
        other = handsup.create_deck(title="Not the cohort's")
        institute = handsup.create_institute("Winter Institute")
        cohort = handsup.create_cohort(institute.id, "Tucson North", deck_ids=[deck.id])
        edited = handsup.update_cohort(cohort.id, site="Tucson, AZ", time_zone="America/Phoenix")
        assert (edited.name, edited.site, edited.time_zone, edited.deck_ids) == (
            "Tucson North",
            "Tucson, AZ",
            "America/Phoenix",
            [deck.id],
        )
        with pytest.raises(ApiError) as foreign:
            handsup.start_cohort_session(cohort.id, other.id)
        assert (foreign.value.status, foreign.value.title) == (409, "Not one of this cohort's decks")
        started = handsup.start_cohort_session(cohort.id, deck.id)
        assert started.cohort_id == cohort.id and started.title == "Closing circle · Tucson North"
        session = handsup.session(started.id)
        poll = session.activities[0].id
        handsup.goto(session.id, poll)
        phones = [handsup.join(session.code) for _ in range(2)]
        for phone, choice in zip(phones, ["0", "1"], strict=True):
            phone.answer(poll, choice=choice)
        assert eventually(lambda: _respondents(handsup, session.id, poll, 2))

        with pytest.raises(ApiError) as live:
            handsup.prune_cohort(cohort.id, "Tucson North")
        assert live.value.status == 409 and "End the live session" in live.value.detail
        assert [listed.id for listed in handsup.sessions() if listed.state == "live"][0] == session.id
        handsup.end(session.id)
        for wrong in ("tucson north", "Tucson", ""):
            with pytest.raises(ApiError) as unconfirmed:
                handsup.prune_cohort(cohort.id, wrong)
            assert (unconfirmed.value.status, unconfirmed.value.title) == (422, "Not confirmed")
        assert handsup.tally(session.id, poll).respondents == 2  # nothing was deleted
        pruned = handsup.prune_cohort(cohort.id, "Tucson   North")  # runs of spaces count as one
        assert (pruned.sessions, pruned.participants, pruned.responses) == (1, 2, 2)
        kept = handsup.tally(session.id, poll).results["options"]
        assert [option["count"] for option in kept] == [1, 1]  # the results stay, without names
        with zipfile.ZipFile(io.BytesIO(handsup.cohort_session_archive(cohort.id, session.id))) as archive:
            counts = json.loads(archive.read("manifest.json"))["counts"]
            assert (counts["participants"], counts["responses"]) == (0, 0)

        with pytest.raises(ApiError) as unconfirmed:
            handsup.delete_cohort(cohort.id, "Tucson")
        assert unconfirmed.value.status == 422 and handsup.cohort(cohort.id).session_ids == [session.id]
        deleted = handsup.delete_cohort(cohort.id, "Tucson North")
        assert (deleted.cohort_id, deleted.sessions) == (cohort.id, 1)
        with pytest.raises(ApiError) as gone:
            handsup.cohort(cohort.id)
        assert gone.value.status == 404


def _respondents(handsup: Handsup, session_id: int, activity_id: int, count: int) -> bool:
    assert handsup.tally(session_id, activity_id).respondents == count
    return True


# --- decks: copy, rename, shares, the palette, previews ---------------------------------------------------------------


def test_a_deck_is_copied_renamed_shared_and_previewed(site: Site) -> None:
    with Handsup(site.server.url, site.token) as handsup:
        deck = handsup.create_deck(source=DECK)
        copy = handsup.copy_deck(deck.id)
        assert copy.id != deck.id and copy.title == "Copy of Closing circle" and copy.can_edit
        renamed = handsup.rename_deck(copy.id, "Closing circle, again")
        assert (renamed.title, renamed.version) == ("Closing circle, again", copy.version + 1)
        assert "title: Closing circle, again" in handsup.deck_yaml(copy.id)
        with pytest.raises(ApiError) as blank:
            handsup.rename_deck(copy.id, "")
        assert blank.value.status == 422 and handsup.deck(copy.id).title == "Closing circle, again"

        colleague = handsup.create_person("dana@example.org", "presenter")
        assert handsup.deck_shares(copy.id) == []
        (share,) = handsup.share_deck(copy.id, "dana@example.org", "edit")
        assert (share.user_id, share.email, share.access) == (colleague.id, "dana@example.org", "edit")
        assert [(one.email, one.access) for one in handsup.share_deck(copy.id, "dana@example.org")] == [
            ("dana@example.org", "view")
        ]
        with pytest.raises(ApiError) as unknown:
            handsup.share_deck(copy.id, "nobody@example.org")
        assert (unknown.value.status, unknown.value.title) == (422, "No such account")
        handsup.unshare_deck(copy.id, colleague.id)
        handsup.unshare_deck(copy.id, colleague.id)  # not shared any more: nothing changes
        assert handsup.deck_shares(copy.id) == []

        palette = handsup.kinds()
        kinds = {kind.name: kind for kind in palette.kinds}
        assert {"poll", "wordcloud", "qa", "slide"} <= set(kinds) and not kinds["slide"].takes_answers
        assert "options" in kinds["poll"].schema_["properties"]
        assert palette.countdown.minimum < palette.countdown.maximum
        document = handsup.deck(deck.id).document
        assert document is not None
        shown = handsup.preview(document, index=0)
        assert shown.problems == [] and shown.phone and "Ready to go?" in shown.phone and shown.projector
        broken = handsup.preview({"title": "Draft", "activities": [{"kind": "poll", "title": "Lunch?", "options": []}]})
        assert (broken.phone, broken.projector) == (None, None)
        assert [problem.path for problem in broken.problems] == ["activities[0].options"]


# --- the account, tokens, people and single sign-on links --------------------------------------------------------


def test_a_token_made_over_the_api_works_and_the_password_changes(site: Site) -> None:
    with Handsup(site.server.url, site.token) as handsup:
        made = handsup.create_token("nightly export")
        assert made.secret.startswith("hsu_") and made.revoked_at is None
        assert made.id in [one.id for one in handsup.tokens()]
        with pytest.raises(ApiError) as blank:
            handsup.create_token("   ")
        assert blank.value.status == 422
    with Handsup(site.server.url, made.secret) as nightly:
        me = nightly.account()
        assert (me.email, me.role, me.password_temporary) == (ADMIN, "admin", False)
        nightly.revoke_token(made.id)
        with pytest.raises(ApiError) as revoked:
            nightly.account()
        assert revoked.value.status == 401

    with Handsup(site.server.url, site.token) as handsup:
        person = handsup.create_person("eli@example.org", "presenter", password="eli's first passphrase")
        assert person.password is None and person.password_temporary
    eli = cli(site.server, "token", "create", "eli@example.org", "--name", "eli's script")
    with Handsup(site.server.url, eli) as handsup:
        with pytest.raises(ApiError) as wrong:
            handsup.change_password("not it", "a brand new passphrase")
        assert (wrong.value.status, wrong.value.title) == (422, "Not changed")
        handsup.change_password("eli's first passphrase", "a brand new passphrase")
        assert handsup.account().password_temporary is False  # and the token still works
    with Handsup(site.server.url) as browser:
        browser.sign_in("eli@example.org", "a brand new passphrase")


def test_people_are_made_changed_approved_and_linked(site: Site) -> None:
    with Handsup(site.server.url, site.token) as handsup:
        made = handsup.create_person("fran@example.org")
        assert made.role == "presenter" and made.password and len(made.password) >= 12
        changed = handsup.update_person(made.id, role="organizer", disabled=True)
        assert (changed.role, changed.disabled) == ("organizer", True)
        assert handsup.update_person(made.id, disabled=False).disabled is False
        me = handsup.account()
        with pytest.raises(ApiError) as own:
            handsup.update_person(me.id, disabled=True)
        assert own.value.status == 409 and not _person(handsup, me.id).disabled
        with pytest.raises(ApiError) as unknown:
            handsup.update_person(999999, role="admin")
        assert unknown.value.status == 404

        # A partner signs in through the real provider: the account waits for an administrator's approval.
        assert "waiting for an administrator" in sign_in_at_provider(site, "partners", "bo")
        (waiting,) = [one for one in handsup.people() if one.email == "bo@partner.example.net"]
        assert waiting.pending and [i.linked for i in waiting.identities] == [True]
        approved = handsup.approve_person(waiting.id)
        assert approved.pending is False
        assert "waiting for an administrator" not in sign_in_at_provider(site, "partners", "bo")

        # A password account's email at the district: a link request, until an administrator links it.
        cy = handsup.create_person(f"cy@{DISTRICT}", "presenter", password="cy's own passphrase")
        sign_in_at_provider(site, "district", "cy")
        (asked,) = _person(handsup, cy.id).identities
        assert (asked.provider, asked.issuer, asked.email, asked.linked) == (
            "district",
            site.provider.issuer,
            f"cy@{DISTRICT}",
            False,
        )
        linked = handsup.link_identity(asked.id)
        assert linked.id == cy.id and [one.linked for one in linked.identities] == [True]
        handsup.unlink_identity(asked.id)
        handsup.unlink_identity(asked.id)  # gone already: so be it
        assert _person(handsup, cy.id).identities == []
        with pytest.raises(ApiError) as missing:
            handsup.link_identity(asked.id)
        assert missing.value.status == 404


def _person(handsup: Handsup, user_id: int) -> Any:
    (found,) = [one for one in handsup.people() if one.id == user_id]
    return found


def sign_in_at_provider(site: Site, provider: str, login: str) -> str:
    """What a person does with a browser: press "Sign in with ...", type a login at the provider, allow Handsup in;
    the text of the page Handsup ends on."""
    with httpx.Client(timeout=30, follow_redirects=True) as browser:
        page = browser.get(f"{site.server.url}/login/oidc/{provider}")
        assert str(page.url).startswith(site.provider.issuer), page.url
        page = _submit(browser, page, {"login": login, "password": "any password: the test provider takes it"})
        page = _submit(browser, page, {})  # the consent page's "Continue"
        assert str(page.url).startswith(site.server.url), page.url
        return " ".join(re.sub(r"<[^>]+>", " ", page.text).split())


def _submit(browser: httpx.Client, page: httpx.Response, fields: dict[str, str]) -> httpx.Response:
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)
    assert form, page.text
    hidden = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(2)))
    return browser.post(urljoin(str(page.url), form.group(1)), data={**hidden, **fields})


# --- webhooks ---------------------------------------------------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on loopback: it keeps each request's headers and raw body, and answers 204."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Received)
        self.requests: list[tuple[dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/handsup"


class _Received(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append(({name.lower(): value for name, value in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()
    thread.join()


def test_a_webhook_is_created_listed_delivered_paused_and_deleted(site: Site, receiver: Receiver) -> None:
    with Handsup(site.server.url, site.token) as handsup:
        with pytest.raises(ApiError) as refused:
            handsup.create_webhook("https://name:secret@lms.example.org/handsup", ["session.ended"])
        assert refused.value.status == 422 and handsup.webhooks() == []
        made = handsup.create_webhook(receiver.url, ["session.ended"])
        assert made.secret.startswith("whsec_") and made.active and made.events == ["session.ended"]
        assert [one.id for one in handsup.webhooks()] == [made.id]
        assert handsup.webhook(made.id).url == receiver.url

        session = handsup.start_session(deck_yaml=DECK, title="Hooked")
        handsup.end(session.id)
        (delivery,) = eventually(lambda: _delivered(handsup, made.id), seconds=20)
        assert (delivery.event_type, delivery.attempts, delivery.response_status) == ("session.ended", 1, 204)
        ((headers, body),) = receiver.requests
        event = json.loads(body)
        assert (event["type"], event["data"]["session_id"], event["data"]["title"]) == (
            "session.ended",
            session.id,
            "Hooked",
        )
        assert headers["handsup-event"] == "session.ended" and headers["handsup-delivery"] == delivery.delivery_id
        assert verify(made.secret, headers["handsup-signature"], body)
        assert not verify("whsec_another", headers["handsup-signature"], body)

        paused = handsup.update_webhook(made.id, active=False, events=["session.ended", "archive.ready"])
        assert (paused.active, paused.events) == (False, ["session.ended", "archive.ready"])
        second = handsup.start_session(deck_yaml=DECK, title="Not told")
        handsup.end(second.id)
        handsup.session_archive(second.id)
        assert [one.event_type for one in handsup.webhook_deliveries(made.id)] == ["session.ended"]
        handsup.delete_webhook(made.id)
        assert handsup.webhooks() == []
        with pytest.raises(ApiError) as gone:
            handsup.webhook(made.id)
        assert gone.value.status == 404
    assert len(receiver.requests) == 1


def _delivered(handsup: Handsup, webhook_id: int) -> Any:
    deliveries = handsup.webhook_deliveries(webhook_id)
    assert [one.status for one in deliveries] == ["delivered"], deliveries
    return deliveries


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """docs/api.md's "Verifying the signature", as a receiver writes it."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(fields.get("v1", ""), expected)


# --- presenting: the sockets with a token, moderation, the report, assets ---------------------------------------------


def test_the_presenter_and_projector_sockets_open_with_a_token_and_a_control_pushes_to_them(site: Site) -> None:
    with Handsup(site.server.url, site.token) as handsup:
        session = handsup.start_session(deck_yaml=DECK, title="Pushed")
        poll, cloud = session.activities
        asyncio.run(watch(site, handsup, session.id, session.projector_url, poll.id))

        handsup.goto(session.id, cloud.id)
        phone = handsup.join(session.code)
        phone.answer(cloud.id, word=["trust", "school"])
        eventually(lambda: _respondents(handsup, session.id, cloud.id, 1))
        moderated = handsup.moderation(session.id, cloud.id, "hide", word="school")
        assert (moderated.kind, moderated.moderation) == ("wordcloud", {"hidden": ["school"]})
        assert [word["key"] for word in moderated.results["words"]] == ["trust"]
        with pytest.raises(ApiError) as wrong:
            handsup.moderation(session.id, cloud.id, "approve", word="school")
        assert (wrong.value.status, wrong.value.detail) == (409, "Choose one word to hide or show.")
        assert handsup.activity_asset(session.id, cloud.id, "cloud.svg").startswith(b"<svg")
        assert handsup.activity_asset(session.id, cloud.id, "cloud.png").startswith(b"\x89PNG")
        with pytest.raises(ApiError) as unknown:
            handsup.activity_asset(session.id, cloud.id, "cloud.gif")
        assert unknown.value.status == 404
        handsup.end(session.id)
        report = handsup.report(session.id)
        assert report.lstrip().lower().startswith("<!doctype html") and "One word for today" in report


async def watch(site: Site, handsup: Handsup, session_id: int, projector_url: str, poll_id: int) -> None:
    url = site.server.url
    async with (
        presenter_socket(url, session_id, token=site.token) as presenter,
        projector_socket(url, projector_secret(projector_url), token=site.token) as projector,
    ):
        assert (await presenter.receive()).has("presenter-live")
        assert (await projector.receive()).has("projector-stage")
        await asyncio.to_thread(handsup.goto, session_id, poll_id)
        pushed = await presenter.until(lambda frame: frame.has("presenter-live"))
        assert "Ready to go?" in pushed.text("presenter-live")
        shown = await projector.until(lambda frame: frame.has("projector-stage"))
        assert "Ready to go?" in shown.text("projector-stage")

    async with presenter_socket(url, session_id, token="hsu_" + "x" * 43) as refused:
        with pytest.raises(SocketRefused) as closed:
            await refused.receive()
    assert (closed.value.code, closed.value.reason) == (4404, "That API token is not valid or was revoked.")


# --- examples/scripts/retention.py ---------------------------------------------------------------------------------


def test_the_retention_script_saves_each_old_cohorts_archive_then_prunes_it(site: Site, tmp_path: Path) -> None:
    with Handsup(site.server.url, site.token) as handsup:
        deck = handsup.create_deck(source=DECK)
        institute = handsup.create_institute("Retention Institute")
        old = handsup.create_cohort(institute.id, "Spring 2025", ends_on="2025-04-25", deck_ids=[deck.id])
        busy = handsup.create_cohort(institute.id, "Summer 2025", ends_on="2025-07-01", deck_ids=[deck.id])
        handsup.create_cohort(institute.id, "Next year", ends_on="2099-01-01")
        ended = handsup.session(handsup.start_cohort_session(old.id, deck.id).id)
        handsup.goto(ended.id, ended.activities[0].id)
        handsup.join(ended.code).answer(ended.activities[0].id, choice="0")
        eventually(lambda: _respondents(handsup, ended.id, ended.activities[0].id, 1))
        handsup.end(ended.id)
        live = handsup.start_cohort_session(busy.id, deck.id)

        script = str(ROOT / "examples/scripts/retention.py")
        said = run_python(site.server, site.token, script, str(institute.id), "365", cwd=tmp_path)
        assert sorted(said) == [
            "Next year: kept (ends 2099-01-01)",
            "Spring 2025: would be pruned (ended 2025-04-25)",
            "Summer 2025: would be pruned (ended 2025-07-01)",
        ]
        assert handsup.tally(ended.id, ended.activities[0].id).respondents == 1  # nothing went
        said = run_python(site.server, site.token, script, str(institute.id), "365", "--prune", cwd=tmp_path)
        docs = (ROOT / "docs/api.md").read_text()
        (shown,) = code_blocks(docs, "## Scripting Handsup: the Python client", "console")
        assert said == shown.splitlines()[1:]  # what docs/api.md shows, past its command
        assert live.title == "Closing circle · Summer 2025"
        with zipfile.ZipFile(tmp_path / "spring-2025.zip") as archive:
            assert json.loads(archive.read("manifest.json"))["counts"]["responses"] == 1
        with zipfile.ZipFile(io.BytesIO(handsup.cohort_archive(old.id))) as archive:
            assert json.loads(archive.read("manifest.json"))["counts"]["responses"] == 0
        handsup.end(live.id)


# --- the institute's comparisons and pools, and slides ------------------------------------------------------------


def test_comparison_and_pool_files_and_slides_come_through_the_client(site: Site) -> None:
    with Handsup(site.server.url, site.token) as handsup:
        deck = handsup.create_deck(source=DECK)
        institute = handsup.create_institute("Comparing Institute")
        cohort = handsup.create_cohort(institute.id, "Mesa", site="Mesa, AZ", deck_ids=[deck.id])
        session = handsup.session(handsup.start_cohort_session(cohort.id, deck.id).id)
        poll, cloud = session.activities
        phone = handsup.join(session.code)
        handsup.goto(session.id, poll.id)
        phone.answer(poll.id, choice="0")
        handsup.goto(session.id, cloud.id)
        phone.answer(cloud.id, word="trust")
        eventually(lambda: _respondents(handsup, session.id, cloud.id, 1))
        handsup.end(session.id)

        keys = {one["kind"]: one["key"] for one in handsup.comparisons(institute.id)}
        exported = handsup.comparison_export(institute.id, keys["poll"]).splitlines()
        assert exported[0] == "cohort,site,sessions,respondents,line,label,detail,count,share,mean,note"
        assert 'Mesa,"Mesa, AZ",1,1,option,Yes,,1,100,,' in exported
        assert handsup.comparison_asset(institute.id, keys["wordcloud"], "all", "cloud.svg").startswith(b"<svg")
        with pytest.raises(ApiError) as missing:
            handsup.comparison_asset(institute.id, keys["poll"], "all", "cloud.svg")
        assert (missing.value.status, missing.value.detail) == (404, "No such file.")
        assert handsup.pool_export(institute.id).splitlines() == ["type,title,link,note,suggested,upvoted,total"]
        with pytest.raises(ApiError) as other:
            handsup.pool_export(institute.id, extension="pdf")
        assert other.value.detail == "Resource library exports as csv, md, html."

        imported = handsup.import_slides(hand_pdf(2, texts=["Welcome back", "Our agenda"]), "day-two.pdf")
        assert imported.filename == "day-two.pdf"
        assert [slide["title"] for slide in imported.slides] == ["Welcome back", "Our agenda"]
        with pytest.raises(ApiError) as not_pdf:
            handsup.import_slides(b"plain text", "notes.pdf")
        assert not_pdf.value.status == 415
        with pytest.raises(ApiError) as too_long:  # found while reading: the stream's one `error` line
            handsup.import_slides(hand_pdf(10_000), "huge.pdf")
        assert (too_long.value.status, too_long.value.detail) == (
            200,
            "This PDF has 10,000 pages; at most 200 can be imported.",
        )
