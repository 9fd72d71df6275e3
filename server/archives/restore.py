"""Importing archives: a ZIP a Handsup server wrote (`server/archives/build.py`) restored into this one, as a record.

The whole archive is checked before anything is written: its ZIP entries (names, sizes, how tightly they are
packed), its manifest (format, version, the size and SHA-256 of every file), data.json against
`server/archives/format.py`, and every activity's settings and every answer against its kind. Only then does one
transaction write it all: a new institute (under a free slug) with its cohorts and their decks, and every
session, ended, with its activities, participants and answers. A refusal writes nothing and says why in one line.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import secrets
import stat
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from activities.base import ResponseEvent, Tally
from activities.i18n import _, ngettext
from server.accounts.security import new_token
from server.archives.format import (
    FORMAT,
    MEDIA_FOLDER,
    VERSION,
    ActivityData,
    ArchiveData,
    CohortData,
    DeckData,
    InstituteData,
    SessionData,
    unsafe_entry_name,
)
from server.db import transaction
from server.decks import MAX_COUNTDOWN, MIN_COUNTDOWN, DeckInvalid, free_slug, parse_deck, slugify
from server.institutes import CohortForm, SetupInvalid
from server.media import ImageRefused, PreparedImage, add_image, check_stored_image
from server.models import (
    Activity,
    Cohort,
    CohortDeck,
    Deck,
    Institute,
    Pace,
    Participant,
    Response,
    ResultsMode,
    Role,
    Session,
    SessionState,
    User,
    as_utc,
    utcnow,
)
from server.names import NameRefused, TeamsInvalid, check_nickname, check_teams, name_key
from server.sessions import hash_token, moderated_results
from server.web.i18n import format_number
from server.web.problems import describe_errors

MIB = 1024 * 1024
MANIFEST = "manifest.json"
DATA = "data.json"
SUPPORTED_VERSIONS = (VERSION,)
# Entries smaller than this may be packed as tightly as they like (a file of spaces); bigger ones are checked.
RATIO_FLOOR = MIB
CHUNK = MIB
WRITE_ATTEMPTS = 3
# What the database's columns hold: epochs are 32-bit, versions 64-bit (microseconds since 1970).
MAX_EPOCH = 2**31 - 1
MAX_VERSION = 2**63 - 1


@dataclass(frozen=True)
class ImportLimits:
    """How much an archive may hold: as sent, as unpacked, and how tightly one entry may be packed."""

    archive_bytes: int = 128 * MIB
    expanded_bytes: int = 512 * MIB
    # data.json and the manifest are parsed in memory, where JSON takes many times its size.
    data_bytes: int = 64 * MIB
    entries: int = 10_000
    # Deflate packs JSON, CSV and images far less than 200:1; a zip bomb packs near its 1000:1 limit.
    ratio: int = 200
    # Each uploaded image it carries (media/): the defaults of HANDSUP_MEDIA_MAX_BYTES and HANDSUP_MEDIA_MAX_PIXELS.
    image_bytes: int = 20_000_000
    image_pixels: int = 40_000_000

    @property
    def shown(self) -> str:
        """The largest archive taken, as people read it ("128 MB")."""
        return _mb(self.archive_bytes)


LIMITS = ImportLimits()


class ArchiveRefused(ValueError):
    """An archive this server will not import; the message says why in one line, and nothing was written."""


class Created(NamedTuple):
    id: int
    name: str


@dataclass(frozen=True)
class ImportResult:
    """What an import created, for the page, the command line and the API to report."""

    scope: str
    institute: Created | None
    cohorts: list[Created]
    sessions: list[Created]
    participants: int
    responses: int
    decks_created: list[Created] = field(default_factory=list)
    decks_reused: list[Created] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One line: "Imported cohort “Phoenix” of 2017 Spring Institute: 2 sessions, 31 participants, ..."."""
        participants = ngettext("{count} participant", "{count} participants", self.participants)
        responses = ngettext("{count} response", "{count} responses", self.responses)
        counts = _("{participants}, {responses}.").format(
            participants=participants.format(count=format_number(self.participants)),
            responses=responses.format(count=format_number(self.responses)),
        )
        if self.scope == "session" and len(self.sessions) == 1:
            return _("Imported session “{name}”: {counts}").format(name=self.sessions[0].name, counts=counts)
        sessions = ngettext("{count} session", "{count} sessions", len(self.sessions))
        sessions = sessions.format(count=format_number(len(self.sessions)))
        if self.scope == "cohort" and self.institute is not None and len(self.cohorts) == 1:
            return _("Imported cohort “{name}” of {institute}: {sessions}, {counts}").format(
                name=self.cohorts[0].name, institute=self.institute.name, sessions=sessions, counts=counts
            )
        if self.institute is not None:
            cohorts = ngettext("{count} cohort", "{count} cohorts", len(self.cohorts))
            cohorts = cohorts.format(count=format_number(len(self.cohorts)))
            return _("Imported institute “{name}”: {cohorts}, {sessions}, {counts}").format(
                name=self.institute.name, cohorts=cohorts, sessions=sessions, counts=counts
            )
        return _("Imported {sessions}: {counts}").format(sessions=sessions, counts=counts)


async def import_archive(
    maker: async_sessionmaker[AsyncSession],
    registry: Registry,
    source: bytes | IO[bytes],
    user_id: int,
    limits: ImportLimits = LIMITS,
) -> ImportResult:
    """Check an archive whole, then write it in one transaction (its sessions presented by `user_id`).

    ArchiveRefused, with nothing written, for anything that is not a complete, intact archive this server reads."""
    data = await asyncio.to_thread(read_archive, source, registry, limits)
    images = await asyncio.to_thread(read_images, source, limits)
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            async with transaction(maker) as db:
                result = await _write(db, data, user_id)
                for image in images:  # insert-or-ignore: an image this server has already is the same bytes
                    await add_image(db, image, user_id=user_id)
                return result
        except IntegrityError:
            # A slug taken by someone else at the same moment: everything was rolled back; pick free ones again.
            if attempt == WRITE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


class NoOwner(LookupError):
    """No account to own imported sessions; the message says which to name or create."""


async def import_owner(maker: async_sessionmaker[AsyncSession], email: str | None) -> int:
    """The account the command line imports for: the one named (an organizer or admin), else the first admin."""
    async with maker() as db:
        if email is None:
            query = select(User).where(User.role == Role.admin).order_by(col(User.id))
            user = (await db.exec(query)).first()
            if user is None:
                raise NoOwner(_("there is no admin account to own the imported sessions; name one with --owner EMAIL."))
        else:
            user = (await db.exec(select(User).where(User.email == email.strip().lower()))).first()
            if user is None:
                raise NoOwner(_("there is no account for {email}.").format(email=email))
            if user.role == Role.presenter:
                raise NoOwner(
                    _("{email} is a presenter; imported sessions belong to an organizer or admin.").format(
                        email=user.email
                    )
                )
    assert user.id is not None
    return user.id


# --- reading and checking ---------------------------------------------------------------------------------------


def read_archive(source: bytes | IO[bytes], registry: Registry, limits: ImportLimits = LIMITS) -> ArchiveData:
    """The archive's data.json, once the ZIP, its manifest and every file are intact and every answer fits its
    activity (blocking: call it off the event loop)."""
    size = _size(source)
    if size > limits.archive_bytes:
        raise ArchiveRefused(
            _("This archive is {size}; this server imports archives of up to {archive_bytes}.").format(
                size=_mb(size), archive_bytes=_mb(limits.archive_bytes)
            )
        )
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise ArchiveRefused(_("This is not a Handsup archive: it is not a ZIP file, or it was cut short.")) from None
    with archive:
        data = _verified_data(archive, limits)
    check_data(data, registry)
    return data


def read_images(source: bytes | IO[bytes], limits: ImportLimits = LIMITS) -> list[PreparedImage]:
    """The uploaded images an archive carries (`media/<name>`), each checked: its bytes hash to its name and are
    a whole image of the type the name says, within the limits. Call it after read_archive (which checked the ZIP
    and every file against the manifest); blocking."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    stream.seek(0)
    images: list[PreparedImage] = []
    with zipfile.ZipFile(stream) as archive:
        for info in archive.infolist():
            folder, _slash, name = info.orig_filename.partition("/")
            if folder != MEDIA_FOLDER or info.is_dir():
                continue
            body = _read(archive, info, limits.image_bytes)
            try:
                images.append(
                    check_stored_image(name, body, max_bytes=limits.image_bytes, max_pixels=limits.image_pixels)
                )
            except ImageRefused as refused:
                raise ArchiveRefused(
                    _("This archive's {name} is refused: {refused}.").format(
                        name=_shown(info.orig_filename), refused=refused
                    )
                ) from None
    stream.seek(0)
    return images


def _size(source: bytes | IO[bytes]) -> int:
    if isinstance(source, bytes):
        return len(source)
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(0)
    return size


def _mb(size: int) -> str:
    """A size as people read it: "128 MB", "1.5 MB", "12 KB"."""
    if size < MIB:
        return f"{format_number(-(-size // 1024))} KB"
    return f"{format_number(round(size / MIB, 1))} MB"


def _shown(name: str) -> str:
    """A name from the archive, safe to print on one line: control characters become '?', long ones are cut."""
    text = "".join(ch if ch.isprintable() else "?" for ch in name)
    return text if len(text) <= 80 else text[:79] + "…"


def _verified_data(archive: zipfile.ZipFile, limits: ImportLimits) -> ArchiveData:
    files = _entries(archive, limits)
    if MANIFEST not in files:
        raise ArchiveRefused(_("This is not a Handsup archive: it has no manifest.json."))
    listed, scope = _manifest(_read(archive, files[MANIFEST], limits.data_bytes))
    missing = [path for path in listed if path not in files]
    if missing:
        raise ArchiveRefused(
            _("This archive is damaged: {missing} is listed in its manifest but missing.").format(
                missing=_shown(missing[0])
            )
        )
    unlisted = [name for name in files if name not in listed and name != MANIFEST]
    if unlisted:
        raise ArchiveRefused(
            _("This archive holds a file its manifest does not list: {unlisted}.").format(unlisted=_shown(unlisted[0]))
        )
    if DATA not in listed:
        raise ArchiveRefused(_("This archive has no data.json: there is nothing in it to import."))
    body = b""
    for path, (size, checksum) in listed.items():
        info = files[path]
        if info.file_size != size:
            raise ArchiveRefused(
                _("This archive is damaged: {path} is {size} bytes, its manifest says {listed}.").format(
                    path=_shown(path), size=format_number(info.file_size), listed=format_number(size)
                )
            )
        if path == DATA:
            body = _read(archive, info, limits.data_bytes)
            digest = hashlib.sha256(body).hexdigest()
        else:
            digest = _digest(archive, info)
        if digest != checksum:
            raise ArchiveRefused(
                _("This archive is damaged: {path} does not match its checksum.").format(path=_shown(path))
            )
    try:
        data = ArchiveData.model_validate_json(body)
    except ValidationError as error:
        raise ArchiveRefused(
            _("data.json does not fit the archive format: {error}").format(error=_first_error(error))
        ) from None
    if scope is not None and scope != data.scope:
        raise ArchiveRefused(
            _("This archive is damaged: its manifest says scope “{manifest}”, its data.json “{data}”.").format(
                manifest=_shown(scope), data=data.scope
            )
        )
    return data


def _entries(archive: zipfile.ZipFile, limits: ImportLimits) -> dict[str, zipfile.ZipInfo]:
    """The archive's files by name, once every entry is safe to read: refuses unsafe names, links, encryption,
    repeated names, too many entries, and sizes or packing that give away a zip bomb (all before reading any)."""
    infos = archive.infolist()
    if len(infos) > limits.entries:
        raise ArchiveRefused(
            _("This archive holds {infos} files; this server imports at most {entries}.").format(
                infos=format_number(len(infos)), entries=format_number(limits.entries)
            )
        )
    files: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.orig_filename
        if unsafe_entry_name(name):
            raise ArchiveRefused(_("This archive has an unsafe file name: {name}.").format(name=_shown(name)))
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ArchiveRefused(_("This archive holds a link, {name}, where files belong.").format(name=_shown(name)))
        if info.flag_bits & 0x1:
            raise ArchiveRefused(
                _("This archive's {name} is encrypted; Handsup archives never are.").format(name=_shown(name))
            )
        if name in files:
            raise ArchiveRefused(_("This archive holds two files named {name}.").format(name=_shown(name)))
        total += info.file_size
        if total > limits.expanded_bytes:
            raise ArchiveRefused(
                _("This archive unpacks to more than {expanded_bytes}, more than this server imports.").format(
                    expanded_bytes=_mb(limits.expanded_bytes)
                )
            )
        if info.file_size > RATIO_FLOOR and info.file_size > limits.ratio * max(info.compress_size, 1):
            raise ArchiveRefused(
                _("This archive's {name} is packed more tightly than any real file ({value} to 1).").format(
                    name=_shown(name), value=format_number(info.file_size // max(info.compress_size, 1))
                )
            )
        if not info.is_dir():  # a folder entry (from re-zipping by hand) holds nothing to check
            files[name] = info
    return files


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """One entry's bytes, refused when bigger than `limit` or unreadable (bad CRC, cut short)."""
    if info.file_size > limit:
        raise ArchiveRefused(
            _("This archive's {name} is larger than {limit}; too large to import.").format(
                name=_shown(info.filename), limit=_mb(limit)
            )
        )
    try:
        with archive.open(info) as entry:
            return entry.read(limit + 1)  # zipfile stops at the declared size and checks the CRC there
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError, RuntimeError, ValueError):
        raise ArchiveRefused(
            _("This archive is damaged: {name} cannot be read.").format(name=_shown(info.filename))
        ) from None


def _digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """The SHA-256 of one entry, read a chunk at a time (images and workbooks are never held whole)."""
    sha = hashlib.sha256()
    try:
        with archive.open(info) as entry:
            while chunk := entry.read(CHUNK):
                sha.update(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError, RuntimeError, ValueError):
        raise ArchiveRefused(
            _("This archive is damaged: {name} cannot be read.").format(name=_shown(info.filename))
        ) from None
    return sha.hexdigest()


class _Listed(BaseModel):
    path: str
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class _Manifest(BaseModel):
    """The parts of manifest.json an import relies on (the rest describes the archive to people)."""

    scope: str | None = None
    files: list[_Listed]


def _manifest(body: bytes) -> tuple[dict[str, tuple[int, str]], str | None]:
    """The files the manifest lists, path -> (bytes, sha256), and its scope, once its format and version are ones
    this server reads."""
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        raise ArchiveRefused(_("This is not a Handsup archive: its manifest.json is not JSON.")) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        shown = _shown(str(raw.get("format"))) if isinstance(raw, dict) else "none"
        raise ArchiveRefused(
            _("This is not a Handsup archive: its manifest says format “{shown}”, not “{format}”.").format(
                shown=shown, format=FORMAT
            )
        )
    version = raw.get("version")
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        readable = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        raise ArchiveRefused(
            _("This archive is format version {version}; this server imports version {readable}.").format(
                version=_shown(str(version)), readable=readable
            )
        )
    try:
        manifest = _Manifest.model_validate(raw)
    except ValidationError as error:
        raise ArchiveRefused(
            _("This archive is damaged: its manifest is not valid: {error}").format(error=_first_error(error))
        ) from None
    listed: dict[str, tuple[int, str]] = {}
    for entry in manifest.files:
        if unsafe_entry_name(entry.path):
            raise ArchiveRefused(
                _("This archive's manifest lists an unsafe file name: {path}.").format(path=_shown(entry.path))
            )
        if entry.path in listed or entry.path == MANIFEST:
            raise ArchiveRefused(
                _("This archive is damaged: its manifest lists {path} twice.").format(path=_shown(entry.path))
            )
        listed[entry.path] = (entry.bytes, entry.sha256)
    return listed, manifest.scope


def _first_error(error: ValidationError) -> str:
    """Pydantic's first error as "sessions.0.activities.2.kind: Field required" (never the value itself)."""
    detail, _ = describe_errors(error.errors(include_input=False)[:1])
    return detail.replace("Value error, ", "", 1)


class _Aggregate(BaseModel):
    """What an activity keeps once its session's participant-level data is deleted (see models.Activity)."""

    model_config = ConfigDict(extra="forbid")

    snapshot: dict[str, Any]
    respondents: int = Field(ge=0)


def check_data(data: ArchiveData, registry: Registry) -> None:
    """Refuse data.json that would not make a whole, consistent record on this server: cohorts without their
    institute, repeated keys and numbers, kinds this server lacks, settings and answers their kind refuses."""
    if data.scope != "session" and data.institute is None:
        raise ArchiveRefused(_("data.json of a {scope} archive has no institute.").format(scope=data.scope))
    if data.scope == "session" and len(data.sessions) != 1:
        raise ArchiveRefused(
            _("A session archive holds one session; this data.json holds {sessions}.").format(
                sessions=len(data.sessions)
            )
        )
    if data.scope == "cohort" and len(data.cohorts) != 1:
        raise ArchiveRefused(
            _("A cohort archive holds one cohort; this data.json holds {cohorts}.").format(cohorts=len(data.cohorts))
        )
    _distinct((cohort.key for cohort in data.cohorts), "data.json", _("cohort key"))
    _distinct((session.key for session in data.sessions), "data.json", _("session key"))
    keys = {cohort.key for cohort in data.cohorts}
    for cohort in data.cohorts:
        _cohort_form(cohort)
        for deck in cohort.decks:
            _check_deck(deck, registry)
    for session in data.sessions:
        if session.cohort is not None and session.cohort not in keys:
            raise ArchiveRefused(
                _("{session} names cohort {cohort}, which data.json does not hold.").format(
                    session=_where(session), cohort=session.cohort
                )
            )
        if session.deck is not None:
            _check_deck(session.deck, registry)
        _check_session(session, registry)


def _cohort_form(cohort: CohortData) -> CohortForm:
    """The cohort as the organizer pages would take it (names tidied, dates in order, at most 20 facilitators)."""
    form = CohortForm(
        cohort.name,
        cohort.site,
        cohort.starts_on,
        cohort.ends_on,
        list(cohort.facilitators),
        cohort.same_identity,
        time_zone=cohort.time_zone,
    )
    try:
        return form.checked()
    except SetupInvalid as invalid:
        raise ArchiveRefused(
            _("Cohort {key} (“{name}”): {invalid}").format(key=cohort.key, name=_shown(cohort.name), invalid=invalid)
        ) from None


def _where(session: SessionData) -> str:
    return _("Session {key} (“{title}”)").format(key=session.key, title=_shown(session.title))


def _distinct(values: Iterable[int], where: str, what: str) -> None:
    seen: set[int] = set()
    for value in values:
        if value in seen:
            raise ArchiveRefused(_("{where} has two of {what} {value}.").format(where=where, what=what, value=value))
        seen.add(value)


def _check_deck(deck: DeckData, registry: Registry) -> None:
    try:
        parse_deck(deck.source, registry)
    except DeckInvalid as invalid:
        problem = invalid.problems[0] if invalid.problems else "it does not parse"
        raise ArchiveRefused(
            _("The deck “{slug}” in this archive has problems: {problem}").format(
                slug=_shown(deck.slug), problem=problem
            )
        ) from None


def _check_session(session: SessionData, registry: Registry) -> None:
    where = _where(session)
    positions = sorted(activity.position for activity in session.activities)
    if positions != list(range(1, len(positions) + 1)):
        raise ArchiveRefused(
            _("{where}: its activities must be numbered 1 to {positions}, once each.").format(
                where=where, positions=len(positions)
            )
        )
    _distinct((p.number for p in session.participants), where, _("participant number"))
    _distinct((p.person for p in session.participants if p.person is not None), where, _("person"))
    _check_names(where, session)
    tallies = {activity.position: _checked_activity(where, activity, registry) for activity in session.activities}
    _check_answers(where, session, tallies)
    for activity in session.activities:
        try:
            moderated_results(tallies[activity.position], activity.moderation)
        except Exception:  # a kind reading foreign moderation may fail in any way; the record must not
            what = _("{where}, activity {position} (“{title}”)").format(
                where=where, position=activity.position, title=_shown(activity.title)
            )
            raise ArchiveRefused(
                _("{what}: its moderation does not fit a {kind}.").format(what=what, kind=activity.kind)
            ) from None


def _check_names(where: str, session: SessionData) -> None:
    """The session's teams and each participant's nickname (unique in the session, case and accents aside) and team
    (one of the session's) are ones the room would take, by the same checks as the start form and the phones. (The
    leaderboard files an archive carries are never read: the standings are recomputed from the answers, so
    nicknames and teams are all of it that is imported.)"""
    try:
        teams = check_teams(session.teams)
    except TeamsInvalid as refused:
        raise ArchiveRefused(_("{where}: {refused}").format(where=where, refused=refused)) from None
    if teams != list(session.teams):
        raise ArchiveRefused(_("{where}: its teams must be distinct, tidy names, each on its own.").format(where=where))
    nicknames: set[str] = set()
    for person in session.participants:
        what = _("{where}, participant {number}").format(where=where, number=person.number)
        if person.team and person.team not in session.teams:
            raise ArchiveRefused(
                _("{what}: their team “{team}” is not one of the session's teams.").format(
                    what=what, team=_shown(person.team)
                )
            )
        if not person.nickname:
            continue
        try:
            nickname = check_nickname(person.nickname)
        except NameRefused as refused:
            raise ArchiveRefused(
                _("{what}: their nickname “{nickname}” is refused: {refused}").format(
                    what=what, nickname=_shown(person.nickname), refused=refused
                )
            ) from None
        if nickname != person.nickname:
            raise ArchiveRefused(
                _("{what}: their nickname “{nickname}” is not one the room shows.").format(
                    what=what, nickname=_shown(person.nickname)
                )
            )
        if name_key(nickname) in nicknames:
            raise ArchiveRefused(
                _("{what}: another participant has the nickname “{nickname}”.").format(
                    what=what, nickname=_shown(person.nickname)
                )
            )
        nicknames.add(name_key(nickname))


def _checked_activity(where: str, activity: ActivityData, registry: Registry) -> Tally[Any, Any]:
    """An empty tally of the activity at its epoch, once its kind, settings, kept results and numbers fit."""
    what = _("{where}, activity {position} (“{title}”)").format(
        where=where, position=activity.position, title=_shown(activity.title)
    )
    if activity.kind not in registry:
        known = ", ".join(registry.names())
        raise ArchiveRefused(
            _("{what}: this server has no activity kind “{kind}” ({known}).").format(
                what=what, kind=_shown(activity.kind), known=known
            )
        )
    kind = registry[activity.kind]
    try:
        config = kind.parse_config(activity.config)
    except ValidationError as error:
        raise ArchiveRefused(
            _("{what}: its settings do not fit a {name}: {error}").format(
                what=what, name=kind.name, error=_first_error(error)
            )
        ) from None
    if activity.aggregate is not None:
        try:
            _Aggregate.model_validate(activity.aggregate)
        except ValidationError as error:
            raise ArchiveRefused(
                _("{what}: its kept results are not valid: {error}").format(what=what, error=_first_error(error))
            ) from None
    countdown = activity.countdown_seconds
    if countdown is not None and not MIN_COUNTDOWN <= countdown <= MAX_COUNTDOWN:
        raise ArchiveRefused(
            _("{what}: its countdown is not {min_countdown} to {max_countdown} seconds.").format(
                what=what, min_countdown=MIN_COUNTDOWN, max_countdown=MAX_COUNTDOWN
            )
        )
    if activity.epoch > MAX_EPOCH:
        raise ArchiveRefused(_("{what}: it was reset more often than any activity is.").format(what=what))
    tally = kind.new_tally(config)
    tally.reset(activity.epoch)
    return tally


def _check_answers(where: str, session: SessionData, tallies: dict[int, Tally[Any, Any]]) -> None:
    """Every answer names an activity and a participant of the session, once per pair, and its payload is one its
    activity's kind reads with the activity's settings (folded in, as the live tally would)."""
    numbers = {p.number for p in session.participants}
    kinds = {activity.position: activity.kind for activity in session.activities}
    answered: set[tuple[int, int]] = set()
    for n, response in enumerate(session.responses, start=1):
        what = _("{where}, answer {n}").format(where=where, n=n)
        if response.activity not in tallies:
            raise ArchiveRefused(
                _("{what}: there is no activity {activity}.").format(what=what, activity=response.activity)
            )
        if response.participant not in numbers:
            raise ArchiveRefused(
                _("{what}: there is no participant {participant}.").format(what=what, participant=response.participant)
            )
        if response.epoch > MAX_EPOCH or response.version > MAX_VERSION:
            raise ArchiveRefused(_("{what}: its epoch or version is out of range.").format(what=what))
        pair = (response.activity, response.participant)
        if pair in answered:
            raise ArchiveRefused(
                _("{what}: participant {participant} has another answer to activity {activity}.").format(
                    what=what, participant=pair[1], activity=pair[0]
                )
            )
        answered.add(pair)
        tally = tallies[response.activity]
        event = ResponseEvent(*pair, response.epoch, response.version, response.payload)
        try:
            tally.parse_payload(response.payload)  # also an answer of an older epoch, which folding skips
            tally.fold(event)
        except (ValueError, TypeError, KeyError, IndexError) as error:
            reason = _first_error(error) if isinstance(error, ValidationError) else _("it does not fit the activity")
            raise ArchiveRefused(
                _("{what}: it is not a valid answer to activity {activity} ({kinds}): {reason}").format(
                    what=what, activity=response.activity, kinds=kinds[pair[0]], reason=reason
                )
            ) from None


# --- writing ------------------------------------------------------------------------------------------------------


def _when(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


class _Decks:
    """Decks as an import finds or creates them: one with the same slug and source is reused, any other deck is
    created under a free slug; each deck of the archive once, however many cohorts and sessions name it."""

    def __init__(self, db: AsyncSession, user_id: int) -> None:
        self.db = db
        self.user_id = user_id
        self.known: dict[tuple[str, str], Deck] = {}
        self.created: list[Created] = []
        self.reused: list[Created] = []

    async def id_of(self, data: DeckData) -> int:
        slug = slugify(data.slug)
        found = self.known.get((slug, data.source))
        if found is None:
            # The deck itself, or the copy an earlier import made under a numbered slug ("day-one-2").
            numbered = re.compile(re.escape(slug[:95]) + r"-\d+")
            similar = (await self.db.exec(select(Deck).where(col(Deck.slug).startswith(slug[:95])))).all()
            same = [d for d in similar if d.source == data.source and (d.slug == slug or numbered.fullmatch(d.slug))]
            if same:
                found = min(same, key=lambda deck: deck.id or 0)
                assert found.id is not None
                self.reused.append(Created(found.id, found.title))
            else:
                taken = {deck.slug for deck in similar}
                found = Deck(slug=free_slug(slug, taken), title=data.title, source=data.source, owner_id=self.user_id)
                self.db.add(found)
                await self.db.flush()
                assert found.id is not None
                self.created.append(Created(found.id, found.title))
            self.known[(slug, data.source)] = found
        assert found.id is not None
        return found.id


async def _write(db: AsyncSession, data: ArchiveData, user_id: int) -> ImportResult:
    """Everything of a checked archive, in the caller's transaction: institute, cohorts, decks, sessions."""
    decks = _Decks(db, user_id)
    institute: Institute | None = None
    # A session archive names its session's cohort for context only: the session alone is imported.
    grouped = data.scope != "session"
    if grouped and data.institute is not None:
        institute = await _write_institute(db, data.institute, user_id)
    cohorts: dict[int, Cohort] = {}
    for cohort_data in data.cohorts if grouped else []:
        assert institute is not None and institute.id is not None
        taken = {cohort.slug for cohort in cohorts.values()}
        cohorts[cohort_data.key] = await _write_cohort(db, decks, institute.id, cohort_data, taken)
    same_identity = {key: cohort.same_identity for key, cohort in cohorts.items()}
    persons: dict[tuple[int, int], str] = {}
    sessions: list[Created] = []
    participants = responses = 0
    for session_data in data.sessions:
        cohort = cohorts.get(session_data.cohort) if session_data.cohort is not None else None
        deck_id = await decks.id_of(session_data.deck) if session_data.deck is not None else None
        session = Session(
            code=session_data.code,
            title=session_data.title,
            deck_id=deck_id,
            presenter_id=user_id,
            state=SessionState.ended,  # an imported session is a record: nobody joins or answers it again
            pace=Pace(session_data.pace),
            projector_secret=secrets.token_urlsafe(24),
            cohort_id=cohort.id if cohort is not None else None,
            created_at=as_utc(session_data.created_at),
            ended_at=_when(session_data.ended_at) or utcnow(),
            pruned_at=_when(session_data.pruned_at),
            nicknames=session_data.nicknames,
            teams=list(session_data.teams),
            streak=session_data.streak,
        )
        db.add(session)
        await db.flush()
        assert session.id is not None
        keyed = session_data.cohort is not None and same_identity.get(session_data.cohort, False)
        joined, answered = await _write_session(db, session.id, session_data, persons if keyed else None)
        sessions.append(Created(session.id, session.title))
        participants += joined
        responses += answered
    return ImportResult(
        scope=data.scope,
        institute=Created(institute.id or 0, institute.title) if institute is not None else None,
        cohorts=[Created(cohort.id or 0, cohort.name) for cohort in cohorts.values()],
        sessions=sessions,
        participants=participants,
        responses=responses,
        decks_created=decks.created,
        decks_reused=decks.reused,
    )


async def _write_institute(db: AsyncSession, data: InstituteData, user_id: int) -> Institute:
    """A new institute, never merged into an existing one: when its slug is taken, it gets a numbered one ("-2")."""
    slug = slugify(data.slug)
    taken = set((await db.exec(select(Institute.slug).where(col(Institute.slug).startswith(slug[:95])))).all())
    institute = Institute(
        slug=free_slug(slug, taken), title=data.title, description=data.description, created_by=user_id
    )
    db.add(institute)
    await db.flush()
    return institute


async def _write_cohort(
    db: AsyncSession, decks: _Decks, institute_id: int, data: CohortData, taken: set[str]
) -> Cohort:
    form = _cohort_form(data)
    cohort = Cohort(
        institute_id=institute_id,
        slug=free_slug(slugify(data.slug), taken),
        name=form.name,
        site=form.site,
        starts_on=form.starts_on,
        ends_on=form.ends_on,
        facilitators=form.facilitators,
        same_identity=form.same_identity,
        time_zone=form.time_zone,
    )
    db.add(cohort)
    await db.flush()
    assert cohort.id is not None
    deck_ids = [await decks.id_of(deck) for deck in data.decks]
    for position, deck_id in enumerate(dict.fromkeys(deck_ids)):
        db.add(CohortDeck(cohort_id=cohort.id, deck_id=deck_id, position=position))
    return cohort


async def _write_session(
    db: AsyncSession, session_id: int, data: SessionData, persons: dict[tuple[int, int], str] | None
) -> tuple[int, int]:
    """A session's activities, participants (in join order, so they keep their numbers) and answers; returns how
    many participants and answers. `persons` gives one token hash per person of a cohort that keeps identities."""
    activities = {
        item.position: Activity(
            session_id=session_id,
            position=item.position - 1,
            kind=item.kind,
            title=item.title,
            prompt=item.prompt,
            config=item.config,
            results=ResultsMode(item.results),
            voting_open=item.voting_open,
            revealed=item.revealed,
            moderation=item.moderation,
            epoch=item.epoch,
            countdown_seconds=item.countdown_seconds,
            aggregate=item.aggregate,
        )
        for item in sorted(data.activities, key=lambda a: a.position)
    }
    db.add_all(activities.values())
    people: dict[int, Participant] = {}
    for person in sorted(data.participants, key=lambda p: p.number):
        token_hash = hash_token(new_token())  # nobody holds the token: an imported participant never answers again
        if persons is not None and person.person is not None:
            token_hash = persons.setdefault((data.cohort or 0, person.person), token_hash)
        people[person.number] = Participant(
            session_id=session_id,
            token_hash=token_hash,
            created_at=as_utc(person.joined_at),
            nickname=person.nickname,
            team=person.team,
        )
    db.add_all(people.values())  # inserted in the order added (join order): ids keep the numbers exports give
    await db.flush()
    rows = [
        {
            "activity_id": activities[response.activity].id,
            "participant_id": people[response.participant].id,
            "epoch": response.epoch,
            "version": response.version,
            "payload": response.payload,
            "updated_at": as_utc(response.answered_at),
        }
        for response in data.responses
    ]
    if rows:
        await db.exec(insert(Response), params=rows)
    return len(people), len(rows)
