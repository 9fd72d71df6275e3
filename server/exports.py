"""Exports of one activity: every stored response as CSV rows (each kind says what its rows are), and the
lists some kinds offer (the call for resources as Markdown or HTML)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from activities import Registry
from activities.base import Asset, Offload
from activities.i18n import _
from server.decks import slugify
from server.models import Activity
from server.profanity import held_texts
from server.sessions import SessionSnapshot, joined_in_order, picture_seed, stored_responses
from server.times import local

# A spreadsheet runs a cell that starts with one of these as a formula: such cells get a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# `answered_at` is local time with its UTC offset; `time_zone` names the zone it is local to (the cohort's).
FIXED_COLUMNS = ["participant", "answered_at", "time_zone"]
# The column of the kinds whose people upvote others' answers (resources, Q&A): whose answers they upvoted.
UPVOTED = "upvoted"


class Participants(tuple[int, ...]):
    """Participant numbers in a cell: `3 7` in a CSV, `Participant 3, Participant 7` in a workbook."""

    def __str__(self) -> str:
        return " ".join(str(number) for number in self)

    def readable(self) -> str:
        return ", ".join(f"Participant {number}" for number in self)


def safe_cell(value: Any) -> str:
    """A value as CSV text that a spreadsheet shows as text, never runs ('=HYPERLINK(...)' stays visible)."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def header_of(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """`columns` first, then any other column in the order rows bring it (CSV files and workbook sheets alike)."""
    header = list(columns)
    for row in rows:
        header += [column for column in row if column not in header]
    return header


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """UTF-8 CSV text with a header: `columns` first, then any other column in the order rows bring it."""
    rows = list(rows)
    header = header_of(columns, rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: safe_cell(value) for column, value in row.items()})
    return out.getvalue()


def response_rows(
    registry: Registry,
    snapshot: SessionSnapshot,
    activity: Activity,
    stored: Iterable[Row[*tuple[Any, ...]]],
    numbers: Mapping[int, int],
    time_zone: str,
) -> list[dict[str, Any]]:
    """The kind's export rows of stored responses, each with the participant's number and when they answered (local
    to `time_zone`, to the second), and for a kind where people type text, whether the profanity filter holds a text
    of the row back from the room (`filtered`; the text itself is kept as it was sent). An `upvoted` column names
    the participants whose answers were upvoted (the first who gave it), not the answers' internal keys."""
    assert activity.id is not None
    kind = registry[activity.kind]
    config = snapshot.configs[activity.id]
    tally = kind.new_tally(config)
    answers = [(response, tally.parse_payload(response.payload)) for response in stored]
    owners: dict[str, int] = {}
    for response, submission in answers:
        for key, _text in submission.free_text():
            owners.setdefault(key, numbers[response.participant_id])
    rows = []
    for response, submission in answers:
        held = held_texts(activity.moderation, submission.free_text()) if kind.takes_free_text else None
        answered = local(response.updated_at, time_zone).replace(microsecond=0)
        for row in kind.export_rows(config, submission):
            filtered = {} if held is None else {"filtered": any(str(value) in held for value in row.values())}
            if isinstance(row.get(UPVOTED), str):
                upvoted = dict.fromkeys(owners[key] for key in row[UPVOTED].split() if key in owners)
                row = {**row, UPVOTED: Participants(upvoted)}
            fixed = {"participant": numbers[response.participant_id], "answered_at": answered, "time_zone": time_zone}
            rows.append({**fixed, **row, **filtered})
    return rows


async def responses_csv(
    engine: AsyncEngine, registry: Registry, snapshot: SessionSnapshot, activity: Activity, time_zone: str
) -> str:
    """Every counted response to an activity (its current epoch), one or more rows each, in answer order.

    Participants appear as numbers in the order they joined the session, the same in every export of it."""
    assert activity.id is not None
    stored = [row for row in await stored_responses(engine, [activity.id]) if row.epoch == activity.epoch]
    numbers = {row.id: n for n, row in enumerate(await joined_in_order(engine, snapshot.id), start=1)}
    return to_csv(FIXED_COLUMNS, response_rows(registry, snapshot, activity, stored, numbers, time_zone))


class NoSuchFile(LookupError):
    """No such activity in the session, or no such file of its kind (yet); the message says which."""


@dataclass(frozen=True)
class ActivityFile:
    """An activity's export, named for a download: the session's and the activity's titles, and its position."""

    body: str
    media_type: str
    filename: str


async def activity_export(
    engine: AsyncEngine,
    registry: Registry,
    snapshot: SessionSnapshot,
    activity_id: int,
    extension: str,
    results_of: Callable[[Activity], Mapping[str, Any]],
    time_zone: str,
) -> ActivityFile:
    """An activity's stored responses as CSV (times local to `time_zone`), or one of the lists its kind offers (from
    its moderated results)."""
    activity = snapshot.activity(activity_id)
    if activity is None or activity.id is None:
        raise NoSuchFile(_("No such activity in this session."))
    kind = registry[activity.kind]
    name = f"{slugify(snapshot.session.title)}-{activity.position + 1}-{slugify(activity.title)}.{extension}"
    if extension == "csv" and not kind.takes_answers:
        raise NoSuchFile(_("{kind} takes no answers, so it has no responses to export.").format(kind=_(kind.label)))
    if extension == "csv":
        body = await responses_csv(engine, registry, snapshot, activity, time_zone)
        return ActivityFile(body, "text/csv; charset=utf-8", name)
    if extension not in kind.documents:
        formats = ", ".join(["csv", *kind.documents])
        raise NoSuchFile(_("{kind} exports as {formats}.").format(kind=_(kind.label), formats=formats))
    document = kind.render_document(extension, activity.title, results_of(activity))
    return ActivityFile(document, kind.documents[extension], name)


async def activity_asset(
    registry: Registry,
    snapshot: SessionSnapshot,
    activity_id: int,
    asset: str,
    results_of: Callable[[Activity], Mapping[str, Any]],
    offload: Offload,
    *,
    shown_only: bool,
) -> Asset:
    """A kind's rendered file of an activity (the word-cloud image); `shown_only` (the projector's) once its results
    may be shown."""
    activity = snapshot.activity(activity_id)
    if activity is None or asset not in registry[activity.kind].assets:
        raise NoSuchFile(_("No such file."))
    if shown_only and not snapshot.results_visible(activity):
        raise NoSuchFile(_("These results are not shown yet."))
    seed = picture_seed(snapshot.session, activity)
    return await registry[activity.kind].render_asset(asset, results_of(activity), seed, offload)
