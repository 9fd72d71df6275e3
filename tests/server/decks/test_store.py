"""Stored decks (server/decks/store.py): rights, the library's actions, versioned saves, uploads, and starting
sessions from decks; against the real app and database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.cli import main
from server.decks import deck_document, deck_yaml
from server.decks.store import (
    DeckRefused,
    VersionConflict,
    copy_deck,
    counted_label,
    create_deck,
    delete_deck,
    import_yaml,
    open_deck,
    rename_deck,
    restore_deck,
    save_deck,
    share_deck,
    visible_decks,
)
from server.models import Activity, Deck, DeckShare, Role, User
from tests.factories import DECK, TWO_QUESTIONS, Presenter, api_token, make_user, run, services_of, stored
from tests.hostile import CORPUS, is_text

NOTES = "Ask for a show of hands first.\n  Then: wait <b>ten</b> seconds."
WITH_NOTES = TWO_QUESTIONS.replace(
    "    options: [Fires, Maintenance, Improvement]\n",
    "    options: [Fires, Maintenance, Improvement]\n    notes: |\n"
    + "".join(f"      {line}\n" for line in NOTES.split("\n")),
)


def rows(client: TestClient) -> list[tuple[int | None, str, int, int]]:
    """The deck table as (id, title, version, problems): what a refusal must leave as it was."""
    return [(d.id, d.title, d.version, d.problems) for d in stored(client, select(Deck).order_by(Deck.id))]


def new(client: TestClient, user: User, title: str = "Day one") -> Deck:
    services = services_of(client)
    return run(client, lambda: create_deck(services.db, services.registry, user, title=title))


def save(client: TestClient, user: User, deck: Deck, base: int, **given: Any) -> Any:
    services = services_of(client)
    assert deck.id is not None
    deck_id = deck.id
    return run(client, lambda: save_deck(services.db, services.registry, user, deck_id, base_version=base, **given))


def refused(client: TestClient, fn: Any) -> DeckRefused:
    with pytest.raises(DeckRefused) as caught:
        run(client, fn)
    return caught.value


# --- making decks ---------------------------------------------------------------------------------------------------


def test_a_new_deck_is_a_draft_that_asks_for_a_first_activity(client: TestClient, presenter: Presenter) -> None:
    deck = new(client, presenter.user, "Day one: roles")
    assert deck.owner_id == presenter.user.id and not deck.template
    assert deck.slug == "day-one-roles" and deck.version == 1 and deck.problems == 1
    assert deck_document(deck.source) == {
        "title": "Day one: roles",
        "language": "en",
        "pace": "presenter",
        "activities": [],
    }


def test_new_slugs_are_free_and_never_a_shipped_decks_name(client: TestClient, presenter: Presenter) -> None:
    services = services_of(client)
    first = new(client, presenter.user, "Distributed leadership")
    second = new(client, presenter.user, "Distributed leadership")
    reserved = run(
        client,
        lambda: create_deck(services.db, services.registry, presenter.user, title="Later", reserved={"later"}),
    )
    assert first.slug == "distributed-leadership-2" and second.slug == "distributed-leadership-3"  # the template's
    assert reserved.slug == "later-2"


@pytest.mark.parametrize("payload", CORPUS, ids=[p.name for p in CORPUS])
def test_a_hostile_title_is_stored_as_inert_text_or_refused(
    client: TestClient, presenter: Presenter, payload: Any
) -> None:
    before = rows(client)
    services = services_of(client)
    try:
        deck = new(client, presenter.user, payload.text)
    except DeckRefused as error:
        assert error.status == 422 and error.detail
        assert rows(client) == before
        return
    assert is_text(deck.title) and not set(deck.title) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert deck_document(deck.source)["title"] == deck.title
    assert deck.id is not None
    deck_id = deck.id
    renamed = run(client, lambda: rename_deck(services.db, services.registry, presenter.user, deck_id, payload.text))
    assert renamed.title == deck.title


def test_a_copy_is_an_own_deck_of_the_same_text_but_its_title(client: TestClient, presenter: Presenter) -> None:
    services = services_of(client)
    [template] = stored(client, select(Deck).where(Deck.template, Deck.slug == "distributed-leadership"))
    assert template.id is not None
    template_id = template.id
    copy = run(client, lambda: copy_deck(services.db, services.registry, presenter.user, template_id))
    assert copy.owner_id == presenter.user.id and not copy.template and copy.problems == 0
    assert copy.title == f"Copy of {template.title}"
    assert copy.source.replace("title: Copy of ", "title: ", 1) == DECK.read_text(encoding="utf-8")


def test_a_rename_changes_the_title_and_nothing_else_of_the_text(client: TestClient, presenter: Presenter) -> None:
    services = services_of(client)
    text = "# Day one, as written\ntitle: Old   # keep this comment\nactivities:\n  - {kind: wordcloud, title: W}\n"
    deck = run(client, lambda: import_yaml(services.db, services.registry, presenter.user, text.encode()))
    assert deck.id is not None
    deck_id = deck.id
    saved = run(
        client, lambda: rename_deck(services.db, services.registry, presenter.user, deck_id, "Roles: who decides?")
    )
    assert saved.version == 2 and saved.title == "Roles: who decides?"
    [after] = stored(client, select(Deck).where(Deck.id == deck_id))
    assert after.source == text.replace("title: Old", "title: 'Roles: who decides?'")


# --- uploads --------------------------------------------------------------------------------------------------------


def test_an_upload_is_stored_byte_for_byte_with_its_problems(client: TestClient, presenter: Presenter) -> None:
    services = services_of(client)
    text = "title:   Spaced   \nactivities:\n  - kind: poll   # no options\n    title: P\n"
    deck = run(client, lambda: import_yaml(services.db, services.registry, presenter.user, text.encode()))
    assert deck.source == text and deck.problems == 1 and deck.title == "Spaced"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"\xff\xfe t\x00i\x00", 422),
        ("title: caf\u00e9\n".encode("latin-1"), 422),
        (b"", 422),
        (b"   \n", 422),
        (b"title: a\x00b\n", 422),
        (b"title: T\n#" + b"x" * (300 * 1024), 413),
    ],
    ids=["utf-16", "latin-1", "empty", "blank", "nul", "too-large"],
)
def test_an_upload_that_is_not_a_decks_text_is_refused(
    client: TestClient, presenter: Presenter, data: bytes, status: int
) -> None:
    services = services_of(client)
    before = rows(client)
    error = refused(client, lambda: import_yaml(services.db, services.registry, presenter.user, data))
    assert error.status == status and error.detail
    assert rows(client) == before


@pytest.mark.parametrize(
    "text",
    [
        "title: !!python/object/apply:os.system [echo pwned]\nactivities: []\n",
        "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for n, p in zip("bcdefghi", "abcdefgh", strict=True)),
        "title: [unclosed\n",
    ],
    ids=["python-tag", "billion-laughs", "broken"],
)
def test_an_upload_that_is_not_valid_yaml_is_kept_inert_as_a_draft(
    client: TestClient, presenter: Presenter, text: str
) -> None:
    services = services_of(client)
    deck = run(client, lambda: import_yaml(services.db, services.registry, presenter.user, text.encode()))
    assert deck.source == text and deck.problems == 1 and deck.title == "Untitled deck"
    summaries = run(client, lambda: visible_decks(services.db, services.registry, presenter.user))
    [summary] = [s for s in summaries if s.id == deck.id]
    assert str(summary.contents) == "No activities yet"


# --- saves ----------------------------------------------------------------------------------------------------------


def test_a_save_bumps_the_version_and_stores_the_documents_yaml(client: TestClient, presenter: Presenter) -> None:
    deck = new(client, presenter.user)
    document = deck_document(TWO_QUESTIONS)
    saved = save(client, presenter.user, deck, 1, document=document)
    assert saved.version == 2 and saved.problems == [] and saved.title == "Two questions"
    [after] = stored(client, select(Deck).where(Deck.id == deck.id))
    assert after.source == deck_yaml(document) and after.version == 2 and after.problems == 0


def test_a_stale_save_is_refused_and_names_who_saved(client: TestClient, presenter: Presenter) -> None:
    deck = new(client, presenter.user)
    colleague = make_user(client, "colleague@example.org")
    services = services_of(client)
    assert deck.id is not None
    deck_id = deck.id
    run(client, lambda: share_deck(services.db, presenter.user, deck_id, colleague.email, True))
    save(client, colleague, deck, 1, source=TWO_QUESTIONS)
    with pytest.raises(VersionConflict) as caught:
        save(client, presenter.user, deck, 1, document={"title": "Mine", "activities": []})
    assert caught.value.current_version == 2 and caught.value.saved_by_name == colleague.email
    assert caught.value.current_document == deck_document(TWO_QUESTIONS)
    [after] = stored(client, select(Deck).where(Deck.id == deck_id))
    assert after.source == TWO_QUESTIONS and after.version == 2


def test_two_saves_on_the_same_version_at_once_let_exactly_one_win(client: TestClient, presenter: Presenter) -> None:
    deck = new(client, presenter.user)
    services = services_of(client)
    assert deck.id is not None
    deck_id = deck.id

    async def both() -> list[Any]:
        return await asyncio.gather(
            *(
                save_deck(services.db, services.registry, presenter.user, deck_id, base_version=1, source=text)
                for text in (TWO_QUESTIONS, TWO_QUESTIONS.replace("Two questions", "Other"))
            ),
            return_exceptions=True,
        )

    outcomes = run(client, both)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Saved", "VersionConflict"]
    [after] = stored(client, select(Deck).where(Deck.id == deck_id))
    assert after.version == 2


# --- rights ---------------------------------------------------------------------------------------------------------


def test_a_view_share_views_and_copies_but_never_saves(client: TestClient, presenter: Presenter) -> None:
    deck = new(client, presenter.user)
    colleague = make_user(client, "colleague@example.org")
    services = services_of(client)
    assert deck.id is not None
    deck_id = deck.id
    run(client, lambda: share_deck(services.db, presenter.user, deck_id, "Colleague@Example.org ", False))
    found = run(client, lambda: open_deck(services.db, colleague, deck_id))
    assert found.deck.id == deck_id and not found.can_edit
    error = refused(client, lambda: save_deck(services.db, services.registry, colleague, deck_id, base_version=1))
    assert error.status == 403
    assert refused(client, lambda: delete_deck(services.db, colleague, deck_id)).status == 403
    assert (
        refused(client, lambda: share_deck(services.db, colleague, deck_id, presenter.user.email, True)).status == 403
    )
    copy = run(client, lambda: copy_deck(services.db, services.registry, colleague, deck_id))
    assert copy.owner_id == colleague.id
    summaries = run(client, lambda: visible_decks(services.db, services.registry, colleague))
    [shared] = [s for s in summaries if s.id == deck_id]
    assert shared.shared and not shared.can_edit and shared.owner_name == presenter.user.email
    run(client, lambda: share_deck(services.db, presenter.user, deck_id, colleague.email, None))
    assert stored(client, select(DeckShare)) == []
    assert refused(client, lambda: open_deck(services.db, colleague, deck_id)).status == 404


@pytest.mark.parametrize("payload", CORPUS, ids=[p.name for p in CORPUS])
def test_a_hostile_share_email_is_refused_and_changes_nothing(
    client: TestClient, presenter: Presenter, payload: Any
) -> None:
    deck = new(client, presenter.user)
    services = services_of(client)
    assert deck.id is not None
    deck_id = deck.id
    error = refused(client, lambda: share_deck(services.db, presenter.user, deck_id, payload.text, True))
    assert error.status == 422 and error.detail
    assert stored(client, select(DeckShare)) == []


def test_another_presenters_deck_is_not_found_and_stays_as_it_was(client: TestClient, presenter: Presenter) -> None:
    deck = new(client, presenter.user)
    stranger = make_user(client, "stranger@example.org")
    services = services_of(client)
    assert deck.id is not None
    deck_id = deck.id
    before = rows(client)
    for attempt in (
        lambda: open_deck(services.db, stranger, deck_id),
        lambda: save_deck(services.db, services.registry, stranger, deck_id, base_version=1, source=TWO_QUESTIONS),
        lambda: rename_deck(services.db, services.registry, stranger, deck_id, "Mine"),
        lambda: copy_deck(services.db, services.registry, stranger, deck_id),
        lambda: delete_deck(services.db, stranger, deck_id),
        lambda: restore_deck(services.db, stranger, deck_id),
        lambda: share_deck(services.db, stranger, deck_id, stranger.email, True),
    ):
        assert refused(client, attempt).status == 404
    assert rows(client) == before
    assert deck_id not in [s.id for s in run(client, lambda: visible_decks(services.db, services.registry, stranger))]


def test_templates_are_read_only_for_everyone_even_admins(client: TestClient) -> None:
    admin = make_user(client, "admin@example.org", Role.admin)
    services = services_of(client)
    [template] = stored(client, select(Deck).where(Deck.template, Deck.slug == "distributed-leadership"))
    assert template.id is not None
    template_id = template.id
    error = refused(client, lambda: save_deck(services.db, services.registry, admin, template_id, base_version=1))
    assert error.status == 403 and error.detail == "Templates are read-only: make a copy to edit."
    assert refused(client, lambda: delete_deck(services.db, admin, template_id)).status == 403


def test_a_deleted_deck_leaves_the_library_until_it_is_restored(client: TestClient, presenter: Presenter) -> None:
    deck = new(client, presenter.user)
    services = services_of(client)
    assert deck.id is not None
    deck_id = deck.id

    def listed() -> list[int]:
        return [s.id for s in run(client, lambda: visible_decks(services.db, services.registry, presenter.user))]

    run(client, lambda: delete_deck(services.db, presenter.user, deck_id))
    assert deck_id not in listed()
    assert refused(client, lambda: open_deck(services.db, presenter.user, deck_id)).status == 404
    run(client, lambda: restore_deck(services.db, presenter.user, deck_id))
    assert deck_id in listed()


def test_the_library_says_what_is_in_each_deck(client: TestClient, presenter: Presenter) -> None:
    services = services_of(client)
    summaries = run(client, lambda: visible_decks(services.db, services.registry, presenter.user))
    assert [summary.slug for summary in summaries] == ["closing-quiz", "distributed-leadership"]  # the shipped two
    for template in summaries:
        assert template.template and str(template.contents).startswith(f"{template.contents.activities} activities: ")
    assert counted_label(2, "Word cloud") == "2 word clouds" and counted_label(1, "Poll") == "1 poll"
    assert counted_label(3, "Call for resources") == "3 calls for resources"
    assert counted_label(2, "Q&A") == "2 Q&As" and counted_label(2, "Points") == "2 points activities"
    assert counted_label(1, "Points") == "1 points activity" and counted_label(1, "Q&A") == "1 Q&A"


# --- sessions from decks --------------------------------------------------------------------------------------------


def start(client: TestClient, presenter: Presenter, deck_id: int) -> Any:
    return client.post("/api/v1/sessions", json={"deck_id": deck_id}, headers=presenter.headers)


def test_a_session_keeps_the_deck_as_it_was_when_it_started(client: TestClient, presenter: Presenter) -> None:
    deck = new(client, presenter.user)
    save(client, presenter.user, deck, 1, source=WITH_NOTES)
    assert deck.id is not None
    session = start(client, presenter, deck.id)
    assert session.status_code == 201, session.text
    save(client, presenter.user, deck, 2, source=TWO_QUESTIONS.replace("Where does the week go?", "Changed"))
    activities = stored(client, select(Activity).where(Activity.session_id == session.json()["id"]))
    assert [a.title for a in sorted(activities, key=lambda a: a.position)] == ["Where does the week go?", "Three words"]
    assert activities[0].notes == NOTES or activities[1].notes == NOTES


def test_a_session_does_not_start_from_a_deck_with_problems_deleted_or_unseen(
    client: TestClient, presenter: Presenter
) -> None:
    deck = new(client, presenter.user)
    assert deck.id is not None
    draft = start(client, presenter, deck.id)
    assert draft.status_code == 422
    assert f"/present/decks/{deck.id}/edit" in draft.json()["detail"] and "1 problem to fix" in draft.json()["detail"]
    save(client, presenter.user, deck, 1, source=TWO_QUESTIONS)
    stranger = make_user(client, "stranger@example.org")
    as_stranger = Presenter(client, stranger, api_token(client, stranger.email))
    assert start(client, as_stranger, deck.id).status_code == 404
    services = services_of(client)
    deck_id = deck.id
    run(client, lambda: delete_deck(services.db, presenter.user, deck_id))
    assert start(client, presenter, deck.id).status_code == 404
    run(client, lambda: restore_deck(services.db, presenter.user, deck_id))
    assert start(client, presenter, deck.id).status_code == 201


# --- the command line -----------------------------------------------------------------------------------------------


def test_the_command_line_imports_and_exports_a_deck_as_it_is(
    client: TestClient,
    presenter: Presenter,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HANDSUP_ENV", "test")
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDSUP_DATABASE_URL", database_url)
    text = "# by hand\ntitle:  'Day one'\nactivities:\n  - {kind: wordcloud, title: Three words}\n"
    source = tmp_path / "day-one.yaml"
    source.write_bytes(text.encode())
    assert main(["deck", "import", str(source), "--owner", "nobody@example.org"]) == 1
    assert "there is no account for nobody@example.org." in capsys.readouterr().err
    assert main(["deck", "import", str(source), "--owner", presenter.user.email]) == 0
    out = capsys.readouterr().out
    assert out.endswith(f"'Day one' as 'day-one' for {presenter.user.email}.\n")
    exported = tmp_path / "out.yaml"
    assert main(["deck", "export", "day-one", "-o", str(exported)]) == 0
    assert exported.read_bytes() == text.encode()
    assert main(["deck", "export", "day-one"]) == 0
    assert capsys.readouterr().out == text
    assert main(["deck", "export", "nothing-here"]) == 1
    assert "there is no deck 'nothing-here'" in capsys.readouterr().err
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: caf\u00e9\n".encode("latin-1"))
    before = rows(client)
    assert main(["deck", "import", str(latin), "--owner", presenter.user.email]) == 1
    assert "is YAML text in UTF-8: this file is not. Nothing was stored." in capsys.readouterr().err
    assert rows(client) == before
