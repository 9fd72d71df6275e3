"""Comparing cohorts, and the institute's resource library: reading the answers of many sessions at once.

A comparison takes one activity of an institute's decks and shows it as each cohort answered it, side by side, and
as all cohorts answered it together. The "same activity" in two cohorts is the same kind and title: decks are reused
at every site, and a deck edited between two sites may move an activity, so its position does not count. A cohort
that ran it in several sessions has them folded together.

The resource library gathers every call for resources of the institute's sessions into one list, merged the way the
resources kind merges suggestions (the same link, or the same title where one has no link).

Everything here reads; nothing is written. Routes serve it in server/routes/compare.py.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from activities.base import ActivityKind, KindConfig, digest, most_common
from activities.resources import identity_key
from server.exports import to_csv
from server.institutes import institute_view
from server.models import Activity, Cohort, Institute, Session
from server.sessions import NotFound, as_event, kept, moderated_results, picture_seed, stored_responses

ALL_COHORTS = "All cohorts"
ALL_KEY = "all"
RESOURCES = "resources"
WEB_SCHEMES = frozenset({"http", "https"})
COMPARE_COLUMNS = [
    "cohort",
    "site",
    "sessions",
    "respondents",
    "line",
    "label",
    "detail",
    "count",
    "share",
    "mean",
    "note",
]
LIBRARY_COLUMNS = ["type", "title", "link", "note", "suggested", "upvoted", "total"]
SAVED = "Its participants' answers were deleted: these are the results as they were kept."
OTHER_SETTINGS = "Run with other settings than most cohorts (other options, items or cards, for example)."
NOT_COMBINED = "Not part of All cohorts."


def activity_key(kind: str, title: str) -> str:
    """What names one activity across an institute's cohorts: its kind and title, runs of spaces and case aside."""
    return digest([kind, " ".join(title.split()).casefold()])


@dataclass(frozen=True)
class Run:
    """One activity as one session of a cohort ran it."""

    cohort: Cohort
    session: Session
    activity: Activity

    @property
    def key(self) -> str:
        return activity_key(self.activity.kind, self.activity.title)

    @property
    def saved(self) -> bool:
        """Whether only the activity's kept results are left (its participant-level data was deleted)."""
        return self.activity.aggregate is not None


@dataclass(frozen=True)
class InstituteRuns:
    """An institute, its cohorts (in the institute's order) and every activity their sessions ran."""

    institute: Institute
    cohorts: list[Cohort]
    runs: list[Run]


async def institute_runs(
    maker: async_sessionmaker[AsyncSession], registry: Registry, institute_id: int, kind: str | None = None
) -> InstituteRuns:
    """The activities (of `kind`, or all) of the sessions of an institute's cohorts: cohort by cohort in the
    institute's order, each cohort's sessions oldest first, each session's activities in deck order. Activities of a
    kind this server does not have (a plugin since removed) are left out."""
    try:
        view = await institute_view(maker, institute_id)
    except NotFound:
        raise NotFound("No such institute.") from None
    sessions = {session.id: (item.cohort, session) for item in view.cohorts for session in item.sessions}
    query = select(Activity).where(col(Activity.session_id).in_(list(sessions)))
    if kind is not None:
        query = query.where(Activity.kind == kind)
    async with maker() as db:
        activities = (await db.exec(query)).all()
    # Kinds that take no answers (a content slide) have no results to compare.
    known = [activity for activity in activities if activity.kind in registry and registry[activity.kind].takes_answers]
    runs = [Run(*sessions[activity.session_id], activity) for activity in known]
    order = {item.cohort.id: index for index, item in enumerate(view.cohorts)}
    runs.sort(
        key=lambda run: (order[run.cohort.id], run.session.created_at, run.session.id or 0, run.activity.position)
    )
    return InstituteRuns(view.institute, [item.cohort for item in view.cohorts], runs)


# --- which activities can be compared ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Matched:
    """An activity that one or more of the institute's cohorts ran, with those cohorts."""

    key: str
    kind: str
    title: str
    cohorts: list[Cohort]
    sessions: int


def matched_activities(found: InstituteRuns) -> list[Matched]:
    """Every activity of the institute's sessions, the same kind and title counted once, in the order they were first
    run (the first session's deck order, then what later sessions added)."""
    groups: dict[str, list[Run]] = {}
    for run in sorted(found.runs, key=lambda run: (run.session.created_at, run.session.id or 0, run.activity.position)):
        groups.setdefault(run.key, []).append(run)
    matched = []
    for key, runs in groups.items():
        ran = {run.cohort.id for run in runs}
        cohorts = [cohort for cohort in found.cohorts if cohort.id in ran]
        matched.append(
            Matched(
                key=key,
                kind=runs[0].activity.kind,
                title=most_common(Counter(run.activity.title for run in runs)),
                cohorts=cohorts,
                sessions=len({run.session.id for run in runs}),
            )
        )
    return matched


# --- one activity across cohorts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a comparison: a cohort's answers (or every cohort's) folded into one tally of the kind."""

    key: str
    name: str
    cohort: Cohort | None
    sessions: int
    respondents: int
    config: KindConfig
    results: dict[str, Any]
    seed: int  # the word-cloud layout's: a cohort with one session draws the picture its presenter saw
    saved: bool = False
    in_combined: bool = False
    notes: tuple[str, ...] = ()
    runs: tuple[Run, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Comparison:
    """One activity as each cohort answered it, and as all of them did together (`combined`)."""

    institute: Institute
    key: str
    kind: str
    title: str
    prompt: str
    columns: list[Column]
    combined: Column | None
    notes: list[str]

    @property
    def all_columns(self) -> list[Column]:
        """The cohorts' columns, then All cohorts."""
        return [*self.columns, *([self.combined] if self.combined else [])]

    def column(self, key: str) -> Column | None:
        return next((column for column in self.all_columns if column.key == key), None)


Answers = Mapping[int, Sequence[Row[*tuple[Any, ...]]]]


def merged_moderation(moderations: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One moderation for answers gathered from several activities. Lists are joined (a word hidden in one session
    stays hidden; an answer approved in one is approved), mappings merged with the earlier activity's entries winning
    (a resource's new title), any other value is the earliest activity's (the order of sort cards)."""
    merged: dict[str, Any] = {}
    for moderation in moderations:
        for name, value in moderation.items():
            if name not in merged:
                merged[name] = (
                    list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value
                )
            elif isinstance(value, list) and isinstance(merged[name], list):
                merged[name] += [item for item in value if item not in merged[name]]
            elif isinstance(value, dict) and isinstance(merged[name], dict):
                merged[name] = {**value, **merged[name]}
    return merged


def fold_runs(
    kind: ActivityKind[Any, Any], config: KindConfig, runs: Sequence[Run], answers: Answers
) -> tuple[dict[str, Any], int]:
    """The results (moderation applied) and respondents of several runs' answers in one tally of `config`.

    Each activity counts the answers of its own epoch (an answer from before a reset does not count). One tally
    holds one epoch, and the activities' epochs differ, so the counted answers are folded as epoch 0. Participants
    are people of one session each, so the same phone in two sessions counts as two respondents."""
    tally = kind.new_tally(config)
    for run in runs:
        assert run.activity.id is not None
        for row in answers.get(run.activity.id, ()):
            if row.epoch == run.activity.epoch:
                tally.fold(dataclasses.replace(as_event(row), epoch=0))
    return moderated_results(tally, merged_moderation(run.activity.moderation for run in runs)), tally.respondents


async def _answers(engine: AsyncEngine, runs: Iterable[Run]) -> dict[int, list[Row[*tuple[Any, ...]]]]:
    """The stored answers of the runs whose participant-level data is still there, by activity."""
    ids = [run.activity.id for run in runs if not run.saved and run.activity.id is not None]
    answers: dict[int, list[Row[*tuple[Any, ...]]]] = defaultdict(list)
    for row in await stored_responses(engine, ids) if ids else ():
        answers[row.activity_id].append(row)
    return answers


def _seed(runs: Sequence[Run]) -> int:
    return picture_seed(runs[0].session, runs[0].activity)


def _sessions(runs: Iterable[Run]) -> int:
    return len({run.session.id for run in runs})


def _kept(run: Run) -> tuple[dict[str, Any], int]:
    """A run's results as they were kept when its participants' data was deleted."""
    saved = kept(run.activity)
    assert saved is not None
    return saved


def _cohort_columns(kind: ActivityKind[Any, Any], cohort: Cohort, runs: list[Run], answers: Answers) -> list[Column]:
    """A cohort's columns: its answers folded together, one column per set of settings it ran the activity with
    (usually one), then one column per run whose answers are gone, showing its kept results."""
    groups: list[tuple[KindConfig, list[Run]]] = []
    for run in runs:
        if run.saved:
            continue
        config = kind.parse_config(run.activity.config)
        home = next((members for known, members in groups if known == config), None)
        if home is None:
            groups.append((config, [run]))
        else:
            home.append(run)
    columns: list[Column] = []
    for config, members in groups:
        results, respondents = fold_runs(kind, config, members, answers)
        columns.append(_column(cohort, len(columns) + 1, config, members, results, respondents))
    for run in runs:
        if run.saved:
            results, respondents = _kept(run)
            config = kind.parse_config(run.activity.config)
            column = _column(cohort, len(columns) + 1, config, [run], results, respondents)
            columns.append(dataclasses.replace(column, saved=True, notes=(SAVED,)))
    return columns


def _column(
    cohort: Cohort, n: int, config: KindConfig, runs: list[Run], results: dict[str, Any], respondents: int
) -> Column:
    """The cohort's `n`th column (a cohort has more than one only when its runs cannot be folded together)."""
    return Column(
        key=f"c{cohort.id}" if n == 1 else f"c{cohort.id}-{n}",
        name=cohort.name if n == 1 else f"{cohort.name} ({n})",
        cohort=cohort,
        sessions=_sessions(runs),
        respondents=respondents,
        config=config,
        results=results,
        seed=_seed(runs),
        runs=tuple(runs),
    )


def _combined(
    kind: ActivityKind[Any, Any], columns: list[Column], answers: Answers
) -> tuple[list[Column], Column | None]:
    """All cohorts: the folded columns that share the settings most columns have (ties: the earliest's). Columns left
    out (other settings, answers deleted) say so."""
    folded = [column for column in columns if not column.saved]
    if not folded:
        return [dataclasses.replace(column, notes=(*column.notes, NOT_COMBINED)) for column in columns], None
    reference = max(
        (column.config for column in folded),
        key=lambda config: sum(column.config == config for column in folded),
    )
    marked = []
    for column in columns:
        if column.saved:
            marked.append(dataclasses.replace(column, notes=(*column.notes, NOT_COMBINED)))
        elif column.config == reference:
            marked.append(dataclasses.replace(column, in_combined=True))
        else:
            marked.append(dataclasses.replace(column, notes=(*column.notes, OTHER_SETTINGS, NOT_COMBINED)))
    runs = [run for column in marked if column.in_combined for run in column.runs]
    results, respondents = fold_runs(kind, reference, runs, answers)
    combined = Column(
        key=ALL_KEY,
        name=ALL_COHORTS,
        cohort=None,
        sessions=_sessions(runs),
        respondents=respondents,
        config=reference,
        results=results,
        seed=_seed(runs),
        in_combined=True,
        runs=tuple(runs),
    )
    return marked, combined


async def compare(
    engine: AsyncEngine, maker: async_sessionmaker[AsyncSession], registry: Registry, institute_id: int, key: str
) -> Comparison:
    """The activity `key` (see `activity_key`) of an institute, per cohort and across all its cohorts."""
    found = await institute_runs(maker, registry, institute_id)
    runs = [run for run in found.runs if run.key == key]
    if not runs:
        raise NotFound("No cohort of this institute ran that activity.")
    kind = registry[runs[0].activity.kind]
    answers = await _answers(engine, runs)
    columns: list[Column] = []
    for cohort in found.cohorts:
        mine = [run for run in runs if run.cohort.id == cohort.id]
        if mine:
            columns += _cohort_columns(kind, cohort, mine, answers)
    columns, combined = _combined(kind, columns, answers)
    left_out = [column.name for column in columns if not column.in_combined]
    notes = [f"Not part of All cohorts: {', '.join(left_out)} (see the note under each)."] if left_out else []
    return Comparison(
        institute=found.institute,
        key=key,
        kind=kind.name,
        title=most_common(Counter(run.activity.title for run in runs)),
        prompt=most_common(Counter(run.activity.prompt for run in runs)),
        columns=columns,
        combined=combined,
        notes=notes,
    )


# --- a comparison as CSV ----------------------------------------------------------------------------------------


def comparison_csv(comparison: Comparison, kind: ActivityKind[Any, Any]) -> str:
    """One row per (cohort, result line, as the kind writes them), cohorts in the institute's order, then All
    cohorts; a column with no answers still has its row."""
    rows = []
    for column in comparison.all_columns:
        about = {
            "cohort": column.name,
            "site": column.cohort.site if column.cohort else "",
            "sessions": column.sessions,
            "respondents": column.respondents,
            "note": " ".join(column.notes),
        }
        rows += [{**about, **line} for line in kind.result_lines(column.results) or [{}]]
    return to_csv(COMPARE_COLUMNS, rows)


# --- the resource library ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortCount:
    """How many people suggested and upvoted a resource in one cohort."""

    suggested: int = 0
    upvoted: int = 0


@dataclass(frozen=True)
class LibraryEntry:
    """One resource of the library: the suggestions of every cohort for the same link (or title) merged."""

    key: str
    type: str
    title: str
    link: str | None
    note: str | None
    counts: dict[int, CohortCount]  # by cohort id, only the cohorts where it was suggested or upvoted

    @property
    def suggested(self) -> int:
        return sum(count.suggested for count in self.counts.values())

    @property
    def upvoted(self) -> int:
        return sum(count.upvoted for count in self.counts.values())

    @property
    def total(self) -> int:
        return self.suggested + self.upvoted

    @property
    def host(self) -> str | None:
        return urlsplit(self.link).netloc if self.link else None


@dataclass(frozen=True)
class Library:
    """An institute's resources: every cohort's calls for resources, merged; `resources` of one `type` if chosen."""

    institute: Institute
    cohorts: list[Cohort]  # the cohorts that ran a call for resources
    types: list[str]
    type: str | None
    resources: list[LibraryEntry]


Shown = tuple[Cohort, Mapping[str, Any]]  # a resource as one run's results show it, and its cohort


def _web_link(link: Any) -> str | None:
    """A stored link if it is a web (http or https) link; anything else is not offered as a link."""
    return link if isinstance(link, str) and urlsplit(link).scheme in WEB_SCHEMES and urlsplit(link).netloc else None


def _weighted(members: Sequence[Shown], name: str) -> str | None:
    """The value of `name` most people gave among the members (weighted by suggesters), if any gave one."""
    counts: Counter[str] = Counter()
    for _, item in members:
        if item.get(name):
            counts[str(item[name])] += max(1, int(item.get("suggested_by") or 0))
    return most_common(counts) if counts else None


def _entry(key: str, members: Sequence[Shown]) -> LibraryEntry:
    counts: dict[int, CohortCount] = {}
    for cohort, item in members:
        assert cohort.id is not None
        before = counts.get(cohort.id, CohortCount())
        counts[cohort.id] = CohortCount(
            before.suggested + int(item.get("suggested_by") or 0), before.upvoted + int(item.get("upvotes") or 0)
        )
    return LibraryEntry(
        key=key,
        type=_weighted(members, "type") or "",
        title=_weighted(members, "title") or "",
        link=_weighted([(cohort, {**item, "link": _web_link(item.get("link"))}) for cohort, item in members], "link"),
        note=_weighted(members, "note"),
        counts=counts,
    )


def merge_resources(shown: Iterable[Shown]) -> list[LibraryEntry]:
    """Resources of many runs merged as the resources kind merges suggestions: the same web link is one resource,
    and one without a link joins the biggest linked resource of the same title (else the others of that title)."""
    linked: dict[str, list[Shown]] = defaultdict(list)
    unlinked: dict[str, list[Shown]] = defaultdict(list)
    for cohort, item in shown:
        link = _web_link(item.get("link"))
        if link:
            linked[link].append((cohort, item))
        else:
            unlinked[str(item.get("title") or "").casefold()].append((cohort, item))
    titles: dict[str, list[str]] = defaultdict(list)
    for link, members in linked.items():
        for folded in {str(item.get("title") or "").casefold() for _, item in members}:
            titles[folded].append(link)

    def people(link: str) -> int:
        return sum(int(item.get("suggested_by") or 0) for _, item in linked[link])

    groups: dict[str, list[Shown]] = {identity_key(link, ""): list(members) for link, members in linked.items()}
    for folded, members in unlinked.items():
        homes = titles.get(folded)
        if homes:
            home = min(homes, key=lambda link: (-people(link), link))
            groups[identity_key(home, "")] += members
        else:
            groups[identity_key(None, folded)] = list(members)
    entries = [_entry(key, members) for key, members in groups.items()]
    entries.sort(key=lambda entry: (-entry.total, entry.title.casefold(), entry.title, entry.key))
    return entries


async def library(
    engine: AsyncEngine,
    maker: async_sessionmaker[AsyncSession],
    registry: Registry,
    institute_id: int,
    resource_type: str | None = None,
) -> Library:
    """The institute's resource library: the resources each call for resources let the room see (approved where
    the presenter approved them first, never hidden ones), merged across sessions and cohorts, most votes first."""
    found = await institute_runs(maker, registry, institute_id, kind=RESOURCES)
    kind = registry[RESOURCES]
    answers = await _answers(engine, found.runs)
    shown: list[Shown] = []
    for run in found.runs:
        if run.saved:
            results, _ = _kept(run)
        else:
            results, _ = fold_runs(kind, kind.parse_config(run.activity.config), [run], answers)
        shown += [(run.cohort, item) for item in results.get("resources", []) if item.get("visible")]
    entries = merge_resources(shown)
    types: dict[str, str] = {}  # case-folded -> as first written, in alphabetical order
    for entry in sorted(entries, key=lambda entry: (entry.type.casefold(), entry.type)):
        types.setdefault(entry.type.casefold(), entry.type)
    chosen = " ".join((resource_type or "").split())
    if chosen:
        entries = [entry for entry in entries if entry.type.casefold() == chosen.casefold()]
    ran = {run.cohort.id for run in found.runs}
    return Library(
        institute=found.institute,
        cohorts=[cohort for cohort in found.cohorts if cohort.id in ran],
        types=list(types.values()),
        type=types.get(chosen.casefold(), chosen) if chosen else None,
        resources=entries,
    )


def library_csv(found: Library) -> str:
    """One row per resource; per cohort (by its slug) how many suggested and upvoted it."""
    columns = [*LIBRARY_COLUMNS]
    for cohort in found.cohorts:
        columns += [f"suggested_{cohort.slug}", f"upvoted_{cohort.slug}"]
    rows = []
    for entry in found.resources:
        row: dict[str, Any] = {
            "type": entry.type,
            "title": entry.title,
            "link": entry.link or "",
            "note": entry.note or "",
            "suggested": entry.suggested,
            "upvoted": entry.upvoted,
            "total": entry.total,
        }
        for cohort in found.cohorts:
            assert cohort.id is not None
            count = entry.counts.get(cohort.id, CohortCount())
            row[f"suggested_{cohort.slug}"], row[f"upvoted_{cohort.slug}"] = count.suggested, count.upvoted
        rows.append(row)
    return to_csv(columns, rows)


def library_document(registry: Registry, found: Library, extension: str) -> str:
    """The library as one of the resources kind's documents (a Markdown list), written by the kind itself."""
    title = f"{found.institute.title}: resource library" + (f" ({found.type})" if found.type else "")
    resources = [
        {
            "title": entry.title,
            "link": entry.link,
            "type": entry.type,
            "note": entry.note,
            "suggested_by": entry.suggested,
            "upvotes": entry.upvoted,
            "visible": True,
        }
        for entry in found.resources
    ]
    return registry[RESOURCES].render_document(extension, title, {"resources": resources})
