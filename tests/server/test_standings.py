"""The session's standings: totals of the scoring activities' scores, ranked, the same whatever the order."""

from __future__ import annotations

import itertools

from server.standings import Standing, standings, streak_bonus


def test_totals_add_up_over_activities_and_rank_best_first() -> None:
    board = standings([{1: 900, 2: 0, 3: 750}, {1: 0, 2: 1000, 3: 800}])
    assert board.rows == (Standing(3, 1550, 1), Standing(2, 1000, 2), Standing(1, 900, 3))
    assert board.people == 3
    assert board.of(2) == Standing(2, 1000, 2) and board.of(99) is None


def test_equal_totals_share_a_rank_and_the_next_rank_skips() -> None:
    board = standings([{5: 500, 4: 500, 3: 900, 2: 100}])
    assert [(row.participant_id, row.rank) for row in board.rows] == [(3, 1), (4, 2), (5, 2), (2, 4)]


def test_someone_who_scored_nothing_is_still_ranked() -> None:
    assert standings([{7: 0}]).rows == (Standing(7, 0, 1),)
    assert standings([]).rows == () and standings([]).people == 0


def test_the_order_of_the_activities_changes_nothing() -> None:
    scored = [{1: 900, 2: 10}, {2: 890, 3: 500}, {3: 400, 1: 0}]
    boards = {standings(order).rows for order in itertools.permutations(scored)}
    assert len(boards) == 1


def test_the_top_keeps_everyone_tied_with_the_last_place() -> None:
    board = standings([{1: 900, 2: 800, 3: 800, 4: 100}])
    assert [row.participant_id for row in board.top(2)] == [1, 2, 3]
    assert [row.participant_id for row in board.top(10)] == [1, 2, 3, 4]


def test_the_streak_bonus_grows_with_each_scoring_answer_in_a_row_up_to_its_cap() -> None:
    # Participant 1 scores on all seven questions: +0, +100, +200, +300, +400, +500, +500 (the cap).
    scored = [{1: 800} for _ in range(7)]
    board = standings(scored, streak=True)
    assert board.of(1) == Standing(1, 7 * 800 + 2000, 1, bonus=2000, run=7)
    assert [streak_bonus(run) for run in range(1, 8)] == [0, 100, 200, 300, 400, 500, 500]
    assert standings(scored).of(1) == Standing(1, 5600, 1)  # without the option, no bonus


def test_a_wrong_or_missing_answer_breaks_the_run_and_a_warm_up_does_not() -> None:
    scored = [
        {1: 900, 2: 900},
        {1: 900, 2: 0},  # 2 answers wrong: their run ends
        {},  # a warm-up: scores no one, breaks no one's run
        {1: 900, 2: 900},  # 1 is on their third in a row
        {2: 900},  # 1 did not answer: their run ends
    ]
    board = standings(scored, streak=True)
    assert board.of(1) == Standing(1, 2700 + 100 + 200, 1, bonus=300, run=0)
    assert board.of(2) == Standing(2, 2700 + 100, 2, bonus=100, run=2)


def test_with_the_streak_everyone_wrong_breaks_everyones_run() -> None:
    board = standings([{1: 900}, {1: 0}, {1: 900}], streak=True)
    assert (board.of(1).bonus, board.of(1).run) == (0, 1)  # type: ignore[union-attr]
