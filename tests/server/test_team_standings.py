"""Team standings: a team's score is the mean of its ranked members' totals, rounded (halves up), ranked as people."""

from __future__ import annotations

import itertools

from server.standings import TeamStanding, standings, team_standings


def test_a_team_scores_the_mean_of_its_members_totals() -> None:
    board = standings([{1: 900, 2: 600, 3: 1000, 4: 0, 5: 700}])
    teams = {1: "Phoenix", 2: "Phoenix", 3: "Dragon", 4: "Dragon", 5: "Owls"}
    assert team_standings(board, teams, ["Phoenix", "Dragon", "Owls"]) == (
        TeamStanding("Phoenix", 750, 2, 1),
        TeamStanding("Owls", 700, 1, 2),
        TeamStanding("Dragon", 500, 2, 3),
    )


def test_a_big_team_is_not_ahead_for_its_size() -> None:
    board = standings([{n: 500 for n in range(1, 11)} | {11: 600}])
    teams = {n: "Many" for n in range(1, 11)} | {11: "One"}
    assert [row.team for row in team_standings(board, teams)] == ["One", "Many"]


def test_the_mean_is_rounded_to_a_whole_number_halves_up() -> None:
    board = standings([{1: 1, 2: 2, 3: 5, 4: 6, 5: 7}])
    rows = team_standings(board, {1: "A", 2: "A", 3: "B", 4: "B", 5: "B"})
    assert {row.team: row.points for row in rows} == {"A": 2, "B": 6}  # 1.5 -> 2, 6 -> 6


def test_equal_scores_share_a_rank_ties_in_the_sessions_order() -> None:
    board = standings([{1: 800, 2: 800, 3: 100}])
    rows = team_standings(board, {1: "Zebras", 2: "Ants", 3: "Cats"}, ["Zebras", "Ants", "Cats"])
    assert [(row.team, row.rank) for row in rows] == [("Zebras", 1), ("Ants", 1), ("Cats", 3)]


def test_people_without_a_team_and_teams_without_ranked_members_are_left_out() -> None:
    board = standings([{1: 800, 2: 300}])
    rows = team_standings(board, {1: "A", 9: "B"})  # 2 has no team; B's only member answered nothing scored
    assert rows == (TeamStanding("A", 800, 1, 1),)
    assert team_standings(standings([]), {1: "A"}) == ()


def test_the_order_of_answers_changes_no_team_standing() -> None:
    scored = [{1: 900, 2: 10}, {2: 890, 3: 500}, {3: 400, 1: 0, 4: 77}]
    teams = {1: "A", 2: "B", 3: "A", 4: "B"}
    boards = {team_standings(standings(order), teams) for order in itertools.permutations(scored)}
    assert len(boards) == 1
