"""Audience Q&A: its config, each change a participant's form makes, the tally, moderation, export and templates."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from activities import registry
from activities import testing as screening
from activities.base import ResponseEvent, SubmissionInvalid, digest
from activities.qa import (
    MAX_PROJECTED,
    MAX_SHARED,
    MAX_UPVOTES,
    QaConfig,
    QaSubmission,
    QaTally,
    kind,
    question_key,
)
from activities.testing import Database, check_folding_matches_recompute
from server.live.fragments import make_environment

MODERATED = QaConfig()
OPEN = QaConfig(moderated=False)
NAMELESS = QaConfig(names=False)
SCRIPT = "<script>alert(1)</script>"
START = "How do we start?"
START_KEY = question_key(START)


def change(
    form: dict[str, list[str]], previous: QaSubmission | None = None, config: QaConfig = MODERATED
) -> QaSubmission:
    return kind.validate_submission(config, form, previous)


def ask(text: str, previous: QaSubmission | None = None, name: str = "", config: QaConfig = MODERATED) -> QaSubmission:
    return change({"question": [text], "name": [name]}, previous, config)


def upvote(key: str, previous: QaSubmission | None = None, config: QaConfig = MODERATED) -> QaSubmission:
    return change({"upvote": [key]}, previous, config)


def refusal(form: dict[str, list[str]], previous: QaSubmission | None = None, config: QaConfig = MODERATED) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, form, previous)
    return str(caught.value)


def tally_of(config: QaConfig, *answers: QaSubmission) -> QaTally:
    """A tally with answer i folded as participant i's first response."""
    tally = QaTally(config)
    for participant, submission in enumerate(answers):
        payload = submission.model_dump(mode="json")
        tally.fold(ResponseEvent(activity_id=1, participant_id=participant, epoch=0, version=1, payload=payload))
    return tally


def summary(snapshot: dict[str, Any], part: str = "questions") -> list[tuple[str, int, int, int]]:
    return [(q["text"], q["askers"], q["upvoters"], q["score"]) for q in snapshot[part]]


# --- config -------------------------------------------------------------------------------------------------------


def test_qa_is_registered_as_an_ambient_sharing_kind() -> None:
    assert registry["qa"] is kind
    assert (kind.label, kind.ambient, kind.shares_results) == ("Q&A", True, True)
    assert kind.moderation_actions == {"approve", "hide", "show", "answer", "reopen", "highlight", "unhighlight"}


def test_qa_config_defaults() -> None:
    config = kind.parse_config({})
    assert (config.moderated, config.names, config.max_length, config.max_questions) == (True, True, 200, 5)


def test_qa_config_takes_its_limits() -> None:
    config = kind.parse_config({"moderated": False, "names": False, "max_length": 40, "max_questions": 20})
    assert (config.moderated, config.names, config.max_length, config.max_questions) == (False, False, 40, 20)
    assert kind.parse_config({"max_length": 500, "max_questions": 1}).max_length == 500


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"max_length": 39}, "greater than or equal to 40"),
        ({"max_length": 501}, "less than or equal to 500"),
        ({"max_questions": 0}, "greater than or equal to 1"),
        ({"max_questions": 21}, "less than or equal to 20"),
        ({"moderated": "perhaps"}, "valid boolean"),
        ({"anonymous": True}, "Extra inputs are not permitted"),
    ],
)
def test_qa_config_refuses_what_a_deck_gets_wrong(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        kind.parse_config(raw)


# --- asking -------------------------------------------------------------------------------------------------------


def test_qa_asking_tidies_the_text_and_the_name() -> None:
    sent = ask("  How do\u200b we   start?\n ", name="  Ana   María ")
    assert [(q.text, q.name) for q in sent.questions] == [("How do we start?", "Ana María")]
    assert sent.upvotes == ()
    assert sent.keys == [START_KEY] == [digest("how do we start?")]


def test_qa_an_empty_name_asks_anonymously() -> None:
    assert ask(START, name="   ").questions[0].name is None
    assert change({"question": [START]}).questions[0].name is None


def test_qa_names_are_never_stored_when_switched_off() -> None:
    sent = ask(START, name="Ana", config=NAMELESS)
    assert sent.questions[0].name is None
    assert "Ana" not in sent.model_dump_json()


def test_qa_asking_builds_on_the_previous_answer() -> None:
    first = ask(START, name="Ana")
    voted = upvote(question_key("Other"), first)
    second = ask("  What  about budgets? ", voted)
    assert [(q.text, q.name) for q in second.questions] == [(START, "Ana"), ("What about budgets?", None)]
    assert second.upvotes == (question_key("Other"),)


def test_qa_the_same_question_ignoring_case_and_spaces_has_one_key() -> None:
    assert question_key("how do  we START?") == START_KEY
    assert question_key("How do we start") != START_KEY


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Write a question before sending."),
        ({"question": ["  \n "]}, "Write a question before sending."),
        ({"question": ["\u200b"], "name": ["Ana"]}, "Write a question before sending."),
        ({"question": ["x" * 201]}, "Keep your question to 200 characters; it has 201."),
        ({"question": ["x" * 150, "y" * 50]}, "Keep your question to 200 characters; it has 201."),
        ({"question": ["Why?"], "name": ["n" * 41]}, "Keep your name to 40 characters; it has 41."),
    ],
)
def test_qa_refuses_an_ask_with_a_message_for_people(form: dict[str, list[str]], message: str) -> None:
    assert refusal(form) == message


def test_qa_refuses_asking_the_same_question_twice() -> None:
    first = ask(START)
    assert refusal({"question": ["  how DO we start? "]}, first) == "You have asked this already."


def test_qa_refuses_more_questions_than_allowed() -> None:
    two = QaConfig(max_questions=2)
    answer = ask("One?", ask("Two?", config=two), config=two)
    assert (
        refusal({"question": ["Three?"]}, answer, two)
        == "You can ask at most 2 questions; withdraw one to ask another."
    )
    one = QaConfig(max_questions=1)
    assert refusal({"question": ["Two?"]}, ask("One?", config=one), one) == (
        "You can ask at most one question; withdraw one to ask another."
    )


def test_qa_a_name_too_long_is_ignored_when_names_are_off() -> None:
    assert ask(START, name="n" * 100, config=NAMELESS).questions[0].name is None


def test_qa_hostile_input_is_kept_as_text() -> None:
    assert ask(SCRIPT, name="<b>me</b>").questions[0].model_dump() == {"text": SCRIPT, "name": "<b>me</b>"}


# --- upvoting and withdrawing -------------------------------------------------------------------------------------


def test_qa_upvote_toggles_and_keeps_keys_sorted() -> None:
    a, b = question_key("b question"), question_key("a question")
    answer = upvote(a, upvote(b))
    assert answer.upvotes == tuple(sorted([a, b]))
    assert upvote(a, answer).upvotes == (b,)  # a second tap takes the upvote back


def test_qa_upvote_of_a_key_nobody_asked_is_stored_but_not_counted() -> None:
    unknown = question_key("nobody asked this")
    answer = upvote(unknown)
    assert answer.upvotes == (unknown,)
    assert tally_of(OPEN, answer).snapshot({})["questions"] == []


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"upvote": ["not a key"]}, "Upvote a question from the list."),
        ({"upvote": [START_KEY.upper()]}, "Upvote a question from the list."),
        ({"upvote": [START_KEY, question_key("Other")]}, "Upvote a question from the list."),
        ({"withdraw": [START_KEY]}, "You can only withdraw your own questions."),
        ({"withdraw": ["not a key"]}, "You can only withdraw your own questions."),
    ],
)
def test_qa_refuses_an_upvote_or_withdrawal_with_a_message_for_people(form: dict[str, list[str]], message: str) -> None:
    assert refusal(form) == message


def test_qa_refuses_an_upvote_of_ones_own_question() -> None:
    assert refusal({"upvote": [START_KEY]}, ask(START)) == "You cannot upvote your own question."


def test_qa_refuses_more_upvotes_than_anyone_gives() -> None:
    answer = QaSubmission(upvotes=tuple(f"{i:016x}" for i in range(MAX_UPVOTES)))
    assert refusal({"upvote": [question_key("One more")]}, answer) == "You can upvote at most 200 questions."
    assert upvote(f"{0:016x}", answer).upvotes[0] == f"{1:016x}"  # taking one back is still possible


def test_qa_asking_a_question_one_upvoted_drops_the_upvote() -> None:
    answer = ask(START, upvote(START_KEY))
    assert (answer.keys, answer.upvotes) == ([START_KEY], ())


def test_qa_withdraw_removes_one_own_question_and_keeps_the_rest() -> None:
    answer = upvote(question_key("Other"), ask("Second?", ask(START)))
    left = change({"withdraw": [f" {START_KEY} "]}, answer)
    assert [q.text for q in left.questions] == ["Second?"]
    assert left.upvotes == answer.upvotes
    assert ask(START, left).keys == [question_key("Second?"), START_KEY]  # asking again is possible


def test_qa_a_change_wins_over_a_question_typed_beside_it() -> None:
    answer = ask(START)
    left = change({"withdraw": [START_KEY], "question": ["Half typed"]}, answer)
    assert left.questions == ()


def test_qa_a_stored_payload_is_trusted_as_it_is() -> None:
    payload: dict[str, Any] = {
        "questions": [{"text": "One?", "name": None}, {"text": "Two?", "name": "Ana"}],
        "upvotes": [START_KEY],
    }
    stored = QaTally(QaConfig(max_questions=1, names=False)).parse_payload(payload)  # not held to today's config
    assert stored.model_dump(mode="json") == payload


# --- the tally ----------------------------------------------------------------------------------------------------


def test_qa_merges_the_same_question_and_counts_its_askers() -> None:
    tally = tally_of(
        OPEN,
        ask("How do we start?", name="Ben"),
        ask("how do we START?", name="Ana"),
        ask("How do  we start?"),
        ask("Who decides?"),
    )
    (first, second) = tally.snapshot({})["questions"]
    assert (first["text"], first["askers"], first["names"], first["score"]) == (START, 2 + 1, ["Ana", "Ben"], 3)
    assert (second["text"], second["names"], second["askers"]) == ("Who decides?", [], 1)


def test_qa_shows_the_most_common_wording_ties_alphabetical() -> None:
    tally = tally_of(OPEN, ask("how do we start?"), ask("How do we start?"))
    assert tally.snapshot({})["questions"][0]["text"] == "How do we start?"
    tally = tally_of(OPEN, ask("how do we start?"), ask("How do we start?"), ask("how do we start?"))
    assert tally.snapshot({})["questions"][0]["text"] == "how do we start?"


def test_qa_upvotes_count_people_and_never_an_askers_own() -> None:
    other = question_key("Who decides?")
    tally = tally_of(
        OPEN,
        ask(START),
        ask("Who decides?", upvote(START_KEY)),
        upvote(other, upvote(START_KEY)),
        # A forged, trusted payload upvoting its own question: its asker still counts once.
        QaSubmission(questions=(ask(START).questions[0],), upvotes=(START_KEY,)),
    )
    assert summary(tally.snapshot({})) == [(START, 2, 2, 4), ("Who decides?", 1, 1, 2)]
    assert tally.snapshot({})["people"] == 3


def test_qa_replacing_an_answer_retracts_the_old_one() -> None:
    tally = QaTally(OPEN)
    first = ask(START, name="Ana")
    second = change({"withdraw": [START_KEY]}, ask("Later?", first))
    for version, answer in [(1, first), (2, second), (1, first)]:  # a late repeat of the old version changes nothing
        tally.fold(ResponseEvent(1, 7, 0, version, answer.model_dump(mode="json")))
    assert summary(tally.snapshot({})) == [("Later?", 1, 0, 1)]
    assert (tally.respondents, tally.names, dict(tally.texts)) == (1, {}, {question_key("Later?"): {"Later?": 1}})


def test_qa_orders_highlighted_then_unanswered_by_score_then_answered() -> None:
    keys = {text: question_key(text) for text in ["a?", "b?", "c?", "d?"]}
    tally = tally_of(
        OPEN,
        ask("c?", ask("b?")),
        ask("c?", upvote(keys["b?"])),
        ask("a?", upvote(keys["b?"])),
        ask("d?"),
    )
    assert [q["text"] for q in tally.snapshot({})["questions"]] == ["b?", "c?", "a?", "d?"]
    moderation = {"answered": [keys["b?"]], "highlighted": [keys["d?"]]}
    snapshot = tally.snapshot(moderation)
    assert [q["text"] for q in snapshot["questions"]] == ["d?", "c?", "a?", "b?"]
    assert snapshot["highlighted"]["text"] == "d?"
    assert [q["text"] for q in snapshot["projected"]] == ["c?", "a?"]  # answered ones are left out
    assert (snapshot["answered"], snapshot["more"]) == (1, 0)
    assert [(q["answered"], q["highlighted"]) for q in snapshot["questions"]][0::3] == [(False, True), (True, False)]


def test_qa_waits_for_approval_when_moderated() -> None:
    tally = tally_of(MODERATED, ask(START), ask("Who decides?"), ask("Hidden one?"))
    snapshot = tally.snapshot({})
    assert (snapshot["visible"], snapshot["pending"], snapshot["highlighted"]) == ([], 3, None)
    moderation = {"approved": [START_KEY], "hidden": [question_key("Hidden one?")]}
    snapshot = tally.snapshot(moderation)
    assert [q["text"] for q in snapshot["visible"]] == [START]
    assert snapshot["pending"] == 1  # a hidden question no longer waits
    flags = {q["text"]: (q["approved"], q["pending"], q["hidden"], q["visible"]) for q in snapshot["questions"]}
    assert flags == {
        START: (True, False, False, True),
        "Who decides?": (False, True, False, False),
        "Hidden one?": (False, True, True, False),
    }


def test_qa_approval_is_not_needed_when_not_moderated() -> None:
    snapshot = tally_of(OPEN, ask(START)).snapshot({})
    assert (snapshot["pending"], [q["visible"] for q in snapshot["visible"]]) == (0, [True])


def test_qa_projects_and_shares_at_most_a_screenful() -> None:
    many = [ask(f"Question {i:03}?") for i in range(MAX_SHARED + 2)]
    snapshot = tally_of(OPEN, *many).snapshot({})
    assert (len(snapshot["projected"]), snapshot["more"]) == (MAX_PROJECTED, MAX_SHARED + 2 - MAX_PROJECTED)
    assert (len(snapshot["visible"]), snapshot["more_visible"]) == (MAX_SHARED, 2)


# --- moderation ---------------------------------------------------------------------------------------------------


def test_qa_moderation_verbs() -> None:
    other = question_key("Other?")
    state = kind.moderate({}, "approve", {"question": [START_KEY]})
    state = kind.moderate(state, "highlight", {"question": [START_KEY]})
    assert state == {"approved": [START_KEY], "highlighted": [START_KEY]}
    state = kind.moderate(state, "highlight", {"question": [other]})  # one at a time
    assert state["highlighted"] == [other]
    state = kind.moderate(state, "unhighlight", {"question": [other]})
    state = kind.moderate(state, "highlight", {"question": [START_KEY]})
    state = kind.moderate(state, "answer", {"question": [START_KEY]})  # answering ends the highlight
    assert (state["answered"], state["highlighted"]) == ([START_KEY], [])
    state = kind.moderate(state, "reopen", {"question": [START_KEY]})
    state = kind.moderate(state, "highlight", {"question": [other]})
    state = kind.moderate(state, "hide", {"question": [other]})  # so does hiding
    assert state == {"approved": [START_KEY], "highlighted": [], "answered": [], "hidden": [other]}
    state = kind.moderate(state, "show", {"question": [other]})
    assert state["hidden"] == []


def test_qa_moderating_twice_is_the_same_as_once() -> None:
    once = kind.moderate({}, "approve", {"question": [START_KEY]})
    assert kind.moderate(once, "approve", {"question": [START_KEY]}) == once


@pytest.mark.parametrize(
    ("verb", "form", "message"),
    [
        ("delete", {"question": [START_KEY]}, "Choose approve, hide, show, answer, reopen, highlight or unhighlight."),
        ("hide", {}, "Choose one question to hide."),
        ("approve", {"question": [START_KEY, START_KEY]}, "Choose one question to approve."),
        ("highlight", {"question": ["not a key"]}, "Choose one question to highlight."),
        ("answer", {"question": [START_KEY.upper()]}, "Choose one question to answer."),
    ],
)
def test_qa_moderation_refuses_an_unknown_verb_or_question(verb: str, form: dict[str, list[str]], message: str) -> None:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.moderate({}, verb, form)
    assert str(caught.value) == message


# --- export -------------------------------------------------------------------------------------------------------


def test_qa_export_rows_give_each_question_and_the_upvotes() -> None:
    other = question_key("Other?")
    answer = upvote(other, ask("Second?", ask(START, name="Ana")))
    assert kind.export_rows(MODERATED, answer) == [
        {"key": START_KEY, "question": START, "name": "Ana", "upvoted": ""},
        {"key": question_key("Second?"), "question": "Second?", "name": "", "upvoted": ""},
        {"key": "", "question": "", "name": "", "upvoted": other},
    ]
    assert kind.export_rows(MODERATED, ask(START)) == [{"key": START_KEY, "question": START, "name": "", "upvoted": ""}]
    assert kind.export_rows(MODERATED, QaSubmission()) == [{"key": "", "question": "", "name": "", "upvoted": ""}]


# --- templates ----------------------------------------------------------------------------------------------------

ENV = make_environment(registry)


def render(name: str, config: QaConfig, tally: QaTally, answer: QaSubmission | None, **moderation: Any) -> str:
    activity = SimpleNamespace(id=9, session_id=3, voting_open=True, moderation=moderation)
    context = {
        "activity": activity,
        "respond_url": "/123456/respond",
        "config": config,
        "results": tally.snapshot(moderation),
        "answer": answer,
        "audience": name,
    }
    return ENV.get_template(f"qa/{name}.html").render(**context)


def test_qa_templates_show_hostile_text_as_text() -> None:
    mine = ask(SCRIPT, name="<b>me</b>")
    tally = tally_of(OPEN, mine)
    for name in ("participant", "shared", "own", "presenter", "projector"):
        html = render(name, OPEN, tally, mine)
        assert "<script>" not in html and "<b>me" not in html, name
        assert "&lt;script&gt;" in html, name


def test_qa_shared_list_marks_the_participants_own_and_upvoted_questions() -> None:
    mine, theirs = ask(START), ask("Who decides?")
    voter = upvote(question_key("Who decides?"), mine)
    tally = tally_of(OPEN, voter, theirs)
    html = render("shared", OPEN, tally, voter)
    assert 'id="shared-9"' in html and f'data-key="{START_KEY}"' in html
    assert html.count('aria-pressed="true"') == 1 and html.count('aria-pressed="false"') == 1
    assert "qa-item mine" in html
    pushed = render("shared", OPEN, tally, None)  # for everyone: nobody's marks
    assert "mine" not in pushed and 'aria-pressed="true"' not in pushed
    own = render("own", OPEN, tally, voter)
    assert f'data-voted="{question_key("Who decides?")}"' in own and f'data-mine="{START_KEY}"' in own
    assert 'data-own-for="shared-9"' in own and "Shown to everyone" in own


def test_qa_own_questions_wait_for_approval_and_pending_ones_are_not_shared() -> None:
    mine = ask(START)
    tally = tally_of(MODERATED, mine)
    assert "Waiting for approval" in render("own", MODERATED, tally, mine)
    assert START not in render("shared", MODERATED, tally, None)
    assert START not in render("projector", MODERATED, tally, None)
    assert START in render("presenter", MODERATED, tally, None)
    assert START in render("shared", MODERATED, tally, None, approved=[START_KEY])
    empty = render("own", MODERATED, QaTally(MODERATED), None)
    assert " hidden>" in empty and 'data-mine=""' in empty


def test_qa_the_name_field_is_there_only_when_names_are_on() -> None:
    tally = QaTally(MODERATED)
    assert "Your name (optional)" in render("participant", MODERATED, tally, None)
    assert 'name="name"' not in render("participant", NAMELESS, tally, None)
    assert 'value="Ana"' in render("participant", MODERATED, tally, ask(START, name="Ana"))  # signed as last time


# --- folding in any order -------------------------------------------------------------------------------------------

VOCABULARY = ["How do we start?", "how do we START?", "Who decides?", SCRIPT, "Budget?"]
NAMES = ["", "Ana", "Ben"]
KEYS = sorted({question_key(text) for text in VOCABULARY} | {question_key("never asked")})
FORMS = st.one_of(
    st.builds(
        lambda text, name: {"question": [text], "name": [name]}, st.sampled_from(VOCABULARY), st.sampled_from(NAMES)
    ),
    st.sampled_from(KEYS).map(lambda key: {"upvote": [key]}),
    st.sampled_from(KEYS).map(lambda key: {"withdraw": [key]}),
)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_qa_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, kind, OPEN, FORMS, data, builds_on_previous=True)


# --- the profanity filter -------------------------------------------------------------------------------------------


def test_qa_a_flagged_question_is_held_from_the_room_and_marked_for_the_presenter() -> None:
    rude = ask("Why is this so sh!tty?", config=OPEN)
    tally = tally_of(OPEN, ask(START, config=OPEN), rude)
    shown = screening.results(tally)
    assert [question["text"] for question in shown["visible"]] == [START]
    assert [question["text"] for question in shown["projected"]] == [START]
    projector = screening.render("qa", "projector", OPEN, tally)
    assert "sh!tty" not in projector and START in projector
    presenter = screening.render("qa", "presenter", OPEN, tally)
    assert screening.MARK in presenter and "sh!tty" in presenter
    assert screening.show_button(presenter, "question", rude.questions[0].key)


def test_qa_a_flagged_name_holds_its_question_back() -> None:
    tally = tally_of(OPEN, ask(START, name="Dickhead", config=OPEN))
    assert screening.results(tally)["visible"] == []


def test_qa_show_lets_a_flagged_question_through_to_the_room_and_the_phones() -> None:
    rude = ask("What the fuck is distributed leadership?", config=OPEN)
    tally = tally_of(OPEN, rude)
    shown = kind.moderate({}, "show", {"question": [rude.questions[0].key]})
    assert [question["text"] for question in screening.results(tally, shown)["visible"]] == [rude.questions[0].text]


def test_qa_the_asker_of_a_held_question_sees_it_waiting_as_any_other() -> None:
    rude = ask("Why is this so shitty?", config=OPEN)
    tally = tally_of(OPEN, rude)
    context = {"activity": SimpleNamespace(id=9), "results": screening.results(tally), "answer": rude}
    own = screening.environment().get_template("qa/own.html").render(**context)
    assert "Waiting for approval" in own and "filter" not in own.lower()
