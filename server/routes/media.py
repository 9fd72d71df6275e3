"""Images: uploaded by presenters (the editor's image field, scripts through the JSON API) and served to everyone.

An upload is read with a limit (refused at the first byte too many) and checked by server/media.py; the answer
names the stored image, which decks then refer to. `GET /media/{name}` serves the stored bytes: a name is the hash
of its bytes, so they are cached for a year and never asked for again; each worker keeps the images it served last
in memory (`MediaCache`), so a room of phones opening one slide reads the database once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from activities.i18n import _
from server.accounts.access import Access, ApiUser, PageUser, declare
from server.accounts.csrf import check_upload_csrf
from server.media import ImageRefused, ImageTooLarge, StoredImage, load_image, shown_bytes, store_image
from server.models import User
from server.services import Services
from server.web.bodies import UPLOAD_BODY, uploaded_file
from server.web.deps import ServicesDep
from server.web.i18n import in_their_language
from server.web.problems import API_ERRORS, Problem, problem_responses

router = APIRouter()

YEAR = 365 * 24 * 3600


class MediaStored(BaseModel):
    """A stored image: what a deck writes to show it (`image: {media: <media>, alt: ...}`) and where it is served."""

    media: str = Field(description="The image's name: the SHA-256 of its stored bytes and its extension")
    url: str = Field(description="Where it is served (public, cached for a year)")
    width: int
    height: int
    media_type: str = Field(examples=["image/png"])


@router.post(
    "/present/media",
    status_code=201,
    response_model=MediaStored,
    include_in_schema=False,
    dependencies=[Depends(in_their_language)],
)
async def upload_page(request: Request, user: PageUser, services: ServicesDep) -> MediaStored:
    """Store an image from the deck editor (multipart field `file`; the CSRF token in the X-CSRF-Token header)."""
    return await _upload(request, user, services, csrf=True)


@router.post(
    "/api/v1/media",
    status_code=201,
    response_model=MediaStored,
    tags=["v1"],
    responses={**API_ERRORS, **problem_responses(413)},
    openapi_extra=UPLOAD_BODY,
)
async def upload_api(request: Request, user: ApiUser, services: ServicesDep) -> MediaStored:
    """Store a PNG, JPEG, WebP or GIF image (multipart field `file`): re-encoded without metadata and named by the
    hash of its bytes. 413 when it is too large, 415 when it is not an accepted image, with the reason."""
    return await _upload(request, user, services, csrf=False)


async def _upload(request: Request, user: User, services: Services, *, csrf: bool) -> MediaStored:
    limit = services.settings.media_max_bytes
    too_large = Problem(413, _("Too large"), _("The image is larger than {size}.").format(size=shown_bytes(limit)))
    missing, check = ("No image", "the image"), check_upload_csrf if csrf else None
    async with uploaded_file(request, limit, too_large=too_large, missing=missing, check=check) as upload:
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise too_large
        stored = await _store(services, data, user)
    return MediaStored(
        media=stored.name, url=stored.url, width=stored.width, height=stored.height, media_type=stored.media_type
    )


async def _store(services: Services, data: bytes, user: User) -> StoredImage:
    try:
        return await store_image(services, data, user_id=user.id)
    except ImageTooLarge as refused:
        raise Problem(413, _("Too large"), f"{refused}.") from None
    except ImageRefused as refused:
        raise Problem(415, _("Not an accepted image"), f"{refused}.") from None


@dataclass(frozen=True)
class CachedImage:
    media_type: str
    data: bytes


class MediaCache:
    """The images a worker served last, up to `max_bytes` in all (least recently served forgotten first). An image's
    bytes never change under its name, so a cached one is never stale."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._images: OrderedDict[str, CachedImage] = OrderedDict()

    def get(self, name: str) -> CachedImage | None:
        image = self._images.get(name)
        if image is None:
            self.misses += 1
            return None
        self.hits += 1
        self._images.move_to_end(name)
        return image

    def put(self, name: str, image: CachedImage) -> None:
        if len(image.data) > self.max_bytes or name in self._images:
            return
        self._images[name] = image
        self.bytes += len(image.data)
        while self.bytes > self.max_bytes:
            _, gone = self._images.popitem(last=False)
            self.bytes -= len(gone.data)

    def __len__(self) -> int:
        return len(self._images)


def media_cache(request: Request, services: Services) -> MediaCache:
    """This app's cache (one per app, so tests' apps and their databases never share one)."""
    cache: MediaCache | None = getattr(request.app.state, "media_cache", None)
    if cache is None:
        cache = MediaCache(services.settings.media_cache_bytes)
        request.app.state.media_cache = cache
    return cache


@router.get(
    "/media/{name}",
    dependencies=[declare(Access.anyone)],
    response_class=Response,
    tags=["v1"],
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}, "image/gif": {}}},
        304: {"description": "The browser's copy (If-None-Match) is the image"},
        **problem_responses(404),
    },
)
async def serve(name: str, request: Request, services: ServicesDep) -> Response:
    """An uploaded image (public: phones and projectors show it), cached for a year under its strong ETag."""
    cache = media_cache(request, services)
    image = cache.get(name)
    if image is None:
        stored = await load_image(services.db, name)  # a malformed name is None without a query
        if stored is None:
            raise Problem(404, _("Not found"), _("There is no such image."))
        image = CachedImage(stored.media_type, bytes(stored.data))
        cache.put(name, image)
    etag = f'"{name.split(".", 1)[0]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={YEAR}, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = "inline"
    return Response(image.data, media_type=image.media_type, headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    """If-None-Match's weak comparison (RFC 9110): any listed tag, `W/` or not, or `*`."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
