"""Archives carry the uploaded images their decks show (`media/<name>`), and importing one stores them again, checked:
export, then import into a fresh server, serves the same bytes."""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.app import create_app
from server.archives.build import ArchiveSources, write_archive
from server.archives.format import FORMAT, VERSION
from server.config import Settings
from server.models import Role, Session
from tests.factories import (
    SECRET,
    Presenter,
    api_token,
    caught_up,
    join,
    make_user,
    respond,
    run,
    services_of,
    stored,
    uploaded_media,
)
from tests.images import SVG_WITH_SCRIPT, picture

PICTURED_DECK = """\
title: Pictures
activities:
  - kind: poll
    title: Which plan?
    options: [North wing, South wing]
    images:
      - {{media: {north}, alt: The north wing's floor plan}}
      - {{media: {south}, alt: The south wing's floor plan}}
"""


@pytest.fixture
def second(tmp_path: Path) -> Iterator[TestClient]:
    """A second server with its own, fresh database: where the archive is imported."""
    settings = Settings(env="test", data_dir=tmp_path / "second", secret_key=SECRET, commit_interval_ms=5)
    with TestClient(create_app(settings), base_url="http://testserver") as other:
        yield other


def uploaded(client: TestClient, presenter: Presenter, data: bytes) -> str:
    response = client.post("/api/v1/media", files={"file": ("p.png", data, "image/png")}, headers=presenter.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["media"])


def export_session(client: TestClient, session_id: int) -> bytes:
    services = services_of(client)

    async def write() -> bytes:
        with tempfile.TemporaryFile() as target:
            await write_archive(target, ArchiveSources.of(services), "session", session_id)
            target.seek(0)
            return target.read()

    return run(client, write)


@pytest.fixture
def importer(second: TestClient) -> Presenter:
    """An organizer of the second server, who imports there."""
    user = make_user(second, "organizer@example.org", Role.organizer)
    return Presenter(second, user, api_token(second, user.email))


def import_into(importer: Presenter, body: bytes) -> Any:
    headers = {**importer.headers, "Content-Type": "application/zip"}
    return importer.client.post("/api/v1/archives", content=body, headers=headers)


def pictured_session(client: TestClient, presenter: Presenter) -> tuple[dict[str, Any], list[str]]:
    north = uploaded(client, presenter, picture("PNG", colour=(10, 120, 10)))
    south = uploaded(client, presenter, picture("JPEG", colour=(120, 10, 10)))
    uploaded(client, presenter, picture("WEBP"))  # stored, but no deck shows it: not archived
    session = presenter.start(PICTURED_DECK.format(north=north, south=south))
    poll = session["activities"][0]["id"]
    presenter.control(session["id"], "goto", poll)
    caught_up(client, session["id"])
    answered = respond(client, join(client, session["code"]), poll, choice="1")
    assert answered.status_code == 201, answered.text
    return session, [north, south]


def test_archive_carries_the_images_its_decks_show_and_import_serves_the_same_bytes(
    client: TestClient, presenter: Presenter, second: TestClient, importer: Presenter
) -> None:
    session, names = pictured_session(client, presenter)
    archive = export_session(client, session["id"])
    entries = zipfile.ZipFile(io.BytesIO(archive))
    assert sorted(name for name in entries.namelist() if name.startswith("media/")) == [
        f"media/{n}" for n in sorted(names)
    ]
    listed = {entry["path"]: entry["sha256"] for entry in json.loads(entries.read("manifest.json"))["files"]}
    for name in names:
        assert listed[f"media/{name}"] == name.split(".")[0]

    response = import_into(importer, archive)
    assert response.status_code == 201, response.text
    for name in names:
        original, copy = client.get(f"/media/{name}"), second.get(f"/media/{name}")
        assert copy.status_code == 200 and copy.content == original.content
        assert copy.headers["content-type"] == original.headers["content-type"]
    assert sorted(row.name for row in stored(second, uploaded_media())) == sorted(names)


def test_importing_an_archive_twice_keeps_one_copy_of_each_image(
    client: TestClient, presenter: Presenter, second: TestClient, importer: Presenter
) -> None:
    session, names = pictured_session(client, presenter)
    archive = export_session(client, session["id"])
    assert import_into(importer, archive).status_code == 201
    assert import_into(importer, archive).status_code == 201
    assert len(stored(second, uploaded_media())) == len(names)


# --- refused images -----------------------------------------------------------------------------------------------


def archive_with_media(files: dict[str, bytes]) -> bytes:
    """A session archive as the writer lays one out (a session without activities) with these media entries."""
    data = {
        "format": FORMAT,
        "version": VERSION,
        "scope": "session",
        "sessions": [
            {
                "key": 1,
                "code": "123456",
                "title": "Pictures",
                "state": "ended",
                "pace": "presenter",
                "created_at": "2017-04-24T09:00:00+00:00",
                "activities": [],
                "participants": [],
                "responses": [],
            }
        ],
    }
    listed = {"data.json": json.dumps(data).encode(), **files}
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "scope": "session",
        "files": [
            {"path": path, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            for path, body in sorted(listed.items())
        ],
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        for path, body in listed.items():
            archive.writestr(path, body)
    return out.getvalue()


def named(data: bytes, ext: str) -> str:
    return f"media/{hashlib.sha256(data).hexdigest()}.{ext}"


PNG = picture("PNG")


@pytest.mark.parametrize(
    ("files", "line"),
    [
        ({"media/" + "0" * 64 + ".png": PNG}, "The bytes do not match the image's name"),
        ({named(SVG_WITH_SCRIPT, "png"): SVG_WITH_SCRIPT}, "SVG images are not accepted: export it as PNG"),
        ({named(b"<html>", "png"): b"<html>"}, "This file is not a PNG, JPEG, WebP or GIF image"),
        ({named(PNG, "jpg"): PNG}, "The image is PNG, its name says JPG"),
        ({named(PNG[:60], "png"): PNG[:60]}, "The file is damaged and cannot be read as an image"),
        ({"media/picture.png": PNG}, "Not an image name"),
    ],
    ids=["hash", "svg", "html", "type", "truncated", "name"],
)
def test_import_refuses_an_image_that_is_not_what_its_name_says_and_writes_nothing(
    second: TestClient, importer: Presenter, files: dict[str, bytes], line: str
) -> None:
    response = import_into(importer, archive_with_media(files))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith(f"This archive's {next(iter(files))} is refused: {line}")
    assert stored(second, uploaded_media()) == []
    assert stored(second, select(Session)) == []
