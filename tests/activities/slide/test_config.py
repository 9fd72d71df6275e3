"""A slide's settings as decks and the editor give them (activities/slide): layouts and their image, what phones
show, the body tidied and translatable, and the hints the browser editor builds its form from."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from activities import registry
from activities.images import ImageRef
from activities.slide import MAX_BODY, SlideConfig, clean_body
from activities.slide import kind as slide
from server.decks import DeckInvalid, parse_deck, structured_keys

MEDIA = "a" * 64 + ".png"
IMAGE = {"media": MEDIA, "alt": "A floor plan of a school"}


def config(**settings: Any) -> SlideConfig:
    return SlideConfig.model_validate(settings)


def test_a_slide_takes_no_answers_and_its_body_is_translatable() -> None:
    assert slide.takes_answers is False and registry["slide"] is slide
    assert slide.translatable == {"body"}
    assert not slide.takes_free_text and slide.new_tally(config()).snapshot({}) == {}


def test_a_slide_of_text_is_the_default() -> None:
    plain = config(body="Hello")
    assert (plain.layout, plain.phones, plain.on_phones, plain.image) == ("text", "auto", "slide", None)
    assert plain.html == "<p>Hello</p>"


@pytest.mark.parametrize("layout", ["image-left", "image-right", "image-full"])
def test_layouts_with_an_image_need_one(layout: str) -> None:
    with pytest.raises(ValidationError, match=f"the {layout} layout shows an image"):
        config(layout=layout, body="" if layout == "image-full" else "Text")
    shown = config(layout=layout, image=IMAGE)
    assert shown.image == ImageRef(media=MEDIA, alt="A floor plan of a school")


@pytest.mark.parametrize("layout", ["text", "title"])
def test_layouts_without_an_image_refuse_one_rather_than_hide_it(layout: str) -> None:
    with pytest.raises(ValidationError, match=f"the {layout} layout has no place for an image"):
        config(layout=layout, image=IMAGE)


def test_an_image_full_slide_has_no_body_and_points_phones_to_the_screen() -> None:
    with pytest.raises(ValidationError, match="title and the image only"):
        config(layout="image-full", image=IMAGE, body="Words")
    page = config(layout="image-full", image=IMAGE)
    assert page.on_phones == "screen"
    assert config(layout="image-full", image=IMAGE, phones="slide").on_phones == "slide"
    assert config(body="Words", phones="screen").on_phones == "screen"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"layout": "poster"}, "Input should be"),
        ({"phones": "never"}, "Input should be"),
        ({"image": {"media": "https://elsewhere.example/x.png", "alt": "x"}, "layout": "image-left"}, "pattern"),
        ({"image": {"media": MEDIA, "alt": ""}, "layout": "image-left"}, "at least 1 character"),
        ({"image": {"media": MEDIA, "alt": "x" * 301}, "layout": "image-left"}, "at most 300"),
        ({"image": {"media": MEDIA}, "layout": "image-left"}, "Field required"),
        ({"body": "x" * (MAX_BODY + 1)}, f"at most {MAX_BODY} characters"),
        ({"body": "half \ud800 of a pair"}, "cannot be stored or shown"),
        ({"text": "a note's key"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_settings_are_refused_with_what_is_wrong(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        config(**settings)


def test_the_body_keeps_its_lines_and_loses_controls_and_bidi_overrides() -> None:
    assert clean_body("one\r\ntwo\rthree\u2028four  \n") == "one\ntwo\nthree\nfour"
    assert clean_body("a\x00b\x07c\x1b[31md\tE\u202eF\u2066G") == "abc[31md\tEFG"
    assert clean_body("cafe\u0301") == "café"  # composed, as the rest of a deck's text is
    assert config(body="x" * MAX_BODY).body == "x" * MAX_BODY  # the longest body fits
    assert config(body="  \n# Title  \n\n- item  \n").body == "  \n# Title  \n\n- item"  # a line's spaces are Markdown


def test_the_editor_finds_a_widget_and_a_description_for_every_setting() -> None:
    schema = SlideConfig.model_json_schema()
    properties = schema["properties"]
    assert properties["body"]["widget"] == "markdown" and properties["image"]["widget"] == "image"
    assert list(properties) == ["layout", "image", "body", "phones"]  # the editor's order: a layout, then its parts
    assert properties["layout"]["enum"] == ["text", "title", "image-left", "image-right", "image-full"]
    assert properties["phones"]["enum"] == ["auto", "slide", "screen"]
    assert all(field.get("description") for field in properties.values())
    assert structured_keys(slide) == {"image"}  # decks leave the image's keys to the Config, never to languages


DECK = f"""\
title: Slides
language: en
activities:
  - kind: slide
    title: {{en: Leadership, es: Liderazgo}}
    body:
      en: "# A practice\\n\\nNot a *position*."
      es: "# Una práctica\\n\\nNo un *cargo*."
  - kind: slide
    title: The plan
    layout: image-right
    body: Look at the plan.
    image: {{media: {MEDIA}, alt: A floor plan of a school}}
"""


def test_a_deck_gives_the_body_in_several_languages_and_the_image_as_it_is() -> None:
    spec = parse_deck(DECK, registry)
    first, second = spec.activities
    assert first.config["body"] == "# A practice\n\nNot a *position*."
    assert first.texts == {"es": {"title": "Liderazgo", "body": "# Una práctica\n\nNo un *cargo*."}}
    assert second.config["image"] == IMAGE and second.config["layout"] == "image-right"
    assert second.texts == {}


def test_a_translated_body_is_held_to_the_same_rules() -> None:
    too_long = DECK.replace('es: "# Una práctica\\n\\nNo un *cargo*."', f"es: {'x' * (MAX_BODY + 1)}")
    with pytest.raises(DeckInvalid, match=f"in es: .*at most {MAX_BODY} characters"):
        parse_deck(too_long, registry)


def test_the_image_description_cannot_be_given_by_language_yet() -> None:
    by_language = DECK.replace("alt: A floor plan of a school", "alt: {en: A floor plan, es: Un plano}")
    with pytest.raises(DeckInvalid, match="alt"):
        parse_deck(by_language, registry)


def test_a_deck_with_a_slide_that_misses_its_image_says_where() -> None:
    missing = DECK.replace(f"    image: {{media: {MEDIA}, alt: A floor plan of a school}}\n", "")
    with pytest.raises(DeckInvalid) as refused:
        parse_deck(missing, registry)
    [problem] = refused.value.problems
    assert problem.path == "activities[1].image" and "the image-right layout shows an image" in problem.message
    assert problem.line == 9  # the activity's, as the image is not there to point at
