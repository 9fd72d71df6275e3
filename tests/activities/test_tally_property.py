"""The fold-equals-recompute property (tests/activities/folding.py) for the poll and the word cloud."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from activities.poll import PollConfig
from activities.poll import kind as poll
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
