"""The profanity filter: its word lists, how it reads a text, what it must never flag, and its settings."""

from __future__ import annotations

import csv
import io
import json
import textwrap
import zipfile
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import col, select
from starlette.testclient import TestClient

from activities import registry
from activities.base import FILTERED
from server.decks import DeckInvalid, parse_deck
from server.models import Activity, Response, Role
from server.profanity import (
    FILTER,
    LANGUAGES,
    WORDLISTS,
    FilterSettings,
    canonical,
    filter_of,
    held_texts,
    parse_term,
    read_words,
    screen_for,
    screened,
    switched,
    with_filter,
    wordlist,
)
from tests.factories import (
    TWO_QUESTIONS,
    Presenter,
    api_token,
    caught_up,
    eventually,
    join,
    login,
    make_user,
    receive,
    receive_until,
    respond,
    root_id,
    stored,
)
from tests.server.archives.test_import import archive_zip, changed_activity, refused

BOTH = screen_for(LANGUAGES)
ENGLISH = screen_for(("en",))
SPANISH = screen_for(("es",))

# Words a workshop room types every day that hold, start, end with or look like a listed term.
INNOCENT_ENGLISH = [
    "class",
    "assess",
    "assessment",
    "assassin",
    "bass",
    "compass",
    "passion",
    "Scunthorpe",
    "cockpit",
    "cocktail",
    "peacock",
    "Hancock",
    "cockatoo",
    "analysis",
    "analyst",
    "therapist",
    "Sussex",
    "Essex",
    "as",
    "pass",
    "woops",
    "shiitake",
    "Matsushita",
    "Dickens",
    "Dickinson",
    "snigger",
    "niggardly",
    "niggle",
    "spice",
    "cumulative",
    "cum laude",
    "document",
    "title",
    "button",
    "skyscraper",
    "scrap",
    "Pissarro",
    "pornography",
    "arsenal",
    "titanic",
    "hello!",
    "well-being",
    "shell",
    "a chink in the armour",
    "dike",
    "hell no",
    "crap",
    "455 people",
    "1000$",
    "e.g.",
    "U.S.A.",
    "I, a",
    "a s s e t",  # spelled out, a run of letters is read whole
]
INNOCENT_SPANISH = [
    "concha",
    "cono",
    "año",
    "computadora",
    "disputa",
    "reputación",
    "imputar",
    "diputado",
    "putativo",
    "Maricopa",
    "calculo",
    "culebra",
    "culto",
    "vergüenza",
    "polla",
    "pollo",
    "coger el autobús",
    "perra",
    "foliar",
    "folía",
    "hostia",
    "pinche",
    "retrasado",
    "y a o",
]


def test_profanity_applies_to_the_kinds_where_people_type_text() -> None:
    typed = {kind.name for kind in registry.all() if kind.takes_free_text}
    assert typed == {"open", "qa", "resources", "wordcloud"}


def test_profanity_word_lists_load_and_every_line_is_a_term() -> None:
    for language in LANGUAGES:
        terms = wordlist(language)
        assert len(terms) > 100, language
        assert (WORDLISTS / f"{language}.txt").is_file()
    assert "coño" in {term.text for term in wordlist("es")}
    assert "bitch*" in {term.text for term in wordlist("en")}


def test_profanity_a_bad_term_is_refused_with_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="not a word or phrase of letters"):
        parse_term("f*ck")
    with pytest.raises(ValueError, match="not a word or phrase of letters"):
        parse_term("sh1t")
    with pytest.raises(ValueError, match="empty"):
        parse_term("   ")


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("fuck", "*fuck*"),
        ("What the FUCK", "*fuck*"),
        ("motherfucker", "*fuck*"),
        ("shit", "shit"),
        ("bullshit", "bullshit*"),
        ("dipshit", "*shit"),
        ("bitches", "bitch*"),
        ("asshole", "asshole*"),
        ("ass", "ass"),
        ("son of a bitch", "bitch*"),
        ("jerk off", "jerk off"),
        ("nigger", "nigger*"),
    ],
)
def test_profanity_english_list_flags_its_words(text: str, term: str) -> None:
    assert ENGLISH.term_in(text) == term


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("puta", "puta"),
        ("hijo de puta", "puta"),
        ("cabrón", "cabrón"),
        ("coño", "coño"),
        ("pendejos", "pendej*"),
        ("me cago en todo", "cago"),
        ("la concha de tu madre", "concha de tu madre"),
        ("maricón", "maricón"),
    ],
)
def test_profanity_spanish_list_flags_its_words(text: str, term: str) -> None:
    assert SPANISH.term_in(text) == term


def test_profanity_each_language_flags_only_with_its_list() -> None:
    assert ENGLISH.flags("shit") and not SPANISH.flags("shit")
    assert SPANISH.flags("mierda") and not ENGLISH.flags("mierda")
    assert BOTH.flags("shit") and BOTH.flags("mierda")


@pytest.mark.parametrize(
    "text",
    ["sh1t", "$hit", "5hit", "@ss", "a$$", "@$$", "b!tch", "bu11shit", "c0ck", "pu7a", "fuk3r", "ni99a", "shit!"],
)
def test_profanity_reads_swapped_characters_back(text: str) -> None:
    assert BOTH.flags(text), text


def test_profanity_reads_masked_letters_as_any_letter() -> None:
    assert BOTH.flags("f*ck") and BOTH.flags("sh#t") and BOTH.flags("a**hole")
    assert BOTH.flags("motherf*cker") and BOTH.flags("b*tches") and BOTH.flags("p*ta") and BOTH.flags("fuck*ng")
    assert not BOTH.flags("c*t") and not BOTH.flags("d*mn")
    assert not BOTH.flags("f***")  # more than two masks: already censored, not guessed at
    assert not BOTH.flags("*great*")  # stars around a word are emphasis, not letters


def test_profanity_ignores_case_accents_and_width() -> None:
    for text in ["FUCK", "Fück", "fúçk", "ｆｕｃｋ", "𝐟𝐮𝐜𝐤", "ⓕⓤⓒⓚ", "f\u0336u\u0336c\u0336k\u0336"]:
        assert BOTH.flags(text), text


def test_profanity_ignores_zero_width_and_format_characters() -> None:
    for invisible in ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u202e"]:
        assert BOTH.flags(f"f{invisible}u{invisible}ck"), repr(invisible)


def test_profanity_reads_look_alike_letters_of_other_scripts() -> None:
    assert BOTH.flags("fuсk")  # a Cyrillic с
    assert BOTH.flags("ѕhit")  # a Cyrillic ѕ


def test_profanity_stretched_letters_match_but_doubled_ones_stay_two() -> None:
    assert BOTH.flags("fuuuuuck") and BOTH.flags("shiiiiit") and BOTH.flags("asssss")
    assert not BOTH.flags("as")  # "ass" has two s
    assert not BOTH.flags("assess")  # not "asses"
    assert not BOTH.flags("woops")  # not "wops"


def test_profanity_reads_spelled_out_letters_as_one_word() -> None:
    for text in ["f u c k", "F U C K this", "f.u.c.k", "f-u-c-k", "s h i t", "p u t a", "you f u c k i n g idiot"]:
        assert BOTH.flags(text), text


def test_profanity_matches_whole_words_and_phrases_only() -> None:
    assert BOTH.flags("kiss my ass") and not BOTH.flags("glass")
    assert BOTH.flags("chúpame la polla") and not BOTH.flags("la polla")
    assert not BOTH.flags("concha")


@pytest.mark.parametrize("text", INNOCENT_ENGLISH)
def test_profanity_does_not_flag_innocent_english(text: str) -> None:
    assert BOTH.term_in(text) is None


@pytest.mark.parametrize("text", INNOCENT_SPANISH)
def test_profanity_does_not_flag_innocent_spanish(text: str) -> None:
    assert BOTH.term_in(text) is None


def test_profanity_keeps_enye_a_letter_of_its_own() -> None:
    assert canonical("Coño, AÑO, Éducation") == "coño, año, education"
    assert canonical("n\u0303") == "ñ"  # written as n plus a combining tilde
    assert [word[0] for word in read_words("año ano")] == ["año", "ano"]


def test_profanity_digits_alone_are_not_a_word() -> None:
    assert read_words("455 $$ 1000") == [("ss",)]  # symbols make a word; digits alone do not
    assert not BOTH.flags("room 455")


def test_profanity_extra_words_of_a_deck_are_flagged_too() -> None:
    settings = FilterSettings(extra_words=("synergy", "circle back", "low-hanging*"))
    assert settings.extra_words == ("synergy", "circle back", "low-hanging*")
    assert not BOTH.flags("synergy")
    assert settings.screen.flags("SYNERGY!") and settings.screen.flags("let's circle back")
    assert settings.screen.flags("shit")  # the lists stay
    only_mine = FilterSettings(languages=(), extra_words=("synergy",))
    assert only_mine.screen.flags("synergy") and not only_mine.screen.flags("shit")


def test_profanity_settings_refuse_what_they_cannot_use() -> None:
    with pytest.raises(ValidationError, match="Input should be 'en' or 'es'"):
        FilterSettings.model_validate({"languages": ["fr"]})
    with pytest.raises(ValidationError, match="not a word or phrase of letters"):
        FilterSettings.model_validate({"extra_words": ["syn3rgy"]})
    with pytest.raises(ValidationError, match="1 to 60 characters"):
        FilterSettings.model_validate({"extra_words": ["x" * 61]})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        FilterSettings.model_validate({"swearing": True})


def test_profanity_settings_keep_only_what_differs_from_the_defaults() -> None:
    assert with_filter({"hidden": ["x"]}, FilterSettings()) == {"hidden": ["x"]}
    off = with_filter({}, FilterSettings(profanity=False))
    assert off == {FILTER: {"profanity": False}}
    assert filter_of(off) == FilterSettings(profanity=False)
    assert filter_of({}) == FilterSettings()
    assert switched(off, True) == {}
    mine = with_filter({}, FilterSettings(extra_words=("synergy",)))
    assert switched(mine, False) == {FILTER: {"profanity": False, "extra_words": ["synergy"]}}


def test_profanity_screened_names_the_keys_of_flagged_texts() -> None:
    texts = [("k1", "trust"), ("k2", "shit"), ("k3", "care"), ("k3", "sh1t")]
    assert screened({"hidden": ["k1"]}, texts) == {"hidden": ["k1"], FILTERED: ["k2", "k3"]}


def test_profanity_switched_off_flags_nothing() -> None:
    off = switched({}, False)
    assert screened(off, [("k2", "shit")])[FILTERED] == []
    assert held_texts(off, [("k2", "shit")]) == set()
    assert screened({FILTERED: ["forged"]}, [])[FILTERED] == []  # the server's word, never a stored one


def test_profanity_held_texts_leave_out_what_the_presenter_let_through() -> None:
    answer = [("k1", "shit happens"), ("k1", "Ana"), ("k2", "fuck")]
    assert held_texts({}, answer) == {"shit happens", "fuck"}
    assert held_texts({"allowed": ["k1"]}, answer) == {"fuck"}
    assert held_texts({"approved": ["k2"]}, answer) == {"shit happens"}


def test_profanity_remembers_its_verdicts() -> None:
    screen = screen_for(("en",), ("remembered",))
    before = screen.term_in.cache_info().hits
    assert screen.flags("remembered") and screen.flags("remembered")
    assert screen.term_in.cache_info().hits == before + 1
    assert screen_for(("en",), ("remembered",)) is screen  # compiled once per word set


# --- the deck's `filter` key ----------------------------------------------------------------------------------------

FILTERED_DECK = """\
title: Words
filter:
  languages: [es]
  extra_words: [synergy]
activities:
  - kind: wordcloud
    title: Three words
  - kind: open
    title: Say more
    filter:
      profanity: false
  - kind: poll
    title: Where does the week go?
    options: [Fires, Maintenance]
"""


def deck_problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(DeckInvalid) as caught:
        parse_deck(textwrap.dedent(text), registry)
    return [(problem.line, problem.path, problem.message) for problem in caught.value.problems]


def test_profanity_deck_filter_is_on_with_both_languages_by_default() -> None:
    spec = parse_deck("title: T\nactivities:\n  - kind: open\n    title: Say\n", registry)
    assert spec.activities[0].filter == FilterSettings(profanity=True, languages=("en", "es"), extra_words=())


def test_profanity_deck_filter_is_inherited_and_overridden_key_by_key() -> None:
    cloud, answers, poll = parse_deck(FILTERED_DECK, registry).activities
    assert cloud.filter == FilterSettings(languages=("es",), extra_words=("synergy",))
    assert answers.filter == FilterSettings(profanity=False, languages=("es",), extra_words=("synergy",))
    assert poll.filter == FilterSettings()  # nothing typed: nothing to screen
    assert "filter" not in cloud.config  # not the kind's setting


def test_profanity_deck_filter_problems_point_at_their_lines() -> None:
    found = deck_problems(
        """\
        title: Words
        filter:
          languages: [en, fr]
          extra_words: [ok, "syn3rgy"]
          swearing: true
        activities:
          - kind: poll
            title: Week
            options: [A, B]
            filter: {profanity: false}
          - kind: open
            title: Say
            filter: off
        """
    )
    assert found == [
        (3, "filter.languages.1", "Input should be 'en' or 'es'"),
        (4, "filter.extra_words.1", "'syn3rgy' is not a word or phrase of letters (a * may start or end a word)"),
        (5, "filter.swearing", "Extra inputs are not permitted"),
        (10, "activities[0].filter", "a poll has no text typed by people to filter"),
        (13, "activities[1].filter", "a mapping of profanity, languages and extra_words"),
    ]


def test_profanity_deck_filter_is_kept_in_the_activitys_moderation(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start(FILTERED_DECK)
    cloud, answers, poll = stored(
        client, select(Activity).where(Activity.session_id == session["id"]).order_by(col(Activity.position))
    )
    assert cloud.moderation == {FILTER: {"languages": ["es"], "extra_words": ["synergy"]}}
    assert answers.moderation == {FILTER: {"profanity": False, "languages": ["es"], "extra_words": ["synergy"]}}
    assert poll.moderation == {}


# --- a live session -------------------------------------------------------------------------------------------------


def on_cloud(client: TestClient, presenter: Presenter) -> tuple[dict[str, Any], int]:
    """A live session of TWO_QUESTIONS showing its word cloud."""
    session = presenter.start(TWO_QUESTIONS)
    cloud = int(session["activities"][1]["id"])
    presenter.control(session["id"], "goto", cloud)
    caught_up(client, session["id"])
    return session, cloud


def test_profanity_a_flagged_word_never_reaches_the_projector_socket(client: TestClient, presenter: Presenter) -> None:
    session, cloud = on_cloud(client, presenter)
    secret = session["projector_url"].rsplit("/", 1)[1]
    token = join(client, session["code"])
    login(client, presenter.user.email)
    phone_socket = client.websocket_connect(
        f"/ws/participant/{session['code']}", headers={"cookie": f"handsup_participant={token}"}
    )
    with (
        client.websocket_connect(f"/ws/projector/{secret}") as projector,
        client.websocket_connect(f"/ws/presenter/{session['id']}") as presenter_socket,
        phone_socket as phone,
    ):
        frames = [receive(projector)]
        receive(presenter_socket)
        receive(phone)
        phone.send_json({"activity": str(cloud), "word": ["Trust", "sh1t", ""]})
        status = receive_until(phone, lambda frame: root_id(frame) == f"status-{cloud}")
        frames.append(receive_until(projector, lambda frame: "trust" in frame))
        view = receive_until(presenter_socket, lambda frame: "held back by the profanity filter" in frame)
        picture = client.get(f"/projector/{secret}/activities/{cloud}/cloud.svg")
        presenter.control(session["id"], "moderate", cloud, verb="show", word="sh1t")
        shown = receive_until(projector, lambda frame: "sh1t" in frame)
    assert "✓ Received." in status and "filter" not in status  # the participant is not told
    assert all("sh1t" not in frame for frame in frames)
    assert "sh1t" in view and 'name="word" value="sh1t"' in view
    assert picture.status_code == 200 and "trust" in picture.text and "sh1t" not in picture.text
    assert root_id(shown) in {f"results-{cloud}", "projector-stage"}
    assert stored(client, select(Response.payload)) == [
        {"words": [{"key": "trust", "text": "trust"}, {"key": "sh1t", "text": "sh1t"}]}
    ]


def test_profanity_the_presenter_switches_the_filter_off_and_on_for_the_session(
    client: TestClient, presenter: Presenter
) -> None:
    session, cloud = on_cloud(client, presenter)
    assert respond(client, join(client, session["code"]), cloud, word=["shit", "trust"]).status_code == 201
    login(client, presenter.user.email)
    page = client.get(f"/present/{session['id']}")
    assert "Switch the profanity filter off" in page.text
    eventually(lambda: assert_words(presenter, session, cloud, shown=["trust"], held=["shit"]))
    presenter.control(session["id"], "filter", filter="off")
    eventually(lambda: assert_words(presenter, session, cloud, shown=["shit", "trust"], held=[]))
    assert "Switch the profanity filter on" in client.get(f"/present/{session['id']}").text
    presenter.control(session["id"], "filter", filter="on")
    eventually(lambda: assert_words(presenter, session, cloud, shown=["trust"], held=["shit"]))
    refused = client.post(
        f"/api/v1/sessions/{session['id']}/control",
        headers=presenter.headers,
        json={"action": "filter", "fields": {"filter": "maybe"}},
    )
    assert refused.status_code == 409 and "Switch the profanity filter on or off." in refused.text


def assert_words(presenter: Presenter, session: dict[str, Any], cloud: int, shown: list[str], held: list[str]) -> None:
    results = presenter.tally(session["id"], cloud)["results"]
    assert sorted(word["text"] for word in results["words"]) == shown
    assert [word["text"] for word in results["filtered"]] == held


def test_profanity_a_deck_of_choices_only_has_no_filter_switch(client: TestClient, presenter: Presenter) -> None:
    session = presenter.start("title: Poll\nactivities:\n  - kind: poll\n    title: Week\n    options: [A, B]\n")
    login(client, presenter.user.email)
    assert "profanity filter" not in client.get(f"/present/{session['id']}").text


def test_profanity_archives_keep_the_text_mark_it_filtered_and_report_what_the_room_saw(
    client: TestClient, presenter: Presenter
) -> None:
    session, cloud = on_cloud(client, presenter)
    assert respond(client, join(client, session["code"]), cloud, word=["fuuuuck", "trust"]).status_code == 201
    assert respond(client, join(client, session["code"]), cloud, word=["trust"]).status_code == 201
    eventually(lambda: assert_words(presenter, session, cloud, shown=["trust"], held=["fuuuuck"]))
    response = client.get(f"/api/v1/sessions/{session['id']}/archive.zip", headers=presenter.headers)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    rows = list(csv.DictReader(io.StringIO(archive.read("responses/02-three-words.csv").decode())))
    assert [(row["entry"], row["filtered"]) for row in rows] == [
        ("fuuuuck", "True"),
        ("trust", "False"),
        ("trust", "False"),
    ]
    report = archive.read("report.html").decode()
    assert "trust" in report and "fuuuuck" not in report
    data = json.loads(archive.read("data.json"))
    tally = data["sessions"][0]["activities"][1]["tally"]
    assert [word["text"] for word in tally["words"]] == ["trust"]
    assert [word["text"] for word in tally["filtered"]] == ["fuuuuck"]


def test_profanity_an_archive_with_filter_settings_this_server_cannot_use_is_refused(client: TestClient) -> None:
    user = make_user(client, "organizer@example.org", Role.organizer)
    organizer = Presenter(client, user, api_token(client, user.email))
    forged = archive_zip(changed_activity(2, moderation={FILTER: {"languages": ["klingon"]}}))
    assert "its moderation does not fit a wordcloud." in refused(client, organizer, forged)
