"""Comparing cohorts, and institute-wide pools: reading the answers of many sessions at once.

A comparison takes one activity of an institute's decks and shows it as each cohort answered it, side by side, and
as all cohorts answered it together. The "same activity" in two cohorts is the same kind and title: decks are reused
at every site, and a deck edited between two sites may move an activity, so its position does not count. A cohort
that ran it in several sessions has them folded together.

A pool is what a kind makes of its activities in every cohort (a kind offers one by naming its `pool_label`): the
server gathers each run's results as the room could see them and the kind merges them, as the resources kind merges
every call for resources into the institute's resource library.

Everything here reads; nothing is written. Routes serve it in server/routes/compare.py.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from activities.base import ActivityKind, KindConfig, PoolCohort, PoolSource, digest, most_common
from activities.i18n import N_, _
from server.exports import to_csv
from server.institutes import institute_view
from server.models import Activity, Cohort, Institute, Session
from server.sessions import NotFound, as_event, kept, moderated_results, picture_seed, stored_responses

ALL_COHORTS = N_("All cohorts")
ALL_KEY = "all"
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
SAVED = N_("Its participants' answers were deleted: these are the results as they were kept.")
OTHER_SETTINGS = N_("Run with other settings than most cohorts (other options, items or cards, for example).")
NOT_COMBINED = N_("Not part of All cohorts.")


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
        raise NotFound(_("No such institute.")) from None
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
        raise NotFound(_("No cohort of this institute ran that activity."))
    kind = registry[runs[0].activity.kind]
    answers = await _answers(engine, runs)
    columns: list[Column] = []
    for cohort in found.cohorts:
        mine = [run for run in runs if run.cohort.id == cohort.id]
        if mine:
            columns += _cohort_columns(kind, cohort, mine, answers)
    columns, combined = _combined(kind, columns, answers)
    left_out = [column.name for column in columns if not column.in_combined]
    notes = [_("Not part of All cohorts: {names} (see the note under each).").format(names=", ".join(left_out))]
    notes = notes if left_out else []
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


# --- institute-wide pools -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    """What a kind made of its activities in every cohort of an institute (the resources kind's library)."""

    institute: Institute
    kind: ActivityKind[Any, Any]
    content: BaseModel


def pooled_kind(registry: Registry, name: str) -> ActivityKind[Any, Any]:
    """The kind of that name, if it offers an institute-wide pool."""
    if name not in registry or registry[name].pool_label is None:
        raise NotFound("No such pool: pools are offered by " + (", ".join(pool_kinds(registry)) or "no kind") + ".")
    return registry[name]


def pool_kinds(registry: Registry) -> list[str]:
    """The names of the kinds that offer a pool."""
    return [kind.name for kind in registry.all() if kind.pool_label is not None]


async def pool(
    engine: AsyncEngine,
    maker: async_sessionmaker[AsyncSession],
    registry: Registry,
    institute_id: int,
    kind_name: str,
    choice: str | None = None,
) -> Pool:
    """An institute's pool of one kind: each run's results as the room could see them (or as they were kept), in
    the institute's cohort order, handed to the kind to merge."""
    kind = pooled_kind(registry, kind_name)
    found = await institute_runs(maker, registry, institute_id, kind=kind.name)
    answers = await _answers(engine, found.runs)
    sources: list[PoolSource] = []
    for run in found.runs:
        if run.saved:
            results, _ = _kept(run)
        else:
            results, _ = fold_runs(kind, kind.parse_config(run.activity.config), [run], answers)
        sources.append(PoolSource(_pool_cohort(run.cohort), results))
    ran = {run.cohort.id for run in found.runs}
    cohorts = [_pool_cohort(cohort) for cohort in found.cohorts if cohort.id in ran]
    return Pool(found.institute, kind, kind.pool(sources, cohorts, choice))


def _pool_cohort(cohort: Cohort) -> PoolCohort:
    assert cohort.id is not None
    return PoolCohort(id=cohort.id, slug=cohort.slug, name=cohort.name, site=cohort.site)


def pool_csv(found: Pool) -> str:
    """The pool as CSV, in the columns its kind chose."""
    table = found.kind.pool_table(found.content)
    return to_csv(table.columns, table.rows)


def pool_document(found: Pool, extension: str) -> str:
    """The pool as one of its kind's documents (a Markdown list, say), titled with the institute's name."""
    return found.kind.pool_document(extension, found.institute.title, found.content)
