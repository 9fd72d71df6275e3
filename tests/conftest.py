"""Shared fixtures: a real app on a real SQLite file and a real uvicorn for end-to-end suites; the helpers they use
(and the tests import) are in tests/factories.py."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

import server.accounts.security
from server.app import create_app
from server.config import Settings
from server.db import upgrade
from tests.factories import (
    SECRET,
    LiveServer,
    PostgresDatabases,
    Presenter,
    api_token,
    make_user,
    start_server,
    stop_server,
)

if TYPE_CHECKING:
    from tests.services import RedisServer


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashes() -> Iterator[None]:
    """Argon2 at test-sized costs in this process: the same code path in a hundredth of the time.

    A real server (start_server) keeps the production costs; hashes verify whatever costs made them.
    """
    production = server.accounts.security._hasher
    server.accounts.security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    server.accounts.security._hasher = production


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Real-browser tests last: the quick tests report first, and the browser's loop starts after them."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The browser tests' shared Playwright (tests/browser/conftest.py) stops before a test that does not use it:
    its event loop would break that test's asyncio.run() or Playwright of its own."""
    if "browser" not in getattr(item, "fixturenames", ()):
        _stop_shared_browser()


def pytest_sessionfinish() -> None:
    _stop_shared_browser()


def _stop_shared_browser() -> None:
    factories = sys.modules.get("tests.browser.factories")  # not imported: no browser test has run
    if factories is not None:
        factories.SHARED_BROWSER.stop()


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio, as the server does."""
    return "asyncio"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked `postgresql` runs twice: on a SQLite file and on a PostgreSQL database (see `database_url`)."""
    if metafunc.definition.get_closest_marker("postgresql") and "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    """A real PostgreSQL cluster on a loopback port, for the whole run (started on first use)."""
    from tests.services import PostgresServer, scratch_folder

    folder = scratch_folder("handsup-postgres-")
    server = PostgresServer(folder)
    server.start()
    try:
        yield PostgresDatabases(server)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest revision, made once a run (once a worker): migrating a new file takes 0.3 to
    0.8 s, and most tests start an app on a database of their own. tests/server/test_migrations.py and
    tests/server/test_app.py migrate empty files themselves, and every live server (start_server) does."""
    path = tmp_path_factory.mktemp("migrated") / "handsup.db"
    with ThreadPoolExecutor(1) as pool:  # alembic runs its own event loop: not in a thread that has one
        pool.submit(upgrade, f"sqlite+aiosqlite:///{path}").result()
    leftovers = sorted(p.name for p in path.parent.iterdir() if p != path)
    assert not leftovers, f"the migrated file is not complete on its own: {leftovers}"
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where one test's data lives: a SQLite file in its folder, or, on the `postgresql` run of a test marked
    `postgresql`, a PostgreSQL database of its own. Both start migrated, as copies of a template made once a run
    (`migrated_sqlite`, `PostgresDatabases`); the app still runs its migrations at start, finding nothing to do."""
    if getattr(request, "param", "sqlite") == "postgresql":
        databases: PostgresDatabases = request.getfixturevalue("postgres")
        return databases.fresh()
    template: Path = request.getfixturevalue("migrated_sqlite")
    path = tmp_path / "handsup.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> Settings:
    """Settings for one test: its own data folder and database, fast commits and pushes, and the limits a test
    names through `limits(...)`."""
    named: dict[str, Any] = getattr(request, "param", {})
    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=database_url,
        secret_key=SECRET,
        commit_interval_ms=5,
        push_interval_ms=20,
        **named,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A TestClient with the app started (lifespan run): migrations applied, example deck loaded."""
    with TestClient(create_app(settings), base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def presenter(client: TestClient) -> Presenter:
    user = make_user(client)
    return Presenter(client, user, api_token(client, user.email))


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server of this test's own on a loopback port (cheap to start; a test may stop and start it)."""
    from tests.services import RedisServer, scratch_folder

    folder = scratch_folder("handsup-redis-")
    server = RedisServer(folder)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("live"))
    yield server
    stop_server(server)
