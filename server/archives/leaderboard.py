"""A session's leaderboard as its archive keeps it: the standings the room showed, with each person's number, name
and team, and the teams' standings, as rows for `leaderboard.csv`, the workbook's Leaderboard sheet and the report.

The standings themselves are made by `server/live/standings.py` (`session_standings`), the one way the live room
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

from server.live.standings import Standings
from server.models import Participant

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
    the order they joined (as every sheet and CSV of the archive numbers people).

    MERGE NOTE: the "names" work brings generated names (adjective + animal, from the session and participant id);
    this is where one replaces "Participant N" for someone without a nickname."""
    return person.nickname or f"Participant {person.number}"


@dataclass(frozen=True)
class TeamStanding:
    """One team's place: the mean of its ranked members' totals (rounded half up to a whole number), how many
    members that mean is over, and its rank (equal points share a rank: 1, 2, 2, 4)."""

    team: str
    points: int
    rank: int
    members: int


def team_standings(standings: Standings, members: Mapping[int, str], teams: Sequence[str]) -> tuple[TeamStanding, ...]:
    """The teams' standings: each team's score is the mean of the totals of its members who are ranked (who
    answered a scored question), rounded half up; a team none of whose members is ranked is left out. Best first;
    equal scores share a rank and keep the order of the session's `teams`.

    MERGE NOTE: the "names" work writes the room's team standings; fold this into that one function."""
    totals: dict[str, list[int]] = {team: [] for team in teams}
    for row in standings.rows:
        team = members.get(row.participant_id, "")
        if team in totals:
            totals[team].append(row.points)
    means = [
        (team, (2 * sum(points) + len(points)) // (2 * len(points)), len(points))
        for team, points in totals.items()
        if points
    ]
    ordered = sorted(means, key=lambda item: -item[1])  # stable: ties stay in the session's order of teams
    rows: list[TeamStanding] = []
    for position, (team, points, count) in enumerate(ordered, start=1):
        rank = rows[-1].rank if rows and rows[-1].points == points else position
        rows.append(TeamStanding(team, points, rank, count))
    return tuple(rows)


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
