"""Fixtures for the kinds' tests."""

from __future__ import annotations

import pytest

from activities.testing import Database, make_database


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """One seeded SQLite database per test module, for the fold-equals-recompute property."""
    return make_database(tmp_path_factory.mktemp("tally"))
