"""`slide`: a content slide. A title, a body in Markdown and an optional image, laid out for the projector; phones
show the slide too, or a short "look at the screen" line. It takes no answers, so the server steps past it at the
audience's pace and leaves it out of completion, exports, archives' results, reports and comparisons."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal

from markupsafe import Markup
from pydantic import Field, ValidationInfo, field_validator

from activities.base import ActivityKind, FormFields, KindConfig, KindSubmission, Tally
from activities.i18n import N_, _
from activities.images import ImageRef
from activities.slide.api import SlideResults
from activities.slide.markdown import render_markdown

MAX_BODY = 5000

Layout = Literal["text", "title", "image-left", "image-right", "image-full"]
"""text: the title and the body. title: a title slide, the title large and centred with the body as a subtitle.
image-left / image-right: the image beside the body. image-full: the image fills the stage under the title."""
WITH_IMAGE: frozenset[str] = frozenset({"image-left", "image-right", "image-full"})

Phones = Literal["auto", "slide", "screen"]
"""slide: phones show the slide. screen: phones show the title and "Look at the screen". auto: the slide, except an
image-full one (a picture made for a wall, like an imported page), which phones point to the screen for."""

# Bidi embeddings, overrides and isolates: one left open reorders the words after it wherever the body is shown.
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def clean_body(text: str) -> str:
    """Markdown as a deck or the editor gives it, with Unicode composed, line breaks as newlines, no bidi controls and
    no control characters but newlines and tabs; trailing spaces of the whole are trimmed (a line's are Markdown)."""
    text = unicodedata.normalize("NFC", _LINE_BREAKS.sub("\n", text)).translate(_BIDI_CONTROLS)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").rstrip()


def _storable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class SlideConfig(KindConfig):
    # In this order: the layout first, so the image and the body are checked against it (and refused at their line).
    layout: Layout = Field(
        default="text",
        description=N_(
            "How the projector lays the slide out: text only, a title slide, the image left or right of the "
            "text, or the image filling the screen under the title."
        ),
        json_schema_extra={
            "labels": {
                "text": N_("Text"),
                "title": N_("Title slide"),
                "image-left": N_("Picture on the left"),
                "image-right": N_("Picture on the right"),
                "image-full": N_("Picture filling the screen"),
            }
        },
    )
    image: ImageRef | None = Field(
        default=None,
        validate_default=True,
        description=N_("A picture for the slide, with a description of it for people who cannot see it."),
        json_schema_extra={"widget": "image"},
    )
    body: str = Field(
        default="",
        max_length=MAX_BODY,
        description=N_(
            "The slide's text, in Markdown: # headings, paragraphs, - bullets, 1. numbered lists, **bold**, "
            "*italic*, [links](https://example.org) and > quotes. No pictures or HTML: add the picture as the image."
        ),
        json_schema_extra={"widget": "markdown"},
    )
    phones: Phones = Field(
        default="auto",
        description=N_(
            "What phones show: the slide itself, or its title and “Look at the screen”. Automatic shows the "
            "slide, except for an image filling the screen."
        ),
        json_schema_extra={
            "labels": {"auto": N_("Automatic"), "slide": N_("The slide"), "screen": N_("“Look at the screen”")}
        },
    )

    @field_validator("image")
    @classmethod
    def _image_fits_layout(cls, image: ImageRef | None, info: ValidationInfo) -> ImageRef | None:
        layout = info.data.get("layout")
        if layout in WITH_IMAGE and image is None:
            raise ValueError(
                _("the {layout} layout shows an image: add one, or choose the text layout").format(layout=layout)
            )
        if layout is not None and layout not in WITH_IMAGE and image is not None:
            raise ValueError(
                _(
                    "the {layout} layout has no place for an image: choose image-left, image-right or image-full, or "
                    "remove the image"
                ).format(layout=layout)
            )
        return image

    @field_validator("body", mode="before")
    @classmethod
    def _clean_body(cls, body: Any) -> Any:
        if isinstance(body, str) and not _storable(body):
            raise ValueError(_("the body holds half of a character pair, which cannot be stored or shown"))
        return clean_body(body) if isinstance(body, str) else body

    @field_validator("body")
    @classmethod
    def _body_fits_layout(cls, body: str, info: ValidationInfo) -> str:
        if body and info.data.get("layout") == "image-full":
            raise ValueError(
                "an image-full slide shows the title and the image only: leave the body empty, or choose image-left "
                "or image-right"
            )
        return body

    @property
    def html(self) -> Markup:
        """The body as sanitised HTML (rendered once per text, however often it is shown)."""
        return render_markdown(self.body)

    @property
    def on_phones(self) -> Literal["slide", "screen"]:
        """What phones show, with `auto` decided by the layout."""
        if self.phones == "auto":
            return "screen" if self.layout == "image-full" else "slide"
        return self.phones


class SlideSubmission(KindSubmission):
    """Nothing: a slide takes no answers (the server refuses any before it gets here)."""


class SlideTally(Tally[SlideConfig, SlideSubmission]):
    """Nothing to count."""

    submission_model = SlideSubmission

    def clear(self) -> None:
        pass

    def add(self, submission: SlideSubmission) -> None:
        pass

    def retract(self, submission: SlideSubmission) -> None:
        pass

    def snapshot(self, moderation: Mapping[str, Any]) -> dict[str, Any]:
        return {}


class Slide(ActivityKind[SlideConfig, SlideSubmission]):
    name = "slide"
    label = N_("Content slide")
    config_model = SlideConfig
    submission_model = SlideSubmission
    tally_class = SlideTally
    results_model = SlideResults
    takes_answers = False
    translatable = frozenset({"body"})

    def submission_from_form(self, config: SlideConfig, form: FormFields) -> dict[str, Any]:
        return {}

    def export_rows(self, config: SlideConfig, submission: SlideSubmission) -> list[dict[str, Any]]:
        return []


kind = Slide()
