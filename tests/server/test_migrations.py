"""Alembic migrations, on SQLite and on PostgreSQL: a fresh database at head has exactly the schema the models
describe, and every revision goes down and up again."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import server.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from server.cli import main
from server.db import alembic_config, create_engine, upgrade
from tests.factories import PostgresDatabases

T = TypeVar("T")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, on SQLite and on PostgreSQL: its async URL, what the app and alembic use."""
    if request.param == "postgresql":
        databases: PostgresDatabases = request.getfixturevalue("postgres")
        return databases.fresh(migrated=False)
    return f"sqlite+aiosqlite:///{tmp_path / 'handsup.db'}"


def inspect(url: str, look: Callable[[sa.Connection], T]) -> T:
    """Run `look` on a connection to the database (through the app's own async engine and driver)."""

    async def run() -> T:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def tables(url: str) -> set[str]:
    return set(inspect(url, lambda connection: sa.inspect(connection).get_table_names()))


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert revision is not None
    return revision


def current_revision(url: str) -> str | None:
    return inspect(url, lambda connection: MigrationContext.configure(connection).get_current_revision())


def test_upgrade_head_gives_the_schema_of_the_models(database: str) -> None:
    upgrade(database)

    def differences(connection: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    assert inspect(database, differences) == []


def test_upgrade_head_creates_every_table_and_records_the_revision(database: str) -> None:
    upgrade(database)
    assert tables(database) == {*SQLModel.metadata.tables, "alembic_version"}
    assert current_revision(database) == head()


def test_the_join_code_is_unique_only_among_live_sessions(database: str) -> None:
    upgrade(database)

    def live_code_index(connection: sa.Connection) -> tuple[dict[str, Any], str]:
        [index] = [i for i in sa.inspect(connection).get_indexes("session") if i["name"] == "ix_session_live_code"]
        if connection.dialect.name == "sqlite":
            query = "SELECT sql FROM sqlite_master WHERE name = 'ix_session_live_code'"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_session_live_code'"
        return dict(index), str(connection.exec_driver_sql(query).scalar_one())

    index, sql = inspect(database, live_code_index)
    assert index["unique"] and index["column_names"] == ["code"]
    assert re.search(r"WHERE \(?state = 'live'", sql), sql


def test_upgrade_twice_changes_nothing(database: str) -> None:
    upgrade(database)
    before = tables(database)
    upgrade(database)
    assert tables(database) == before
    assert current_revision(database) == head()


def test_downgrade_to_base_removes_every_table_and_upgrade_works_again(database: str) -> None:
    upgrade(database)
    command.downgrade(alembic_config(database), "base")
    assert tables(database) == {"alembic_version"}
    assert current_revision(database) is None
    upgrade(database)
    assert current_revision(database) == head()


def test_each_revision_downgrades_to_its_parent_and_upgrades_again(database: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(database))
    revisions = list(scripts.walk_revisions("base", "heads"))
    assert [r.revision for r in revisions][0] == head()
    assert len(scripts.get_heads()) == 1
    upgrade(database)
    for revision in revisions:  # newest first: each step down, then up again, then on down
        command.downgrade(alembic_config(database), revision.down_revision or "base")
        upgrade(database, revision.revision)
        command.downgrade(alembic_config(database), revision.down_revision or "base")
        assert current_revision(database) == revision.down_revision


def test_handsup_db_upgrade_migrates_the_database_of_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HANDSUP_ENV", "test")
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HANDSUP_DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().err == "Database is up to date.\n"
    assert current_revision(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'handsup.db'}") == head()
