"""The fold-equals-recompute property (activities/testing.py) for the poll, the word cloud and the quiz."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from activities.poll import PollConfig
from activities.poll import kind as poll
from activities.quiz import QuizConfig
from activities.quiz import kind as quiz
from activities.testing import Database, check_folding_matches_recompute
from activities.wordcloud import WordcloudConfig
from activities.wordcloud import kind as wordcloud

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
