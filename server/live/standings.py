"""A session's standings (a leaderboard): a pure function of the scores its scoring kinds read from their tallies.

Nothing of it is stored: tallies fold idempotently and are rebuilt identically from the database, so the standings
are the same on every worker, after a restart, and in any order the answers arrived.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Standing:
    """One participant's place: their total points and their rank (equal totals share a rank: 1, 2, 2, 4)."""

    participant_id: int
    points: int
    rank: int


@dataclass(frozen=True)
class Standings:
    """Everyone who answered a scored activity, best first (ties in the order they joined: participant id)."""

    rows: tuple[Standing, ...] = ()
    _by_participant: dict[int, Standing] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_participant.update({row.participant_id: row for row in self.rows})

    def of(self, participant_id: int) -> Standing | None:
        """A participant's place, or None when they answered no scored activity."""
        return self._by_participant.get(participant_id)

    @property
    def people(self) -> int:
        """How many are ranked."""
        return len(self.rows)

    def top(self, count: int) -> tuple[Standing, ...]:
        """The first `count` rows (more when a tie straddles the cut, so no one tied with the last is left out)."""
        if count >= len(self.rows):
            return self.rows
        last = self.rows[count - 1].rank
        return tuple(row for row in self.rows if row.rank <= last)


def standings(scored: Iterable[Mapping[int, int]]) -> Standings:
    """The standings of activities' scores (each participant id -> points), in any order: totals summed, ranked."""
    totals: Counter[int] = Counter()
    for scores in scored:
        for participant, points in scores.items():
            totals[participant] += points
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    rows: list[Standing] = []
    for position, (participant, points) in enumerate(ordered, start=1):
        rank = rows[-1].rank if rows and rows[-1].points == points else position
        rows.append(Standing(participant, points, rank))
    return Standings(tuple(rows))


# --- teams ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamStanding:
    """One team's place: the mean of its ranked members' totals (rounded, halves up), how many they are, its rank."""

    team: str
    points: int
    members: int
    rank: int


def team_standings(board: Standings, teams: Mapping[int, str], order: Sequence[str] = ()) -> tuple[TeamStanding, ...]:
    """The teams' standings from the individual ones: a team's score is the mean of the totals of its members who are
    ranked (participant id -> team in `teams`), rounded to a whole number (halves up), so a big team is not ahead for
    its size; teams ranked by score as people are (equal scores share a rank), ties in `order` (the session's order of
    teams), then by name. A team none of whose members is ranked has no score and is left out."""
    totals: dict[str, list[int]] = {}
    for row in board.rows:
        team = teams.get(row.participant_id)
        if team:
            totals.setdefault(team, []).append(row.points)
    position = {team: at for at, team in enumerate(order)}
    means = [
        (team, (2 * sum(points) + len(points)) // (2 * len(points)), len(points)) for team, points in totals.items()
    ]
    means.sort(key=lambda item: (-item[1], position.get(item[0], len(position)), item[0]))
    rows: list[TeamStanding] = []
    for place, (team, points, members) in enumerate(means, start=1):
        rank = rows[-1].rank if rows and rows[-1].points == points else place
        rows.append(TeamStanding(team, points, members, rank))
    return tuple(rows)
