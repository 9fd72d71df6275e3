"""Archives of a session, a cohort or an institute: one ZIP an organizer can keep, print, email, re-read and re-import.

The layout is in docs/archives.md. `data.json` is written through the models of `server/archives/format.py`, the ones
the importer reads, so writer and reader cannot drift. Sessions are read one at a time: each one's files go into the
ZIP (a file, not memory) as they are made, and only what data.json and the report need is kept until the end.
Drawing word clouds is offloaded (a worker process in the server), and the ZIP and the workbook are written from a
thread, so a large archive does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import tempfile
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import IO, TYPE_CHECKING, Any

from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy import Row
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from activities.base import ListItem, Offload, Tally
from activities.i18n import _, ngettext
from server import __version__
from server.archives.charts import chart_svg
from server.archives.format import (
    FORMAT,
    MEDIA_FOLDER,
    VERSION,
    ActivityData,
    ArchiveData,
    CohortData,
    DeckData,
    InstituteData,
    ParticipantData,
    ResponseData,
    Scope,
    SessionData,
    unsafe_entry_name,
)
from server.archives.leaderboard import (
    LEADERBOARD_COLUMNS,
    LEADERBOARD_FILE,
    REPORT_TOP,
    TEAM_COLUMNS,
    TEAMS_FILE,
    Named,
    leaderboard_rows,
    names_of,
    team_rows,
)
from server.archives.workbook import ResultsBlock, Workbook
from server.decks import slugify
from server.exports import FIXED_COLUMNS, response_rows, to_csv
from server.institutes import CohortView, cohort_view, institute_view
from server.media import images_in, load_image
from server.models import Activity, Deck, Institute, Participant, Session, as_utc, utcnow
from server.sessions import (
    NotFound,
    SessionSnapshot,
    as_event,
    fresh_tally,
    joined_in_order,
    kept,
    load_snapshot,
    picture_seed,
    recount,
)
from server.sessions import stored_responses as load_responses
from server.standings import session_standings, team_standings
from server.times import DEFAULT_ZONE, local
from server.web.i18n import format_day, format_moment, format_number

if TYPE_CHECKING:
    from server.services import Services

SUMMARY_COLUMNS = [
    "cohort",
    "session",
    "session_date",
    "position",
    "kind",
    "title",
    "respondents",
    "responses",
    "aggregate_only",
    "voting_open",
    "results",
    "responses_file",
    "sheet",
]
# Already compressed: stored as they are rather than deflated again.
STORED_SUFFIXES = (".png", ".jpg", ".webp", ".gif", ".xlsx")  # packed already: deflate gains nothing
COPY_CHUNK = 1 << 20

Progress = Callable[[int, int], None]
"""Told (sessions archived, sessions in all) before the first session and after each one."""


@dataclass(frozen=True)
class ArchiveSources:
    """What building an archive reads and uses: the database, the kinds, the templates, where drawing runs."""

    engine: AsyncEngine
    maker: async_sessionmaker[AsyncSession]
    registry: Registry
    env: Environment
    offload: Offload
    time_zone: str = DEFAULT_ZONE  # where sessions without a cohort are shown (the server's HANDSUP_TIME_ZONE)
    # Told of each archive built (server/webhooks.py: archive.ready); queued, never awaited. The CLI tells nobody.
    on_built: Callable[[Scope, int, str, dict[str, int]], None] | None = None

    @classmethod
    def of(cls, services: Services) -> ArchiveSources:
        return cls(
            services.engine,
            services.db,
            services.registry,
            services.views.env,
            services.offload,
            services.settings.time_zone,
            services.webhooks.archive_ready,
        )


@dataclass(frozen=True)
class ArchiveInfo:
    """What was written: the file name to offer, and the counts the manifest gives."""

    filename: str
    counts: dict[str, int]


@dataclass
class _Plan:
    """What one archive holds, read before any session is: its subject, cohorts and sessions, in file order."""

    scope: Scope
    title: str
    filename: str
    archived: dict[str, Any]
    institute: Institute | None
    cohorts: list[CohortView]
    sessions: list[Session]
    time_zone: str  # where the archive's own times (when it was exported) are shown


@dataclass(frozen=True)
class _Place:
    """Where one session's files go in the archive, and how its sheets and summary rows name it."""

    prefix: str  # "" in a session archive; "cohorts/<cohort>/<NN>-<session>/" in the others
    cohort: str  # the cohort's name, or ""
    time_zone: str  # the cohort's, or the server's for a session without one


@dataclass
class ReportActivity:
    """One activity as the report shows it: its results, picture and the texts the room saw."""

    position: int
    title: str
    prompt: str
    label: str  # the kind's label: "Word cloud"
    respondents: int
    responses: int
    aggregate_only: bool
    image: str | None = None  # a data: URI
    chart: Markup | None = None  # inline SVG drawn (and escaped) by server/archives/charts.py
    listing: list[ListItem] = field(default_factory=list)


@dataclass
class ReportSession:
    """One session as the report shows it, with its activities."""

    session: Session
    cohort: str
    participants: int
    day: str
    pruned_on: str
    time_zone: str
    activities: list[ReportActivity] = field(default_factory=list)
    scored: bool = False  # it has activities of a scoring kind: the report shows its leaderboard
    leaders: list[dict[str, Any]] = field(default_factory=list)  # the top ten (and ties), leaderboard.csv's rows
    ranked: int = 0  # how many are on the whole leaderboard
    teams: list[dict[str, Any]] = field(default_factory=list)  # leaderboard-teams.csv's rows


async def write_archive(
    target: IO[bytes], sources: ArchiveSources, scope: Scope, scope_id: int, progress: Progress | None = None
) -> ArchiveInfo:
    """Write the archive of one session, cohort or institute into `target` (a seekable binary file).

    Raises NotFound (nothing written) when there is no such session, cohort or institute."""
    plan = await _plan(sources.maker, scope, scope_id, sources.time_zone)
    builder = _Builder(target, sources, plan)
    try:
        await builder.build(progress or (lambda done, total: None))
    finally:
        builder.close()
    if sources.on_built is not None:
        sources.on_built(scope, scope_id, plan.filename, builder.counts)
    return ArchiveInfo(plan.filename, builder.counts)


# --- what is archived ------------------------------------------------------------------------------------------


async def _plan(maker: async_sessionmaker[AsyncSession], scope: Scope, scope_id: int, default_zone: str) -> _Plan:
    """What to archive; its times are shown in the cohort's zone (a session's or a cohort's archive), else in
    `default_zone` (a session without a cohort, an institute of several sites)."""
    if scope == "session":
        async with maker() as db:
            session = await db.get(Session, scope_id)
        if session is None:
            raise NotFound(f"session {scope_id}")
        cohorts = [(await cohort_view(maker, session.cohort_id))[1]] if session.cohort_id is not None else []
        zone = cohorts[0].cohort.time_zone if cohorts else default_zone
        day = local(session.created_at, zone).date()
        archived: dict[str, Any] = {"session": {"id": session.id, "code": session.code, "title": session.title}}
        if cohorts:
            archived["cohort"] = {"id": cohorts[0].cohort.id, "name": cohorts[0].cohort.name}
        name = f"handsup-{slugify(session.title)}-{day.isoformat()}-{session.code}.zip"
        return _Plan(scope, session.title, name, archived, None, cohorts, [session], zone)
    if scope == "cohort":
        institute, view = await cohort_view(maker, scope_id)
        cohort = view.cohort
        day = cohort.starts_on or utcnow().date()
        return _Plan(
            scope,
            f"{institute.title}: {cohort.name}",
            _filename(f"{institute.slug}-{cohort.slug}", day),
            {"institute": _named(institute), "cohort": {"id": cohort.id, "slug": cohort.slug, "name": cohort.name}},
            institute,
            [view],
            _in_order(view.sessions),
            cohort.time_zone,
        )
    whole = await institute_view(maker, scope_id)
    institute = whole.institute
    sessions = [session for view in whole.cohorts for session in _in_order(view.sessions)]
    name = _filename(institute.slug, utcnow().date())
    archived = {"institute": _named(institute)}
    return _Plan(scope, institute.title, name, archived, institute, whole.cohorts, sessions, default_zone)


def _named(institute: Institute) -> dict[str, Any]:
    return {"id": institute.id, "slug": institute.slug, "title": institute.title}


def _filename(slug: str, day: date) -> str:
    return f"handsup-{slugify(slug)}-{day.isoformat()}.zip"


def _in_order(sessions: Sequence[Session]) -> list[Session]:
    return sorted(sessions, key=lambda session: (as_utc(session.created_at), session.id or 0))


async def persons_of(engine: AsyncEngine, session_ids: Sequence[int]) -> dict[int, int]:
    """Participant id -> person: phones that joined these sessions with the same token are one person, numbered
    in the order they first joined. The token hashes stay here; archives never carry them."""
    table = Participant.__table__.c  # type: ignore[attr-defined]
    query = (
        sa_select(table.id, table.token_hash)
        .where(table.session_id.in_(session_ids))
        .order_by(table.created_at, table.id)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    people: dict[str, int] = {}
    return {row.id: people.setdefault(row.token_hash, len(people) + 1) for row in rows}


# --- building ----------------------------------------------------------------------------------------------------


class _Builder:
    """One archive being written: the ZIP, the workbook, and what the last files (data.json, report) need."""

    def __init__(self, target: IO[bytes], sources: ArchiveSources, plan: _Plan) -> None:
        self.sources = sources
        self.plan = plan
        self.zip = _Zip(target)
        self.workbook = Workbook(SUMMARY_COLUMNS, _("Results: {title}").format(title=plan.title))
        self.summary: list[dict[str, Any]] = []
        self.report: list[ReportSession] = []
        self.counts = {"cohorts": len(plan.cohorts), "sessions": 0, "activities": 0, "participants": 0, "responses": 0}
        self.decks: dict[int, DeckData | None] = {}

    async def build(self, progress: Progress) -> None:
        plan = self.plan
        cohort_keys = {view.cohort.id: key for key, view in enumerate(plan.cohorts, start=1)}
        persons: dict[int, int] = {}
        for view in plan.cohorts:
            if view.cohort.same_identity:
                persons |= await persons_of(self.sources.engine, [s.id for s in view.sessions if s.id is not None])
        sessions: list[SessionData] = []
        progress(0, len(plan.sessions))
        for key, session in enumerate(plan.sessions, start=1):
            cohort_key = cohort_keys.get(session.cohort_id)
            sessions.append(await self.session(key, session, cohort_key, persons))
            progress(key, len(plan.sessions))
        await self.finish(sessions)

    async def session(self, key: int, session: Session, cohort_key: int | None, persons: dict[int, int]) -> SessionData:
        """Archive one session's files, and return its part of data.json."""
        assert session.id is not None
        sources = self.sources
        snapshot = await load_snapshot(sources.maker, sources.registry, session.id)
        joined = await joined_in_order(sources.engine, session.id)
        numbers = {row.id: number for number, row in enumerate(joined, start=1)}
        names = await names_of(sources.engine, session.id)
        people = {pid: _person(number, names.get(pid, ("", "")), session.teams) for pid, number in numbers.items()}
        by_activity: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in await load_responses(sources.engine, [a.id for a in snapshot.activities if a.id is not None]):
            by_activity[row.activity_id].append(row)
        cohort = self.plan.cohorts[cohort_key - 1].cohort if cohort_key else None
        zone = cohort.time_zone if cohort else sources.time_zone
        place = _Place("", cohort.name if cohort else "", zone)
        if self.plan.scope != "session":
            folder = f"cohorts/{slugify(cohort.slug if cohort else '')}/{key:02d}-{slugify(session.title)}/"
            place = _Place(folder, place.cohort, zone)
        # The report writes days as the downloader's language does; summary.csv keeps ISO dates (_day).
        pruned_on = format_day(local(session.pruned_at, zone).date()) if session.pruned_at else ""
        started_on = format_day(local(session.created_at, zone).date())
        report = ReportSession(session, place.cohort, len(joined), started_on, pruned_on, zone)
        about = [
            place.cohort,
            _("started {moment}").format(moment=format_moment(session.created_at, zone)),
            _("times in {zone}").format(zone=zone),
            ngettext("{count} participant", "{count} participants", len(joined)).format(
                count=format_number(len(joined))
            ),
        ]
        await asyncio.to_thread(self.workbook.add_session, session.title, " · ".join(part for part in about if part))
        activities: list[ActivityData] = []
        responses: list[ResponseData] = []
        tallies: dict[int, Tally[Any, Any]] = {}
        for activity in snapshot.activities:
            assert activity.id is not None
            if activity.id in snapshot.answerless:  # kept in data.json; no responses, so no CSV, sheet or report part
                activities.append(_activity_data(activity, {}, 0))
                continue
            data, shown, counted = await self.activity(
                snapshot, activity, by_activity.pop(activity.id, []), numbers, place
            )
            activities.append(data)
            report.activities.append(shown)
            responses += [_response(activity, row, numbers) for row in counted]
            kind = sources.registry[activity.kind]
            if kind.scored(snapshot.configs[activity.id]) and kept(activity) is None:
                tallies[activity.id] = _tally_of(sources.registry, snapshot, activity, counted)
            await asyncio.sleep(0)  # let the loop serve others between activities
        if any(sources.registry[a.kind].scored(snapshot.configs[a.id]) for a in snapshot.activities if a.id):
            await self.leaderboard(snapshot, tallies, people, place, report)
        self.report.append(report)
        self.counts["sessions"] += 1
        self.counts["activities"] += len(activities)
        self.counts["participants"] += len(joined)
        self.counts["responses"] += len(responses)
        return SessionData(
            key=key,
            cohort=cohort_key,
            code=session.code,
            title=session.title,
            state=str(session.state),
            pace=str(session.pace),
            created_at=as_utc(session.created_at),
            ended_at=as_utc(session.ended_at) if session.ended_at else None,
            pruned_at=as_utc(session.pruned_at) if session.pruned_at else None,
            nicknames=session.nicknames,
            teams=list(session.teams),
            streak=session.streak,
            deck=await self.deck(session.deck_id),
            activities=activities,
            participants=[
                ParticipantData(
                    number=numbers[row.id],
                    person=persons.get(row.id),
                    joined_at=as_utc(row.created_at),
                    nickname=people[row.id].nickname,
                    team=people[row.id].team,
                )
                for row in joined
            ],
            responses=responses,
        )

    async def activity(
        self,
        snapshot: SessionSnapshot,
        activity: Activity,
        stored: list[Row[Any]],
        numbers: dict[int, int],
        place: _Place,
    ) -> tuple[ActivityData, ReportActivity, list[Row[Any]]]:
        """One activity's CSV, sheet, pictures and summary row; its data.json part, report part, counted rows."""
        assert activity.id is not None
        registry, session = self.sources.registry, snapshot.session
        results, respondents, counted = recount(registry, snapshot, activity, stored)
        stem = f"{activity.position + 1:02d}-{slugify(activity.title)}"
        rows = response_rows(registry, snapshot, activity, counted, numbers, place.time_zone)
        csv_path = f"{place.prefix}responses/{stem}.csv"
        await self.zip.add(csv_path, to_csv(FIXED_COLUMNS, rows).encode())
        wanted = f"{activity.position + 1} {activity.title}"
        sheet = await asyncio.to_thread(self.workbook.add_sheet, wanted, FIXED_COLUMNS, rows, place.time_zone)
        pruned = activity.aggregate is not None
        kind = registry[activity.kind]
        config = snapshot.configs[activity.id]
        block = ResultsBlock(
            activity.position + 1,
            activity.title,
            _(kind.label),
            respondents,
            kind.result_lines(results),
            kind.chart(config, results) if respondents else None,
            sheet,
            pruned,
        )
        await asyncio.to_thread(self.workbook.add_results, block)
        report = ReportActivity(
            activity.position + 1, activity.title, activity.prompt, _(kind.label), respondents, len(counted), pruned
        )
        if respondents:
            await self.pictures(snapshot, activity, results, (place.prefix, stem), report)
        row = {
            "cohort": place.cohort,
            "session": session.title,
            "session_date": _day(session, place.time_zone),
            "position": activity.position + 1,
            "kind": activity.kind,
            "title": activity.title,
            "respondents": respondents,
            "responses": len(counted),
            "aggregate_only": pruned,
            "voting_open": activity.voting_open,
            "results": str(activity.results),
            "responses_file": csv_path,
            "sheet": sheet,
        }
        self.summary.append(row)
        self.workbook.add_summary_row(row)
        return _activity_data(activity, results, respondents), report, counted

    async def leaderboard(
        self,
        snapshot: SessionSnapshot,
        tallies: dict[int, Tally[Any, Any]],
        people: dict[int, Named],
        place: _Place,
        report: ReportSession,
    ) -> None:
        """A session's final standings (its revealed scoring activities', as the room showed them; see
        `session_standings`) as leaderboard.csv, the teams' as leaderboard-teams.csv when it has teams, a
        Leaderboard sheet, and the report's top ten."""
        session = snapshot.session
        live = [activity for activity in snapshot.activities if kept(activity) is None]
        standings = session_standings(self.sources.registry, live, tallies, streak=session.streak)
        rows = leaderboard_rows(standings, people)
        await self.zip.add(f"{place.prefix}{LEADERBOARD_FILE}", to_csv(LEADERBOARD_COLUMNS, rows).encode())
        teams: list[dict[str, Any]] = []
        if session.teams:
            members = {pid: person.team for pid, person in people.items() if person.team}
            teams = team_rows(team_standings(standings, members, session.teams))
            await self.zip.add(f"{place.prefix}{TEAMS_FILE}", to_csv(TEAM_COLUMNS, teams).encode())
        shown_teams = teams if session.teams else None
        await asyncio.to_thread(
            self.workbook.add_leaderboard,
            session.title,
            rows,
            shown_teams,
            streak=session.streak,
            pruned=session.pruned_at is not None,
        )
        top = {row.participant_id for row in standings.top(REPORT_TOP)}
        report.scored = True
        report.leaders = [
            row for row, standing in zip(rows, standings.rows, strict=True) if standing.participant_id in top
        ]
        report.ranked = standings.people
        report.teams = teams

    async def pictures(
        self,
        snapshot: SessionSnapshot,
        activity: Activity,
        results: dict[str, Any],
        where: tuple[str, str],
        report: ReportActivity,
    ) -> None:
        """The kind's own pictures (a word cloud's PNG and SVG) under images/, its chart under charts/; the report
        gets the first picture as a data: URI, the chart inline, and the texts the room saw."""
        assert activity.id is not None
        kind = self.sources.registry[activity.kind]
        config = snapshot.configs[activity.id]
        prefix, stem = where
        for name in sorted(kind.assets):
            asset = await kind.render_asset(
                name, results, picture_seed(snapshot.session, activity), self.sources.offload
            )
            await self.zip.add(f"{prefix}images/{stem}-{_file_name(name)}", asset.body)
            if report.image is None and asset.media_type in {"image/png", "image/svg+xml"}:
                report.image = f"data:{asset.media_type};base64,{base64.b64encode(asset.body).decode()}"
        chart = kind.chart(config, results)
        if chart is not None:
            await self.zip.add(f"{prefix}charts/{stem}.svg", chart_svg(chart, activity.title).encode())
            report.chart = Markup(chart_svg(chart, activity.title, heading=False))  # every text escaped there
        report.listing = kind.listing(config, results)

    async def deck(self, deck_id: int | None) -> DeckData | None:
        """The deck a session was started from, if it was a stored deck that still exists (read once)."""
        if deck_id is None:
            return None
        if deck_id not in self.decks:
            async with self.sources.maker() as db:
                deck = await db.get(Deck, deck_id)
            self.decks[deck_id] = DeckData(slug=deck.slug, title=deck.title, source=deck.source) if deck else None
        return self.decks[deck_id]

    async def finish(self, sessions: list[SessionData]) -> None:
        """The files made of every session: data.json, summary, workbook, report; the manifest last."""
        plan = self.plan
        institute = plan.institute
        data = ArchiveData(
            format=FORMAT,
            version=VERSION,
            scope=plan.scope,
            institute=InstituteData(slug=institute.slug, title=institute.title, description=institute.description)
            if institute
            else None,
            cohorts=[await self.cohort(key, view) for key, view in enumerate(plan.cohorts, start=1)],
            sessions=sessions,
        )
        await self.zip.add("data.json", (data.model_dump_json(indent=1) + "\n").encode())
        await self.images(_images_of(data))
        sessions.clear()  # the largest part of what was held: gone before the workbook and report are made
        del data
        await self.zip.add("summary.csv", to_csv(SUMMARY_COLUMNS, self.summary).encode())
        with tempfile.TemporaryFile() as book:
            await asyncio.to_thread(self.workbook.save, book)
            book.seek(0)
            await self.zip.add_file("workbook.xlsx", book)
        await self.zip.add("report.html", self.render_report().encode())
        await self.zip.add("manifest.json", self.manifest(), listed=False)

    async def images(self, names: set[str]) -> None:
        """Every stored image the archived decks and activities show, as `media/<name>` (re-imported as they are)."""
        for name in sorted(names):
            image = await load_image(self.sources.maker, name)
            if image is not None:  # a name no server stored (typed by hand) stays a name
                await self.zip.add(f"{MEDIA_FOLDER}/{name}", bytes(image.data))

    async def cohort(self, key: int, view: CohortView) -> CohortData:
        cohort = view.cohort
        return CohortData(
            key=key,
            slug=cohort.slug,
            name=cohort.name,
            site=cohort.site,
            starts_on=cohort.starts_on,
            ends_on=cohort.ends_on,
            facilitators=list(cohort.facilitators),
            same_identity=cohort.same_identity,
            time_zone=cohort.time_zone,
            decks=[d for d in [await self.deck(deck.id) for deck in view.decks] if d is not None],
        )

    def render_report(self) -> str:
        plan = self.plan
        return self.sources.env.get_template("report/report.html").render(
            title=plan.title,
            scope=plan.scope,
            institute=plan.institute,
            cohorts=[view.cohort for view in plan.cohorts],
            sessions=self.report,
            counts=self.counts,
            exported_at=utcnow(),
            time_zone=self.plan.time_zone,
        )

    def manifest(self) -> bytes:
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "scope": self.plan.scope,
            "exported_at": utcnow().isoformat(),
            "exported_by": f"Handsup {__version__}",
            "archived": self.plan.archived,
            "counts": self.counts,
            "files": sorted(self.zip.files, key=lambda entry: str(entry["path"])),
        }
        return (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode()

    def close(self) -> None:
        self.zip.close()


class _Zip:
    """The ZIP being written, and the size and SHA-256 of every file put in it (for the manifest)."""

    def __init__(self, target: IO[bytes]) -> None:
        self.archive = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED)
        self.files: list[dict[str, Any]] = []

    async def add(self, path: str, body: bytes, *, listed: bool = True) -> None:
        check_entry(path)
        compression = zipfile.ZIP_STORED if path.endswith(STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
        await asyncio.to_thread(self.archive.writestr, path, body, compress_type=compression)
        if listed:
            self.files.append({"path": path, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()})

    async def add_file(self, path: str, source: IO[bytes]) -> None:
        """A file copied in by chunks, never read whole into memory."""
        check_entry(path)

        def copy() -> tuple[int, str]:
            digest, size = hashlib.sha256(), 0
            info = zipfile.ZipInfo(path, date_time=time.localtime()[:6])
            info.compress_type = zipfile.ZIP_STORED if path.endswith(STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
            with self.archive.open(info, "w", force_zip64=True) as out:
                while chunk := source.read(COPY_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            return size, digest.hexdigest()

        size, sha256 = await asyncio.to_thread(copy)
        self.files.append({"path": path, "bytes": size, "sha256": sha256})

    def close(self) -> None:
        self.archive.close()


def check_entry(path: str) -> None:
    """Refuse to write a ZIP entry name that could land outside the folder it is unpacked in."""
    if unsafe_entry_name(path):
        raise ValueError(f"Not a safe name inside an archive: {path!r}")


def _images_of(data: ArchiveData) -> set[str]:
    """The image names the archive's decks (cohorts' and sessions') and activity settings hold."""
    decks = [deck for cohort in data.cohorts for deck in cohort.decks]
    decks += [session.deck for session in data.sessions if session.deck is not None]
    names = set().union(*(images_in(deck.source) for deck in decks))
    for session in data.sessions:
        for activity in session.activities:
            names |= images_in(json.dumps(activity.config))
    return names


def _activity_data(activity: Activity, results: dict[str, Any], respondents: int) -> ActivityData:
    return ActivityData(
        position=activity.position + 1,
        kind=activity.kind,
        title=activity.title,
        prompt=activity.prompt,
        config=activity.config,
        results=str(activity.results),
        voting_open=activity.voting_open,
        revealed=activity.revealed,
        moderation=activity.moderation,
        epoch=activity.epoch,
        countdown_seconds=activity.countdown_seconds,
        respondents=respondents,
        tally=results,
        aggregate=activity.aggregate,
    )


def _person(number: int, chosen: tuple[str, str], teams: Sequence[str]) -> Named:
    """A participant as the archive shows them: their number, nickname, and team (one of the session's, else none)."""
    nickname, team = chosen
    return Named(number, nickname, team if team in teams else "")


def _tally_of(
    registry: Registry, snapshot: SessionSnapshot, activity: Activity, counted: list[Row[Any]]
) -> Tally[Any, Any]:
    """An activity's tally of its counted answers (those `recount` kept), for the standings its kind scores from."""
    tally = fresh_tally(registry, snapshot, activity)
    for row in counted:
        tally.fold(as_event(row))
    return tally


def _response(activity: Activity, row: Row[Any], numbers: dict[int, int]) -> ResponseData:
    """A counted answer as data.json holds it: by activity position and participant number, never database ids."""
    return ResponseData(
        activity=activity.position + 1,
        participant=numbers[row.participant_id],
        epoch=row.epoch,
        version=row.version,
        answered_at=as_utc(row.updated_at),
        payload=row.payload,
    )


def _day(session: Session, time_zone: str) -> str:
    """The day a session started, where it ran."""
    return local(session.created_at, time_zone).date().isoformat()


def _file_name(asset: str) -> str:
    """A kind's asset name ('cloud.png') as a safe file name."""
    stem, _dot, extension = asset.rpartition(".")
    return f"{slugify(stem)}.{slugify(extension)}" if stem else slugify(asset)


# An archive for download is built into a temporary file that stays in memory up to this size and moves to disk beyond.
SPOOL_BYTES = 8 * 1024 * 1024


async def spooled_archive(sources: ArchiveSources, scope: Scope, scope_id: int) -> tuple[IO[bytes], ArchiveInfo]:
    """The archive built into a temporary file, for a download to stream; the caller closes it (or its response does).
    NotFound, with nothing left open, when there is no such session, cohort or institute."""
    target = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        info = await write_archive(target, sources, scope, scope_id)
    except BaseException:
        target.close()
        raise
    return target, info
