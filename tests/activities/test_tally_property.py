"""The fold-equals-recompute property (activities/testing.py) for the poll, the word cloud and the quiz, and for a
session's standings over its quiz questions (the other kinds prove it in their own test modules)."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from activities import registry
from activities.base import ResponseEvent, Tally
from activities.poll import PollConfig
from activities.poll import kind as poll
from activities.quiz import QuizConfig
from activities.quiz import kind as quiz
from activities.testing import Database, check_folding_matches_recompute, steps, store
from activities.wordcloud import WordcloudConfig
from activities.wordcloud import kind as wordcloud
from server.models import Activity
from server.standings import session_standings

POLL = PollConfig(options=["Diagnosis", "Design", "Action", "Review"], multiple=True, max_choices=2)
WORDCLOUD = WordcloudConfig(lemmatise=True, fold_accents=True)
VOCABULARY = ["School", "schools", "Trust", "trust!", "équipe", "Equipe", "care", "well-being", "voice"]
POLL_FORMS = st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True).map(
    lambda picks: {"choice": [str(i) for i in picks]}
)
WORDCLOUD_FORMS = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3).map(lambda typed: {"word": typed})


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_poll_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, poll, POLL, POLL_FORMS, data)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_wordcloud_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, wordcloud, WORDCLOUD, WORDCLOUD_FORMS, data)


QUIZ_CHOICE = QuizConfig(options=["Vision", "Ethics", "Equity", "Curriculum"], correct=[1, 3], time_limit=10)
QUIZ_TYPED = QuizConfig(accepted=["Distributed leadership", "Equity"], time_limit=10)
QUIZ_CHOICE_FORMS = st.lists(st.integers(0, 3), min_size=1, max_size=4, unique=True).map(
    lambda picks: {"choice": [str(i) for i in picks]}
)
QUIZ_TYPED_FORMS = st.sampled_from(["equity", "Équité", "EQUTIY", "distributed leadrship", "shared", "x"]).map(
    lambda typed: {"answer": [typed]}
)
# Times the server measures: at once, within the limit, at it, and late.
QUIZ_TIMES = st.one_of(st.sampled_from([0.0, 10.0, 10.001]), st.floats(0, 30, allow_nan=False))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_quiz_tally_folded_in_any_order_equal_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    config, forms = data.draw(st.sampled_from([(QUIZ_CHOICE, QUIZ_CHOICE_FORMS), (QUIZ_TYPED, QUIZ_TYPED_FORMS)]))
    # Equal answers per participant (checked there) give equal scores: `scores` is a function of the answers.
    check_folding_matches_recompute(database, quiz, config, forms, data, elapsed=QUIZ_TIMES)


# --- the leaderboard: a session's standings over its quiz questions ---------------------------------------------------

QUIZ_WARM_UP = QuizConfig(options=["Yes", "No"], correct=[1], time_limit=10, points=False)
# A session's questions in deck order: each config, its forms, and whether it was revealed (only those are ranked).
SESSION_QUESTIONS = [
    (QUIZ_CHOICE, QUIZ_CHOICE_FORMS, True),
    (QUIZ_WARM_UP, st.sampled_from([{"choice": ["0"]}, {"choice": ["1"]}]), True),
    (QUIZ_TYPED, QUIZ_TYPED_FORMS, True),
    (QUIZ_CHOICE, QUIZ_CHOICE_FORMS, False),
    (QUIZ_TYPED, QUIZ_TYPED_FORMS, True),
]


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_the_standings_folded_in_any_order_equal_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    """Every question's answers (with older epochs and resets) folded into the live tallies in one arrival order over
    the whole session, with repeats, give the same standings, streak on and off, as tallies rebuilt from the rows."""
    activities: list[Activity] = []
    arrivals: list[tuple[int, ResponseEvent | int]] = []
    recomputed: dict[int, Tally[Any, Any]] = {}
    for position, (config, forms, revealed) in enumerate(SESSION_QUESTIONS):
        plan = data.draw(steps(forms, QUIZ_TIMES), label=f"answers to question {position + 1}")
        epoch = max((step.epoch for step in plan), default=0) + data.draw(st.sampled_from([0, 0, 0, 1]))
        published, stored = asyncio.run(store(database, quiz, config, plan, epoch))
        repeats = data.draw(st.lists(st.sampled_from(published), max_size=4)) if published else []
        question = position + 1  # the tallies' key, as a room keys them by activity id
        activities.append(
            Activity(
                id=question,
                session_id=database.session_id,
                position=position,
                kind="quiz",
                title=f"Question {question}",
                config=config.model_dump(mode="json"),
                revealed=revealed,
                epoch=epoch,
            )
        )
        arrivals += [(question, item) for item in [*published, *repeats, *range(1, epoch + 1)]]
        recomputed[question] = quiz.new_tally(config)
        recomputed[question].reset(epoch)
        for event in stored:
            recomputed[question].fold(event)

    live = {a.id: quiz.new_tally(quiz.parse_config(a.config)) for a in activities if a.id is not None}
    for question, item in data.draw(st.permutations(arrivals), label="arrival order"):
        if isinstance(item, int):
            live[question].reset(item)
        else:
            live[question].fold(item)

    for streak in (False, True):
        folded = session_standings(registry, activities, live, streak=streak)
        rebuilt = session_standings(registry, activities, recomputed, streak=streak)
        assert folded == rebuilt
        assert [row.rank for row in folded.rows] == sorted(row.rank for row in folded.rows)
    # The unrevealed question and the warm-up count for no one: the standings are the three others' scores.
    scored = [quiz.scores(recomputed[q]) for q in (1, 3, 5)]
    plain = session_standings(registry, activities, recomputed, streak=False)
    assert {row.participant_id: row.points for row in plain.rows} == {
        pid: sum(scores.get(pid, 0) for scores in scored) for pid in set().union(*scored)
    }


def test_a_fold_given_the_validated_submission_does_not_parse_the_payload_again(monkeypatch: Any) -> None:
    """Room.fold_now hands the tally the answer `respond` validated; the payload is parsed only when folding an
    event from elsewhere (the backplane, the database)."""
    submission = poll.validate_submission(POLL, {"choice": ["1"]})
    event = ResponseEvent(1, 7, 0, 1, submission.model_dump(mode="json"))
    given_tally, parsed_tally = poll.new_tally(POLL), poll.new_tally(POLL)

    def refuse(self: Tally[Any, Any], payload: Any) -> Any:
        raise AssertionError("parsed again")

    with monkeypatch.context() as patched:
        patched.setattr(type(given_tally), "parse_payload", refuse)
        assert given_tally.fold(event, submission)
        assert not given_tally.fold(event)  # the backplane's echo: counted already, nothing parsed
    assert parsed_tally.fold(event)
    assert given_tally.snapshot({}) == parsed_tally.snapshot({})
    assert given_tally.answer_of(7) == parsed_tally.answer_of(7) == submission
