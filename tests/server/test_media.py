"""Uploaded images (server/media.py): checked by content, re-encoded without metadata, stored once by hash."""

from __future__ import annotations

import asyncio
import hashlib
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import select
from starlette.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.db import transaction
from server.decks import parse_deck
from server.media import (
    LONGEST_SIDE,
    ImageRefused,
    ImageTooLarge,
    images_in,
    images_named,
    load_image,
    prepare_image,
    prune_images,
    store_image,
)
from server.models import Deck, Media, utcnow
from server.sessions import create_session
from tests.factories import SHIPPED_MEDIA, eventually, limits, make_user, run, services_of, stored, uploaded_media
from tests.images import (
    EXIF_GPS,
    HTML_AS_PNG,
    SVG_WITH_SCRIPT,
    animated_gif,
    gif_js_polyglot,
    photo_with_gps,
    picture,
    png_bomb,
    truncated,
)

LIMITS = {"max_bytes": 20_000_000, "max_pixels": 40_000_000}


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


# --- prepare_image ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "media_type", "ext"),
    [
        ("PNG", "image/png", "png"),
        ("JPEG", "image/jpeg", "jpg"),
        ("WEBP", "image/webp", "webp"),
        ("GIF", "image/gif", "gif"),
    ],
)
def test_prepare_image_keeps_each_accepted_type_and_names_it_by_the_hash_of_its_bytes(
    fmt: str, media_type: str, ext: str
) -> None:
    prepared = prepare_image(picture(fmt, (40, 30)), **LIMITS)
    assert (prepared.media_type, prepared.width, prepared.height) == (media_type, 40, 30)
    assert prepared.name == f"{hashlib.sha256(prepared.data).hexdigest()}.{ext}"
    assert opened(prepared.data).format == fmt


def test_prepare_image_gives_the_same_name_for_the_same_picture() -> None:
    assert prepare_image(picture(), **LIMITS).name == prepare_image(picture(), **LIMITS).name


def test_prepare_image_strips_exif_gps_and_comments_and_turns_the_photo_upright() -> None:
    original = photo_with_gps(orientation=6)  # "turn 90° clockwise to show"
    assert opened(original).getexif().get_ifd(EXIF_GPS)  # the upload carries the place it was taken
    prepared = prepare_image(original, **LIMITS)
    stored = opened(prepared.data)
    assert not stored.getexif()
    assert b"Exif" not in prepared.data and b"taken at home" not in prepared.data and b"PhoneMaker" not in prepared.data
    assert "comment" not in stored.info and "exif" not in stored.info and "icc_profile" not in stored.info
    assert (prepared.width, prepared.height) == (30, 40)  # 40 × 30 turned upright


def test_prepare_image_applies_a_colour_profile_and_drops_it() -> None:
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    data = picture("PNG", icc_profile=profile)
    prepared = prepare_image(data, **LIMITS)
    assert "icc_profile" not in opened(prepared.data).info


def test_prepare_image_keeps_the_colours_of_a_cmyk_jpeg_and_the_transparency_of_a_png() -> None:
    cmyk = io.BytesIO()
    Image.new("CMYK", (10, 10), (0, 255, 255, 0)).save(cmyk, "JPEG")  # red, in print colours
    stored = opened(prepare_image(cmyk.getvalue(), **LIMITS).data)
    assert stored.mode == "RGB"
    red, green, blue = stored.getpixel((5, 5))  # type: ignore[misc]
    assert red > 200 and green < 60 and blue < 60
    clear = io.BytesIO()
    Image.new("LA", (10, 10), (0, 0)).save(clear, "PNG")
    assert opened(prepare_image(clear.getvalue(), **LIMITS).data).getpixel((0, 0))[-1] == 0  # type: ignore[index]


def test_prepare_image_scales_down_what_is_wider_than_a_projector() -> None:
    prepared = prepare_image(picture("PNG", (LONGEST_SIDE * 2, 100)), **LIMITS)
    assert (prepared.width, prepared.height) == (LONGEST_SIDE, 50)
    assert opened(prepared.data).size == (LONGEST_SIDE, 50)


def test_prepare_image_keeps_the_first_frame_of_an_animation() -> None:
    prepared = prepare_image(animated_gif(frames=3), **LIMITS)
    stored = opened(prepared.data)
    assert getattr(stored, "n_frames", 1) == 1
    assert stored.convert("RGB").getpixel((0, 0)) == (0, 0, 0)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (HTML_AS_PNG, "This file is not a PNG, JPEG, WebP or GIF image"),
        (SVG_WITH_SCRIPT, "SVG images are not accepted: export it as PNG"),
        (b"\xef\xbb\xbf  <svg onload='alert(1)'/>", "SVG images are not accepted: export it as PNG"),
        (b"%PDF-1.7\n", "This file is not a PNG, JPEG, WebP or GIF image"),
        (picture("BMP"), "This file is not a PNG, JPEG, WebP or GIF image"),
        (picture("TIFF"), "This file is not a PNG, JPEG, WebP or GIF image"),
        (png_bomb(), "The image is too large: at most 40 million pixels"),
        (truncated("PNG"), "The file is damaged and cannot be read as an image"),
        (truncated("JPEG"), "The file is damaged and cannot be read as an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "The file is damaged and cannot be read as an image"),
        (b"", "The file is empty"),
    ],
    ids=["html", "svg", "svg-bom", "pdf", "bmp", "tiff", "bomb", "truncated-png", "truncated-jpeg", "header", "empty"],
)
def test_prepare_image_refuses_with_one_line(data: bytes, line: str) -> None:
    with pytest.raises(ImageRefused) as refused:
        prepare_image(data, **LIMITS)
    assert str(refused.value) == line


def test_prepare_image_bounds_pixels_by_the_limit_it_is_given_not_pillows_default() -> None:
    with pytest.raises(ImageRefused, match="at most 0.001 million pixels"):
        prepare_image(picture("PNG", (40, 30)), max_bytes=20_000_000, max_pixels=1000)


def test_prepare_image_refuses_more_bytes_than_its_limit_before_decoding() -> None:
    with pytest.raises(ImageTooLarge, match="^The image is larger than 2 kB$"):
        prepare_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 3000, max_bytes=2000, max_pixels=40_000_000)


def test_prepare_image_stores_a_gif_javascript_polyglot_as_a_plain_gif() -> None:
    prepared = prepare_image(gif_js_polyglot(), **LIMITS)
    assert b"alert" not in prepared.data
    assert prepared.data.endswith(b";")  # a GIF's trailer is its last byte: nothing rides after it


# --- images_in ----------------------------------------------------------------------------------------------------

NAME = "a" * 64 + ".png"


def test_images_in_finds_every_image_name_of_a_deck_text() -> None:
    other = "0123456789abcdef" * 4 + ".webp"
    source = (
        f"activities:\n  - kind: slide\n    image: {{media: {NAME}, alt: A map}}\n  - images: [{{media: '{other}'}}]"
    )
    assert images_in(source) == {NAME, other}


def test_images_in_ignores_what_only_looks_like_a_name() -> None:
    source = f"x: {'b' * 65}.png\ny: {'c' * 64}.pngs\nz: {'D' * 64}.png\nw: {'e' * 64}.svg"
    assert images_in(source) == set()


# --- store_image, load_image, images_named --------------------------------------------------------------------------


def test_store_image_stores_one_row_for_the_same_picture_uploaded_twice_at_once(client: TestClient) -> None:
    services = services_of(client)

    async def twice() -> list[str]:
        stored = await asyncio.gather(*(store_image(services, picture("JPEG"), user_id=None) for _ in range(2)))
        return [image.name for image in stored]

    names = run(client, twice)
    assert names[0] == names[1] and names[0].endswith(".jpg")
    rows = stored(client, uploaded_media())
    assert [(row.name, row.media_type, row.width, row.height) for row in rows] == [(names[0], "image/jpeg", 40, 30)]
    assert rows[0].size == len(rows[0].data) and hashlib.sha256(rows[0].data).hexdigest() == names[0][:64]


def test_store_image_answers_where_the_image_is_served(client: TestClient) -> None:
    image = run(client, lambda: store_image(services_of(client), picture(), user_id=None))
    assert image.url == f"/media/{image.name}" and (image.width, image.height, image.media_type) == (
        40,
        30,
        "image/png",
    )


def test_store_image_refuses_and_stores_nothing(client: TestClient) -> None:
    with pytest.raises(ImageRefused, match="SVG"):
        run(client, lambda: store_image(services_of(client), SVG_WITH_SCRIPT, user_id=None))
    assert stored(client, uploaded_media()) == []


def test_load_image_and_images_named_find_stored_images_only(client: TestClient) -> None:
    services = services_of(client)
    name = run(client, lambda: store_image(services, picture(), user_id=None)).name
    loaded = run(client, lambda: load_image(services.db, name))
    assert loaded is not None and loaded.name == name
    assert run(client, lambda: load_image(services.db, NAME)) is None
    assert run(client, lambda: load_image(services.db, "../../etc/passwd")) is None
    assert run(client, lambda: images_named(services.db, [name, NAME, "nonsense"])) == {name}


# --- prune_images -----------------------------------------------------------------------------------------------


def _age(client: TestClient, name: str, days: float) -> None:
    async def older() -> None:
        async with transaction(services_of(client).db) as db:
            media = await db.get(Media, name)
            assert media is not None
            media.created_at = utcnow() - timedelta(days=days)

    run(client, older)


def _deck(client: TestClient, slug: str, source: str, *, deleted: bool = False) -> None:
    async def add() -> None:
        async with transaction(services_of(client).db) as db:
            db.add(Deck(slug=slug, title=slug, source=source, deleted_at=utcnow() if deleted else None))

    run(client, add)


def test_prune_images_removes_day_old_images_no_deck_refers_to(client: TestClient) -> None:
    services = services_of(client)
    kept, deleted_deck, orphan, fresh = (
        run(client, lambda c=colour: store_image(services, picture(colour=c), user_id=None)).name
        for colour in ((1, 2, 3), (4, 5, 6), (7, 8, 9), (10, 11, 12))
    )
    for name in (kept, deleted_deck, orphan):
        _age(client, name, days=2)
    _deck(client, "in-use", f"image: {{media: {kept}, alt: A map}}")
    _deck(client, "in-the-bin", f"image: {{media: {deleted_deck}, alt: A map}}", deleted=True)
    removed = run(client, lambda: prune_images(services.db, older_than=utcnow() - timedelta(days=1)))
    assert removed == 1
    assert {row.name for row in stored(client, uploaded_media())} == {kept, deleted_deck, fresh}


def test_prune_images_keeps_what_a_sessions_activity_still_shows(client: TestClient) -> None:
    """A session keeps the settings its deck had when it started: its images stay while it does."""
    services = services_of(client)
    user = make_user(client)
    name = run(client, lambda: store_image(services, picture(), user_id=None)).name
    poll = f"kind: poll\n  title: Q\n  options: [A, B]\n  images: [{{media: {name}, alt: A}}, null]"
    deck = f"title: P\nactivities:\n- {poll}"
    spec = parse_deck(deck, services.registry)
    run(client, lambda: create_session(services.db, spec, presenter_id=user.id))
    _age(client, name, days=30)
    assert run(client, lambda: prune_images(services.db, older_than=utcnow() - timedelta(days=1))) == 0
    assert [row.name for row in stored(client, uploaded_media())] == [name]


@limits(media_sweep_seconds=3600)
def test_the_retention_sweep_runs_when_the_server_starts(settings: Settings) -> None:
    with TestClient(create_app(settings)) as first:
        name = run(first, lambda: store_image(services_of(first), picture(), user_id=None)).name
        _age(first, name, days=2)
    with TestClient(create_app(settings)) as again:
        eventually(lambda: _none_left(again))


def _none_left(client: TestClient) -> None:
    assert stored(client, uploaded_media()) == []
    # The example deck's floor plan stays: a template deck shows it.
    assert {image.name for image in stored(client, select(Media))} == SHIPPED_MEDIA
