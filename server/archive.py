"""Session archives: one ZIP an organizer can keep, re-read and re-import.

Inside (format `handsup-archive`, version 1):
- `manifest.json`: format and version, what was archived, counts, and the size and SHA-256 of every other file;
- `data.json`: the session, its activities (config, moderation, state), its participants (numbered in join order,
  no tokens) and every counted response with its payload: enough to rebuild the session and its tallies;
- `summary.csv`: one row per activity with its respondents;
- `responses/<NN>-<title>.csv`: each activity's raw responses, as `server/exports.py` writes them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from activities.base import ResponseEvent
from server import __version__
from server.decks import slugify
from server.exports import responses_csv, safe_cell
from server.models import Participant, Response, as_utc, utcnow
from server.sessions import SessionSnapshot, load_snapshot

FORMAT = "handsup-archive"
VERSION = 1
SUMMARY_COLUMNS = ["position", "kind", "title", "respondents", "voting_open", "results", "responses_file"]


@dataclass(frozen=True)
class Archive:
    """A finished archive: its bytes and a file name to offer."""

    body: bytes
    filename: str


def _when(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


async def session_archive(
    engine: AsyncEngine, maker: async_sessionmaker[AsyncSession], registry: Registry, session_id: int
) -> Archive:
    """The archive of one session (ended or still live: a live one is archived as it stands)."""
    snapshot = await load_snapshot(maker, registry, session_id)
    data = await _session_data(engine, registry, snapshot)
    files: dict[str, bytes] = {"data.json": _json(data)}
    summary: list[dict[str, Any]] = []
    for activity, entry in zip(snapshot.activities, data["activities"], strict=True):
        name = f"responses/{activity.position + 1:02d}-{slugify(activity.title)}.csv"
        files[name] = (await responses_csv(engine, registry, snapshot, activity)).encode()
        summary.append(
            {
                "position": activity.position + 1,
                "kind": activity.kind,
                "title": activity.title,
                "respondents": entry["respondents"],
                "voting_open": activity.voting_open,
                "results": activity.results,
                "responses_file": name,
            }
        )
    files["summary.csv"] = _csv(SUMMARY_COLUMNS, summary)
    session = snapshot.session
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "scope": "session",
        "exported_at": utcnow().isoformat(),
        "exported_by": f"Handsup {__version__}",
        "session": {"id": session.id, "code": session.code, "title": session.title},
        "counts": {
            "activities": len(data["activities"]),
            "participants": len(data["participants"]),
            "responses": len(data["responses"]),
        },
        "files": [
            {"path": path, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            for path, body in sorted(files.items())
        ],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", _json(manifest))
        for path, body in sorted(files.items()):
            archive.writestr(path, body)
    day = as_utc(session.created_at).date().isoformat()
    return Archive(out.getvalue(), f"handsup-{slugify(session.title)}-{day}-{session.code}.zip")


async def _session_data(engine: AsyncEngine, registry: Registry, snapshot: SessionSnapshot) -> dict[str, Any]:
    session = snapshot.session
    responses = Response.__table__.c  # type: ignore[attr-defined]
    participants = Participant.__table__.c  # type: ignore[attr-defined]
    ids = [a.id for a in snapshot.activities]
    async with engine.connect() as connection:
        joined = (
            await connection.execute(
                sa_select(participants.id, participants.created_at)
                .where(participants.session_id == session.id)
                .order_by(participants.id)
            )
        ).all()
        stored = (
            await connection.execute(
                sa_select(
                    responses.activity_id,
                    responses.participant_id,
                    responses.epoch,
                    responses.version,
                    responses.payload,
                    responses.updated_at,
                )
                .where(responses.activity_id.in_(ids))
                .order_by(responses.activity_id, responses.participant_id)
            )
        ).all()
    numbers = {pid: n for n, (pid, _) in enumerate(joined, start=1)}
    positions = {a.id: a.position for a in snapshot.activities}
    tallies = {}
    for activity in snapshot.activities:
        assert activity.id is not None
        tally = registry[activity.kind].new_tally(snapshot.configs[activity.id])
        tally.reset(activity.epoch)
        tallies[activity.id] = tally
    counted = []
    for activity_id, participant_id, epoch, version, payload, updated_at in stored:
        event = ResponseEvent(activity_id, participant_id, epoch, version, payload)
        if tallies[activity_id].fold(event):
            counted.append(
                {
                    "activity": positions[activity_id] + 1,
                    "participant": numbers[participant_id],
                    "epoch": epoch,
                    "version": version,
                    "answered_at": _when(updated_at),
                    "payload": payload,
                }
            )
    activities = []
    for activity in snapshot.activities:
        assert activity.id is not None
        tally = tallies[activity.id]
        activities.append(
            {
                "position": activity.position + 1,
                "kind": activity.kind,
                "title": activity.title,
                "prompt": activity.prompt,
                "config": activity.config,
                "results": activity.results,
                "voting_open": activity.voting_open,
                "revealed": activity.revealed,
                "moderation": activity.moderation,
                "epoch": activity.epoch,
                "countdown_seconds": activity.countdown_seconds,
                "respondents": tally.respondents,
                "tally": tally.snapshot(activity.moderation),
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "session": {
            "code": session.code,
            "title": session.title,
            "state": session.state,
            "pace": session.pace,
            "created_at": _when(session.created_at),
            "ended_at": _when(session.ended_at),
        },
        "activities": activities,
        "participants": [{"number": numbers[pid], "joined_at": _when(at)} for pid, at in joined],
        "responses": counted,
    }


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n").encode()


def _csv(columns: list[str], rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: safe_cell(value) for column, value in row.items()})
    return out.getvalue().encode()
