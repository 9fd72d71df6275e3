"""The open-question kind: its config, what a participant may write, the cards, moderation and export."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from activities import registry
from activities import testing as screening
from activities.base import ResponseEvent, SubmissionInvalid, digest
from activities.open import (
    MAX_PROJECTED,
    OpenConfig,
    OpenSubmission,
    OpenTally,
    answer_key,
    kind,
)
from activities.qa import question_key
from activities.testing import Database, check_folding_matches_recompute

PLAIN = OpenConfig()
MODERATED = OpenConfig(moderated=True)
SHORT = OpenConfig(max_length=20)


def text_of(config: OpenConfig, *typed: str) -> str:
    return kind.validate_submission(config, {"text": list(typed)}).text


def refusal(config: OpenConfig, form: dict[str, list[str]]) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, form)
    return str(caught.value)


def event(participant: int, version: int, text: str, epoch: int = 0) -> ResponseEvent:
    return ResponseEvent(
        activity_id=1, participant_id=participant, epoch=epoch, version=version, payload={"text": text}
    )


def tally_of(config: OpenConfig, *answers: tuple[int, int, str]) -> OpenTally:
    """A tally with each (participant, version, text) folded in the order given."""
    tally = OpenTally(config)
    for participant, version, text in answers:
        tally.fold(event(participant, version, text))
    return tally


def texts(snapshot: dict[str, Any], cards: str = "cards") -> list[str]:
    return [card["text"] for card in snapshot[cards]]


# --- config -------------------------------------------------------------------------------------------------------


def test_open_is_registered_under_its_name() -> None:
    assert registry["open"] is kind
    assert kind.moderation_actions == {"hide", "show", "highlight", "unhighlight", "approve"}


def test_open_config_defaults_to_280_characters_unmoderated() -> None:
    config = kind.parse_config({})
    assert (config.max_length, config.moderated) == (280, False)


def test_open_config_accepts_its_bounds() -> None:
    assert kind.parse_config({"max_length": 20, "moderated": True}).max_length == 20
    assert kind.parse_config({"max_length": 1000}).max_length == 1000


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"max_length": 19}, "greater than or equal to 20"),
        ({"max_length": 1001}, "less than or equal to 1000"),
        ({"moderated": "perhaps"}, "valid boolean"),
        ({"max_lenght": 100}, "Extra inputs are not permitted"),
    ],
)
def test_open_config_refuses_what_a_deck_gets_wrong(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        kind.parse_config(raw)


# --- what a participant may write ---------------------------------------------------------------------------------


def test_open_tidies_spaces_and_keeps_case_and_punctuation() -> None:
    assert text_of(PLAIN, "  We need\n\n more   time   to talk!  ") == "We need\n\nmore time to talk!"  # lines kept


def test_open_removes_control_and_zero_width_characters_and_normalises_unicode() -> None:
    assert text_of(PLAIN, "tr\u200bu\x07st ﬁrst") == "trust first"


def test_open_keeps_markup_as_plain_text() -> None:
    assert text_of(PLAIN, "<script>alert(1)</script>") == "<script>alert(1)</script>"


def test_open_asks_for_an_answer_when_the_text_is_empty() -> None:
    assert refusal(PLAIN, {"text": [""]}) == "Write an answer before sending."
    assert refusal(PLAIN, {"text": [" \u200b\n\t"]}) == "Write an answer before sending."
    assert refusal(PLAIN, {}) == "Write an answer before sending."


def test_open_refuses_a_text_longer_than_the_limit_and_says_how_long() -> None:
    assert refusal(SHORT, {"text": ["x" * 21]}) == "Keep your answer to 20 characters; it has 21."


def test_open_measures_length_after_tidying() -> None:
    assert text_of(SHORT, "   " + "x" * 20 + "  \u200b ") == "x" * 20


def test_open_holds_several_text_fields_to_the_same_limit() -> None:
    assert text_of(PLAIN, "one", "two") == "one two"
    assert refusal(SHORT, {"text": ["x" * 10, "y" * 10]}) == "Keep your answer to 20 characters; it has 21."


def test_open_trusts_a_stored_payload_as_it_is() -> None:
    stored = OpenSubmission.model_validate({"text": "As stored"}, context={"config": PLAIN, "stored": True})
    assert stored.text == "As stored"


# --- the cards ----------------------------------------------------------------------------------------------------


def test_open_shows_newest_answers_first() -> None:
    tally = tally_of(PLAIN, (1, 10, "First"), (2, 30, "Third"), (3, 20, "Second"))
    snapshot = tally.snapshot({})
    assert texts(snapshot) == ["Third", "Second", "First"]
    assert texts(snapshot, "visible") == ["Third", "Second", "First"]
    assert snapshot["respondents"] == 3


def test_open_replaces_a_participants_answer_and_moves_it_to_the_front() -> None:
    tally = tally_of(PLAIN, (1, 10, "Draft"), (2, 20, "Other"), (1, 30, "Final"))
    assert texts(tally.snapshot({})) == ["Final", "Other"]
    assert tally.respondents == 2
    assert tally.answer_of(1) == tally.parse_payload({"text": "Final"})


def test_open_ignores_an_older_version_arriving_late() -> None:
    tally = tally_of(PLAIN, (1, 30, "Final"), (1, 10, "Draft"))
    assert texts(tally.snapshot({})) == ["Final"]


def test_open_add_and_retract_count_people_per_text() -> None:
    tally = OpenTally(PLAIN)
    same = tally.parse_payload({"text": "Same"})
    tally.add(same)
    tally.add(same)
    assert tally.people == {answer_key("Same"): 2}  # counted per card: answers that differ only by case are one
    tally.retract(same)
    tally.retract(same)
    assert tally.people == {}


def test_open_merges_the_same_text_into_one_card_with_its_newest_version() -> None:
    tally = tally_of(PLAIN, (1, 10, "Yes"), (2, 20, "No"), (3, 30, "Yes"))
    cards = tally.snapshot({})["cards"]
    assert [(card["text"], card["count"], card["version"]) for card in cards] == [("Yes", 2, 30), ("No", 1, 20)]


def test_open_orders_cards_of_the_same_version_by_text() -> None:
    tally = tally_of(PLAIN, (1, 10, "b"), (2, 10, "a"))
    assert texts(tally.snapshot({})) == ["a", "b"]


def test_open_reset_forgets_every_answer() -> None:
    tally = tally_of(PLAIN, (1, 10, "Old"))
    tally.fold(event(2, 5, "New", epoch=1))
    assert texts(tally.snapshot({})) == ["New"]


def test_open_projects_a_bounded_number_of_cards_and_counts_the_rest() -> None:
    tally = tally_of(PLAIN, *[(p, p, f"Answer {p}") for p in range(MAX_PROJECTED + 3)])
    snapshot = tally.snapshot({})
    assert len(snapshot["visible"]) == MAX_PROJECTED
    assert snapshot["more"] == 3
    assert len(snapshot["cards"]) == MAX_PROJECTED + 3


# --- moderation -----------------------------------------------------------------------------------------------------


def test_open_keys_answers_by_a_digest_of_their_text_as_compared() -> None:
    # Case is ignored (issue 17: as Q&A's questions), so the key is the digest of the case-folded text.
    assert answer_key("Trust") == digest("trust")
    assert tally_of(PLAIN, (1, 1, "Trust")).snapshot({})["cards"][0]["key"] == digest("trust")


def test_open_hide_takes_an_answer_off_the_projector_and_show_brings_it_back() -> None:
    tally = tally_of(PLAIN, (1, 10, "Kind"), (2, 20, "Rude"))
    moderation = kind.moderate({}, "hide", {"answer": [answer_key("Rude")]})
    assert moderation == {"hidden": [answer_key("Rude")]}
    snapshot = tally.snapshot(moderation)
    assert texts(snapshot, "visible") == ["Kind"]
    assert [card["hidden"] for card in snapshot["cards"]] == [True, False]
    shown = kind.moderate(moderation, "show", {"answer": [answer_key("Rude")]})
    assert shown == {"hidden": [], "allowed": [answer_key("Rude")]}
    assert texts(tally.snapshot(shown), "visible") == ["Rude", "Kind"]


def test_open_highlight_puts_an_answer_first_and_unhighlight_puts_it_back() -> None:
    tally = tally_of(PLAIN, (1, 10, "Older"), (2, 20, "Newer"))
    moderation = kind.moderate({}, "highlight", {"answer": [answer_key("Older")]})
    snapshot = tally.snapshot(moderation)
    assert texts(snapshot, "visible") == ["Older", "Newer"]
    assert snapshot["visible"][0]["highlighted"] is True
    back = kind.moderate(moderation, "unhighlight", {"answer": [answer_key("Older")]})
    assert texts(tally.snapshot(back), "visible") == ["Newer", "Older"]


def test_open_moderated_answers_wait_for_approval() -> None:
    tally = tally_of(MODERATED, (1, 10, "Fine"), (2, 20, "Pending"))
    snapshot = tally.snapshot({})
    assert snapshot["visible"] == []
    assert snapshot["pending"] == 2
    approved = kind.moderate({}, "approve", {"answer": [answer_key("Fine")]})
    snapshot = tally.snapshot(approved)
    assert texts(snapshot, "visible") == ["Fine"]
    assert [(card["text"], card["pending"]) for card in snapshot["cards"]] == [("Pending", True), ("Fine", False)]
    assert snapshot["pending"] == 1


def test_open_an_edited_answer_needs_approving_again() -> None:
    tally = tally_of(MODERATED, (1, 10, "Approved text"))
    approved = kind.moderate({}, "approve", {"answer": [answer_key("Approved text")]})
    assert texts(tally.snapshot(approved), "visible") == ["Approved text"]
    tally.fold(event(1, 20, "Approved text, then edited"))
    snapshot = tally.snapshot(approved)
    assert snapshot["visible"] == []
    assert snapshot["cards"][0]["pending"] is True


def test_open_a_hidden_approved_answer_stays_off_the_projector() -> None:
    tally = tally_of(MODERATED, (1, 10, "Text"))
    key = answer_key("Text")
    moderation = kind.moderate(kind.moderate({}, "approve", {"answer": [key]}), "hide", {"answer": [key]})
    assert moderation == {"approved": [key], "hidden": [key]}
    assert tally.snapshot(moderation)["visible"] == []


def test_open_approval_is_ignored_when_not_moderated() -> None:
    snapshot = tally_of(PLAIN, (1, 10, "Text")).snapshot({})
    assert (snapshot["pending"], snapshot["cards"][0]["pending"]) == (0, False)


def test_open_moderating_twice_is_the_same_as_once() -> None:
    key = answer_key("Twice")
    once = kind.moderate({}, "highlight", {"answer": [key]})
    assert kind.moderate(once, "highlight", {"answer": [key]}) == once == {"highlighted": [key]}


@pytest.mark.parametrize(
    ("verb", "form", "message"),
    [
        ("delete", {"answer": [digest("x")]}, "Choose hide, show, highlight, unhighlight or approve."),
        ("hide", {}, "Choose one answer to hide."),
        ("approve", {"answer": [digest("x"), digest("y")]}, "Choose one answer to approve."),
        ("highlight", {"answer": ["not a key"]}, "Choose one answer to highlight."),
    ],
)
def test_open_moderation_refuses_an_unknown_verb_or_answer(verb: str, form: dict[str, list[str]], message: str) -> None:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.moderate({}, verb, form)
    assert str(caught.value) == message


# --- export -------------------------------------------------------------------------------------------------------


def test_open_export_rows_give_the_text() -> None:
    submission = kind.validate_submission(PLAIN, {"text": ["  More  time "]})
    assert kind.export_rows(PLAIN, submission) == [{"text": "More time"}]


# --- folding in any order -------------------------------------------------------------------------------------------

VOCABULARY = ["Trust", "trust", "More time to talk", "  More time\nto talk ", "<b>bold</b>", "équipe", "e\u0301quipe"]
FORMS = st.sampled_from(VOCABULARY).map(lambda typed: {"text": [typed]})


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_open_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, kind, MODERATED, FORMS, data)


# --- the profanity filter -------------------------------------------------------------------------------------------


def test_open_a_flagged_answer_is_held_from_the_projector_and_marked_for_the_presenter() -> None:
    tally = tally_of(PLAIN, (1, 10, "Trust each other"), (2, 20, "This is bullsh1t"))
    shown = screening.results(tally)
    assert texts(shown, "visible") == ["Trust each other"]
    held = next(card for card in shown["cards"] if card["filtered"])
    assert (held["text"], held["visible"], held["hidden"]) == ("This is bullsh1t", False, False)
    projector = screening.render("open", "projector", PLAIN, tally)
    assert "bullsh1t" not in projector and "Trust each other" in projector
    presenter = screening.render("open", "presenter", PLAIN, tally)
    assert screening.MARK in presenter and "bullsh1t" in presenter
    assert screening.show_button(presenter, "answer", answer_key("This is bullsh1t"))


def test_open_show_lets_a_flagged_answer_through_and_approving_one_does_too() -> None:
    tally = tally_of(PLAIN, (1, 10, "What the fuck"))
    key = answer_key("What the fuck")
    assert texts(screening.results(tally, kind.moderate({}, "show", {"answer": [key]})), "visible") == ["What the fuck"]
    waiting = tally_of(MODERATED, (1, 10, "What the fuck"))
    assert screening.results(waiting)["visible"] == []
    approved = kind.moderate({}, "approve", {"answer": [key]})
    assert texts(screening.results(waiting, approved), "visible") == ["What the fuck"]


def test_open_a_flagged_answer_counts_its_person_and_the_report_leaves_it_out() -> None:
    tally = tally_of(PLAIN, (1, 10, "Trust"), (2, 20, "Trust"), (3, 30, "shit"))
    shown = screening.results(tally)
    assert shown["respondents"] == 3
    assert [item.text for item in kind.listing(PLAIN, shown)] == ["Trust"]
    assert [line["label"] for line in kind.result_lines(shown)] == ["Trust"]


def test_open_answers_that_differ_only_by_case_or_line_breaks_are_one_card_as_qa_questions_are() -> None:
    tally = tally_of(PLAIN, (1, 10, "Grading"), (2, 20, "grading"), (3, 30, "Grading"), (4, 40, "Our\ntimetable"))
    cards = {card["text"]: card for card in tally.snapshot({})["cards"]}
    assert set(cards) == {"Grading", "Our\ntimetable"}  # the wording most people gave is shown
    assert cards["Grading"]["count"] == 3
    assert cards["Grading"]["key"] == answer_key("GRADING") == answer_key("grading") == digest("grading")
    assert answer_key("our timetable") == cards["Our\ntimetable"]["key"]
    # One rule for both kinds: Q&A's questions are keyed by the same comparison.
    assert question_key("Grading") == answer_key("grading")
    # Moderation by the card's key hides every wording of it; taking one person's answer back leaves the rest.
    hidden = tally.snapshot({"hidden": [answer_key("grading")]})
    assert [card["hidden"] for card in hidden["cards"] if card["text"] == "Grading"] == [True]
    tally.fold(ResponseEvent(0, 1, 0, 50, {"text": "Something else"}))
    tally.fold(ResponseEvent(0, 3, 0, 60, {"text": "Something else"}))
    cards = {card["text"]: card for card in tally.snapshot({})["cards"]}
    assert cards["grading"]["count"] == 1


def test_a_stored_sessions_moderation_by_the_keys_answers_had_before_case_was_ignored_still_holds() -> None:
    # Before issue 17 an answer's key was the digest of its text as typed: a stored session's moderation names those.
    tally = tally_of(MODERATED, (1, 10, "Rude Word"), (2, 20, "Fine"))
    earlier = {"hidden": [digest("Rude Word")], "approved": [digest("Fine"), digest("Rude Word")]}
    cards = {card["text"]: card for card in tally.snapshot(earlier)["cards"]}
    assert (cards["Rude Word"]["hidden"], cards["Rude Word"]["visible"]) == (True, False)  # still hidden
    assert (cards["Fine"]["pending"], cards["Fine"]["visible"]) == (False, True)  # still approved
    # The presenter's "show" (by the card's key today) brings it back; "hide" takes it off again.
    shown_now = kind.moderate(earlier, "show", {"answer": [cards["Rude Word"]["key"]]})
    assert {card["text"]: card["visible"] for card in tally.snapshot(shown_now)["cards"]}["Rude Word"] is True
    hidden_again = kind.moderate(shown_now, "hide", {"answer": [cards["Rude Word"]["key"]]})
    assert {card["text"]: card["hidden"] for card in tally.snapshot(hidden_again)["cards"]}["Rude Word"] is True
