"""Uploading and serving images (server/routes/media.py), hostile uploads included: each is refused with one clear
line or stored inert, never a 5xx, and a refusal leaves the Media table as it was."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlmodel import delete
from starlette.testclient import TestClient

from server.db import transaction
from server.models import Media
from tests.factories import Presenter, home_csrf, join, login, run, services_of, stored, uploaded_media
from tests.hostile import CORPUS
from tests.images import (
    HTML_AS_PNG,
    SVG_WITH_SCRIPT,
    gif_js_polyglot,
    photo_with_gps,
    picture,
    png_bomb,
    truncated,
)
from tests.server.routes.factories import problem

SIGNED_IN = "presenter@example.org"


def upload(
    client: TestClient, data: bytes, *, headers: dict[str, str], name: str = "picture.png", kind: str = "image/png"
) -> httpx.Response:
    return client.post("/api/v1/media", files={"file": (name, data, kind)}, headers=headers)


def browser_csrf(client: TestClient) -> str:
    """Sign the client in as the presenter (the `presenter` fixture's account) and take its CSRF token."""
    login(client, SIGNED_IN)
    return home_csrf(client)


def media_rows(client: TestClient) -> list[tuple[str, int]]:
    return [(row.name, row.size) for row in stored(client, uploaded_media())]


# --- uploading ----------------------------------------------------------------------------------------------------


def test_upload_api_stores_an_image_and_answers_its_name_and_url(client: TestClient, presenter: Presenter) -> None:
    response = upload(client, picture("PNG", (40, 30)), headers=presenter.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["media"].endswith(".png") and body["url"] == f"/media/{body['media']}"
    assert (body["width"], body["height"], body["media_type"]) == (40, 30, "image/png")
    assert media_rows(client) == [(body["media"], len(client.get(body["url"]).content))]


def test_upload_page_stores_an_image_for_a_signed_in_presenter(client: TestClient, presenter: Presenter) -> None:
    csrf = browser_csrf(client)
    response = client.post(
        "/present/media", files={"file": ("photo.jpg", picture("JPEG"), "image/jpeg")}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == "image/jpeg"
    assert len(media_rows(client)) == 1


def test_upload_of_the_same_picture_twice_is_one_image(client: TestClient, presenter: Presenter) -> None:
    first = upload(client, picture(), headers=presenter.headers).json()
    second = upload(client, picture(), headers=presenter.headers, name="again.png").json()
    assert first == second
    assert len(media_rows(client)) == 1


def test_upload_strips_the_place_a_photo_was_taken(client: TestClient, presenter: Presenter) -> None:
    body = upload(client, photo_with_gps(), headers=presenter.headers, name="holiday.jpg", kind="image/jpeg").json()
    served = client.get(body["url"]).content
    assert not Image.open(io.BytesIO(served)).getexif()
    assert b"Exif" not in served and b"PhoneMaker" not in served


HOSTILE = {
    "html-named-png": (HTML_AS_PNG, 415, "This file is not a PNG, JPEG, WebP or GIF image."),
    "svg-with-script-named-png": (SVG_WITH_SCRIPT, 415, "SVG images are not accepted: export it as PNG."),
    "decompression-bomb": (png_bomb(), 415, "The image is too large: at most 40 million pixels."),
    "truncated": (truncated("JPEG"), 415, "The file is damaged and cannot be read as an image."),
    "empty": (b"", 415, "The file is empty."),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_upload_refuses_what_is_not_an_accepted_image_with_one_line(
    client: TestClient, presenter: Presenter, case: str
) -> None:
    data, status, line = HOSTILE[case]
    response = upload(client, data, headers=presenter.headers)
    assert problem(response, status)["detail"] == line
    assert media_rows(client) == []


def test_upload_stores_a_gif_javascript_polyglot_inert(client: TestClient, presenter: Presenter) -> None:
    body = upload(client, gif_js_polyglot(), headers=presenter.headers, name="x.gif", kind="image/gif").json()
    served = client.get(body["url"])
    assert served.headers["content-type"] == "image/gif" and served.headers["x-content-type-options"] == "nosniff"
    assert b"alert" not in served.content


def test_upload_refuses_a_body_over_the_limit_at_once(client: TestClient, presenter: Presenter) -> None:
    body = b"\x89PNG\r\n\x1a\n" + b"\x00" * 30_000_000
    response = upload(client, body, headers=presenter.headers)
    assert problem(response, 413)["detail"] == "The image is larger than 20 MB."
    assert media_rows(client) == []


def test_upload_counts_a_body_without_a_length_and_stops_at_the_limit(client: TestClient, presenter: Presenter) -> None:
    def chunks() -> Any:  # sent chunked: no Content-Length to refuse it by, so the server counts what arrives
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'
        for _ in range(40):
            yield b"\x00" * 1_000_000
        yield b"\r\n--b--\r\n"

    headers = {**presenter.headers, "Content-Type": "multipart/form-data; boundary=b"}
    response = client.post("/api/v1/media", content=chunks(), headers=headers)
    assert problem(response, 413)["detail"] == "The image is larger than 20 MB."
    assert media_rows(client) == []


def test_upload_without_a_file_field_says_how_to_send_one(client: TestClient, presenter: Presenter) -> None:
    response = client.post("/api/v1/media", data={"image": "x"}, headers=presenter.headers)
    assert "multipart/form-data field “file”" in problem(response, 400)["detail"]
    response = client.post("/api/v1/media", content=b"\x89PNG", headers=presenter.headers)
    assert problem(response, 400)
    response = client.post(
        "/api/v1/media",
        content=b"no parts at all",
        headers={**presenter.headers, "Content-Type": "multipart/form-data"},
    )
    assert problem(response, 400)
    assert media_rows(client) == []


def multipart(fields: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart body written by hand (name, file name or "", value): any bytes at all in the names."""
    parts = []
    for name, filename, value in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"Content-Disposition: {disposition}\r\nContent-Type: image/png\r\n\r\n"
        parts.append(b"--hostile\r\n" + head.encode("utf-8", "surrogatepass") + value + b"\r\n")
    return b"".join(parts) + b"--hostile--\r\n", "multipart/form-data; boundary=hostile"


def test_upload_takes_hostile_file_names_and_fields_as_nothing_but_text(
    client: TestClient, presenter: Presenter
) -> None:
    statuses = {}
    for payload in CORPUS:
        text = payload.text
        body, content_type = multipart(
            [("file", text, picture()), ("alt", "", text.encode("utf-8", "surrogatepass")), (text, "", b"x")]
        )
        response = client.post(
            "/api/v1/media", content=body, headers={**presenter.headers, "Content-Type": content_type}
        )
        statuses[payload.name] = response.status_code
        if response.status_code == 201:
            assert set(response.json()) == {"media", "url", "width", "height", "media_type"}
        else:  # a name that breaks the multipart headers (a line break in it): refused as malformed
            assert problem(response, 400)
    assert statuses["script_tag"] == statuses["sql_like"] == 201
    assert len(media_rows(client)) == 1


def test_upload_page_refuses_who_is_not_signed_in(client: TestClient, presenter: Presenter) -> None:
    code = presenter.start()["code"]
    join(client, code)  # a participant's cookie, and the join page's CSRF token: still nobody signed in
    client.get(f"/{code}")
    response = client.post(
        "/present/media",
        files={"file": ("p.png", picture(), "image/png")},
        headers={"X-CSRF-Token": home_csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert problem(client.post("/api/v1/media", files={"file": ("p.png", picture(), "image/png")}), 401)
    assert media_rows(client) == []


def test_upload_page_refuses_without_the_csrf_token(client: TestClient, presenter: Presenter) -> None:
    browser_csrf(client)
    response = client.post("/present/media", files={"file": ("p.png", picture(), "image/png")})
    assert problem(response, 403)["title"] == "Form expired"
    response = client.post(
        "/present/media", files={"file": ("p.png", picture(), "image/png")}, headers={"X-CSRF-Token": "forged"}
    )
    assert response.status_code == 403
    response = client.post(
        "/present/media", files={"file": ("p.png", picture(), "image/png")}, data={"csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert media_rows(client) == []


def test_upload_page_takes_the_csrf_token_as_a_form_field_too(client: TestClient, presenter: Presenter) -> None:
    csrf = browser_csrf(client)
    response = client.post(
        "/present/media", files={"file": ("p.png", picture(), "image/png")}, data={"csrf_token": csrf}
    )
    assert response.status_code == 201, response.text


# --- serving ------------------------------------------------------------------------------------------------------


def test_serve_gives_the_stored_bytes_with_long_caching_and_the_sites_headers(
    client: TestClient, presenter: Presenter
) -> None:
    body = upload(client, picture("WEBP"), headers=presenter.headers).json()
    response = client.get(body["url"])
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == body["media"].split(".")[0]
    headers = response.headers
    assert headers["content-type"] == "image/webp"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["etag"] == f'"{body["media"].split(".")[0]}"'
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-disposition"] == "inline"
    assert "default-src" in headers["content-security-policy"]


def test_serve_answers_304_when_the_browser_has_it(client: TestClient, presenter: Presenter) -> None:
    body = upload(client, picture(), headers=presenter.headers).json()
    etag = client.get(body["url"]).headers["etag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(body["url"], headers={"If-None-Match": sent})
        assert response.status_code == 304 and response.content == b"" and response.headers["etag"] == etag
    assert client.get(body["url"], headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(
    "name",
    ["a" * 64 + ".png", "A" * 64 + ".png", "a" * 64 + ".svg", "a" * 63 + ".png", "a" * 64 + ".png.png", "x.png"],
)
def test_serve_answers_404_for_an_unknown_or_malformed_name(client: TestClient, name: str) -> None:
    assert problem(client.get(f"/media/{name}"), 404)["detail"] == "There is no such image."


def test_serve_answers_404_for_a_path_that_leaves_the_folder(client: TestClient) -> None:
    assert problem(client.get("/media/..%2F..%2Fserver%2Fconfig.py"), 404)
    assert problem(client.get("/media/%2e%2e"), 404)


def test_serve_reads_the_database_once_for_a_room_of_phones(client: TestClient, presenter: Presenter) -> None:
    body = upload(client, picture(), headers=presenter.headers).json()
    first = client.get(body["url"]).content

    async def forget_row() -> None:
        async with transaction(services_of(client).db) as db:
            await db.exec(delete(Media))  # type: ignore[call-overload]

    run(client, forget_row)  # from now on, only the cache can answer
    for _ in range(30):
        assert client.get(body["url"]).content == first
    cache = client.app.state.media_cache  # type: ignore[attr-defined]
    assert (cache.hits, cache.misses, len(cache)) == (30, 1, 1)
