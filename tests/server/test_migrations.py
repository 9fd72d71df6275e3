"""Alembic migrations: a fresh database at head has exactly the schema the models describe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import server.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from server.cli import main
from server.db import alembic_config, upgrade


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    """An empty SQLite file: its async URL (what the app and alembic use) and a plain engine to inspect it."""
    path = tmp_path / "handsup.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    yield f"sqlite+aiosqlite:///{path}", engine
    engine.dispose()


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert revision is not None
    return revision


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_head_gives_the_schema_of_the_models(database: tuple[str, sa.Engine]) -> None:
    url, engine = database
    upgrade(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_head_creates_every_table_and_records_the_revision(database: tuple[str, sa.Engine]) -> None:
    url, engine = database
    upgrade(url)
    assert set(sa.inspect(engine).get_table_names()) == {*SQLModel.metadata.tables, "alembic_version"}
    assert current_revision(engine) == head()


def test_the_join_code_is_unique_only_among_live_sessions(database: tuple[str, sa.Engine]) -> None:
    url, engine = database
    upgrade(url)
    [index] = [i for i in sa.inspect(engine).get_indexes("session") if i["name"] == "ix_session_live_code"]
    assert index["unique"] and index["column_names"] == ["code"]
    with engine.connect() as connection:
        sql = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_session_live_code'"
        ).scalar_one()
    assert "WHERE state = 'live'" in sql


def test_upgrade_twice_changes_nothing(database: tuple[str, sa.Engine]) -> None:
    url, engine = database
    upgrade(url)
    before = sa.inspect(engine).get_table_names()
    upgrade(url)
    assert sa.inspect(engine).get_table_names() == before
    assert current_revision(engine) == head()


def test_downgrade_to_base_removes_every_table(database: tuple[str, sa.Engine]) -> None:
    url, engine = database
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    assert sa.inspect(engine).get_table_names() == ["alembic_version"]
    assert current_revision(engine) is None
    upgrade(url)
    assert current_revision(engine) == head()


def test_each_revision_has_a_downgrade_back_to_its_parent(database: tuple[str, sa.Engine]) -> None:
    url, _ = database
    scripts = ScriptDirectory.from_config(alembic_config(url))
    revisions = list(scripts.walk_revisions("base", "heads"))
    assert [r.revision for r in revisions][0] == head()
    assert len(scripts.get_heads()) == 1
    for revision in revisions:
        assert callable(revision.module.downgrade)


def test_handsup_db_upgrade_migrates_the_database_of_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HANDSUP_ENV", "test")
    monkeypatch.setenv("HANDSUP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HANDSUP_DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().err == "Database is up to date.\n"
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'handsup.db'}")
    try:
        assert current_revision(engine) == head()
    finally:
        engine.dispose()
