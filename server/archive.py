"""Session archives: one ZIP an organizer can keep, re-read and re-import.

Inside (format `handsup-archive`, version 1):
- `manifest.json`: format and version, what was archived, counts, and the size and SHA-256 of every other file;
- `data.json`: the session, its activities (config, moderation, state), its participants (numbered in join order,
  no tokens) and every counted response with its payload: enough to rebuild the session and its tallies;
- `summary.csv`: one row per activity with its respondents;
- `responses/<NN>-<title>.csv`: each activity's raw responses, as `server/exports.py` writes them.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from activities import Registry
from server import __version__
from server.decks import slugify
from server.exports import FIXED_COLUMNS, response_rows, to_csv
from server.models import as_utc, utcnow
from server.sessions import as_event, fresh_tally, joined_in_order, load_snapshot, stored_responses

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
    joined = await joined_in_order(engine, session_id)
    numbers = {row.id: n for n, row in enumerate(joined, start=1)}
    stored = await stored_responses(engine, [a.id for a in snapshot.activities if a.id is not None])
    files: dict[str, bytes] = {}
    activities: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    for activity in snapshot.activities:
        assert activity.id is not None
        tally = fresh_tally(registry, snapshot, activity)
        counted = [row for row in stored if row.activity_id == activity.id and tally.fold(as_event(row))]
        name = f"responses/{activity.position + 1:02d}-{slugify(activity.title)}.csv"
        files[name] = to_csv(FIXED_COLUMNS, response_rows(registry, snapshot, activity, counted, numbers)).encode()
        responses += [
            {
                "activity": activity.position + 1,
                "participant": numbers[row.participant_id],
                "epoch": row.epoch,
                "version": row.version,
                "answered_at": _when(row.updated_at),
                "payload": row.payload,
            }
            for row in counted
        ]
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
        summary.append(
            {
                "position": activity.position + 1,
                "kind": activity.kind,
                "title": activity.title,
                "respondents": tally.respondents,
                "voting_open": activity.voting_open,
                "results": activity.results,
                "responses_file": name,
            }
        )
    session = snapshot.session
    files["data.json"] = _json(
        {
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
            "participants": [{"number": numbers[row.id], "joined_at": _when(row.created_at)} for row in joined],
            "responses": responses,
        }
    )
    files["summary.csv"] = to_csv(SUMMARY_COLUMNS, summary).encode()
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "scope": "session",
        "exported_at": utcnow().isoformat(),
        "exported_by": f"Handsup {__version__}",
        "session": {"id": session.id, "code": session.code, "title": session.title},
        "counts": {"activities": len(activities), "participants": len(joined), "responses": len(responses)},
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


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n").encode()
