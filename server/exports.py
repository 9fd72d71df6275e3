"""Exports of one activity: every stored response as CSV rows (each kind says what its rows are), and the
lists some kinds offer (the call for resources as Markdown or HTML)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncEngine

from activities import Registry
from server.models import Activity, Participant, Response, as_utc
from server.sessions import SessionSnapshot

# A spreadsheet runs a cell that starts with one of these as a formula: such cells get a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FIXED_COLUMNS = ["participant", "answered_at"]


def safe_cell(value: Any) -> str:
    """A value as CSV text that a spreadsheet shows as text, never runs ('=HYPERLINK(...)' stays visible)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def responses_csv(engine: AsyncEngine, registry: Registry, snapshot: SessionSnapshot, activity: Activity) -> str:
    """Every counted response to an activity (its current epoch), one or more rows each, in answer order.

    Participants appear as numbers in the order they joined the session, the same in every export of it."""
    assert activity.id is not None
    kind = registry[activity.kind]
    config = snapshot.configs[activity.id]
    table = Response.__table__.c  # type: ignore[attr-defined]
    async with engine.connect() as connection:
        stored = (
            await connection.execute(
                sa_select(table.participant_id, table.updated_at, table.payload)
                .where(table.activity_id == activity.id, table.epoch == activity.epoch)
                .order_by(table.updated_at, table.participant_id)
            )
        ).all()
        joined = await connection.execute(
            sa_select(Participant.__table__.c.id)  # type: ignore[attr-defined]
            .where(Participant.__table__.c.session_id == activity.session_id)  # type: ignore[attr-defined]
            .order_by(Participant.__table__.c.id)  # type: ignore[attr-defined]
        )
        numbers = {pid: n for n, (pid,) in enumerate(joined.all(), start=1)}
    tally = kind.new_tally(config)
    rows: list[dict[str, Any]] = []
    columns: list[str] = []
    for participant_id, updated_at, payload in stored:
        for row in kind.export_rows(config, tally.parse_payload(payload)):
            columns += [column for column in row if column not in columns]
            answered_at = as_utc(updated_at).isoformat()
            rows.append({"participant": numbers[participant_id], "answered_at": answered_at, **row})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIXED_COLUMNS + columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: safe_cell(value) for column, value in row.items()})
    return out.getvalue()
