"""Importing archives: a refused archive says why and writes nothing; an imported one gives back the same record.

Archives here are real ZIPs: built from data.json by `archive_zip` (as the writer lays them out), or written by
`server/archives/build.py` from a session that was really run, then imported into a second, fresh server.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func
from sqlmodel import col, select
from starlette.testclient import TestClient

import server.routes.imports
from activities import registry
from server.app import create_app
from server.archives.build import ArchiveSources, write_archive
from server.archives.format import FORMAT, VERSION, Scope
from server.archives.restore import ArchiveRefused, ImportLimits, read_archive
from server.cli import main
from server.config import Settings
from server.institutes import CohortForm, Stores, create_institute, prune_cohort, save_cohort
from server.models import (
    Activity,
    Cohort,
    CohortDeck,
    Deck,
    Institute,
    Participant,
    Response,
    Role,
    SessionState,
)
from server.models import Session as SessionRow
from tests.factories import (
    SECRET,
    Presenter,
    api_token,
    caught_up,
    csrf_from,
    eventually,
    join,
    login,
    make_user,
    respond,
    run,
    services_of,
    stored,
)

TABLES: list[Any] = [Institute, Cohort, CohortDeck, Deck, SessionRow, Activity, Participant, Response]
POLL = {"options": ["Fires", "Maintenance", "=Improvement"], "multiple": True}
CLOUD = {"entries": 3, "lemmatise": True}


# --- building archives ------------------------------------------------------------------------------------------


def config(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A kind's settings with its defaults filled in, as sessions store them."""
    parsed: dict[str, Any] = registry[kind].parse_config(raw).model_dump(mode="json")
    return parsed


def payload(kind: str, raw_config: dict[str, Any], **form: Any) -> dict[str, Any]:
    """A stored answer, made the way the server makes one: the kind validates a form, the result is dumped."""
    kind_of = registry[kind]
    fields = {name: value if isinstance(value, list) else [value] for name, value in form.items()}
    submission = kind_of.validate_submission(kind_of.parse_config(raw_config), fields)
    dumped: dict[str, Any] = submission.model_dump(mode="json")
    return dumped


def activity(position: int, kind: str, title: str, raw: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "position": position,
        "kind": kind,
        "title": title,
        "prompt": "",
        "config": config(kind, raw),
        "results": "live",
        "voting_open": False,
        "revealed": False,
        "moderation": {},
        "epoch": 0,
        "countdown_seconds": None,
        "respondents": 0,
        "tally": {},
        **overrides,
    }


def answer(activity: int, participant: int, data: dict[str, Any], minute: int = 1) -> dict[str, Any]:
    return {
        "activity": activity,
        "participant": participant,
        "epoch": 0,
        "version": 1_492_000_000_000_000 + minute,
        "answered_at": f"2017-04-24T16:{minute:02d}:00+00:00",
        "payload": data,
    }


def session_data(
    key: int = 1, cohort: int | None = None, persons: tuple[int | None, ...] = (None, None)
) -> dict[str, Any]:
    """A session of a poll and a word cloud, with two participants and three answers."""
    return {
        "key": key,
        "cohort": cohort,
        "code": f"90218{key}",
        "title": f"Phoenix, day {key}",
        "state": "ended",
        "pace": "presenter",
        "created_at": f"2017-04-2{3 + key}T16:00:00+00:00",
        "ended_at": f"2017-04-2{3 + key}T18:00:00+00:00",
        "pruned_at": None,
        "deck": None,
        "activities": [
            activity(1, "poll", "Where does the week go?", POLL),
            activity(2, "wordcloud", "<script>alert(1)</script> words", CLOUD),
        ],
        "participants": [
            {"number": number, "person": person, "joined_at": f"2017-04-24T16:00:0{number}+00:00"}
            for number, person in enumerate(persons, start=1)
        ],
        "responses": [
            answer(1, 1, payload("poll", POLL, choice=["0", "2"])),
            answer(1, 2, payload("poll", POLL, choice="1"), minute=2),
            answer(2, 1, payload("wordcloud", CLOUD, word=["Trust", "listening", "=cmd"]), minute=3),
        ],
    }


def session_archive_data() -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "scope": "session", "sessions": [session_data()]}


def cohort_archive_data() -> dict[str, Any]:
    """A cohort of two sessions that keeps one identity: person 1 came both days, person 2 only on day one."""
    deck = {
        "slug": "day-one",
        "title": "Day one",
        "source": "title: Day one\nactivities:\n  - kind: open\n    title: Say it\n",
    }
    return {
        "format": FORMAT,
        "version": VERSION,
        "scope": "cohort",
        "institute": {"slug": "2017-spring-institute", "title": "2017 Spring Institute", "description": "Four sites"},
        "cohorts": [
            {
                "key": 1,
                "slug": "phoenix",
                "name": "Phoenix",
                "site": "Phoenix, AZ",
                "starts_on": "2017-04-24",
                "ends_on": "2017-04-25",
                "facilitators": ["Ana Ruiz"],
                "same_identity": True,
                "decks": [deck],
            }
        ],
        "sessions": [session_data(1, 1, (1, 2)), {**session_data(2, 1, (3, 1)), "deck": deck}],
    }


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def archive_zip(
    data: dict[str, Any] | bytes,
    *,
    files: dict[str, bytes] | None = None,
    unlisted: dict[str, bytes] | None = None,
    manifest: dict[str, Any] | None = None,
) -> bytes:
    """A ZIP laid out as the writer lays one out: data.json and `files`, each listed in manifest.json with its size
    and SHA-256; `unlisted` entries are added without being listed, `manifest` overrides its fields."""
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False, indent=1).encode()
    listed = {"data.json": body, **(files or {})}
    scope = data.get("scope") if isinstance(data, dict) else "session"
    head = {
        "format": FORMAT,
        "version": VERSION,
        "scope": scope,
        "exported_at": "2017-06-21T12:00:00+00:00",
        "files": [{"path": path, "bytes": len(item), "sha256": sha256(item)} for path, item in sorted(listed.items())],
        **(manifest or {}),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(head))
        for path, item in {**listed, **(unlisted or {})}.items():
            archive.writestr(path, item)
    return out.getvalue()


# --- fixtures and helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def organizer(client: TestClient) -> Presenter:
    user = make_user(client, "organizer@example.org", Role.organizer)
    return Presenter(client, user, api_token(client, user.email))


def counts(client: TestClient) -> dict[str, int]:
    """How many rows each table of the record holds."""
    return {table.__name__: stored(client, select(func.count()).select_from(table))[0] for table in TABLES}


def post_archive(client: TestClient, organizer: Presenter, body: bytes) -> Any:
    headers = {**organizer.headers, "Content-Type": "application/zip"}
    return client.post("/api/v1/archives", content=body, headers=headers)


def refused(client: TestClient, organizer: Presenter, body: bytes) -> str:
    """The detail of the 422 an archive gets, once it is clear nothing was written."""
    before = counts(client)
    response = post_archive(client, organizer, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert counts(client) == before
    detail: str = response.json()["detail"]
    assert "\n" not in detail
    return detail


# --- refusals -----------------------------------------------------------------------------------------------------


def rezip(body: bytes, change: dict[str, bytes | None]) -> bytes:
    """The same ZIP with entries replaced (bytes) or left out (None), the manifest untouched."""
    source = zipfile.ZipFile(io.BytesIO(body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            if name not in change:
                archive.writestr(name, source.read(name))
            elif change[name] is not None:
                archive.writestr(name, change[name] or b"")
    return out.getvalue()


def flipped(body: bytes) -> bytes:
    """The same ZIP with one byte of data.json changed (an epoch 0 made 1), its size the same."""
    data = zipfile.ZipFile(io.BytesIO(body)).read("data.json")
    changed = data.replace(b'"epoch": 0', b'"epoch": 1', 1)
    assert changed != data and len(changed) == len(data)
    return rezip(body, {"data.json": changed})


def with_session(change: dict[str, Any]) -> dict[str, Any]:
    data = session_archive_data()
    data["sessions"][0].update(change)
    return data


def changed_activity(at: int, **change: Any) -> dict[str, Any]:
    data = session_archive_data()
    data["sessions"][0]["activities"][at - 1].update(change)
    return data


def changed_response(index: int, **change: Any) -> dict[str, Any]:
    data = session_archive_data()
    data["sessions"][0]["responses"][index].update(change)
    return data


def symlinked() -> bytes:
    body = archive_zip(session_archive_data())
    out = io.BytesIO(body)
    with zipfile.ZipFile(out, "a") as archive:
        link = zipfile.ZipInfo("passwords")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "../../../../etc/passwd")
    return out.getvalue()


def answered_before_a_reset(payload: dict[str, Any]) -> dict[str, Any]:
    """The poll reset once (epoch 1), its first answer from before the reset (epoch 0) with `payload`."""
    data = changed_activity(1, epoch=1)
    data["sessions"][0]["responses"][0]["payload"] = payload
    return data


def javascript_link() -> dict[str, Any]:
    """A call for resources whose stored answer carries a link no participant could have given."""
    data = session_archive_data()
    session = data["sessions"][0]
    session["activities"][1] = activity(2, "resources", "Tools we use", {})
    link = {"type": "Tool", "title": "Click me", "link": "javascript:alert(1)", "note": None, "upvotes": []}
    session["responses"][2] = answer(2, 1, link, minute=3)
    return data


def changed_cohort(**change: Any) -> dict[str, Any]:
    data = cohort_archive_data()
    data["cohorts"][0].update(change)
    return data


REFUSALS: list[tuple[str, Any, str]] = [
    ("not a zip", lambda: b"%PDF-1.4 not an archive", "This is not a Handsup archive: it is not a ZIP file"),
    ("truncated", lambda: archive_zip(session_archive_data())[:-300], "it is not a ZIP file, or it was cut short"),
    (
        "no manifest",
        lambda: rezip(archive_zip(session_archive_data()), {"manifest.json": None}),
        "has no manifest.json",
    ),
    (
        "manifest not json",
        lambda: rezip(archive_zip(session_archive_data()), {"manifest.json": b"{nope"}),
        "its manifest.json is not JSON",
    ),
    (
        "foreign format",
        lambda: archive_zip(session_archive_data(), manifest={"format": "mentimeter-export"}),
        "This is not a Handsup archive: its manifest says format “mentimeter-export”, not “handsup-archive”.",
    ),
    (
        "version 99",
        lambda: archive_zip(session_archive_data(), manifest={"version": 99}),
        "This archive is format version 99; this server imports version 2.",
    ),
    (
        "flipped byte",
        lambda: flipped(archive_zip(session_archive_data())),
        "This archive is damaged: data.json does not match its checksum.",
    ),
    (
        "missing file",
        lambda: rezip(archive_zip(session_archive_data(), files={"summary.csv": b"a,b\r\n"}), {"summary.csv": None}),
        "This archive is damaged: summary.csv is listed in its manifest but missing.",
    ),
    (
        "size differs",
        lambda: rezip(
            archive_zip(session_archive_data(), files={"summary.csv": b"a,b\r\n"}), {"summary.csv": b"a,b,c\r\n"}
        ),
        "This archive is damaged: summary.csv is 7 bytes, its manifest says 5.",
    ),
    (
        "unlisted file",
        lambda: archive_zip(session_archive_data(), unlisted={"extra.txt": b"hello"}),
        "This archive holds a file its manifest does not list: extra.txt.",
    ),
    (
        "dot dot",
        lambda: archive_zip(session_archive_data(), unlisted={"../evil.txt": b"x"}),
        "This archive has an unsafe file name: ../evil.txt.",
    ),
    ("absolute", lambda: archive_zip(session_archive_data(), unlisted={"/abs": b"x"}), "unsafe file name: /abs."),
    ("backslash", lambda: archive_zip(session_archive_data(), unlisted={"..\\evil.txt": b"x"}), "unsafe file name"),
    ("drive letter", lambda: archive_zip(session_archive_data(), unlisted={"C:/evil.txt": b"x"}), "unsafe file name"),
    (
        "listed ../ name",
        lambda: archive_zip(session_archive_data(), files={"images/../../evil.png": b"x"}),
        "unsafe file name: images/../../evil.png.",
    ),
    ("symlink", symlinked, "This archive holds a link, passwords, where files belong."),
    (
        "no data.json",
        lambda: rezip(archive_zip(session_archive_data()), {"data.json": None}),
        "data.json is listed in its manifest but missing",
    ),
    (
        "not the format",
        lambda: archive_zip({**session_archive_data(), "sessions": [{"title": "x"}]}),
        "data.json does not fit the archive format: sessions.0.key: Field required",
    ),
    (
        "unknown field",
        lambda: archive_zip(with_session({"token_hash": "abc"})),
        "data.json does not fit the archive format: sessions.0.token_hash: Extra inputs are not permitted",
    ),
    (
        "unknown kind",
        lambda: archive_zip(changed_activity(2, kind="telepathy")),
        "Session 1 (“Phoenix, day 1”), activity 2 (“<script>alert(1)</script> words”): this server has no "
        "activity kind “telepathy”",
    ),
    (
        "settings",
        lambda: archive_zip(changed_activity(1, config={"options": ["Only one"]})),
        "activity 1 (“Where does the week go?”): its settings do not fit a poll: options: List should have at least 2",
    ),
    (
        "bad payload",
        lambda: archive_zip(changed_response(1, payload={"choices": [7]})),
        "Session 1 (“Phoenix, day 1”), answer 2: it is not a valid answer to activity 1 (poll): "
        "That option is not part of this poll.",
    ),
    (
        "bad payload before a reset",
        lambda: archive_zip(answered_before_a_reset({"choices": [9]})),
        "answer 1: it is not a valid answer to activity 1 (poll): That option is not part of this poll.",
    ),
    (
        "javascript link",
        lambda: archive_zip(javascript_link()),
        "answer 3: it is not a valid answer to activity 2 (resources): link: Only web links can be shared: start the "
        "link with https:// or http://.",
    ),
    (
        "payload of another kind",
        lambda: archive_zip(changed_response(1, payload={"text": "hello"})),
        "answer 2: it is not a valid answer to activity 1 (poll)",
    ),
    (
        "no such activity",
        lambda: archive_zip(changed_response(0, activity=9)),
        "Session 1 (“Phoenix, day 1”), answer 1: there is no activity 9.",
    ),
    (
        "no such participant",
        lambda: archive_zip(changed_response(0, participant=5)),
        "answer 1: there is no participant 5.",
    ),
    (
        "two answers",
        lambda: archive_zip(changed_response(1, participant=1)),
        "answer 2: participant 1 has another answer to activity 1.",
    ),
    (
        "duplicate participant",
        lambda: archive_zip(
            with_session({"participants": [{"number": 1, "joined_at": "2017-04-24T16:00:00Z"}] * 2, "responses": []})
        ),
        "Session 1 (“Phoenix, day 1”) has two of participant number 1.",
    ),
    (
        "duplicate position",
        lambda: archive_zip(changed_activity(2, position=1)),
        "its activities must be numbered 1 to 2, once each.",
    ),
    (
        "duplicate session key",
        lambda: archive_zip({**cohort_archive_data(), "sessions": [session_data(1, 1), session_data(1, 1)]}),
        "data.json has two of session key 1.",
    ),
    (
        "unknown cohort",
        lambda: archive_zip({**cohort_archive_data(), "sessions": [session_data(1, 7)]}),
        "Session 1 (“Phoenix, day 1”) names cohort 7, which data.json does not hold.",
    ),
    (
        "cohorts without institute",
        lambda: archive_zip({**cohort_archive_data(), "institute": None}),
        "data.json of a cohort archive has no institute.",
    ),
    (
        "moderation",
        lambda: archive_zip(changed_activity(2, moderation={"hidden": 5})),
        "activity 2 (“<script>alert(1)</script> words”): its moderation does not fit a wordcloud.",
    ),
    (
        "scope differs",
        lambda: archive_zip(session_archive_data(), manifest={"scope": "cohort"}),
        "This archive is damaged: its manifest says scope “cohort”, its data.json “session”.",
    ),
    (
        "cohort dates",
        lambda: archive_zip(changed_cohort(starts_on="2017-04-25", ends_on="2017-04-24")),
        "Cohort 1 (“Phoenix”): The last day comes before the first.",
    ),
    (
        "broken deck",
        lambda: archive_zip(changed_cohort(decks=[{"slug": "day-one", "title": "Day one", "source": "title: [\n"}])),
        "The deck “day-one” in this archive has problems: ",
    ),
    (
        "countdown",
        lambda: archive_zip(changed_activity(1, countdown_seconds=10**12)),
        "activity 1 (“Where does the week go?”): its countdown is not 5 to 3600 seconds.",
    ),
    (
        "version",
        lambda: archive_zip(changed_response(0, version=2**63)),
        "answer 1: its epoch or version is out of range.",
    ),
    (
        "kept results",
        lambda: archive_zip(changed_activity(1, aggregate={"snapshot": {}, "respondents": -1})),
        "activity 1 (“Where does the week go?”): its kept results are not valid: respondents:",
    ),
]


@pytest.mark.parametrize(("build", "message"), [(b, m) for _, b, m in REFUSALS], ids=[n for n, _, _ in REFUSALS])
def test_a_refused_archive_says_why_and_writes_nothing(
    client: TestClient, organizer: Presenter, build: Any, message: str
) -> None:
    assert message in refused(client, organizer, build())


def test_a_refusal_after_the_checks_leaves_no_half_written_record(client: TestClient, organizer: Presenter) -> None:
    """An institute whose first cohort and session are fine and whose last answer is not: nothing of it stays."""
    data = cohort_archive_data()
    data["sessions"][1]["responses"][-1]["payload"] = {"words": "not a list"}
    assert "Session 2 (“Phoenix, day 2”), answer 3" in refused(client, organizer, archive_zip(data))


def test_zip_bombs_and_oversized_archives_are_refused_before_reading(client: TestClient) -> None:
    services = services_of(client)
    packed = archive_zip(session_archive_data(), files={"images/cloud.png": bytes(4 * 1024 * 1024)})
    with pytest.raises(ArchiveRefused, match=r"images/cloud.png is packed more tightly than any real file \(\d+"):
        read_archive(packed, services.registry)
    small = ImportLimits(archive_bytes=len(packed) - 1)
    with pytest.raises(
        ArchiveRefused, match=r"^This archive is \d+ KB; this server imports archives of up to \d+ KB\.$"
    ):
        read_archive(packed, services.registry, small)
    with pytest.raises(ArchiveRefused, match="unpacks to more than 1 MB"):
        read_archive(packed, services.registry, ImportLimits(expanded_bytes=1024 * 1024, ratio=10_000))
    with pytest.raises(ArchiveRefused, match="holds 3 files; this server imports at most 2"):
        read_archive(packed, services.registry, ImportLimits(entries=2, ratio=10_000))
    big = archive_zip({**session_archive_data(), "padding": " " * 5000})
    with pytest.raises(ArchiveRefused, match="data.json is larger than"):
        read_archive(big, services.registry, ImportLimits(data_bytes=4096))


# --- what an import creates ---------------------------------------------------------------------------------------


def imported(client: TestClient, organizer: Presenter, body: bytes) -> dict[str, Any]:
    response = post_archive(client, organizer, body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.postgresql
def test_a_session_archive_comes_back_as_an_ended_record(client: TestClient, organizer: Presenter) -> None:
    result = imported(client, organizer, archive_zip(session_archive_data()))
    assert result["summary"] == "Imported session “Phoenix, day 1”: 2 participants, 3 responses."
    assert (result["scope"], result["institute_id"], result["cohort_ids"]) == ("session", None, [])
    [session_id] = result["session_ids"]
    [session] = stored(client, select(SessionRow).where(SessionRow.id == session_id))
    assert (session.state, session.code, session.title, session.presenter_id) == (
        SessionState.ended,
        "902181",
        "Phoenix, day 1",
        organizer.user.id,
    )
    assert session.created_at.isoformat().startswith("2017-04-24T16:00:00")
    assert session.ended_at is not None and session.ended_at.isoformat().startswith("2017-04-24T18:00:00")
    people = stored(
        client, select(Participant).where(Participant.session_id == session_id).order_by(col(Participant.id))
    )
    assert [p.created_at.second for p in people] == [1, 2]  # inserted in join order: the numbers survive
    ids = [a["id"] for a in organizer_session(client, organizer, session_id)["activities"]]
    poll = organizer.tally(session_id, ids[0])
    assert poll["respondents"] == 2
    assert [(o["label"], o["count"]) for o in poll["results"]["options"]] == [
        ("Fires", 1),
        ("Maintenance", 1),
        ("=Improvement", 1),
    ]
    cloud = organizer.tally(session_id, ids[1])["results"]
    assert sorted(w["text"] for w in cloud["words"]) == ["=cmd", "listening", "trust"]


def organizer_session(client: TestClient, organizer: Presenter, session_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/sessions/{session_id}", headers=organizer.headers)
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


@pytest.mark.postgresql
def test_an_imported_session_takes_no_more_answers(client: TestClient, organizer: Presenter) -> None:
    [session_id] = imported(client, organizer, archive_zip(session_archive_data()))["session_ids"]
    session = organizer_session(client, organizer, session_id)
    assert session["state"] == "ended"
    assert client.post("/api/v1/join", json={"code": session["code"]}).status_code == 404
    refused = client.post(f"/api/v1/sessions/{session_id}/control", headers=organizer.headers, json={"action": "next"})
    assert refused.status_code == 409


@pytest.mark.postgresql
def test_a_cohort_archive_makes_a_new_institute_and_keeps_its_people(client: TestClient, organizer: Presenter) -> None:
    body = archive_zip(cohort_archive_data())
    first = imported(client, organizer, body)
    assert first["summary"] == (
        "Imported cohort “Phoenix” of 2017 Spring Institute: 2 sessions, 4 participants, 6 responses."
    )
    second = imported(client, organizer, body)
    institutes = stored(client, select(Institute).order_by(col(Institute.id)))
    assert [(i.id, i.slug, i.created_by) for i in institutes] == [
        (first["institute_id"], "2017-spring-institute", organizer.user.id),
        (second["institute_id"], "2017-spring-institute-2", organizer.user.id),
    ]
    [cohort] = stored(client, select(Cohort).where(Cohort.id == first["cohort_ids"][0]))
    assert (
        cohort.slug,
        cohort.name,
        cohort.site,
        str(cohort.starts_on),
        cohort.facilitators,
        cohort.same_identity,
    ) == (
        "phoenix",
        "Phoenix",
        "Phoenix, AZ",
        "2017-04-24",
        ["Ana Ruiz"],
        True,
    )
    # The archive's deck was created once, then reused: same slug, same text.
    assert first["deck_ids"] == second["deck_ids"]
    [deck] = stored(client, select(Deck).where(Deck.id == first["deck_ids"][0]))
    assert deck.slug == "day-one"
    assert stored(client, select(CohortDeck.deck_id).where(CohortDeck.cohort_id == cohort.id)) == [deck.id]
    day_one, day_two = first["session_ids"]
    hashes = {
        (p.session_id, n): p.token_hash
        for session_id in (day_one, day_two)
        for n, p in enumerate(
            stored(
                client, select(Participant).where(Participant.session_id == session_id).order_by(col(Participant.id))
            ),
            start=1,
        )
    }
    # Day one: persons 1 and 2; day two: persons 3 and 1. Person 1 is one phone on both days, the others are not.
    assert hashes[(day_one, 1)] == hashes[(day_two, 2)]
    assert len(set(hashes.values())) == 3
    # The second import is another institute's record: it shares no phone with the first.
    others = stored(
        client, select(Participant.token_hash).where(col(Participant.session_id).in_(second["session_ids"]))
    )
    assert not set(others) & set(hashes.values())


def test_a_deck_of_the_same_slug_but_other_text_gets_a_free_slug(client: TestClient, organizer: Presenter) -> None:
    data = cohort_archive_data()
    data["cohorts"][0]["decks"][0]["slug"] = "distributed-leadership"  # the example deck's slug, another text
    data["sessions"][1]["deck"] = data["cohorts"][0]["decks"][0]
    result = imported(client, organizer, archive_zip(data))
    [deck] = stored(client, select(Deck).where(Deck.id == result["deck_ids"][0]))
    assert (deck.slug, deck.title) == ("distributed-leadership-2", "Day one")
    [session] = stored(client, select(SessionRow).where(SessionRow.id == result["session_ids"][1]))
    assert session.deck_id == deck.id
    again = imported(client, organizer, archive_zip(data))  # the copy made the first time is found again
    assert again["deck_ids"] == [deck.id]


def test_hostile_names_are_tidied_into_slugs(client: TestClient, organizer: Presenter) -> None:
    data = cohort_archive_data()
    data["institute"]["slug"] = "../../etc/passwd"
    data["cohorts"][0]["slug"] = "C:\\Windows"
    result = imported(client, organizer, archive_zip(data))
    [institute] = stored(client, select(Institute).where(Institute.id == result["institute_id"]))
    [cohort] = stored(client, select(Cohort).where(Cohort.id == result["cohort_ids"][0]))
    assert (institute.slug, cohort.slug) == ("etc-passwd", "c-windows")


# --- the page, the API, the command line --------------------------------------------------------------------------


def upload(client: TestClient, body: bytes, csrf: str | None = None) -> Any:
    token = csrf if csrf is not None else csrf_from(client.get("/organize/import").text)
    return client.post(
        "/organize/import",
        data={"csrf_token": token},
        files={"archive": ("phoenix.zip", body, "application/zip")},
        headers={"Accept": "text/html"},
    )


def test_the_upload_page_shows_what_was_imported_with_links(client: TestClient, organizer: Presenter) -> None:
    login(client, organizer.user.email)
    page = client.get("/organize/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text and 'name="archive"' in page.text
    response = upload(client, archive_zip(cohort_archive_data()))
    assert response.status_code == 200, response.text
    [institute] = stored(client, select(Institute.id))
    [cohort] = stored(client, select(Cohort.id))
    assert (
        "Imported cohort “Phoenix” of 2017 Spring Institute: 2 sessions, 4 participants, 6 responses." in response.text
    )
    assert f'href="/organize/institutes/{institute}"' in response.text
    assert f'href="/organize/cohorts/{cohort}"' in response.text


def test_the_upload_page_shows_a_refusal_and_writes_nothing(client: TestClient, organizer: Presenter) -> None:
    login(client, organizer.user.email)
    before = counts(client)
    data = changed_activity(2, kind="<b>telepathy</b>")
    response = upload(client, archive_zip(data))
    assert response.status_code == 422
    assert "this server has no activity kind “&lt;b&gt;telepathy&lt;/b&gt;”" in response.text
    assert "Nothing was imported." in response.text
    assert counts(client) == before
    assert upload(client, archive_zip(session_archive_data()), csrf="forged").status_code == 403
    assert counts(client) == before
    nothing = client.post("/organize/import", data={"csrf_token": csrf_from(client.get("/organize/import").text)})
    assert nothing.status_code == 422 and "Choose an archive (a .zip file) to import." in nothing.text


def test_bodies_over_the_limit_are_refused_while_they_are_read(
    client: TestClient, organizer: Presenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server.routes.imports, "LIMITS", ImportLimits(archive_bytes=2048))
    # Bigger than the limit and the room a form's own fields get: refused by the page and the API alike.
    body = archive_zip(session_archive_data(), files={"images/noise.png": secrets.token_bytes(70_000)})
    assert len(body) > 2048 + server.routes.imports.FORM_OVERHEAD
    response = post_archive(client, organizer, body)
    assert response.status_code == 413
    assert response.json()["detail"] == "This archive is larger than 2 KB, the most this server imports."

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    headers = {**organizer.headers, "Content-Type": "application/zip"}
    streamed = client.post("/api/v1/archives", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    login(client, organizer.user.email)
    page = upload(client, body)
    assert page.status_code == 413 and "This archive is larger than 2 KB" in page.text
    assert counts(client)["Session"] == 0


def test_the_api_takes_zip_bodies_from_organizers_only(
    client: TestClient, organizer: Presenter, presenter: Presenter
) -> None:
    body = archive_zip(session_archive_data())
    assert client.post("/api/v1/archives", content=body, headers={"Content-Type": "application/zip"}).status_code == 401
    forbidden = client.post(
        "/api/v1/archives", content=body, headers={**presenter.headers, "Content-Type": "application/zip"}
    )
    assert forbidden.status_code == 403
    wrong = client.post(
        "/api/v1/archives", content=body, headers={**organizer.headers, "Content-Type": "application/json"}
    )
    assert wrong.status_code == 415
    assert wrong.json()["detail"] == "Send the archive as the body, with Content-Type: application/zip."
    login(client, presenter.user.email)
    assert client.get("/organize/import", headers={"Accept": "text/html"}).status_code == 403
    assert counts(client)["Session"] == 0
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/archives"]["post"]
    assert "application/zip" in operation["requestBody"]["content"]
    assert {"201", "413", "415", "422"} <= set(operation["responses"])


@pytest.mark.postgresql
def test_the_command_line_imports_or_says_why_not(
    client: TestClient,
    organizer: Presenter,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HANDSUP_ENV", "test")
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDSUP_DATABASE_URL", database_url)
    good, bad = tmp_path / "phoenix.zip", tmp_path / "damaged.zip"
    good.write_bytes(archive_zip(cohort_archive_data()))
    bad.write_bytes(flipped(archive_zip(session_archive_data())))
    assert main(["archive", "import", str(good)]) == 1  # no admin yet, and no --owner
    assert "there is no admin account to own the imported sessions" in capsys.readouterr().err
    assert main(["archive", "import", str(good), "--owner", "presenter@example.org"]) == 1
    assert "there is no account for presenter@example.org." in capsys.readouterr().err
    assert main(["archive", "import", str(good), "--owner", organizer.user.email]) == 0
    out = capsys.readouterr().out
    assert out == "Imported cohort “Phoenix” of 2017 Spring Institute: 2 sessions, 4 participants, 6 responses.\n"
    before = counts(client)
    assert main(["archive", "import", str(bad), "--owner", organizer.user.email]) == 1
    assert capsys.readouterr().err == (
        f"handsup: {bad}: This archive is damaged: data.json does not match its checksum. Nothing was imported.\n"
    )
    assert main(["archive", "import", str(tmp_path / "missing.zip"), "--owner", organizer.user.email]) == 1
    assert "cannot read: No such file or directory" in capsys.readouterr().err
    assert counts(client) == before


# --- round trips through the archive writer -----------------------------------------------------------------------

EVERY_KIND = """\
title: Every kind, day 1
activities:
  - kind: poll
    title: Where does the week go?
    multiple: true
    options: [Fires, Maintenance, "=Improvement"]
  - kind: wordcloud
    title: Three <em>words</em>
    lemmatise: true
  - kind: sort
    title: Influence or authority?
    cards: [Setting the schedule, Building trust]
  - kind: scale
    title: How often?
    labels: [Never, Always]
    statements: [Listening in stereo, Inquiring]
  - kind: points
    title: Where does the time go?
    results: hidden
    items: [Fires, Improvement]
  - kind: ranking
    title: Which risk first?
    items: [Disagreement, Power, Emotions]
  - kind: resources
    title: Call for resources
  - kind: open
    title: One idea
    moderated: true
  - kind: qa
    title: Questions for the panel
"""
# Per kind, the answers of participants 1, 2 and 3 (None: that one does not answer).
EVERY_ANSWER: dict[str, list[dict[str, Any] | None]] = {
    "poll": [{"choice": ["0", "2"]}, {"choice": "1"}, {"choice": ["2"]}],
    "wordcloud": [{"word": ["Trust", "listening", "=cmd"]}, {"word": ["trust"]}, {"word": ["Schools", "school"]}],
    "sort": [{"card-0": "0", "card-1": "1"}, {"card-0": "unsure", "card-1": "1"}, None],
    "scale": [{"statement-0": "2", "statement-1": "5"}, {"statement-0": "4"}, {"statement-1": "1"}],
    "points": [{"item-0": "30", "item-1": "70"}, {"item-0": "100", "item-1": "0"}, None],
    "ranking": [{"rank-0": "1", "rank-1": "2", "rank-2": "3"}, {"rank-0": "3", "rank-1": "1", "rank-2": "2"}, None],
    "resources": [
        {"type": "reading", "title": "<b>Bold</b> moves", "link": "HTTPS://Example.org:443/a?b=1"},
        {"type": "video", "title": '=HYPERLINK("http://evil.example")', "note": "Ω ≠ ∞ \u202e"},
        None,
    ],
    "open": [{"text": "<script>alert(1)</script> more time"}, {"text": "Listening"}, {"text": "@cmd"}],
    "qa": [{"question": "Who decides?", "name": "Ana"}, {"question": "Why now?"}, None],
}


@pytest.fixture
def second(tmp_path: Path) -> Iterator[TestClient]:
    """A second server with its own, fresh database: where archives are imported."""
    settings = Settings(
        env="test", data_dir=tmp_path / "second", secret_key=SECRET, commit_interval_ms=5, push_interval_ms=20
    )
    with TestClient(create_app(settings), base_url="http://testserver") as other:
        yield other


@pytest.fixture
def organizer_there(second: TestClient) -> Presenter:
    user = make_user(second, "organizer@example.org", Role.organizer)
    return Presenter(second, user, api_token(second, user.email))


def export(client: TestClient, scope: Scope, scope_id: int) -> bytes:
    """An archive as the server writes it for download."""
    services = services_of(client)

    async def write() -> bytes:
        with tempfile.TemporaryFile() as target:
            await write_archive(target, ArchiveSources.of(services), scope, scope_id)
            target.seek(0)
            return target.read()

    return run(client, write)


def key_of(presenter: Presenter, session_id: int, activity_id: int, listed: str, field: str, value: str) -> str:
    """The moderation key of the item of a tally whose `field` is `value` (once the answer is folded in)."""

    def find() -> str:
        results = presenter.tally(session_id, activity_id)["results"]
        found = [item["key"] for item in results[listed] if item[field] == value]
        assert found, results
        return str(found[0])

    return eventually(find)


def run_every_kind(client: TestClient, presenter: Presenter, tokens: list[str], session: dict[str, Any]) -> None:
    """Every activity answered by the participants, then moderated, reset, revealed, closed as a workshop does."""
    session_id = session["id"]
    ids = {a["kind"]: a["id"] for a in session["activities"]}
    for kind, answers in EVERY_ANSWER.items():
        presenter.control(session_id, "goto", ids[kind])
        caught_up(client, session_id)
        for token, fields in zip(tokens, answers, strict=True):
            if fields is not None:
                response = respond(client, token, ids[kind], **fields)
                assert response.status_code == 201, (kind, response.text)
    control = presenter.control
    resource = key_of(presenter, session_id, ids["resources"], "resources", "title", "<b>Bold</b> moves")
    control(session_id, "goto", ids["resources"])
    caught_up(client, session_id)
    assert respond(client, tokens[2], ids["resources"], upvote=resource).status_code == 201
    control(session_id, "moderate", ids["resources"], verb="approve", answer=resource)
    control(session_id, "moderate", ids["resources"], verb="retitle", answer=resource, title="Bold moves, retitled")
    question = key_of(presenter, session_id, ids["qa"], "questions", "text", "Who decides?")
    assert respond(client, tokens[2], ids["qa"], upvote=question).status_code == 201
    control(session_id, "moderate", ids["qa"], verb="approve", question=question)
    control(session_id, "moderate", ids["qa"], verb="highlight", question=question)
    idea = key_of(presenter, session_id, ids["open"], "cards", "text", "Listening")
    control(session_id, "moderate", ids["open"], verb="approve", answer=idea)
    control(session_id, "moderate", ids["open"], verb="highlight", answer=idea)
    hidden = key_of(presenter, session_id, ids["open"], "cards", "text", "@cmd")
    control(session_id, "moderate", ids["open"], verb="hide", answer=hidden)
    control(session_id, "moderate", ids["wordcloud"], verb="hide", word="listen")
    control(session_id, "moderate", ids["sort"], verb="order", order="contested")
    control(session_id, "reset", ids["ranking"])  # the first answers no longer count: epoch 1
    control(session_id, "goto", ids["ranking"])
    caught_up(client, session_id)
    assert (
        respond(client, tokens[2], ids["ranking"], **{"rank-0": "2", "rank-1": "3", "rank-2": "1"}).status_code == 201
    )
    control(session_id, "reveal", ids["points"])
    control(session_id, "close", ids["poll"])
    control(session_id, "end")


def same_archive(first: bytes, again: bytes) -> None:
    """Two archives hold the same record: every file the same byte for byte, but for when each was exported."""
    one, two = zipfile.ZipFile(io.BytesIO(first)), zipfile.ZipFile(io.BytesIO(again))
    assert one.namelist() == two.namelist()
    exported = re.compile(rb"Exported \d{4}-\d\d-\d\d \d\d:\d\d UTC")
    for name in one.namelist():
        a, b = one.read(name), two.read(name)
        if name == "manifest.json":
            ma, mb = json.loads(a), json.loads(b)
            for manifest in (ma, mb):
                del manifest["exported_at"], manifest["archived"]  # the archived ids are each server's own
                manifest["files"] = [f for f in manifest["files"] if f["path"] not in {"report.html", "workbook.xlsx"}]
            assert ma == mb
        elif name == "report.html":
            assert exported.sub(b"", a) == exported.sub(b"", b)
        elif name == "workbook.xlsx":
            assert sheets(a) == sheets(b)
        else:
            assert a == b, name


def sheets(body: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    try:
        return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}
    finally:
        book.close()


@pytest.mark.postgresql
def test_every_kind_comes_back_the_same_through_export_and_import(
    client: TestClient, presenter: Presenter, second: TestClient, organizer_there: Presenter
) -> None:
    session = presenter.start(EVERY_KIND)
    tokens = [join(client, session["code"]) for _ in range(3)]
    run_every_kind(client, presenter, tokens, session)
    first = export(client, "session", session["id"])
    importer = organizer_there
    importer.start(EVERY_KIND)  # the second server has a session of its own: the copy's ids all differ
    result = imported(second, importer, first)
    assert result["summary"] == "Imported session “Every kind, day 1”: 3 participants, 23 responses."
    [copy] = result["session_ids"]
    assert copy != session["id"]
    same_archive(first, export(second, "session", copy))
    # And the live views' results: every tally the same on both servers.
    theirs = organizer_session(second, importer, copy)["activities"]
    for mine, its in zip(session["activities"], theirs, strict=True):
        assert presenter.tally(session["id"], mine["id"])["results"] == importer.tally(copy, its["id"])["results"]
    assert [a["voting_open"] for a in theirs][:1] == [False] and theirs[4]["revealed"] is True


TWO_DAYS = """\
title: Phoenix
activities:
  - kind: poll
    title: How are you arriving?
    options: [Energised, Curious, Tired]
  - kind: wordcloud
    title: One word for today
"""


def phone_joins(client: TestClient, session_id: int, token: str) -> None:
    """The same phone (its token, as its cookie carries it) joining another session of the cohort."""
    services = services_of(client)

    async def rejoin() -> int:
        return await (await services.hub.room(session_id)).participant(token)

    run(client, rejoin)


def run_cohort(client: TestClient, organizer: Presenter, same_identity: bool = True) -> tuple[int, list[int]]:
    """A cohort of two days: Ana comes both days, Ben only on day one, Cy only on day two; both days ended."""
    services = services_of(client)
    assert organizer.user.id is not None
    institute = run(client, lambda: create_institute(services.db, "2017 Spring Institute", "", organizer.user.id))
    assert institute.id is not None
    form = CohortForm(name="Phoenix", site="Phoenix, AZ", facilitators=["Ana Ruiz"], same_identity=same_identity)
    cohort = run(client, lambda: save_cohort(services.db, institute.id or 0, form))
    assert cohort.id is not None
    ana = None
    sessions = []
    for day, others in ((1, ["Ben"]), (2, ["Cy"])):
        response = client.post(
            "/api/v1/sessions",
            json={"deck_yaml": TWO_DAYS, "cohort_id": cohort.id, "title": f"Phoenix, day {day}"},
            headers=organizer.headers,
        )
        assert response.status_code == 201, response.text
        session = response.json()
        if ana is None:
            ana = join(client, session["code"])
        else:
            phone_joins(client, session["id"], ana)
        tokens = [ana, *(join(client, session["code"]) for _ in others)]
        poll, cloud = (a["id"] for a in session["activities"])
        organizer.control(session["id"], "goto", poll)
        caught_up(client, session["id"])
        for n, token in enumerate(tokens):
            assert respond(client, token, poll, choice=str((day + n) % 3)).status_code == 201
        organizer.control(session["id"], "goto", cloud)
        caught_up(client, session["id"])
        for token in tokens:
            assert respond(client, token, cloud, word=["Trust", f"day {day}"]).status_code == 201
        organizer.control(session["id"], "end")
        sessions.append(session["id"])
    return cohort.id, sessions


def test_a_cohort_comes_back_the_same_and_its_people_stay_one_person(
    client: TestClient, organizer: Presenter, second: TestClient, organizer_there: Presenter
) -> None:
    cohort, _ = run_cohort(client, organizer)
    first = export(client, "cohort", cohort)
    data = json.loads(zipfile.ZipFile(io.BytesIO(first)).read("data.json"))
    day_one, day_two = data["sessions"]
    assert [p["person"] for p in day_one["participants"]] == [1, 2]
    assert [p["person"] for p in day_two["participants"]] == [1, 3]  # Ana is person 1 on both days
    result = imported(second, organizer_there, first)
    assert (
        result["summary"]
        == "Imported cohort “Phoenix” of 2017 Spring Institute: 2 sessions, 4 participants, 8 responses."
    )
    same_archive(first, export(second, "cohort", result["cohort_ids"][0]))
    anas = stored(
        second,
        select(Participant.token_hash)
        .where(col(Participant.session_id).in_(result["session_ids"]))
        .order_by(col(Participant.id)),
    )
    assert anas[0] == anas[2] and len(set(anas)) == 3


def test_a_cohort_of_separate_phones_stays_separate(
    client: TestClient, organizer: Presenter, second: TestClient, organizer_there: Presenter
) -> None:
    cohort, _ = run_cohort(client, organizer, same_identity=False)
    first = export(client, "cohort", cohort)
    result = imported(second, organizer_there, first)
    same_archive(first, export(second, "cohort", result["cohort_ids"][0]))
    hashes = stored(second, select(Participant.token_hash))
    assert len(set(hashes)) == 4


def test_a_cohort_whose_answers_were_deleted_comes_back_with_its_results(
    client: TestClient, organizer: Presenter, second: TestClient, organizer_there: Presenter
) -> None:
    cohort, sessions = run_cohort(client, organizer)
    services = services_of(client)
    stores = Stores(services.db, services.engine, services.registry, services.hub.forget)
    run(client, lambda: prune_cohort(stores, cohort, organizer.user))
    first = export(client, "cohort", cohort)
    data = json.loads(zipfile.ZipFile(io.BytesIO(first)).read("data.json"))
    assert all(s["pruned_at"] and not s["participants"] and not s["responses"] for s in data["sessions"])
    result = imported(second, organizer_there, first)
    assert (
        result["summary"]
        == "Imported cohort “Phoenix” of 2017 Spring Institute: 2 sessions, 0 participants, 0 responses."
    )
    same_archive(first, export(second, "cohort", result["cohort_ids"][0]))
    for mine, theirs in zip(sessions, result["session_ids"], strict=True):
        kept = organizer_session(client, organizer, mine)["activities"]
        copied = organizer_session(second, organizer_there, theirs)["activities"]
        for a, b in zip(kept, copied, strict=True):
            assert organizer.tally(mine, a["id"]) | {"activity_id": 0} == organizer_there.tally(theirs, b["id"]) | {
                "activity_id": 0
            }
    assert stored(second, select(func.count()).select_from(Response)) == [0]
    kept = stored(second, select(Activity.aggregate).order_by(col(Activity.id)))
    assert len(kept) == 4 and all(aggregate and aggregate["respondents"] for aggregate in kept)


@pytest.mark.postgresql
def test_an_institute_comes_back_the_same(
    client: TestClient, organizer: Presenter, second: TestClient, organizer_there: Presenter
) -> None:
    cohort, _ = run_cohort(client, organizer)
    [institute] = stored(client, select(Cohort.institute_id).where(Cohort.id == cohort))
    first = export(client, "institute", institute)
    result = imported(second, organizer_there, first)
    assert result["summary"] == (
        "Imported institute “2017 Spring Institute”: 1 cohort, 2 sessions, 4 participants, 8 responses."
    )
    same_archive(first, export(second, "institute", result["institute_id"]))
