"""The call for resources: its config, what a participant may suggest and upvote, merging, moderation and export."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from activities import registry
from activities import testing as screening
from activities.base import PoolCohort, PoolSource, ResponseEvent, SubmissionInvalid, digest
from activities.resources import (
    DEFAULT_TYPES,
    MAX_PROJECTED,
    ResourcesConfig,
    ResourcesSubmission,
    ResourcesTally,
    identity_key,
    kind,
    normalise_link,
)
from activities.testing import Database, check_folding_matches_recompute
from server.live.fragments import make_environment

MODERATED = ResourcesConfig()
OPEN = ResourcesConfig(moderated=False)
TOOLKIT = "https://example.org/toolkit"
TOOLKIT_KEY = identity_key(TOOLKIT, "")


def suggestion(
    title: str = "",
    link: str = "",
    note: str = "",
    type_: str = "tool",
    upvotes: tuple[str, ...] = (),
    config: ResourcesConfig = MODERATED,
) -> ResourcesSubmission:
    form = {"type": [type_], "title": [title], "link": [link], "note": [note], "upvote": list(upvotes)}
    return kind.validate_submission(config, form)


def refusal(form: dict[str, list[str]], config: ResourcesConfig = MODERATED) -> str:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.validate_submission(config, form)
    return str(caught.value)


def tally_of(config: ResourcesConfig, *answers: ResourcesSubmission) -> ResourcesTally:
    """A tally with answer i folded as participant i's first response."""
    tally = ResourcesTally(config)
    for participant, submission in enumerate(answers):
        payload = submission.model_dump()
        tally.fold(ResponseEvent(activity_id=1, participant_id=participant, epoch=0, version=1, payload=payload))
    return tally


def summary(snapshot: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(item["title"], item["suggested_by"], item["upvotes"]) for item in snapshot["resources"]]


# --- config -------------------------------------------------------------------------------------------------------


def test_resources_is_registered_under_its_name() -> None:
    assert registry["resources"] is kind
    assert kind.moderation_actions == {"approve", "hide", "show", "retitle"}


def test_resources_config_defaults_to_moderated_with_five_types() -> None:
    config = kind.parse_config({})
    assert config.moderated is True
    assert config.types == list(DEFAULT_TYPES) == ["tool", "video", "activity", "reading", "other"]


def test_resources_config_tidies_its_types() -> None:
    assert kind.parse_config({"types": ["  case   study ", "podcast"], "moderated": False}).types == [
        "case study",
        "podcast",
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"types": []}, "at least 1 item"),
        ({"types": [str(i) for i in range(13)]}, "at most 12 items"),
        ({"types": ["tool", "Tool"]}, "two types are the same"),
        ({"types": ["  "]}, "a type is empty"),
        ({"types": ["x" * 31]}, "a type is longer than 30 characters"),
        ({"moderated": "perhaps"}, "valid boolean"),
        ({"moderate": True}, "Extra inputs are not permitted"),
    ],
)
def test_resources_config_refuses_what_a_deck_gets_wrong(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        kind.parse_config(raw)


# --- links --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("HTTPS://Example.ORG", "https://example.org/"),
        ("https://example.org/", "https://example.org/"),
        ("https://example.org:443/a?b=1#part", "https://example.org/a?b=1"),
        ("http://example.org:80", "http://example.org/"),
        ("http://example.org:8080/A/", "http://example.org:8080/A/"),
        ("https://[::1]:8443/x", "https://[::1]:8443/x"),
    ],
)
def test_resources_links_are_normalised(typed: str, stored: str) -> None:
    assert normalise_link(typed) == stored


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("www.example.org/page", "https://www.example.org/page"),
        ("example.org", "https://example.org/"),
        ("example.org/path?q=1", "https://example.org/path?q=1"),
        ("Example.ORG/A#part", "https://example.org/A"),
        ("example.org:8080/x", "https://example.org:8080/x"),
        ("www.example.org:443/x", "https://www.example.org/x"),
        ("//example.org/a", "https://example.org/a"),
        ("192.0.2.7/notes", "https://192.0.2.7/notes"),
        ("bücher.example/liste", "https://bücher.example/liste"),
    ],
)
def test_resources_a_link_without_a_scheme_is_taken_as_https(typed: str, stored: str) -> None:
    assert normalise_link(typed) == stored
    sent = suggestion("A title", typed)
    assert sent.link == stored
    assert ResourcesSubmission.model_validate(sent.model_dump(), context={"stored": True}).link == stored


NOT_A_WEB_LINK = "Only web links can be shared: start the link with https:// or http://."
NO_WEBSITE = "This link has no website in it; paste the whole link, like https://example.org/page."


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("JavaScript:alert(1)", NOT_A_WEB_LINK),
        ("javascript://example.org/%0Aalert(1)", NOT_A_WEB_LINK),
        ("data:example.org", NOT_A_WEB_LINK),
        ("file://example.org/etc/passwd", NOT_A_WEB_LINK),
        ("mailto:me@example.org", NOT_A_WEB_LINK),
        ("ftp://example.org/file", NOT_A_WEB_LINK),
        ("user:secret@example.org", NOT_A_WEB_LINK),
        ("localhost", NO_WEBSITE),
        ("localhost/admin", NO_WEBSITE),
        ("notes", NO_WEBSITE),
        ("v1.2", NO_WEBSITE),
        ("10.0.1/x", NO_WEBSITE),
        ("[::1]/x", NO_WEBSITE),
        ("example.org./x", NO_WEBSITE),
        (".org", NO_WEBSITE),
        ("good.org@evil.org/page", "Leave the user name and password out of the link."),
        ("good.org:pw@evil.org", NOT_A_WEB_LINK),
        ("see example.org", "A link cannot contain spaces; paste it again."),
        ("the book by Kotter", "A link cannot contain spaces; paste it again."),
        ("example.org/" + "x" * 489, "Keep the link to 500 characters; it has 501."),
    ],
)
def test_resources_refuses_scheme_less_text_that_is_not_a_web_link(typed: str, message: str) -> None:
    assert refusal({"type": ["tool"], "title": ["A title"], "link": [typed]}) == message


def test_resources_a_stored_link_must_carry_its_scheme() -> None:
    """An archive's answer is trusted only with the link a participant's answer would have become."""
    with pytest.raises(ValidationError):
        ResourcesSubmission.model_validate(
            {"type": "tool", "title": "A title", "link": "www.example.org/page"}, context={"stored": True}
        )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("javascript:alert(1)", "Only web links can be shared: start the link with https:// or http://."),
        ("data:text/html,hi", "Only web links can be shared: start the link with https:// or http://."),
        ("file:///etc/passwd", "Only web links can be shared: start the link with https:// or http://."),
        ("https:///path", "This link has no website in it; paste the whole link, like https://example.org/page."),
        ("https://example.org:port", "This link's port is not a number; check the link."),
        ("https://me:secret@example.org", "Leave the user name and password out of the link."),
        ("https://example.org/a b", "A link cannot contain spaces; paste it again."),
        ("https://example.org/" + "x" * 481, "Keep the link to 500 characters; it has 501."),
    ],
)
def test_resources_refuses_links_that_are_not_web_links(typed: str, message: str) -> None:
    assert refusal({"type": ["tool"], "title": ["A title"], "link": [typed]}) == message


# --- what a participant may send ----------------------------------------------------------------------------------


def test_resources_tidies_the_suggestion() -> None:
    sent = suggestion("  The   Leadership\u200b Toolkit ", " HTTPS://Example.org/toolkit#top ", "  Great\n for teams ")
    assert (sent.type, sent.title, sent.link, sent.note) == (
        "tool",
        "The Leadership Toolkit",
        TOOLKIT,
        "Great\nfor teams",  # a note is typed in a textarea: its line breaks are kept
    )
    assert sent.upvotes == ()


def test_resources_a_title_is_one_line_a_note_keeps_its_lines() -> None:
    sent = suggestion("The Leadership\r\nToolkit", TOOLKIT, "Chapter 2 first.\r\n\r\n\r\nThen the\u2028exercises.")
    assert sent.title == "The Leadership Toolkit"
    assert sent.note == "Chapter 2 first.\n\nThen the\nexercises."
    assert kind.export_rows(OPEN, sent)[0]["note"] == "Chapter 2 first.\n\nThen the\nexercises."


def test_resources_a_note_is_measured_with_each_line_break_as_one_character() -> None:
    assert suggestion("A title", note="x" * 139 + "\r\n" + "y" * 140).note == "x" * 139 + "\n" + "y" * 140
    assert refusal({"type": ["tool"], "title": ["A title"], "note": ["x" * 140 + "\r\n" + "y" * 140]}) == (
        "Keep the note to 280 characters; it has 281."
    )


def test_resources_accepts_upvotes_alone_sorted_and_distinct() -> None:
    keys = (identity_key(None, "b"), identity_key(None, "a"))
    sent = kind.validate_submission(MODERATED, {"type": ["tool"], "title": [""], "upvote": [*keys, keys[0]]})
    assert (sent.title, sent.type, sent.upvotes) == (None, None, tuple(sorted(keys)))


def test_resources_matches_the_type_ignoring_case() -> None:
    assert suggestion("A talk", type_=" VIDEO ").type == "video"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Suggest a resource or upvote one first."),
        ({"type": ["tool"], "title": ["  "], "link": [""], "note": [""]}, "Suggest a resource or upvote one first."),
        ({"type": ["tool"], "link": [TOOLKIT]}, "Give your resource a title."),
        ({"type": ["tool"], "note": ["A note"]}, "Give your resource a title."),
        ({"type": ["tool"], "title": ["x" * 121]}, "Keep the title to 120 characters; it has 121."),
        ({"type": ["tool"], "title": ["A"], "note": ["x" * 281]}, "Keep the note to 280 characters; it has 281."),
        ({"type": ["podcast"], "title": ["A"]}, "Choose the type of resource: tool, video, activity, reading, other."),
        ({"title": ["A"]}, "Choose the type of resource: tool, video, activity, reading, other."),
        ({"upvote": ["not a key"]}, "Upvote resources from the list."),
        ({"upvote": [f"{i:016x}" for i in range(101)]}, "Upvote at most 100 resources."),
    ],
)
def test_resources_refuses_with_a_message_for_people(form: dict[str, list[str]], message: str) -> None:
    assert refusal(form) == message


def test_resources_holds_repeated_fields_to_the_same_limit() -> None:
    assert refusal({"type": ["tool"], "title": ["x" * 60, "y" * 60]}) == "Keep the title to 120 characters; it has 121."


# --- the tally ----------------------------------------------------------------------------------------------------


def test_resources_merges_equal_links_and_counts_people() -> None:
    tally = tally_of(
        OPEN,
        suggestion("Toolkit", "https://EXAMPLE.org/toolkit"),
        suggestion("The toolkit", "https://example.org:443/toolkit#intro"),
        suggestion("Toolkit", TOOLKIT),
        suggestion("Another", "https://example.org/other"),
    )
    assert summary(tally.snapshot({})) == [("Toolkit", 3, 0), ("Another", 1, 0)]
    assert tally.snapshot({})["resources"][0]["key"] == TOOLKIT_KEY


def test_resources_links_that_differ_by_a_trailing_slash_are_one_resource() -> None:
    # Issue 17: "resource links that differ by a trailing slash stay two resources". The link stored is the one typed
    # (a server may tell them apart); they are compared without it, and the link most people gave is shown.
    tally = tally_of(
        OPEN,
        suggestion("Guide", "https://example.org/guide/"),
        suggestion("Guide", "https://example.org/guide"),
        suggestion("Guide", "example.org/guide/"),
        suggestion("Site", "https://example.org"),
        suggestion("Site", "https://example.org/"),
    )
    resources = tally.snapshot({})["resources"]
    assert [(item["title"], item["suggested_by"], item["link"]) for item in resources] == [
        ("Guide", 3, "https://example.org/guide/"),
        ("Site", 2, "https://example.org/"),
    ]
    assert (
        resources[0]["key"]
        == identity_key("https://example.org/guide", "")
        == identity_key("https://example.org/guide/", "")
    )
    assert identity_key("https://example.org/guide?x=1", "") == identity_key("https://example.org/guide/?x=1", "")
    assert identity_key("https://example.org/a", "") != identity_key("https://example.org/b/", "")


def test_the_library_merges_links_that_differ_by_a_trailing_slash_across_cohorts() -> None:
    cohorts = [PoolCohort(1, "phx", "Phoenix", "Phoenix"), PoolCohort(2, "oak", "Oakland", "Oakland")]
    shown = {"type": "tool", "title": "Guide", "note": None, "suggested_by": 1, "upvotes": 0, "visible": True}
    sources = [
        PoolSource(cohorts[0], {"resources": [{**shown, "key": "a", "link": "https://example.org/guide/"}]}),
        PoolSource(cohorts[1], {"resources": [{**shown, "key": "b", "link": "https://example.org/guide"}]}),
    ]
    pool = kind.pool(sources, cohorts, None)
    assert [(item.title, item.suggested) for item in pool.resources] == [("Guide", 2)]  # type: ignore[attr-defined]


def test_resources_merges_a_linkless_title_into_the_linked_resource_of_that_title() -> None:
    tally = tally_of(OPEN, suggestion("Toolkit", TOOLKIT), suggestion("  toolkit "), suggestion("Other idea"))
    assert summary(tally.snapshot({})) == [("Toolkit", 2, 0), ("Other idea", 1, 0)]


def test_resources_keeps_different_links_apart_even_with_the_same_title() -> None:
    tally = tally_of(OPEN, suggestion("Toolkit", TOOLKIT), suggestion("Toolkit", "https://example.com/"))
    assert [item["suggested_by"] for item in tally.snapshot({})["resources"]] == [1, 1]


def test_resources_shows_the_most_common_title_ties_alphabetical() -> None:
    tally = tally_of(OPEN, suggestion("Zeta", TOOLKIT, type_="video"), suggestion("Alpha", TOOLKIT, note="Good"))
    (item,) = tally.snapshot({})["resources"]
    assert (item["title"], item["type"], item["note"], item["host"]) == ("Alpha", "tool", "Good", "example.org")


def test_resources_counts_upvotes_by_people_but_not_of_ones_own_suggestion() -> None:
    other = identity_key(None, "reflection cards")
    tally = tally_of(
        OPEN,
        suggestion("Toolkit", TOOLKIT, upvotes=(TOOLKIT_KEY, other)),
        suggestion("Reflection cards", upvotes=(TOOLKIT_KEY,)),
        kind.validate_submission(OPEN, {"upvote": [TOOLKIT_KEY, other]}),
        kind.validate_submission(OPEN, {"upvote": [identity_key(None, "nobody suggested this")]}),
    )
    assert summary(tally.snapshot({})) == [("Reflection cards", 1, 2), ("Toolkit", 1, 2)]  # equal scores: by title
    assert [item["score"] for item in tally.snapshot({})["resources"]] == [3, 3]


def test_resources_upvote_of_a_linkless_key_follows_it_into_the_linked_resource() -> None:
    tally = tally_of(
        OPEN,
        suggestion("Toolkit", TOOLKIT),
        suggestion("toolkit"),
        suggestion("B", upvotes=(identity_key(None, "Toolkit"),)),
    )
    assert summary(tally.snapshot({}))[0] == ("Toolkit", 2, 1)


def test_resources_orders_by_score_then_title() -> None:
    tally = tally_of(OPEN, suggestion("b"), suggestion("a"), suggestion("c"), suggestion("c"))
    assert [item["title"] for item in tally.snapshot({})["resources"]] == ["c", "a", "b"]


def test_resources_replacing_an_answer_retracts_the_old_one() -> None:
    tally = ResourcesTally(OPEN)
    first, second = suggestion("Old"), suggestion("New", upvotes=(identity_key(None, "Old"),))
    tally.fold(ResponseEvent(1, 7, 0, 1, first.model_dump()))
    tally.fold(ResponseEvent(1, 7, 0, 2, second.model_dump()))
    tally.fold(ResponseEvent(1, 7, 0, 1, first.model_dump()))  # a late repeat of the old version changes nothing
    assert summary(tally.snapshot({})) == [("New", 1, 0)]
    assert tally.respondents == 1


def test_resources_wait_for_approval_when_moderated() -> None:
    tally = tally_of(MODERATED, suggestion("Toolkit", TOOLKIT), suggestion("Cards"))
    snapshot = tally.snapshot({})
    assert (snapshot["visible"], snapshot["pending"]) == ([], 2)
    snapshot = tally.snapshot({"approved": [TOOLKIT_KEY], "hidden": [identity_key(None, "cards")]})
    assert [item["title"] for item in snapshot["visible"]] == ["Toolkit"]
    assert snapshot["pending"] == 0  # a hidden resource no longer waits
    assert [(item["approved"], item["hidden"]) for item in snapshot["resources"]] == [(False, True), (True, False)]


def test_resources_projects_at_most_a_screenful() -> None:
    tally = tally_of(OPEN, *(suggestion(f"Resource {i:02}") for i in range(MAX_PROJECTED + 3)))
    snapshot = tally.snapshot({})
    assert (len(snapshot["visible"]), snapshot["more"]) == (MAX_PROJECTED, 3)


# --- moderation ---------------------------------------------------------------------------------------------------


def test_resources_moderation_approves_hides_shows_and_retitles() -> None:
    state = kind.moderate({}, "approve", {"answer": [TOOLKIT_KEY]})
    state = kind.moderate(state, "hide", {"answer": [TOOLKIT_KEY]})
    assert state == {"approved": [TOOLKIT_KEY], "hidden": [TOOLKIT_KEY]}
    state = kind.moderate(state, "show", {"answer": [TOOLKIT_KEY]})
    state = kind.moderate(state, "retitle", {"answer": [TOOLKIT_KEY], "title": ["  The   Toolkit "]})
    assert state == {
        "approved": [TOOLKIT_KEY],
        "hidden": [],
        "allowed": [TOOLKIT_KEY],
        "titles": {TOOLKIT_KEY: "The Toolkit"},
    }
    tally = tally_of(MODERATED, suggestion("toolkit", TOOLKIT))
    assert tally.snapshot(state)["visible"][0]["title"] == "The Toolkit"
    assert kind.moderate(state, "retitle", {"answer": [TOOLKIT_KEY], "title": [" "]})["titles"] == {}


@pytest.mark.parametrize(
    ("verb", "form", "message"),
    [
        ("delete", {"answer": [TOOLKIT_KEY]}, "Choose approve, hide, show or retitle."),
        ("hide", {}, "Choose one resource to hide."),
        ("approve", {"answer": [TOOLKIT_KEY, TOOLKIT_KEY]}, "Choose one resource to approve."),
        ("retitle", {"answer": ["not a key"], "title": ["x"]}, "Choose one resource to retitle."),
        ("retitle", {"answer": [TOOLKIT_KEY], "title": ["x" * 121]}, "Keep the title to 120 characters; it has 121."),
    ],
)
def test_resources_moderation_refuses_an_unknown_verb_or_resource(
    verb: str, form: dict[str, list[str]], message: str
) -> None:
    with pytest.raises(SubmissionInvalid) as caught:
        kind.moderate({}, verb, form)
    assert str(caught.value) == message


# --- export -------------------------------------------------------------------------------------------------------


def test_resources_export_rows_give_the_suggestion_and_upvotes() -> None:
    keys = (identity_key(None, "a"), identity_key(None, "b"))
    sent = suggestion("Toolkit", "HTTPS://example.org/toolkit", "Good", upvotes=keys)
    assert kind.export_rows(MODERATED, sent) == [
        {"type": "tool", "title": "Toolkit", "link": TOOLKIT, "note": "Good", "upvoted": " ".join(sorted(keys))}
    ]
    upvotes_only = kind.validate_submission(MODERATED, {"upvote": [keys[0]]})
    assert kind.export_rows(MODERATED, upvotes_only) == [
        {"type": "", "title": "", "link": "", "note": "", "upvoted": keys[0]}
    ]


# --- the phones' list to upvote ----------------------------------------------------------------------------------

ENV = make_environment(registry)


def render(name: str, tally: ResourcesTally, answer: ResourcesSubmission | None) -> str:
    activity = SimpleNamespace(id=9, session_id=3, voting_open=True, moderation={})
    context = {"activity": activity, "config": OPEN, "results": tally.snapshot({}), "answer": answer}
    return ENV.get_template(f"resources/{name}.html").render(**context, respond_url="/123456/respond", csrf=None)


def test_resources_list_on_a_phone_ticks_its_upvotes_and_leaves_out_its_own() -> None:
    other = suggestion("Other toolkit", "https://other.example/", config=OPEN)
    mine = suggestion("Toolkit", TOOLKIT, upvotes=(identity_key("https://other.example/", ""),), config=OPEN)
    tally = tally_of(OPEN, mine, other)
    page = render("shared", tally, mine)  # with the phone's page: its marks set by the server
    assert 'id="shared-9"' in page and "Other toolkit" in page and f'data-key="{TOOLKIT_KEY}"' not in page
    assert page.count("checked") == 1 and page.count('name="upvote"') == 1
    pushed = render("shared", tally, None)  # to every phone: nobody's marks, everyone's resources
    assert "checked" not in pushed and pushed.count('name="upvote"') == 2
    assert f'data-key="{TOOLKIT_KEY}"' in pushed
    own = render("own", tally, mine)  # what resources.js hides in the pushed list
    assert 'data-resources-own="shared-9"' in own and f'data-mine="{TOOLKIT_KEY}"' in own


def test_resources_phone_form_holds_the_list_to_upvote_and_the_phones_own_mark() -> None:
    mine = suggestion("Toolkit", TOOLKIT, config=OPEN)
    form = render("participant", tally_of(OPEN, mine, suggestion("Other", "https://other.example/", config=OPEN)), mine)
    assert form.count('id="shared-9"') == 1 and form.count('id="own-9"') == 1 and 'value="Toolkit"' in form


# --- folding in any order -------------------------------------------------------------------------------------------

POOL = [
    ("Toolkit", "https://example.org/toolkit"),
    ("toolkit", ""),
    ("The toolkit", "HTTPS://Example.org:443/toolkit#top"),
    ("Toolkit", "https://example.com/"),
    ("Reflection cards", ""),
    ("reflection  cards", ""),
    ("Video talk", "http://video.example/talk"),
]
POOL_KEYS = sorted(
    {identity_key(normalise_link(link) if link else None, " ".join(title.split())) for title, link in POOL}
)
SUGGESTIONS = st.one_of(
    st.just({}),
    st.builds(
        lambda picked, kind_, note: {"title": [picked[0]], "link": [picked[1]], "type": [kind_], "note": [note]},
        st.sampled_from(POOL),
        st.sampled_from(DEFAULT_TYPES),
        st.sampled_from(["", "Helpful", "Short"]),
    ),
)
FORMS = st.builds(
    lambda suggested, upvotes: {**suggested, "upvote": upvotes},
    SUGGESTIONS,
    st.lists(st.sampled_from(POOL_KEYS), max_size=3),
).filter(lambda form: bool(form.get("title") or form["upvote"]))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_resources_tally_folded_in_any_order_equals_a_recompute_from_the_database(
    database: Database, data: st.DataObject
) -> None:
    check_folding_matches_recompute(database, kind, MODERATED, FORMS, data)


# --- the profanity filter -------------------------------------------------------------------------------------------


def test_resources_a_flagged_resource_is_held_from_the_room_and_marked_for_the_presenter() -> None:
    tally = tally_of(OPEN, suggestion("The toolkit", TOOLKIT), suggestion("Sh1t show", note="honest"))
    shown = screening.results(tally)
    assert [item["title"] for item in shown["visible"]] == ["The toolkit"]
    assert [(item["title"], item["filtered"]) for item in shown["resources"]] == [
        ("Sh1t show", True),
        ("The toolkit", False),
    ]
    projector = screening.render("resources", "projector", OPEN, tally)
    assert "Sh1t" not in projector and "The toolkit" in projector
    presenter = screening.render("resources", "presenter", OPEN, tally)
    assert screening.MARK in presenter
    assert screening.show_button(presenter, "answer", identity_key(None, "Sh1t show"))
    assert kind.render_document("md", "Resources", shown).count("- ") == 1  # the list follows the projector


def test_resources_a_flagged_note_or_link_holds_the_resource_back() -> None:
    noted = tally_of(OPEN, suggestion("Toolkit", TOOLKIT, note="fucking great"))
    assert screening.results(noted)["visible"] == []
    linked = tally_of(OPEN, suggestion("Reading", "https://example.org/bullshit-jobs"))
    assert screening.results(linked)["visible"] == []


def test_resources_a_flagged_suggestion_merged_into_another_holds_it_back_until_shown() -> None:
    # A link-less suggestion of the same title joins the linked resource: its note may be the one shown.
    tally = tally_of(OPEN, suggestion("Toolkit", TOOLKIT), suggestion("toolkit", note="shit but useful"))
    assert [item["suggested_by"] for item in screening.results(tally)["resources"]] == [2]
    assert screening.results(tally)["visible"] == []
    shown = kind.moderate({}, "show", {"answer": [TOOLKIT_KEY]})
    assert [item["title"] for item in screening.results(tally, shown)["visible"]] == ["Toolkit"]


def test_a_stored_sessions_moderation_and_upvotes_by_a_slashed_links_earlier_key_still_hold() -> None:
    # Before issue 17 a link's key was the digest of the link as stored, trailing slash and all.
    slashed = "https://example.org/guide/"
    old_key = digest(["link", slashed])
    tally = tally_of(
        MODERATED,
        suggestion("Guide", slashed),
        suggestion("Other", "https://example.org/other"),
        suggestion(upvotes=(old_key,), title="", link=""),
    )
    moderation = {"approved": [old_key], "titles": {old_key: "The guide"}}
    (item,) = [one for one in tally.snapshot(moderation)["resources"] if one["link"] == slashed]
    assert item["key"] != old_key and item["key"] == identity_key(slashed, "")
    assert (item["approved"], item["visible"], item["title"], item["upvotes"]) == (True, True, "The guide", 1)
    hidden = tally.snapshot({"hidden": [old_key]})["resources"]
    assert [one["hidden"] for one in hidden if one["link"] == slashed] == [True]
