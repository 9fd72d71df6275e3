"""The quiz kind: its config, answers timed by the server, points, the tally and the scores standings add up."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from activities import registry
from activities.base import ResponseEvent, SubmissionInvalid
from activities.quiz import QuizConfig, QuizSubmission, is_right, kind, points_of

CHOICE = QuizConfig(
    options=["Vision", "Ethics", "Equity", "Curriculum"], correct=[3], time_limit=20
)  # PSEL standard 3 is Equity
SEVERAL = QuizConfig(options=["Phoenix", "Oakland", "Boston", "Flagstaff"], correct=[1, 2, 4], time_limit=30)
TYPED = QuizConfig(accepted=["Distributed leadership", "Shared leadership"], time_limit=40)


def config_error(**raw: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        kind.parse_config(raw)
    return str(caught.value)


def answer(config: QuizConfig, elapsed: float | None = 5.0, **form: list[str]) -> QuizSubmission:
    return kind.validate_submission(config, form, elapsed=elapsed)


def refusal(config: QuizConfig, elapsed: float | None = 5.0, **form: list[str]) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        answer(config, elapsed, **form)
    return str(caught.value)


def event(participant: int, version: int, payload: dict[str, Any], epoch: int = 0) -> ResponseEvent:
    return ResponseEvent(activity_id=1, participant_id=participant, epoch=epoch, version=version, payload=payload)


# --- config -----------------------------------------------------------------------------------------------------


def test_quiz_is_registered_scores_and_closes_on_reveal() -> None:
    assert registry["quiz"] is kind
    scored, warm_up = (
        QuizConfig(options=["a", "b"], correct=[1]),
        QuizConfig(options=["a", "b"], correct=[1], points=False),
    )
    assert kind.scored(scored) and kind.closes_on_reveal(scored)
    assert not kind.scored(warm_up) and kind.closes_on_reveal(warm_up)  # marked, unscored; the reveal gives it away
    assert kind.label == "Quiz question"


def test_a_quiz_question_is_options_with_the_right_ones_or_accepted_answers() -> None:
    assert CHOICE.right_choices == [2] and not CHOICE.typed and not CHOICE.multiple
    assert SEVERAL.right_choices == [0, 1, 3] and SEVERAL.multiple
    assert TYPED.typed and TYPED.time_limit == 40
    assert kind.parse_config({"options": ["a", "b"], "correct": [1]}).time_limit == 20


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "give options to pick from (with the correct ones) or the accepted answers to type"),
        ({"options": ["a", "b"], "accepted": ["a"]}, "not both"),
        ({"options": ["a", "b"]}, "correct: give the number of the right option (1 is the first)"),
        ({"options": ["a", "b"], "correct": [3]}, "correct: option numbers go from 1 to 2"),
        ({"options": ["a", "b"], "correct": [0]}, "correct: option numbers go from 1 to 2"),
        ({"options": ["a", "b"], "correct": [1, 1]}, "correct: an option is named twice"),
        ({"options": ["a"], "correct": [1]}, "give at least 2 options"),
        ({"options": ["a", "A"], "correct": [1]}, "two options are the same"),
        ({"accepted": ["x"], "correct": [1]}, "a typed answer has accepted answers only"),
        ({"accepted": ["Éva", "eva!"]}, "two accepted answers are the same"),
        ({"accepted": ["?!"]}, "an accepted answer is empty"),
        ({"options": ["a", "b"], "correct": [1], "time_limit": 4}, "greater than or equal to 5"),
        ({"options": ["a", "b"], "correct": [1], "images": [None]}, "give one per option"),
        ({"options": ["a", "b"], "correct": [1], "colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_a_quiz_config_that_makes_no_question_is_refused_with_a_reason(raw: dict[str, Any], message: str) -> None:
    assert message in config_error(**raw)


# --- answers ----------------------------------------------------------------------------------------------------


def test_the_time_of_an_answer_is_the_servers_never_the_forms() -> None:
    given = kind.validate_submission(CHOICE, {"choice": ["2"], "elapsed": ["0"]}, elapsed=3.14159)
    assert given.elapsed == 3.142 and given.choices == [2]
    assert "elapsed" not in kind.submission_from_form(CHOICE, {"choice": ["2"], "elapsed": ["0"]})


def test_a_question_the_presenter_never_opened_takes_no_answer() -> None:
    message = "This question has not started yet: wait for the presenter to show it."
    assert refusal(CHOICE, None, choice=["2"]) == message


def test_answers_that_do_not_fit_the_question_are_refused_with_a_message() -> None:
    assert refusal(CHOICE) == "Pick an option first."
    assert refusal(CHOICE, choice=["9"]) == "That option is not part of this question."
    assert refusal(CHOICE, choice=["x"]) == "That option is not part of this question."
    assert refusal(CHOICE, choice=["1", "2"]) == "Pick one option."
    assert refusal(SEVERAL, choice=["1", "1"]) == "An option was picked twice."
    assert refusal(CHOICE, choice=["1"], answer=["Equity"]) == "Pick an option first."
    assert refusal(TYPED, answer=["   "]) == "Type your answer first."
    assert refusal(TYPED, choice=["0"], answer=["x"]) == "Type your answer first."
    assert refusal(TYPED, answer=["x" * 121]) == "That is too long: keep your answer to 120 characters."


def test_a_typed_answer_is_kept_tidied() -> None:
    assert answer(TYPED, answer=["  Shared\u200b   leadership \n"]).answer == "Shared leadership"


# --- right and points -------------------------------------------------------------------------------------------


def test_right_means_every_right_option_and_no_other() -> None:
    assert is_right(CHOICE, answer(CHOICE, choice=["2"]))
    assert not is_right(CHOICE, answer(CHOICE, choice=["0"]))
    assert is_right(SEVERAL, answer(SEVERAL, choice=["3", "0", "1"]))
    assert not is_right(SEVERAL, answer(SEVERAL, choice=["0", "1"]))
    assert not is_right(SEVERAL, answer(SEVERAL, choice=["0", "1", "2", "3"]))


@pytest.mark.parametrize(
    ("elapsed", "points"),
    [(0.0, 1000), (5.0, 875), (10.0, 750), (19.99, 500), (20.0, 500), (20.001, 0), (300.0, 0)],
)
def test_a_right_answer_scores_1000_falling_evenly_to_500_at_the_limit_and_nothing_after(
    elapsed: float, points: int
) -> None:
    assert points_of(CHOICE, answer(CHOICE, elapsed, choice=["2"])) == points


def test_a_wrong_answer_and_a_question_without_points_score_nothing() -> None:
    assert points_of(CHOICE, answer(CHOICE, 0.0, choice=["1"])) == 0
    warm_up = QuizConfig(options=["a", "b"], correct=[1], points=False)
    right = answer(warm_up, 0.0, choice=["0"])
    assert is_right(warm_up, right) and points_of(warm_up, right) == 0
    tally = kind.new_tally(warm_up)
    tally.fold(event(1, 1, right.model_dump()))
    assert kind.scores(tally) == {}  # no part of the standings, nor of anyone's streak


def test_the_fastest_right_answer_scores_most() -> None:
    times = [0.4, 1.0, 7.5, 12.25, 19.0]
    scored = [points_of(TYPED, answer(TYPED, t, answer=["shared leadership"])) for t in times]
    assert scored == sorted(scored, reverse=True) and scored[0] == round(1000 * (1 - 0.4 / 80))


# --- the tally and the scores -----------------------------------------------------------------------------------


def payload(config: QuizConfig, elapsed: float, **form: list[str]) -> dict[str, Any]:
    return answer(config, elapsed, **form).model_dump(mode="json")


def test_the_tally_counts_options_and_right_answers_and_a_changed_answer_moves() -> None:
    tally = kind.new_tally(CHOICE)
    tally.fold(event(1, 1, payload(CHOICE, 2.0, choice=["2"])))
    tally.fold(event(2, 1, payload(CHOICE, 3.0, choice=["0"])))
    tally.fold(event(3, 1, payload(CHOICE, 4.0, choice=["2"])))
    tally.fold(event(2, 2, payload(CHOICE, 9.0, choice=["2"])))  # changed their mind, later
    tally.fold(event(2, 2, payload(CHOICE, 9.0, choice=["2"])))  # a repeat changes nothing
    snapshot = tally.snapshot({})
    assert [o["count"] for o in snapshot["options"]] == [0, 0, 3, 0]
    assert [o["correct"] for o in snapshot["options"]] == [False, False, True, False]
    assert (snapshot["respondents"], snapshot["right"], snapshot["wrong"], snapshot["right_percent"]) == (3, 3, 0, 100)
    assert kind.scores(tally) == {1: 950, 2: 775, 3: 900}


def test_a_typed_questions_tally_counts_right_and_wrong() -> None:
    tally = kind.new_tally(TYPED)
    tally.fold(event(1, 1, payload(TYPED, 10.0, answer=["distributed leadrship"])))
    tally.fold(event(2, 1, payload(TYPED, 1.0, answer=["leadership"])))
    snapshot = tally.snapshot({})
    assert (snapshot["right"], snapshot["wrong"], snapshot["options"]) == (1, 1, [])
    assert snapshot["accepted"] == ["Distributed leadership", "Shared leadership"]
    assert kind.scores(tally) == {1: 875, 2: 0}


def test_export_rows_chart_and_result_lines_say_what_was_right() -> None:
    submission = answer(SEVERAL, 6.0, choice=["0", "1", "3"])
    assert kind.export_rows(SEVERAL, submission) == [
        {"answer": "Phoenix; Oakland; Flagstaff", "option_indexes": "0 1 3", "seconds": 6.0, "right": True,
         "points": 900}
    ]  # fmt: skip
    tally = kind.new_tally(SEVERAL)
    tally.fold(event(1, 1, submission.model_dump(mode="json")))
    snapshot = tally.snapshot({})
    chart = kind.chart(SEVERAL, snapshot)
    assert [row.label for row in chart.rows] == ["Phoenix ✓", "Oakland ✓", "Boston", "Flagstaff ✓"]
    assert kind.result_lines(snapshot)[-1] == {"line": "right", "label": "Right answers", "count": 1, "share": 100}
    typed = kind.new_tally(TYPED)
    assert [row.label for row in kind.chart(TYPED, typed.snapshot({})).rows] == ["Right", "Wrong"]


def test_without_a_live_activity_the_room_view_shows_the_answers_marked() -> None:
    """A cohort comparison renders the projector template for a column that is no live activity (voting closed,
    results revealed, no standings): it shows the answers with the right one marked."""
    from activities.testing import render

    tally = kind.new_tally(CHOICE)
    tally.fold(event(1, 1, payload(CHOICE, 2.0, choice=["2"])))
    html = render("quiz", "projector", CHOICE, tally, voting_open=False, revealed=True)
    assert "✓" in html and "Equity" in html and "1 right" in html
    assert "Leaderboard" not in html
