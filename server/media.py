"""Uploaded images: checked by their content, re-encoded without metadata, stored by the hash of their bytes.

An upload is trusted for nothing: not its name, not its declared type. `prepare_image` reads the first bytes to
know what it is (PNG, JPEG, WebP or GIF, nothing else), bounds its bytes before decoding and its pixels before
loading them, turns it upright by its EXIF orientation and encodes it again, so what is stored and served holds
pixels only (no EXIF, GPS, XMP, ICC profile or comment; a colour profile is applied first, giving sRGB). The name is
the SHA-256 of the stored bytes, so a name can never point at other bytes and the same picture uploaded twice is
stored once.

Choices, so callers know what they get back:
- the type stays the type: PNG stays PNG, JPEG stays JPEG (quality 85), WebP stays WebP (quality 85), GIF stays GIF;
- an animated GIF, WebP or PNG keeps its first frame only: a slide shows a picture, not a loop, and a still frame is
  bounded like any image;
- an image wider or taller than `LONGEST_SIDE` (3840 px, a 4K projector) is scaled down to fit it.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import re
import warnings
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, ImageCms, ImageOps
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.base import OffloadFailed
from activities.i18n import _
from server.config import Settings
from server.db import transaction
from server.models import Activity, Deck, Media, utcnow

log = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"[0-9a-f]{64}\.(?:png|jpg|webp|gif)")
"""A stored image's name (activities/images.py's MEDIA_NAME)."""
# The same inside a longer text: not the tail of a longer run of hex digits, nor the head of a longer word.
NAME_IN_TEXT = re.compile(r"(?<![0-9A-Za-z_])[0-9a-f]{64}\.(?:png|jpg|webp|gif)(?![0-9A-Za-z_])")

LONGEST_SIDE = 3840
JPEG_QUALITY = 85
WEBP_QUALITY = 85

# Pillow's format name -> (the stored type's media type, extension, Pillow format to write).
ACCEPTED = {
    "PNG": ("image/png", "png", "PNG"),
    "JPEG": ("image/jpeg", "jpg", "JPEG"),
    "MPO": ("image/jpeg", "jpg", "JPEG"),  # a phone's JPEG with a second picture inside: its first is kept
    "WEBP": ("image/webp", "webp", "WEBP"),
    "GIF": ("image/gif", "gif", "GIF"),
}
# The decoders tried; a multi-picture JPEG comes back from JPEG's as "MPO".
OPENERS = ["PNG", "JPEG", "WEBP", "GIF"]
MEDIA_TYPES = {ext: media_type for media_type, ext, _ in ACCEPTED.values()}
# Modes each format writes as they are; any other is converted to the last one listed.
WRITABLE_MODES = {
    "PNG": ("1", "L", "LA", "P", "RGB", "RGBA"),
    "JPEG": ("L", "RGB"),
    "WEBP": ("RGB", "RGBA"),
    "GIF": ("L", "P"),
}

NOT_AN_IMAGE = "This file is not a PNG, JPEG, WebP or GIF image"
SVG = "SVG images are not accepted: export it as PNG"
DAMAGED = "The file is damaged and cannot be read as an image"
EMPTY = "The file is empty"


class ImageRefused(ValueError):
    """An upload that is not stored; the message is one line a presenter understands."""


class ImageTooLarge(ImageRefused):
    """Refused for its size in bytes (a 413, where the others are 415)."""


@dataclass(frozen=True)
class PreparedImage:
    """An image ready to store: the re-encoded bytes and what they are."""

    name: str
    media_type: str
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class StoredImage:
    """A stored image, as the upload routes answer it."""

    name: str
    media_type: str
    width: int
    height: int
    url: str


def too_large_line(max_bytes: int) -> str:
    return f"The image is larger than {shown_bytes(max_bytes)}"


def shown_bytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB" if size >= 1_000_000 else f"{size / 1000:g} kB"


def prepare_image(data: bytes, *, max_bytes: int, max_pixels: int) -> PreparedImage:
    """Check an upload by its content and encode it again (pure and CPU-bound: run it through `offload`)."""
    _screen(data, max_bytes)
    with _decoding(max_pixels):
        image = _open(data, max_pixels)
        media_type, ext, write_as = ACCEPTED[str(image.format)]
        image = _upright(image)
        image = _to_srgb(image)
        image = _fit(image, write_as)
        stored = _encode(image, write_as)
    name = f"{hashlib.sha256(stored).hexdigest()}.{ext}"
    return PreparedImage(name=name, media_type=media_type, width=image.width, height=image.height, data=stored)


def _screen(data: bytes, max_bytes: int) -> None:
    """What is refused before any decoder runs: nothing, too many bytes, or not one of the four formats' signatures."""
    if not data:
        raise ImageRefused(EMPTY)
    if len(data) > max_bytes:
        raise ImageTooLarge(too_large_line(max_bytes))
    _check_signature(data)


@contextmanager
def _decoding(max_pixels: int) -> Iterator[None]:
    """Pillow's complaints as refusals in plain words: a decompression bomb (its warning made an error) as too many
    pixels, and anything else it raises for a broken file (OSError, SyntaxError, ValueError, ...) as damaged."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            yield
        except ImageRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRefused(too_many_pixels_line(max_pixels)) from None
        except Exception:
            raise ImageRefused(DAMAGED) from None


def too_many_pixels_line(max_pixels: int) -> str:
    return f"The image is too large: at most {max_pixels / 1_000_000:g} million pixels"


def _check_signature(data: bytes) -> None:
    """Refuse by the first bytes, before any decoder sees the file: only the four formats' own signatures pass."""
    head = data[:16]
    if (
        head.startswith(b"\x89PNG\r\n\x1a\n")
        or head.startswith(b"\xff\xd8\xff")
        or head[:6] in (b"GIF87a", b"GIF89a")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    ):
        return
    text = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in text or text.startswith(b"<?xml") and b"svg" in data[:65536].lower():
        raise ImageRefused(SVG)
    raise ImageRefused(NOT_AN_IMAGE)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Read the header only, and check the pixel count it declares before a single pixel is decoded."""
    image = Image.open(io.BytesIO(data), formats=OPENERS)
    if image.format not in ACCEPTED:
        raise ImageRefused(NOT_AN_IMAGE)
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRefused(DAMAGED)
    if width * height > max_pixels:
        raise ImageRefused(too_many_pixels_line(max_pixels))
    image.seek(0)  # an animation keeps its first frame
    image.load()
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Turned as the camera's EXIF orientation says, so the stored pixels are the right way up without it."""
    return ImageOps.exif_transpose(image) or image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Apply an embedded colour profile (the profile itself is not kept): the pixels become sRGB, as browsers assume."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a profile that cannot be read is dropped, the pixels kept as they are
    return converted if converted is not None else image


def _fit(image: Image.Image, write_as: str) -> Image.Image:
    """A mode the format writes, and no side longer than a projector shows."""
    modes = WRITABLE_MODES[write_as]
    if image.mode not in modes:
        if write_as == "GIF":
            image = image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)
        else:
            alpha = "A" in image.mode or "transparency" in image.info
            image = image.convert("RGBA" if alpha and "RGBA" in modes else "RGB")
    if max(image.size) > LONGEST_SIDE:
        resample = Image.Resampling.NEAREST if image.mode in ("1", "P") else Image.Resampling.LANCZOS
        image = image.copy()
        image.thumbnail((LONGEST_SIDE, LONGEST_SIDE), resample)
    return image


def _encode(image: Image.Image, write_as: str) -> bytes:
    """Encode the pixels alone: the info Pillow would carry over (EXIF, ICC, XMP, comments) is dropped first."""
    transparency = image.info.get("transparency")
    image.info = {} if transparency is None else {"transparency": transparency}
    options: dict[str, Any] = {}
    if write_as == "JPEG":
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif write_as == "WEBP":
        options = {"quality": WEBP_QUALITY}
    elif write_as == "PNG":
        options = {"optimize": False}
    out = io.BytesIO()
    image.save(out, write_as, **options)
    return out.getvalue()


class MediaDeps(Protocol):
    """What storing an image needs from a running server (the Services bag has all three)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> async_sessionmaker[AsyncSession]: ...

    def offload(self, fn: Callable[..., Any], *args: Any) -> Awaitable[Any]: ...


async def store_image(deps: MediaDeps, data: bytes, *, user_id: int | None) -> StoredImage:
    """Check, re-encode and store an upload (off the event loop); raises ImageRefused with the reason.

    Storing is idempotent: the same picture uploaded twice, by two workers at once too, is one row."""
    settings = deps.settings
    if len(data) > settings.media_max_bytes:  # refused here, before the bytes are copied to a worker process
        raise ImageTooLarge(too_large_line(settings.media_max_bytes))
    try:
        prepared: PreparedImage = await deps.offload(
            _prepare_with_limits, data, settings.media_max_bytes, settings.media_max_pixels
        )
    except OffloadFailed:
        raise ImageRefused(_("The image could not be read within this server's memory limits")) from None
    await save_image(deps.db, prepared, user_id=user_id)
    return StoredImage(
        name=prepared.name,
        media_type=prepared.media_type,
        width=prepared.width,
        height=prepared.height,
        url=media_url(prepared.name),
    )


def _prepare_with_limits(data: bytes, max_bytes: int, max_pixels: int) -> PreparedImage:
    # Positional arguments only cross to the worker process (run_in_executor takes no keywords).
    return prepare_image(data, max_bytes=max_bytes, max_pixels=max_pixels)


def media_url(name: str) -> str:
    """Where an image is served (the template global `media_url` gives the same)."""
    return f"/media/{name}"


async def save_image(maker: async_sessionmaker[AsyncSession], image: PreparedImage, *, user_id: int | None) -> None:
    """Insert the image's row unless one of that name is there (insert-or-ignore: safe under several workers)."""
    async with transaction(maker) as db:
        await add_image(db, image, user_id=user_id)


async def add_image(db: AsyncSession, image: PreparedImage, *, user_id: int | None) -> None:
    """The same, in the caller's transaction (an archive's images are written with its sessions, or not at all)."""
    await db.exec(_insert_image(db, image, user_id))


def check_stored_image(name: str, data: bytes, *, max_bytes: int, max_pixels: int) -> PreparedImage:
    """An image as this server stored it (from an archive): its bytes must hash to its name, be of the type its
    extension says, and decode whole within the limits. Raises ImageRefused; blocking and CPU-bound."""
    if not is_media_name(name):
        raise ImageRefused(_("Not an image name: it must be the SHA-256 of the bytes and png, jpg, webp or gif"))
    if hashlib.sha256(data).hexdigest() != name.split(".", 1)[0]:
        raise ImageRefused(_("The bytes do not match the image's name"))
    _screen(data, max_bytes)
    with _decoding(max_pixels):
        image = _open(data, max_pixels)
    media_type, ext, _kind = ACCEPTED[str(image.format)]
    if name.rsplit(".", 1)[1] != ext:
        raise ImageRefused(
            _("The image is {found}, its name says {named}").format(
                found=ext.upper(), named=name.rsplit(".", 1)[1].upper()
            )
        )
    return PreparedImage(name=name, media_type=media_type, width=image.width, height=image.height, data=data)


async def store_shipped_images(deps: MediaDeps, folder: Path) -> int:
    """Store the pictures shipped decks refer to (`media/` beside them, each file named as the server names a
    stored image, so a deck's `media:` finds it on every server); returns how many. Stored like an archive's images:
    the bytes must hash to the name and decode within the limits, else ImageRefused (the start stops)."""
    settings, stored = deps.settings, 0
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        try:
            image = await asyncio.to_thread(
                check_stored_image,
                path.name,
                path.read_bytes(),
                max_bytes=settings.media_max_bytes,
                max_pixels=settings.media_max_pixels,
            )
        except ImageRefused as refused:
            raise ImageRefused(f"{path.name}: {refused}") from None
        await save_image(deps.db, image, user_id=None)
        stored += 1
    return stored


def _insert_image(db: AsyncSession, image: PreparedImage, user_id: int | None) -> Any:
    dialect = db.bind.dialect.name if db.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {
        "name": image.name,
        "media_type": image.media_type,
        "width": image.width,
        "height": image.height,
        "size": len(image.data),
        "data": image.data,
        "created_by": user_id,
    }
    return insert(Media).values(**values).on_conflict_do_nothing(index_elements=["name"])


def is_media_name(name: str) -> bool:
    """Whether a text is a stored image's name in form (checked before any query)."""
    return NAME_PATTERN.fullmatch(name) is not None


async def load_image(maker: async_sessionmaker[AsyncSession], name: str) -> Media | None:
    """The stored image of that name, or None (a malformed name is None without a query)."""
    if not is_media_name(name):
        return None
    async with maker() as db:
        return await db.get(Media, name)


async def images_named(maker: async_sessionmaker[AsyncSession], names: Iterable[str]) -> set[str]:
    """Which of these names are stored images."""
    wanted = sorted({name for name in names if is_media_name(name)})
    if not wanted:
        return set()
    async with maker() as db:
        found = await db.exec(select(Media.name).where(col(Media.name).in_(wanted)))
        return set(found.all())


def images_in(source: str) -> set[str]:
    """The stored images a deck's YAML text refers to (every image name in it, wherever it stands)."""
    return set(NAME_IN_TEXT.findall(source))


async def prune_images(maker: async_sessionmaker[AsyncSession], *, older_than: datetime) -> int:
    """Remove images no deck refers to (deleted decks included: their delete can be undone) nor any session's
    activity (a session keeps the settings its deck had when it started), stored before `older_than` (an image just
    uploaded may be about to be saved into a deck). Returns how many were removed."""
    async with transaction(maker) as db:
        referred: set[str] = set()
        for source in (await db.exec(select(Deck.source))).all():
            referred |= images_in(source)
        for config in (await db.exec(select(Activity.config))).all():
            referred |= images_in(json.dumps(config))
        candidates = await db.exec(select(Media.name).where(col(Media.created_at) < older_than))
        unused = sorted(set(candidates.all()) - referred)
        for start in range(0, len(unused), 500):
            await db.exec(delete(Media).where(col(Media.name).in_(unused[start : start + 500])))
        return len(unused)


UNUSED_AFTER = timedelta(days=1)
"""An image no deck refers to is kept this long after its upload: the editor uploads first and saves the deck after."""


async def sweep_images(maker: async_sessionmaker[AsyncSession], every_seconds: float) -> None:
    """The retention sweep for images, for the life of the server: `prune_images` now and every `every_seconds`.
    Several workers may each run one: removing an unused image twice removes it once."""
    while True:
        try:
            removed = await prune_images(maker, older_than=utcnow() - UNUSED_AFTER)
        except SQLAlchemyError:
            log.exception("The sweep of unused images failed; it runs again in %s seconds", every_seconds)
        else:
            if removed:
                log.info("Removed %d images no deck refers to", removed)
        await asyncio.sleep(every_seconds)
