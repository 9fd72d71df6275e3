"""A session's standings (a leaderboard): a pure function of the scores its scoring kinds read from their tallies.

Nothing of it is stored: tallies fold idempotently and are rebuilt identically from the database, so the standings
are the same on every worker, after a restart, and in any order the answers arrived.

The streak bonus (a session's option): an answer that scores, the n-th in a row that scored (n >= 2, over the
scored activities in deck order), earns min(STREAK_STEP * (n - 1), STREAK_CAP) points on top: +100 for the second in
a row, +200 for the third, up to +500. An activity the participant did not answer, or answered without scoring,
breaks the run; an activity that scores no one (a warm-up: `scores()` is empty) is not counted at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from activities import Registry
    from activities.base import Tally
    from server.models import Activity

STREAK_STEP = 100
STREAK_CAP = 500


@dataclass(frozen=True)
class Standing:
    """One participant's place: their total points (the streak bonus included) and their rank (equal totals share a
    rank: 1, 2, 2, 4); of the total, the streak `bonus`, and `run`: the scoring answers in a row they end on."""

    participant_id: int
    points: int
    rank: int
    bonus: int = 0
    run: int = 0


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


def streak_bonus(run: int) -> int:
    """The bonus of a scoring answer that is the `run`-th in a row (none for the first)."""
    return min(STREAK_STEP * (run - 1), STREAK_CAP) if run > 1 else 0


def standings(scored: Sequence[Mapping[int, int]], *, streak: bool = False) -> Standings:
    """The standings of activities' scores (each participant id -> points), in deck order: totals summed (with the
    streak bonus when `streak`), ranked. Without the streak the order of the activities changes nothing."""
    totals: Counter[int] = Counter()
    bonuses: Counter[int] = Counter()
    runs: Counter[int] = Counter()
    for scores in scored:
        if not scores:
            continue  # an activity that scores no one (a warm-up) breaks no one's run
        for participant, points in scores.items():
            totals[participant] += points
        if not streak:
            continue
        for participant in list(runs):
            if not scores.get(participant):
                del runs[participant]
        for participant, points in scores.items():
            if points:
                runs[participant] += 1
                bonuses[participant] += streak_bonus(runs[participant])
    totals.update(bonuses)
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    rows: list[Standing] = []
    for position, (participant, points) in enumerate(ordered, start=1):
        rank = rows[-1].rank if rows and rows[-1].points == points else position
        rows.append(Standing(participant, points, rank, bonuses[participant], runs[participant]))
    return Standings(tuple(rows))


def session_standings(
    registry: Registry, activities: Iterable[Activity], tallies: Mapping[int, Tally[Any, Any]], *, streak: bool
) -> Standings:
    """A session's standings: over its revealed, scored `activities` (in deck order) that have a tally (an
    unrevealed question's answers would give its answer away by moving people's ranks). The live room and the
    archives make them so, from the same tallies."""
    ordered = sorted(activities, key=lambda activity: activity.position)
    return standings(
        [
            registry[a.kind].scores(tallies[a.id])
            for a in ordered
            if a.revealed and a.id is not None and a.id in tallies and is_scored(registry, a, tallies)
        ],
        streak=streak,
    )


def is_scored(registry: Registry, activity: Activity, tallies: Mapping[int, Tally[Any, Any]]) -> bool:
    """Whether an activity with a tally scores points towards the standings (its kind says, from its config)."""
    tally = tallies.get(activity.id) if activity.id is not None else None
    return tally is not None and activity.kind in registry and registry[activity.kind].scored(tally.config)


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
