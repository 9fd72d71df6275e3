"""The application as it starts: migrations, the decks folder, the first-run link, health, static files."""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from starlette.testclient import TestClient

from activities import registry
from server.accounts.security import setup_token_valid
from server.app import create_app
from server.config import ConfigError, Settings
from server.db import alembic_config
from server.live.fragments import kind_static_urls
from server.media import prepare_image
from tests.factories import DECK, SECRET, Presenter, api_token, make_user
from tests.images import picture

SMALL = "title: {title}\nactivities:\n  - kind: wordcloud\n    title: Three words\n"


READERS = itertools.count()


def decks(client: TestClient) -> list[tuple[int, str, str]]:
    """The stored decks, as the JSON API lists them (read by a new presenter each time)."""
    user = make_user(client, f"reader-{next(READERS)}@example.org")
    headers = {"Authorization": f"Bearer {api_token(client, user.email)}"}
    return [(d["id"], d["slug"], d["title"]) for d in client.get("/api/v1/decks", headers=headers).json()]


def test_health_answers_once_the_database_is_reachable(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "version": "0.1.0"}


def test_the_app_migrates_an_empty_database_as_it_starts(tmp_path: Path) -> None:
    """The first start on a new file (the other tests' databases start as copies of a migrated one)."""
    path = tmp_path / "handsup.db"
    url = f"sqlite+aiosqlite:///{path}"
    settings = Settings(env="test", data_dir=tmp_path, database_url=url, secret_key=SECRET)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        assert sorted(slug for _, slug, _ in decks(client)) == ["closing-quiz", "distributed-leadership"]
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    assert revision == ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_the_vendored_front_end_is_served(client: TestClient) -> None:
    for path in (
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/htmx/ws.min.js",
        "/static/js/handsup.js",
        "/static/css/handsup.css",
    ):
        assert client.get(path).status_code == 200, path


def test_there_is_no_swagger_ui_but_there_is_an_openapi_description(client: TestClient) -> None:
    assert client.get("/api/docs").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "Handsup"


def test_a_fresh_server_prints_its_setup_link(settings: Settings, capfd: pytest.CaptureFixture[str]) -> None:
    with TestClient(create_app(settings)):
        pass
    err = capfd.readouterr().err
    assert "No accounts yet. Create the first (admin) account here:" in err
    link = re.search(r"http://127\.0\.0\.1:8000/setup/(\S+)", err)
    assert link and setup_token_valid(settings.resolved_secret_key, link.group(1))


def test_a_server_with_accounts_prints_no_setup_link(settings: Settings, capfd: pytest.CaptureFixture[str]) -> None:
    with TestClient(create_app(settings)) as client:
        make_user(client)
    capfd.readouterr()
    with TestClient(create_app(settings)):
        pass
    assert "No accounts yet" not in capfd.readouterr().err


def test_the_decks_folder_is_loaded_at_start(client: TestClient) -> None:
    assert sorted(slug for _, slug, _ in decks(client)) == ["closing-quiz", "distributed-leadership"]


def test_a_changed_deck_file_is_refreshed_at_the_next_start(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "influence.yaml").write_text(SMALL.format(title="Influence"))
    settings = settings.model_copy(update={"decks_dir": folder})
    with TestClient(create_app(settings)) as client:
        [(deck_id, slug, title)] = decks(client)
    (folder / "influence.yaml").write_text(SMALL.format(title="Influence, revised"))
    (folder / "authority.yml").write_text(SMALL.format(title="Authority"))
    with TestClient(create_app(settings)) as client:
        assert sorted(decks(client)) == [
            (deck_id, "influence", "Influence, revised"),
            (deck_id + 1, "authority", "Authority"),
        ]


def test_a_broken_deck_in_the_decks_folder_stops_the_start(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "decks"
    folder.mkdir()
    shutil.copy(DECK, folder)
    (folder / "broken.yaml").write_text("title: T\nactivities:\n  - kind: trivia\n    title: A\n")
    with pytest.raises(
        ConfigError, match="(?s)broken.yaml has problems.*line 3: activities\\[0\\].kind: unknown kind 'trivia'"
    ):
        with TestClient(create_app(settings.model_copy(update={"decks_dir": folder}))):
            pass


def test_the_pictures_shipped_beside_the_decks_are_stored_and_served_at_start(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "decks"
    (folder / "media").mkdir(parents=True)
    image = prepare_image(picture(), max_bytes=settings.media_max_bytes, max_pixels=settings.media_max_pixels)
    (folder / "media" / image.name).write_bytes(image.data)  # as the server names and stores it
    with TestClient(create_app(settings.model_copy(update={"decks_dir": folder}))) as client:
        served = client.get(f"/media/{image.name}")
    assert served.status_code == 200 and served.content == image.data
    assert served.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("floor-plan.png", picture(), "Not an image name"),
        (f"{'0' * 64}.png", picture(), "The bytes do not match the image's name"),
        (f"{hashlib.sha256(b'<svg/>').hexdigest()}.png", b"<svg/>", "SVG images are not accepted"),
    ],
    ids=["named-by-hand", "changed-bytes", "not-an-image"],
)
def test_a_shipped_picture_the_server_cannot_use_stops_the_start(
    settings: Settings, tmp_path: Path, name: str, data: bytes, why: str
) -> None:
    folder = tmp_path / "decks"
    (folder / "media").mkdir(parents=True)
    (folder / "media" / name).write_bytes(data)
    with pytest.raises(ConfigError, match=f"A picture in .*media cannot be used: {re.escape(name)}: .*{why}"):
        with TestClient(create_app(settings.model_copy(update={"decks_dir": folder}))):
            pass


def test_without_a_decks_folder_there_are_no_decks(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"decks_dir": None}))) as client:
        assert decks(client) == []


def test_join_links_use_the_public_url_when_one_is_set(settings: Settings) -> None:
    public = settings.model_copy(update={"public_url": "https://vote.example.org"})
    with TestClient(create_app(public)) as client:
        user = make_user(client)
        session = Presenter(client, user, api_token(client, user.email)).start()
    assert session["join_url"] == f"https://vote.example.org/{session['code']}"
    assert session["projector_url"].startswith("https://vote.example.org/projector/")


def test_a_kinds_static_files_are_served_with_the_cache_rules_of_static(client: TestClient) -> None:
    """Each kind's static/ is at /static/kinds/<kind>/: a digest URL is kept a year, a plain one checked each time."""
    url = kind_static_urls(registry, ["wordcloud"], ".js")[0]
    assert url.startswith("/static/kinds/wordcloud/wordcloud.js?v=")
    versioned = client.get(url)
    assert versioned.status_code == 200 and "refreshClouds" in versioned.text
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = client.get(url.split("?")[0])
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
    assert client.get("/static/kinds/wordcloud/../__init__.py").status_code == 404
    assert client.get("/static/kinds/wordcloud/missing.js").status_code == 404


def test_a_kinds_files_are_listed_only_for_kinds_that_ship_them_and_several_as_one_bundle() -> None:
    """One file is linked as itself; several as one bundle, its kinds in name order (tests/server/test_bundles.py)."""
    styles = kind_static_urls(registry, ["wordcloud", "qa", "poll", "no-such-kind"], ".css")
    assert [url.split("&")[0] for url in styles] == ["/static/kinds/bundle.css?kinds=qa,wordcloud"]
    alone = kind_static_urls(registry, ["qa", "poll"], ".css")
    assert [url.split("?")[0] for url in alone] == ["/static/kinds/qa/qa.css"]
    assert kind_static_urls(registry, [], ".js") == []
