"""A session's leaderboard as its archive keeps it: the standings the room showed, with each person's number, name
and team, and the teams' standings, as rows for `leaderboard.csv`, the workbook's Leaderboard sheet and the report.

The standings themselves are made by `server/standings.py` (`session_standings`), the one way the live room
makes them, from the tallies of the session's revealed activities of scoring kinds; nothing here scores. An
archive's leaderboard is therefore derived data: re-import never reads it, it recomputes the standings from the
answers (`server/archives/restore.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.models import Participant
from server.standings import Standings, TeamStanding

LEADERBOARD_FILE = "leaderboard.csv"
TEAMS_FILE = "leaderboard-teams.csv"
LEADERBOARD_COLUMNS = ["rank", "participant", "name", "nickname", "team", "points", "bonus"]
TEAM_COLUMNS = ["rank", "team", "members", "points"]
REPORT_TOP = 10  # the report shows the top ten (and everyone tied with the tenth), as the projector does


@dataclass(frozen=True)
class Named:
    """What the archive knows of one participant besides their answers: number (join order), nickname, team."""

    number: int
    nickname: str = ""
    team: str = ""


def display_name(person: Named) -> str:
    """The one place an archive chooses what a participant is called: their nickname, else "Participant N" by
    the order they joined (as every sheet and CSV of the archive numbers people). Not the generated name the room
    showed ("Curious Otter"): that one is drawn from the live session's ids, which an imported copy does not keep,
    so the archive names people by what survives an import."""
    return person.nickname or f"Participant {person.number}"


def leaderboard_rows(standings: Standings, people: Mapping[int, Named]) -> list[dict[str, Any]]:
    """The standings as rows of `leaderboard.csv` (LEADERBOARD_COLUMNS), best first; `people` by participant id."""
    rows = []
    for row in standings.rows:
        person = people[row.participant_id]
        rows.append(
            {
                "rank": row.rank,
                "participant": person.number,
                "name": display_name(person),
                "nickname": person.nickname,
                "team": person.team,
                "points": row.points,
                "bonus": row.bonus,
            }
        )
    return rows


def team_rows(teams: Sequence[TeamStanding]) -> list[dict[str, Any]]:
    """The teams' standings as rows of `leaderboard-teams.csv` (TEAM_COLUMNS)."""
    return [{"rank": t.rank, "team": t.team, "members": t.members, "points": t.points} for t in teams]


async def names_of(engine: AsyncEngine, session_id: int) -> dict[int, tuple[str, str]]:
    """Participant id -> (nickname, team) of a session's participants (empty strings where they chose none)."""
    table = Participant.__table__.c  # type: ignore[attr-defined]
    query = sa_select(table.id, table.nickname, table.team).where(table.session_id == session_id)
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return {row.id: (row.nickname or "", row.team or "") for row in rows}
