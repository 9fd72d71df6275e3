"""The word-cloud kind: what counts as a word, counting people, moderation, and the drawn cloud."""

from __future__ import annotations

import asyncio
import itertools
import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest
from pydantic import ValidationError

from activities import registry
from activities import testing as screening
from activities.base import ResponseEvent, SubmissionInvalid
from activities.wordcloud import CLOUD_LEVELS, CLOUD_WORDS, Wordcloud, WordcloudConfig, WordcloudTally, kind
from activities.wordcloud.image import draw
from server.profanity import switched

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
THREE = WordcloudConfig()


def words(config: WordcloudConfig, *typed: str) -> list[tuple[str, str]]:
    submission = kind.validate_submission(config, {"word": list(typed)})
    return [(word.key, word.text) for word in submission.words]


def refusal(config: WordcloudConfig, *typed: str) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, {"word": list(typed)})
    return str(caught.value)


def payload(config: WordcloudConfig, *typed: str) -> dict[str, Any]:
    return kind.validate_submission(config, {"word": list(typed)}).model_dump(mode="json")


def tally_of(config: WordcloudConfig, *answers: tuple[int, tuple[str, ...]]) -> WordcloudTally:
    """A tally with each (participant, typed words) folded, versions in the order given."""
    tally = WordcloudTally(config)
    for version, (participant, typed) in enumerate(answers, start=1):
        tally.fold(ResponseEvent(1, participant, 0, version, payload(config, *typed)))
    return tally


def counts(tally: WordcloudTally, moderation: dict[str, Any] | None = None) -> list[tuple[str, int]]:
    return [(word["text"], word["count"]) for word in tally.snapshot(moderation or {})["words"]]


# --- config -------------------------------------------------------------------------------------------------------


def test_wordcloud_is_registered_under_its_name() -> None:
    assert registry["wordcloud"] is kind
    assert kind.assets == {"cloud.png", "cloud.svg"}


def test_wordcloud_config_defaults_to_three_entries_of_25_characters() -> None:
    config = kind.parse_config({})
    assert (config.entries, config.max_length, config.fold_accents, config.lemmatise) == (3, 25, False, False)


@pytest.mark.parametrize("raw", [{"entries": 0}, {"entries": 11}, {"max_length": 0}, {"max_length": 61}])
def test_wordcloud_config_refuses_limits_out_of_range(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        kind.parse_config(raw)


def test_wordcloud_config_refuses_a_language_it_cannot_lemmatise() -> None:
    with pytest.raises(ValidationError, match="language must be one of de, en, es, fr, it, nl, pt"):
        kind.parse_config({"language": "xx"})


# --- what counts as a word ------------------------------------------------------------------------------------------


def test_wordcloud_trims_collapses_spaces_and_case_folds() -> None:
    assert words(THREE, "  Shared   LEADERSHIP ") == [("shared leadership", "shared leadership")]


def test_wordcloud_strips_punctuation_and_splits_on_dashes_and_slashes() -> None:
    assert words(THREE, '"Trust!"', "well-being", "teacher/leader") == [
        ("trust", "trust"),
        ("well being", "well being"),
        ("teacher leader", "teacher leader"),
    ]


def test_wordcloud_removes_control_and_zero_width_characters() -> None:
    assert words(THREE, "tr\u200bu\x07st") == [("trust", "trust")]


def test_wordcloud_leaves_out_blank_entries() -> None:
    assert words(THREE, "", "  ", "care") == [("care", "care")]


def test_wordcloud_counts_a_word_once_per_participant() -> None:
    assert words(THREE, "Trust", "trust!", " TRUST ") == [("trust", "trust")]


def test_wordcloud_asks_for_at_least_one_word() -> None:
    assert refusal(THREE) == "Type at least one word."
    assert refusal(THREE, " ", "\u200b") == "Type at least one word."


def test_wordcloud_refuses_an_entry_of_only_punctuation() -> None:
    assert refusal(THREE, "?!") == "An entry needs letters or digits, not only punctuation."


def test_wordcloud_refuses_an_entry_longer_than_the_limit_and_says_which() -> None:
    config = WordcloudConfig(max_length=5)
    assert refusal(config, "care", "listening") == "Keep each entry to 5 characters: liste…"


def test_wordcloud_measures_length_after_tidying() -> None:
    assert words(WordcloudConfig(max_length=5), "   trust   ", "tr\u200bust") == [("trust", "trust")]


def test_wordcloud_refuses_more_entries_than_allowed() -> None:
    assert refusal(THREE, "a", "b", "c", "d") == "At most 3 entries, please."
    assert refusal(WordcloudConfig(entries=1), "trust", "care").startswith("At most 1 ")


def test_wordcloud_keeps_accents_apart_unless_asked_to_fold_them() -> None:
    assert words(THREE, "Éducation", "education") == [("éducation", "éducation"), ("education", "education")]
    assert words(WordcloudConfig(fold_accents=True), "Éducation", "education") == [("education", "éducation")]


def test_wordcloud_lemmatising_merges_school_and_schools() -> None:
    assert words(WordcloudConfig(lemmatise=True), "School", "schools") == [("school", "school")]
    assert words(THREE, "School", "schools") == [("school", "school"), ("schools", "schools")]


def test_wordcloud_stored_payload_is_trusted_as_stored() -> None:
    stored = payload(WordcloudConfig(lemmatise=True), "Schools")
    assert stored == {"words": [{"key": "school", "text": "schools"}]}
    assert WordcloudTally(WordcloudConfig(lemmatise=True)).parse_payload(stored).model_dump(mode="json") == stored


def test_wordcloud_export_rows_give_entry_and_normalised_key() -> None:
    config = WordcloudConfig(lemmatise=True)
    submission = kind.validate_submission(config, {"word": ["Schools", "trust"]})
    assert kind.export_rows(config, submission) == [
        {"entry": "schools", "normalised": "school"},
        {"entry": "trust", "normalised": "trust"},
    ]


# --- the tally ----------------------------------------------------------------------------------------------------


def test_wordcloud_counts_people_not_submissions() -> None:
    tally = tally_of(THREE, (1, ("trust", "Trust!", "TRUST")), (1, ("trust",)), (2, ("trust", "care")))
    assert counts(tally) == [("trust", 2), ("care", 1)]
    assert tally.respondents == 2


def test_wordcloud_replacing_an_answer_retracts_its_words() -> None:
    tally = tally_of(THREE, (1, ("trust", "care")), (2, ("care",)), (1, ("listening",)))
    assert counts(tally) == [("care", 1), ("listening", 1)]
    assert "trust" not in tally.people and "trust" not in tally.forms


def test_wordcloud_lemmatised_counts_merge_school_and_schools() -> None:
    tally = tally_of(WordcloudConfig(lemmatise=True), (1, ("School",)), (2, ("schools",)), (3, ("schools",)))
    assert counts(tally) == [("schools", 3)]


def test_wordcloud_label_is_the_most_common_surface_form() -> None:
    config = WordcloudConfig(fold_accents=True)
    tally = tally_of(config, (1, ("équipe",)), (2, ("Equipe",)), (3, ("ÉQUIPE",)))
    assert tally.snapshot({})["words"] == [{"key": "equipe", "text": "équipe", "count": 3}]


def test_wordcloud_label_ties_go_to_the_alphabetically_first_form() -> None:
    config = WordcloudConfig(fold_accents=True)
    tally = tally_of(config, (1, ("équipe",)), (2, ("equipe",)))
    assert tally.label("equipe") == "equipe"


def test_wordcloud_label_follows_retractions() -> None:
    config = WordcloudConfig(fold_accents=True)
    tally = tally_of(config, (1, ("équipe",)), (2, ("équipe",)), (3, ("equipe",)), (1, ("care",)), (2, ("care",)))
    assert tally.label("equipe") == "equipe"


def test_wordcloud_snapshot_orders_by_count_then_key_whatever_the_arrival_order() -> None:
    answers = [(1, ("trust", "care")), (2, ("care", "voice")), (3, ("agency",)), (4, ("voice", "care"))]
    snapshots = set()
    for order in itertools.permutations(answers):
        snapshot = tally_of(THREE, *order).snapshot({})
        snapshots.add(repr(snapshot))
        assert [w["text"] for w in snapshot["words"]] == ["care", "voice", "agency", "trust"]
    assert len(snapshots) == 1


def test_wordcloud_snapshot_gives_the_top_count_and_a_digest_of_the_cloud() -> None:
    one = tally_of(THREE, (1, ("trust",)), (2, ("trust", "care"))).snapshot({})
    two = tally_of(THREE, (2, ("care", "trust")), (1, ("trust",))).snapshot({})
    assert one["top"] == 2
    assert one["cloud"] == [("trust", CLOUD_LEVELS), ("care", CLOUD_LEVELS // 2)]
    assert one["cloud_digest"] == two["cloud_digest"]
    assert one["cloud_digest"] != tally_of(THREE, (1, ("trust",))).snapshot({})["cloud_digest"]


def test_wordcloud_picture_changes_only_when_a_word_moves_to_another_size_level() -> None:
    def cloud(carers: int) -> dict[str, Any]:
        answers = [(p, ("trust", "care") if p < carers else ("trust",)) for p in range(12)]
        return tally_of(THREE, *answers).snapshot({})

    five, six, seven = cloud(5), cloud(6), cloud(7)
    assert [w["count"] for w in five["words"]] == [12, 5]
    assert [w["count"] for w in six["words"]] == [12, 6]
    assert five["cloud"] == six["cloud"] == [("trust", 6), ("care", 3)]
    assert five["cloud_digest"] == six["cloud_digest"]
    assert seven["cloud"] == [("trust", 6), ("care", 4)]
    assert seven["cloud_digest"] != six["cloud_digest"]


def test_wordcloud_cloud_is_limited_to_the_most_common_words() -> None:
    config = WordcloudConfig(entries=10)
    answers = [(p, tuple(f"w{p}x{i}" for i in range(10))) for p in range(20)]
    snapshot = tally_of(config, *answers).snapshot({})
    assert len(snapshot["words"]) == 200
    assert len(snapshot["cloud"]) == CLOUD_WORDS


def test_wordcloud_empty_snapshot() -> None:
    snapshot = WordcloudTally(THREE).snapshot({})
    assert (snapshot["respondents"], snapshot["words"], snapshot["top"], snapshot["cloud"]) == (0, [], 0, [])


# --- moderation ---------------------------------------------------------------------------------------------------


def test_wordcloud_hiding_a_word_takes_it_out_of_the_cloud_but_keeps_it_for_the_presenter() -> None:
    tally = tally_of(THREE, (1, ("trust", "rude")), (2, ("rude",)), (3, ("care",)))
    moderation = kind.moderate({}, "hide", {"word": ["rude"]})
    assert moderation == {"hidden": ["rude"]}
    snapshot = tally.snapshot(moderation)
    assert [w["key"] for w in snapshot["words"]] == ["care", "trust"]
    assert snapshot["hidden"] == [{"key": "rude", "text": "rude", "count": 2}]
    assert snapshot["top"] == 1
    assert ("rude", 2) not in snapshot["cloud"]


def test_wordcloud_showing_a_hidden_word_puts_it_back() -> None:
    hidden = kind.moderate({}, "hide", {"word": ["rude"]})
    hidden = kind.moderate(hidden, "hide", {"word": ["awful"]})
    assert hidden == {"hidden": ["awful", "rude"]}
    # Showing a word also lets it through the profanity filter: the presenter has seen it and chosen to show it.
    assert kind.moderate(hidden, "show", {"word": ["rude"]}) == {"hidden": ["awful"], "allowed": ["rude"]}


def test_wordcloud_hiding_a_word_twice_lists_it_once() -> None:
    once = kind.moderate({}, "hide", {"word": ["rude"]})
    assert kind.moderate(once, "hide", {"word": ["rude"]}) == {"hidden": ["rude"]}


def test_wordcloud_moderation_keeps_other_state() -> None:
    assert kind.moderate({"note": 1}, "hide", {"word": ["rude"]}) == {"note": 1, "hidden": ["rude"]}


@pytest.mark.parametrize(
    ("action", "form"), [("delete", {"word": ["rude"]}), ("hide", {}), ("hide", {"word": ["a", "b"]})]
)
def test_wordcloud_moderation_refuses_anything_but_one_word_to_hide_or_show(
    action: str, form: dict[str, list[str]]
) -> None:
    with pytest.raises(SubmissionInvalid, match="Choose one word to hide or show."):
        kind.moderate({}, action, form)


# --- the picture --------------------------------------------------------------------------------------------------

CLOUD = [("trust", 5), ("care", 3), ("<listening> & voice", 2), ("well being", 1)]


def test_wordcloud_draws_a_png() -> None:
    png = draw(CLOUD, 7, "png")
    assert png.startswith(PNG_SIGNATURE)


def test_wordcloud_draws_an_svg_that_parses_with_every_word_escaped() -> None:
    root = ElementTree.fromstring(draw(CLOUD, 7, "svg"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {node.text for node in root.iter("{http://www.w3.org/2000/svg}text")}
    assert texts == {word for word, _ in CLOUD}


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_wordcloud_same_table_and_seed_give_the_same_bytes(fmt: str) -> None:
    assert draw(CLOUD, 11, fmt) == draw(list(CLOUD), 11, fmt)


def test_wordcloud_draws_an_empty_cloud_as_a_blank_picture() -> None:
    assert draw([], 1, "png").startswith(PNG_SIGNATURE)
    assert ElementTree.fromstring(draw([], 1, "svg")).tag == "{http://www.w3.org/2000/svg}svg"


def test_wordcloud_render_asset_draws_each_table_once() -> None:
    drawings: list[tuple[Any, ...]] = []

    async def in_process(fn: Any, *args: Any) -> Any:
        drawings.append(args)
        return fn(*args)

    async def scenario() -> None:
        fresh = Wordcloud()
        snapshot = tally_of(THREE, (1, ("trust", "care"))).snapshot({})
        first, second = await asyncio.gather(
            fresh.render_asset("cloud.svg", snapshot, 3, in_process),
            fresh.render_asset("cloud.svg", snapshot, 3, in_process),
        )
        again = await fresh.render_asset("cloud.svg", snapshot, 3, in_process)
        assert first == second == again
        assert first.media_type == "image/svg+xml"
        assert len(drawings) == 1
        png = await fresh.render_asset("cloud.png", snapshot, 3, in_process)
        assert png.media_type == "image/png" and png.body.startswith(PNG_SIGNATURE)
        with pytest.raises(KeyError):
            await fresh.render_asset("cloud.gif", snapshot, 3, in_process)

    asyncio.run(scenario())


# --- the profanity filter -------------------------------------------------------------------------------------------


def test_wordcloud_a_flagged_word_is_left_out_of_the_cloud_and_listed_for_the_presenter() -> None:
    tally = tally_of(THREE, (1, ("trust", "shit")), (2, ("sh1t", "care")), (3, ("care",)))
    shown = screening.results(tally)
    assert [(word["text"], word["count"]) for word in shown["words"]] == [("care", 2), ("trust", 1)]
    assert [word["text"] for word in shown["filtered"]] == ["sh1t", "shit"]
    assert {text for text, _ in shown["cloud"]} == {"care", "trust"}
    assert shown["respondents"] == 3  # a held answer still counts its person
    projector = screening.render("wordcloud", "projector", THREE, tally)
    assert "shit" not in projector and "sh1t" not in projector
    presenter = screening.render("wordcloud", "presenter", THREE, tally)
    assert "2 words held back by the profanity filter" in presenter
    assert screening.show_button(presenter, "word", "shit") and screening.show_button(presenter, "word", "sh1t")


def test_wordcloud_showing_a_flagged_word_lets_it_into_the_cloud() -> None:
    tally = tally_of(THREE, (1, ("trust", "shit")), (2, ("care",)))
    moderation = kind.moderate({}, "show", {"word": ["shit"]})
    shown = screening.results(tally, moderation)
    assert [word["text"] for word in shown["words"]] == ["care", "shit", "trust"]
    assert shown["filtered"] == []
    hidden_again = kind.moderate(moderation, "hide", {"word": ["shit"]})
    assert [word["text"] for word in screening.results(tally, hidden_again)["hidden"]] == ["shit"]


def test_wordcloud_the_filter_switched_off_holds_nothing_back() -> None:
    tally = tally_of(THREE, (1, ("trust", "shit")))
    shown = screening.results(tally, switched({}, False))
    assert [word["text"] for word in shown["words"]] == ["shit", "trust"] and shown["filtered"] == []


def test_wordcloud_a_flagged_word_its_writer_replaced_is_no_longer_listed() -> None:
    tally = tally_of(THREE, (1, ("shit",)))
    assert [word["text"] for word in screening.results(tally)["filtered"]] == ["shit"]
    tally.fold(ResponseEvent(1, 1, 0, 99, payload(THREE, "trust")))
    assert tally.free_texts == {("trust", "trust"): 1}
    assert screening.results(tally)["filtered"] == []
