"""Stored decks: who may view and edit them, the library's actions, and versioned saves.

Rights: the owner edits (and shares, deletes); an account the deck is shared with edits or only views, as shared;
an organizer edits the decks of the cohorts of their institutes; an admin edits all. Templates (the shipped decks)
are read-only for everyone, and anyone signed in may view and copy them. A deck stored without an owner before
decks had owners (not a template) is seen by everyone, as before, and edited by admins.

Drafts are always saved: a deck's text is stored as it is typed, with the number of its problems
(`Deck.problems`), and a session starts only from a deck with none. A deck from scratch is a title and an empty
list of activities: one problem, "add a first activity", which the editor shows as where to start.

Every function takes the database's session maker and the acting user; refusals are `DeckRefused` (with the HTTP
status a route answers with) and `VersionConflict`.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from activities.i18n import N_, _, ngettext
from server.decks.document import deck_document, deck_yaml
from server.decks.loading import MAX_DECK_BYTES, DeckInvalid, DeckLoader, DeckProblem
from server.decks.parse import parse_deck
from server.models import AuditEntry, Cohort, CohortDeck, Deck, DeckShare, Institute, Role, User, utcnow

UNTITLED = "Untitled deck"
MAX_TITLE = 200
SAVE_ACTION = "deck.save"  # the audit entry that names who saved a deck last (one per deck)


class DeckRefused(Exception):
    """An action on a deck that is refused: `status` is what a route answers (404, 403, 409, 413, 422)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


class VersionConflict(Exception):
    """A save based on an older version than the stored one: someone else saved in between."""

    def __init__(
        self, current_version: int, current_document: dict[str, Any] | None, saved_by_name: str, saved_at: datetime
    ) -> None:
        super().__init__(f"{saved_by_name} saved version {current_version}")
        self.current_version = current_version
        self.current_document = current_document
        self.saved_by_name = saved_by_name
        self.saved_at = saved_at


@dataclass(frozen=True)
class Rights:
    view: bool = False
    edit: bool = False
    share: bool = False  # share and delete: the owner, organizers of its institutes, admins


@dataclass(frozen=True)
class OpenDeck:
    """A deck the user may view, with what else they may do with it."""

    deck: Deck
    rights: Rights

    @property
    def can_edit(self) -> bool:
        return self.rights.edit


@dataclass(frozen=True)
class Saved:
    version: int
    problems: list[DeckProblem]
    saved_at: datetime
    title: str


@dataclass(frozen=True)
class Contents:
    """What is in a deck, for the library: its activities' count and kinds in order of first appearance."""

    activities: int
    kinds: tuple[tuple[str, int], ...]  # (label, count)

    def __str__(self) -> str:
        """In the language being rendered: "3 activities: 2 word clouds, 1 poll" ("3 actividades: Nube de palabras
        (2), Encuesta (1)": a kind's name has no plural in the catalogues)."""
        if not self.activities:
            return _("No activities yet")
        counted = ", ".join(counted_kind(count, label) for label, count in self.kinds)
        activities = ngettext("%(num)d activity", "%(num)d activities", self.activities) % {"num": self.activities}
        return _("{activities}: {kinds}").format(activities=activities, kinds=counted)


@dataclass(frozen=True)
class DeckSummary:
    id: int
    slug: str
    title: str
    template: bool
    owner_id: int | None
    owner_name: str
    can_edit: bool
    can_share: bool
    shared: bool  # shared with the user (not theirs)
    institutes: bool  # one of the user's institutes' decks (not theirs, not shared)
    version: int
    updated_at: datetime
    problems: int
    contents: Contents


# --- rights -------------------------------------------------------------------------------------------------------


def _is(user: User, role: Role) -> bool:
    order = [Role.presenter, Role.organizer, Role.admin]
    return order.index(Role(user.role)) >= order.index(role)


async def _organized_deck_ids(db: AsyncSession, user: User) -> set[int]:
    """The decks linked to cohorts of the institutes an organizer owns (what `may_organize` grants, in the domain)."""
    if not _is(user, Role.organizer):
        return set()
    query = (
        select(CohortDeck.deck_id)
        .join(Cohort, col(Cohort.id) == col(CohortDeck.cohort_id))
        .join(Institute, col(Institute.id) == col(Cohort.institute_id))
        .where(Institute.created_by == user.id)
    )
    return set((await db.exec(query)).all())


async def rights_of(db: AsyncSession, user: User, deck: Deck) -> Rights:
    """What a user may do with a deck (deleted or not: the callers decide what a deleted deck allows)."""
    if deck.template:
        return Rights(view=True)
    if user.role == Role.admin or (deck.owner_id is not None and deck.owner_id == user.id):
        return Rights(view=True, edit=True, share=True)
    if deck.id is not None and deck.id in await _organized_deck_ids(db, user):
        return Rights(view=True, edit=True, share=True)
    share = (await db.exec(select(DeckShare).where(DeckShare.deck_id == deck.id, DeckShare.user_id == user.id))).first()
    if share is not None:
        return Rights(view=True, edit=share.can_edit)
    if deck.owner_id is None:  # stored before decks had owners: everyone saw it, as before
        return Rights(view=True)
    return Rights()


def _not_found(deck_id: int) -> DeckRefused:
    return DeckRefused(
        404, _("No such deck"), _("There is no deck {deck} among the decks you may see.").format(deck=deck_id)
    )


async def _open(db: AsyncSession, user: User, deck_id: int, *, deleted: bool | None = False) -> OpenDeck:
    """A deck the user may view: not deleted (`deleted=False`), deleted (True), or either (None)."""
    deck = await db.get(Deck, deck_id)
    if deck is None or (deleted is not None and (deck.deleted_at is not None) != deleted):
        raise _not_found(deck_id)
    rights = await rights_of(db, user, deck)
    if not rights.view:
        raise _not_found(deck_id)
    return OpenDeck(deck, rights)


def _must_edit(found: OpenDeck) -> None:
    if found.deck.template:
        raise DeckRefused(403, _("Templates are read-only"), _("Templates are read-only: make a copy to edit."))
    if not found.rights.edit:
        raise DeckRefused(403, _("View only"), _("This deck is shared with you to view: make a copy to edit."))


def _must_share(found: OpenDeck) -> None:
    _must_edit(found)
    if not found.rights.share:
        raise DeckRefused(403, _("Owner only"), _("Only the deck's owner, its institute's organizers and admins may."))


async def open_deck(
    maker: async_sessionmaker[AsyncSession], user: User, deck_id: int, *, edit: bool = False
) -> OpenDeck:
    """A deck the user may view (and edit, with `edit`); DeckRefused 404 for an unknown, deleted or unseen deck, 403
    for one they may only view."""
    async with maker() as db:
        found = await _open(db, user, deck_id)
    if edit:
        _must_edit(found)
    return found


# --- the library ----------------------------------------------------------------------------------------------------

_contents: OrderedDict[tuple[int, int, str], Contents] = OrderedDict()
CONTENTS_CACHED = 1000


def contents_of(deck: Deck, registry: Registry) -> Contents:
    """What is in a deck (from its text, drafts too), cached by (id, version, saved time)."""
    key = (deck.id or 0, deck.version, deck.updated_at.isoformat())
    found = _contents.get(key)
    if found is None:
        found = _read_contents(deck.source, registry)
        _contents[key] = found
        while len(_contents) > CONTENTS_CACHED:
            _contents.popitem(last=False)
    return found


def _read_contents(source: str, registry: Registry) -> Contents:
    try:
        activities = deck_document(source).get("activities")
    except DeckInvalid:
        return Contents(0, ())
    if not isinstance(activities, list):
        return Contents(0, ())
    counts: Counter[str] = Counter()
    for item in activities:
        kind = item.get("kind") if isinstance(item, dict) else None
        counts[registry[kind].label if isinstance(kind, str) and kind in registry else "other"] += 1
    return Contents(len(activities), tuple(counts.items()))


COUNTED_KIND = N_("{kind} × {count}")
"""How a translated library counts a kind (Spanish: "Encuesta (2)"): the English plurals of `counted_label` are the
source language's own, and a catalogue that translates this message, differently from the source, replaces them."""


def counted_kind(count: int, label: str) -> str:
    """A count of one kind in the language being rendered: `counted_label` in English, else the kind's translated
    name and the count (a plug-in's kind names have no plurals in our catalogues)."""
    form = _(COUNTED_KIND)
    if form == COUNTED_KIND:
        return counted_label(count, label)
    return form.format(kind=_(label), count=count)


def counted_label(count: int, label: str) -> str:
    """`2 word clouds`, `1 poll`, `3 calls for resources`, `2 Q&As`, `1 points activity`."""
    text = label if label.isupper() or "&" in label else label[:1].lower() + label[1:]
    head, sep, tail = text.partition(" for ")
    if text.endswith("s") and not sep:  # a plural already ("Points"): name the activities
        return f"{count} {text} activit{'y' if count == 1 else 'ies'}"
    if count != 1:
        text = f"{head}s for {tail}" if sep else text + "s"
    return f"{count} {text}"


async def visible_decks(maker: async_sessionmaker[AsyncSession], registry: Registry, user: User) -> list[DeckSummary]:
    """The decks a user sees (not deleted): their own, shared with them, their institutes', templates, and
    (admins) everyone's; by title."""
    async with maker() as db:
        decks = (
            await db.exec(select(Deck).where(col(Deck.deleted_at).is_(None)).order_by(col(Deck.title), col(Deck.id)))
        ).all()
        shares = {
            share.deck_id: share.can_edit
            for share in (await db.exec(select(DeckShare).where(DeckShare.user_id == user.id))).all()
        }
        organized = await _organized_deck_ids(db, user)
        owners = {
            person.id: person.email
            for person in (
                await db.exec(select(User).where(col(User.id).in_({d.owner_id for d in decks if d.owner_id})))
            ).all()
        }
    found = []
    for deck in decks:
        assert deck.id is not None
        own = deck.owner_id is not None and deck.owner_id == user.id
        if deck.template:
            rights = Rights(view=True)
        elif own or user.role == Role.admin or deck.id in organized:
            rights = Rights(view=True, edit=True, share=True)
        elif deck.id in shares:
            rights = Rights(view=True, edit=shares[deck.id])
        elif deck.owner_id is None:
            rights = Rights(view=True)
        else:
            continue
        found.append(
            DeckSummary(
                id=deck.id,
                slug=deck.slug,
                title=deck.title,
                template=deck.template,
                owner_id=deck.owner_id,
                owner_name=owners.get(deck.owner_id, "") if deck.owner_id else "",
                can_edit=rights.edit,
                can_share=rights.share,
                shared=not own and not deck.template and deck.id in shares,
                institutes=not own and not deck.template and deck.id not in shares and deck.id in organized,
                version=deck.version,
                updated_at=deck.updated_at,
                problems=deck.problems,
                contents=contents_of(deck, registry),
            )
        )
    return found


# --- making decks ---------------------------------------------------------------------------------------------------


def clean_title(title: str) -> str:
    """A deck title as typed: one line, at most 200 characters; DeckRefused 422 otherwise."""
    title = " ".join(title.translate(_BIDI).split())
    if not title:
        raise DeckRefused(422, _("A title is needed"), _("Give the deck a title."))
    if len(title) > MAX_TITLE:
        raise DeckRefused(
            422, _("The title is too long"), _("A title may have at most {count} characters.").format(count=MAX_TITLE)
        )
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in title):
        raise DeckRefused(
            422, _("The title has a control character"), _("Remove the control character from the title.")
        )
    return title


_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def problems_of(source: str, registry: Registry) -> list[DeckProblem]:
    """Every problem of a deck's text (none: a session may start from it)."""
    try:
        parse_deck(source, registry)
    except DeckInvalid as invalid:
        return invalid.problems
    return []


def _title_of(source: str) -> str:
    try:
        title = deck_document(source).get("title")
    except DeckInvalid:
        return UNTITLED
    if not isinstance(title, str):
        return UNTITLED
    title = " ".join(title.split())[:MAX_TITLE]
    return title or UNTITLED


async def _new_deck(
    db: AsyncSession, registry: Registry, user: User, source: str, title: str, reserved: Iterable[str]
) -> Deck:
    base = slugify(title)
    similar = (await db.exec(select(Deck.slug).where(col(Deck.slug).startswith(base[:95])))).all()
    deck = Deck(
        slug=free_slug(base, {*similar, *reserved}),
        title=title,
        source=source,
        owner_id=user.id,
        problems=len(problems_of(source, registry)),
    )
    db.add(deck)
    await db.flush()
    await _record_save(db, user, deck)
    return deck


async def create_deck(
    maker: async_sessionmaker[AsyncSession],
    registry: Registry,
    user: User,
    *,
    title: str,
    reserved: Iterable[str] = (),
    language: str = "en",
) -> Deck:
    """A new deck of the user's: the title, in `language` (the deck library passes the facilitator's page language:
    a Spanish facilitator writes in Spanish), at the presenter's pace, with no activities yet (a draft with one
    problem: "a list of at least one activity"). `reserved`: slugs a new deck must not take (the decks folder's file
    names)."""
    title = clean_title(title)
    source = deck_yaml({"title": title, "language": language, "pace": "presenter", "activities": []})
    async with maker() as db, db.begin():
        deck = await _new_deck(db, registry, user, source, title, reserved)
    return deck


async def copy_deck(
    maker: async_sessionmaker[AsyncSession],
    registry: Registry,
    user: User,
    deck_id: int,
    *,
    reserved: Iterable[str] = (),
) -> Deck:
    """A new deck of the user's, "Copy of <title>", with the text of a deck they may view (a template too)."""
    async with maker() as db, db.begin():
        found = await _open(db, user, deck_id)
        title = f"Copy of {found.deck.title}"[:MAX_TITLE]
        source = _retitled(found.deck.source, title)
        deck = await _new_deck(db, registry, user, source, title, reserved)
    return deck


def _retitled(source: str, title: str) -> str:
    """The text with its deck title changed, and nothing else: the title's value is replaced where it stands (a
    text that is not YAML, or whose title is not one line, is rewritten from its document)."""
    line = deck_yaml({"title": title})
    try:
        root = yaml.compose(source, Loader=DeckLoader)
    except yaml.YAMLError:
        return source
    if not isinstance(root, yaml.MappingNode):
        return source
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "title":
            if isinstance(value, yaml.ScalarNode) and value.style != "|" and value.style != ">":
                if value.start_mark.line == value.end_mark.line:
                    start, end = value.start_mark.index, value.end_mark.index
                    return source[:start] + line.removeprefix("title: ").rstrip("\n") + source[end:]
            try:
                document = deck_document(source)
            except DeckInvalid:
                return source
            document["title"] = title
            return deck_yaml(document)
    return line + source


async def import_yaml(
    maker: async_sessionmaker[AsyncSession],
    registry: Registry,
    user: User,
    data: bytes,
    *,
    name: str = "",
    reserved: Iterable[str] = (),
) -> Deck:
    """A new deck of the user's from an uploaded YAML file, stored byte for byte (so its download is the same
    file), with its problems counted: a file with problems, YAML ones included, is kept as a draft to fix.
    Refused (DeckRefused, nothing stored): an empty file, one over the size limit, one that is not UTF-8 text."""
    if len(data) > MAX_DECK_BYTES:
        raise DeckRefused(
            413,
            _("The file is too large"),
            _("A deck file may be at most {size} KiB.").format(size=MAX_DECK_BYTES // 1024),
        )
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        raise DeckRefused(
            422, _("Not a text file"), _("A deck file is YAML text in UTF-8: this file is not.")
        ) from None
    if not source.strip():
        raise DeckRefused(422, _("The file is empty"), _("The file has no text: choose a deck's YAML file."))
    if "\x00" in source:
        raise DeckRefused(422, _("Not a text file"), _("The file has NUL characters: it is not a deck's YAML text."))
    title = _title_of(source)
    if title == UNTITLED and name:
        title = clean_title(Path(name).stem[:MAX_TITLE] or UNTITLED)
    async with maker() as db, db.begin():
        deck = await _new_deck(db, registry, user, source, title, reserved)
    return deck


# --- changing decks -------------------------------------------------------------------------------------------------


async def save_deck(
    maker: async_sessionmaker[AsyncSession],
    registry: Registry,
    user: User,
    deck_id: int,
    *,
    base_version: int,
    document: dict[str, Any] | None = None,
    source: str | None = None,
) -> Saved:
    """Store a new version of a deck the user may edit: `source` as given, or `document` as YAML. Refused with
    VersionConflict when `base_version` is not the stored version (the compare and the bump are one UPDATE, so two
    workers saving at once cannot both win), DeckRefused 413 over the size limit."""
    if source is None:
        try:
            source = deck_yaml(document if document is not None else {})
        except RecursionError:  # lists in lists... deeper than any deck: refused before the writer runs out of stack
            raise DeckRefused(
                422, _("The deck is nested too deeply"), _("A deck's lists and mappings nest a few levels.")
            ) from None
    if len(source.encode()) > MAX_DECK_BYTES:
        raise DeckRefused(
            413, _("The deck is too large"), _("A deck may be at most {size} KiB.").format(size=MAX_DECK_BYTES // 1024)
        )
    problems = problems_of(source, registry)
    title = _title_of(source)
    now = utcnow()
    async with maker() as db, db.begin():
        found = await _open(db, user, deck_id)
        _must_edit(found)
        result = await db.exec(
            update(Deck)
            .where(col(Deck.id) == deck_id, col(Deck.version) == base_version, col(Deck.deleted_at).is_(None))
            .values(source=source, title=title, problems=len(problems), version=base_version + 1, updated_at=now)
        )
        if result.rowcount != 1:
            await db.rollback()
            raise await _conflict(maker, deck_id)
        found.deck.version = base_version + 1
        await _record_save(db, user, found.deck)
    return Saved(version=base_version + 1, problems=problems, saved_at=now, title=title)


async def _conflict(maker: async_sessionmaker[AsyncSession], deck_id: int) -> VersionConflict:
    async with maker() as db:
        deck = await db.get(Deck, deck_id)
        if deck is None or deck.deleted_at is not None:
            raise _not_found(deck_id)
        entry = (
            await db.exec(
                select(AuditEntry).where(AuditEntry.action == SAVE_ACTION, AuditEntry.subject == f"deck {deck_id}")
            )
        ).first()
        person = await db.get(User, entry.user_id) if entry is not None and entry.user_id is not None else None
    try:
        document: dict[str, Any] | None = deck_document(deck.source)
    except DeckInvalid:
        document = None
    return VersionConflict(deck.version, document, person.email if person else "Someone", deck.updated_at)


async def _record_save(db: AsyncSession, user: User, deck: Deck) -> None:
    """Who saved the deck last (the conflict message names them): one audit entry per deck, replaced each save."""
    subject = f"deck {deck.id}"
    await db.exec(delete(AuditEntry).where(col(AuditEntry.action) == SAVE_ACTION, col(AuditEntry.subject) == subject))
    db.add(AuditEntry(user_id=user.id, action=SAVE_ACTION, subject=subject, detail={"version": deck.version}))


async def rename_deck(
    maker: async_sessionmaker[AsyncSession], registry: Registry, user: User, deck_id: int, title: str
) -> Saved:
    """Give a deck the user may edit a new title: in its text (only the title's value changes), as a new version."""
    title = clean_title(title)
    found = await open_deck(maker, user, deck_id, edit=True)
    source = _retitled(found.deck.source, title)
    return await save_deck(maker, registry, user, deck_id, base_version=found.deck.version, source=source)


async def delete_deck(maker: async_sessionmaker[AsyncSession], user: User, deck_id: int) -> Deck:
    """Put a deck away (it can be restored): lists and starts leave it out. Its owner, organizers, admins."""
    async with maker() as db, db.begin():
        found = await _open(db, user, deck_id)
        _must_share(found)
        found.deck.deleted_at = utcnow()
        db.add(found.deck)
    return found.deck


async def deleted_deck(maker: async_sessionmaker[AsyncSession], user: User, deck_id: int) -> Deck:
    """A deleted deck the user may restore (the library's "Undo")."""
    async with maker() as db:
        found = await _open(db, user, deck_id, deleted=True)
    _must_share(found)
    return found.deck


async def restore_deck(maker: async_sessionmaker[AsyncSession], user: User, deck_id: int) -> Deck:
    """Undo a delete (of a deck that is not deleted: nothing to do)."""
    async with maker() as db, db.begin():
        found = await _open(db, user, deck_id, deleted=None)
        _must_share(found)
        found.deck.deleted_at = None
        db.add(found.deck)
    return found.deck


async def share_deck(
    maker: async_sessionmaker[AsyncSession], user: User, deck_id: int, email: str, can_edit: bool | None
) -> User:
    """Share a deck with the account of `email`, to edit or only to view; `can_edit=None` ends the share. The
    owner, organizers of its institutes and admins share. Returns the account."""
    email = email.strip().lower()
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in email):
        raise DeckRefused(422, _("No such account"), _("That is not an email address: check what was typed."))
    async with maker() as db, db.begin():
        found = await _open(db, user, deck_id)
        _must_share(found)
        person = (await db.exec(select(User).where(col(User.email) == email))).first() if email else None
        if person is None or person.disabled_at is not None:
            raise DeckRefused(
                422, _("No such account"), _("No account has that email: ask an admin to add the person.")
            )
        if person.id == found.deck.owner_id:
            raise DeckRefused(422, _("That is the owner"), _("The deck's owner may edit it already."))
        share = (
            await db.exec(select(DeckShare).where(DeckShare.deck_id == deck_id, DeckShare.user_id == person.id))
        ).first()
        if can_edit is None:
            if share is not None:
                await db.delete(share)
        elif share is None:
            assert person.id is not None
            db.add(DeckShare(deck_id=deck_id, user_id=person.id, can_edit=can_edit))
        else:
            share.can_edit = can_edit
            db.add(share)
    return person


@dataclass(frozen=True)
class ShareView:
    user_id: int
    email: str
    can_edit: bool


async def shares_of(maker: async_sessionmaker[AsyncSession], user: User, deck_id: int) -> list[ShareView]:
    """Who a deck is shared with (for those who may share it)."""
    async with maker() as db:
        found = await _open(db, user, deck_id)
        _must_share(found)
        rows = (
            await db.exec(
                select(DeckShare, User)
                .join(User, col(User.id) == col(DeckShare.user_id))
                .where(DeckShare.deck_id == deck_id)
                .order_by(col(User.email))
            )
        ).all()
    return [ShareView(person.id or 0, person.email, share.can_edit) for share, person in rows]


async def startable_deck(maker: async_sessionmaker[AsyncSession], user: User, deck_id: int) -> Deck:
    """A deck the user may start a session from: one they may view, not deleted, without problems; DeckRefused
    otherwise (422 for problems, naming the editor)."""
    found = await open_deck(maker, user, deck_id)
    if found.deck.problems:
        count = found.deck.problems
        raise DeckRefused(
            422,
            _("The deck has problems"),
            ngettext(
                "“{title}” has {count} problem to fix before a session can start: open it in the editor, {editor}",
                "“{title}” has {count} problems to fix before a session can start: open it in the editor, {editor}",
                count,
            ).format(title=found.deck.title, count=count, editor=f"/present/decks/{deck_id}/edit"),
        )
    return found.deck


# --- names and files ------------------------------------------------------------------------------------------------
def slugify(text: str) -> str:
    """A URL-safe name: 'Spring Institute 2017' -> 'spring-institute-2017'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:100] or "deck"


def deck_files(folder: Path | None) -> list[Path]:
    """The YAML decks in a folder, by name."""
    if folder is None or not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


async def stored_decks(maker: async_sessionmaker[AsyncSession], user: User | None = None) -> list[Deck]:
    """Every stored deck not deleted (that `user` may view, when given), by title: what a cohort's page offers."""
    async with maker() as db:
        query = select(Deck).where(col(Deck.deleted_at).is_(None)).order_by(col(Deck.title))
        decks = list((await db.exec(query)).all())
        if user is None:
            return decks
        return [deck for deck in decks if (await rights_of(db, user, deck)).view]


def free_slug(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`... whichever is not taken."""
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base[:95]}-{n}"
    return slug
