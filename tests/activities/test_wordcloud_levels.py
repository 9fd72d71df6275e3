"""The cloud picture is drawn from size levels, so most votes leave it (and its layout) as it is."""

from __future__ import annotations

import random

from activities import registry
from activities.base import ResponseEvent
from activities.wordcloud import CLOUD_LEVELS, cloud_levels

kind = registry["wordcloud"]


def test_cloud_levels_scale_to_the_top_word() -> None:
    words = [{"text": "trust", "count": 12}, {"text": "equity", "count": 6}, {"text": "care", "count": 1}]
    assert cloud_levels(words) == [("trust", CLOUD_LEVELS), ("equity", CLOUD_LEVELS // 2), ("care", 1)]


def test_cloud_levels_order_ties_alphabetically() -> None:
    words = [{"text": "zeal", "count": 3}, {"text": "awe", "count": 3}]
    assert cloud_levels(words) == [("awe", CLOUD_LEVELS), ("zeal", CLOUD_LEVELS)]


def test_most_votes_do_not_change_the_picture() -> None:
    config = kind.parse_config({})
    tally = kind.new_tally(config)
    vocabulary = [f"word{i}" for i in range(25)]
    weights = [1 / (rank + 1) for rank in range(25)]  # a few popular words, a long tail, as in a real room
    chooser = random.Random(7)
    pictures, tables = [], []
    for participant in range(300):
        words = sorted(set(chooser.choices(vocabulary, weights, k=3)))
        payload = kind.validate_submission(config, {"word": words}).model_dump()
        tally.fold(ResponseEvent(1, participant, 0, 1, payload))
        snapshot = tally.snapshot({})
        pictures.append(snapshot["cloud_digest"])
        tables.append([(word["text"], word["count"]) for word in snapshot["words"]])
    redraws = sum(a != b for a, b in zip(pictures, pictures[1:], strict=False))
    count_changes = sum(a != b for a, b in zip(tables, tables[1:], strict=False))
    assert count_changes == 299  # every vote changes the exact counts in the list beside the cloud...
    assert redraws < count_changes / 3  # ...but at most a third of them redraw the picture
