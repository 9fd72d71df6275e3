"""Images in decks: what a kind's Config holds to show an uploaded image (a content slide's picture, a poll
option's), and how its templates show one.

An image is uploaded once (the server re-encodes it and stores it by the hash of its bytes) and a deck refers to
it by that name, with the alt text that says what it shows to people who cannot see it. Templates show one with
`<img src="{{ media_url(image.media) }}" alt="{{ image.alt }}" width=... height=...>`; `media_url` is a template
global, so kinds never build the server's URLs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from activities.i18n import N_

MEDIA_NAME = r"^[0-9a-f]{64}\.(png|jpg|webp|gif)$"
"""A stored image's name: the SHA-256 of its stored bytes and the extension of its type."""


class ImageRef(BaseModel):
    """An uploaded image as a deck gives it: `image: {media: <sha256>.webp, alt: A school floor plan}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    media: str = Field(pattern=MEDIA_NAME, description=N_("The uploaded image"))
    alt: str = Field(
        min_length=1, max_length=300, description=N_("What the image shows, for people who cannot see it (required)")
    )
