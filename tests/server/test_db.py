"""The database helpers: SQLite pragmas that make an acknowledged response durable, and transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from server.db import create_engine, session_factory, transaction, upgrade
from server.models import User

pytestmark = pytest.mark.anyio


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A migrated SQLite file in a folder that did not exist (migrations run outside the event loop)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'folder' / 'handsup.db'}"
    upgrade(url)
    return url


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    yield engine
    await engine.dispose()


async def pragma(engine: AsyncEngine, name: str) -> object:
    async with engine.connect() as connection:
        return (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()


async def test_sqlite_runs_in_wal_mode_with_full_sync(engine: AsyncEngine) -> None:
    assert await pragma(engine, "journal_mode") == "wal"
    assert await pragma(engine, "synchronous") == 2  # FULL: a commit is on disk before it returns


async def test_sqlite_enforces_foreign_keys_and_waits_for_locks(engine: AsyncEngine) -> None:
    assert await pragma(engine, "foreign_keys") == 1
    assert await pragma(engine, "busy_timeout") == 30000


async def test_the_data_folder_is_created_for_the_database_file(engine: AsyncEngine, tmp_path: Path) -> None:
    assert (tmp_path / "nested" / "folder" / "handsup.db").is_file()


async def test_a_transaction_commits_on_success(engine: AsyncEngine) -> None:
    maker = session_factory(engine)
    async with transaction(maker) as db:
        db.add(User(email="a@example.org", password_hash="-"))
    async with maker() as db:
        assert [u.email for u in (await db.exec(select(User))).all()] == ["a@example.org"]


async def test_a_transaction_rolls_back_on_error(engine: AsyncEngine) -> None:
    maker = session_factory(engine)
    with pytest.raises(RuntimeError):
        async with transaction(maker) as db:
            db.add(User(email="a@example.org", password_hash="-"))
            await db.flush()
            raise RuntimeError("something went wrong half-way")
    async with maker() as db:
        assert (await db.exec(select(User))).all() == []
