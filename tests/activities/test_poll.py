"""The poll kind: its config, what a participant may submit, and the live bars."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from activities import registry
from activities.base import ResponseEvent, SubmissionInvalid
from activities.poll import MAX_OPTIONS, PollConfig, PollSubmission, PollTally, kind

SINGLE = PollConfig(options=["Putting out fires", "Maintaining the organization", "Engaging in improvement"])
MULTIPLE = PollConfig(options=["Listening", "Curiosity", "Inquiry", "Safety"], multiple=True, max_choices=2)


def config_error(**raw: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        kind.parse_config(raw)
    return str(caught.value)


def refusal(config: PollConfig, **form: list[str]) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, form)
    return str(caught.value)


def event(participant: int, version: int, *choices: int, epoch: int = 0) -> ResponseEvent:
    return ResponseEvent(
        activity_id=1, participant_id=participant, epoch=epoch, version=version, payload={"choices": list(choices)}
    )


# --- config -----------------------------------------------------------------------------------------------------


def test_poll_is_registered_under_its_name() -> None:
    assert registry["poll"] is kind
    assert kind.label == "Poll"


def test_poll_config_tidies_whitespace_in_options() -> None:
    config = kind.parse_config({"options": ["  Putting   out fires ", "Design"]})
    assert config.options == ["Putting out fires", "Design"]


def test_poll_config_refuses_options_that_differ_only_in_case_or_spacing() -> None:
    assert "two options are the same" in config_error(options=["Design", "design", "Action"])
    assert "two options are the same" in config_error(options=["Review  cycle", "Review cycle"])


def test_poll_config_refuses_an_empty_option() -> None:
    assert "an option is empty" in config_error(options=["Design", "   "])


def test_poll_config_refuses_an_option_longer_than_the_limit() -> None:
    assert "longer than 120 characters" in config_error(options=["Design", "x" * 121])


def test_poll_config_needs_at_least_two_options() -> None:
    assert "at least 2" in config_error(options=["Only one"])
    assert "options" in config_error()


def test_poll_config_allows_at_most_twenty_options() -> None:
    assert len(kind.parse_config({"options": [f"Option {i}" for i in range(MAX_OPTIONS)]}).options) == MAX_OPTIONS
    assert "at most 20" in config_error(options=[f"Option {i}" for i in range(MAX_OPTIONS + 1)])


@pytest.mark.parametrize("max_choices", [0, -1, MAX_OPTIONS + 1])
def test_poll_config_refuses_max_choices_out_of_range(max_choices: int) -> None:
    assert "max_choices" in config_error(options=["A", "B"], multiple=True, max_choices=max_choices)


def test_poll_config_refuses_unknown_keys() -> None:
    assert "colour" in config_error(options=["A", "B"], colour="red")


def test_poll_choice_limit_is_one_for_single_choice_and_max_choices_or_all_for_multiple() -> None:
    assert SINGLE.choice_limit == 1
    assert MULTIPLE.choice_limit == 2
    assert PollConfig(options=["A", "B", "C"], multiple=True).choice_limit == 3


# --- submissions --------------------------------------------------------------------------------------------------


def test_poll_accepts_one_choice_for_a_single_choice_poll() -> None:
    assert kind.validate_submission(SINGLE, {"choice": ["2"]}).choices == [2]


def test_poll_accepts_several_choices_up_to_the_limit_sorted() -> None:
    assert kind.validate_submission(MULTIPLE, {"choice": ["3", "0"]}).choices == [0, 3]


def test_poll_ignores_blank_values_and_surrounding_spaces() -> None:
    assert kind.validate_submission(SINGLE, {"choice": ["", " 1 "]}).choices == [1]


def test_poll_asks_to_pick_when_nothing_was_picked() -> None:
    assert refusal(SINGLE) == "Pick an option first."
    assert refusal(SINGLE, choice=["", "  "]) == "Pick an option first."


@pytest.mark.parametrize("value", ["3", "7", "999"])
def test_poll_refuses_an_option_index_out_of_range(value: str) -> None:
    assert refusal(SINGLE, choice=[value]) == "That option is not part of this poll."


@pytest.mark.parametrize("value", ["abc", "-1", "1.0", "0x1", "1000", "²", "½"])
def test_poll_refuses_a_value_that_is_not_an_option_index(value: str) -> None:
    assert refusal(SINGLE, choice=[value]) == "That option is not part of this poll."


def test_poll_refuses_several_non_index_values_as_not_part_of_the_poll() -> None:
    assert refusal(MULTIPLE, choice=["x", "y"]) == "That option is not part of this poll."


def test_poll_refuses_the_same_option_twice() -> None:
    assert refusal(MULTIPLE, choice=["1", "1"]) == "An option was picked twice."


def test_poll_single_choice_refuses_two_options() -> None:
    assert refusal(SINGLE, choice=["0", "1"]) == "Pick one option."


def test_poll_multiple_choice_refuses_more_than_max_choices() -> None:
    assert refusal(MULTIPLE, choice=["0", "1", "2"]) == "Pick at most 2 options."


def test_poll_stored_payload_round_trips_through_the_submission_model() -> None:
    submission = kind.validate_submission(MULTIPLE, {"choice": ["1", "3"]})
    stored = submission.model_dump(mode="json")
    assert stored == {"choices": [1, 3]}
    assert PollSubmission.model_validate(stored, context={"config": MULTIPLE}) == submission


def test_poll_export_rows_name_each_chosen_option() -> None:
    submission = kind.validate_submission(MULTIPLE, {"choice": ["0", "2"]})
    assert kind.export_rows(MULTIPLE, submission) == [
        {"option": "Listening", "option_index": 0},
        {"option": "Inquiry", "option_index": 2},
    ]


# --- tally --------------------------------------------------------------------------------------------------------


def test_poll_tally_counts_and_percentages_of_people_who_answered() -> None:
    tally = PollTally(SINGLE)
    for participant, choice in [(1, 0), (2, 0), (3, 1)]:
        assert tally.fold(event(participant, 1, choice))
    snapshot = tally.snapshot({})
    assert snapshot["respondents"] == 3
    assert [(o["label"], o["count"], o["percent"]) for o in snapshot["options"]] == [
        ("Putting out fires", 2, 67),
        ("Maintaining the organization", 1, 33),
        ("Engaging in improvement", 0, 0),
    ]
    assert [o["leading"] for o in snapshot["options"]] == [True, False, False]


def test_poll_tally_percentages_of_multiple_choice_are_of_people_not_of_choices() -> None:
    tally = PollTally(MULTIPLE)
    tally.fold(event(1, 1, 0, 1))
    tally.fold(event(2, 1, 0))
    options = tally.snapshot({})["options"]
    assert [(o["count"], o["percent"]) for o in options] == [(2, 100), (1, 50), (0, 0), (0, 0)]


def test_poll_tally_of_nobody_shows_zero_percent_and_no_leader() -> None:
    snapshot = PollTally(SINGLE).snapshot({})
    assert snapshot["respondents"] == 0
    assert all(o["count"] == 0 and o["percent"] == 0 and not o["leading"] for o in snapshot["options"])


def test_poll_tally_marks_every_option_tied_for_the_lead() -> None:
    tally = PollTally(SINGLE)
    tally.fold(event(1, 1, 0))
    tally.fold(event(2, 1, 2))
    assert [o["leading"] for o in tally.snapshot({})["options"]] == [True, False, True]


def test_poll_replacing_an_answer_retracts_the_old_one() -> None:
    tally = PollTally(SINGLE)
    tally.fold(event(1, 1, 0))
    assert tally.fold(event(1, 2, 2))
    assert tally.counts == [0, 0, 1]
    assert tally.respondents == 1
    assert tally.answer_of(1) is not None and tally.answer_of(1).choices == [2]  # type: ignore[union-attr]


def test_poll_an_older_version_arriving_late_changes_nothing() -> None:
    tally = PollTally(SINGLE)
    tally.fold(event(1, 5, 2))
    assert not tally.fold(event(1, 4, 0))
    assert tally.counts == [0, 0, 1]


def test_poll_folding_the_same_event_twice_counts_it_once() -> None:
    tally = PollTally(SINGLE)
    assert tally.fold(event(1, 1, 1))
    assert not tally.fold(event(1, 1, 1))
    assert tally.counts == [0, 1, 0]


def test_poll_reset_empties_the_bars_and_ignores_answers_from_before() -> None:
    tally = PollTally(SINGLE)
    tally.fold(event(1, 1, 1))
    assert tally.reset(1)
    assert tally.counts == [0, 0, 0] and tally.respondents == 0
    assert not tally.fold(event(2, 9, 1, epoch=0))
    assert tally.fold(event(2, 10, 0, epoch=1))
    assert tally.counts == [1, 0, 0]


# --- option images ------------------------------------------------------------------------------------------------

MAP = {"media": "a" * 64 + ".png", "alt": "A floor plan of the school"}
CHART = {"media": "b" * 64 + ".webp", "alt": "A bar chart of the week"}
PICTURED = kind.parse_config({"options": ["Plan", "Chart", "Neither"], "images": [MAP, CHART, None]})


def test_poll_config_takes_an_image_per_option_or_none() -> None:
    assert [image.media if image else None for image in PICTURED.images] == [MAP["media"], CHART["media"], None]
    assert PICTURED.image_of(1) is not None and PICTURED.image_of(2) is None
    assert SINGLE.images == [] and SINGLE.image_of(0) is None


def test_poll_config_refuses_images_that_do_not_match_the_options() -> None:
    error = config_error(options=["Plan", "Chart", "Neither"], images=[MAP, CHART])
    assert "give one per option, in the same order (3 options, 2 images)" in error


def test_poll_config_refuses_an_image_without_alt_text_or_with_a_foreign_name() -> None:
    assert "alt" in config_error(options=["Plan", "Chart"], images=[{"media": MAP["media"]}, None])
    assert "media" in config_error(options=["Plan", "Chart"], images=[{"media": "evil.svg", "alt": "x"}, None])
    assert "media" in config_error(
        options=["Plan", "Chart"], images=[{"media": "../" + MAP["media"], "alt": "x"}, None]
    )


def test_poll_config_schema_marks_option_images_for_the_image_widget() -> None:
    schema = PollConfig.model_json_schema()
    images = schema["properties"]["images"]
    assert images["description"]
    item = images["items"]
    assert item["widget"] == "image" and item["description"]


def test_poll_images_stay_out_of_the_tally() -> None:
    tally = PollTally(PICTURED)
    tally.fold(event(1, 1, 0))
    assert [option["count"] for option in tally.snapshot({})["options"]] == [1, 0, 0]
    assert set(tally.snapshot({})["options"][0]) == {"label", "count", "percent", "leading"}


def test_poll_results_show_each_options_picture_by_its_bar_with_its_alt_text() -> None:
    from activities.testing import render

    tally = PollTally(PICTURED)
    tally.fold(event(1, 1, 1))
    for audience in ("presenter", "projector"):
        html = render("poll", audience, PICTURED, tally)
        assert f'src="/media/{MAP["media"]}" alt="A floor plan of the school"' in html
        assert f'src="/media/{CHART["media"]}" alt="A bar chart of the week"' in html
        assert html.count("option-thumb") == 2


def test_poll_participant_form_shows_each_options_picture_beside_it() -> None:
    from activities.testing import environment

    html = environment().get_template("poll/participant.html").render(config=PICTURED, answer=None)
    assert html.count('class="option-image"') == 2
    assert f'src="/media/{MAP["media"]}" alt="A floor plan of the school"' in html


def test_poll_config_without_pictures_is_stored_as_before() -> None:
    assert "images" not in SINGLE.model_dump() and "images" not in SINGLE.model_dump_json()
    assert PICTURED.model_dump()["images"][2] is None
    assert kind.parse_config(PICTURED.model_dump()) == PICTURED
