"""Fixtures of the server tests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import slide_files


@pytest.fixture
def own_temp(tmp_path: Path) -> Iterator[Path]:
    """Each test's imports work in a folder of its own, so no child of this test may outlive it (asserted)."""
    folder = tmp_path / "imports"
    folder.mkdir()
    before, tempfile.tempdir = tempfile.tempdir, str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = before
    assert slide_files.leftovers(str(folder)) == []
    assert list(folder.iterdir()) == [], "the import's folder is removed"
