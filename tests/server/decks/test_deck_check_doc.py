"""docs/decks.md's `handsup deck check` examples are what the command prints, run on the example deck and on the
copy with six mistakes the docs describe (made here by the same six edits)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs/decks.md").read_text()
SECTION = DOC[DOC.index("## Checking a deck: `handsup deck check`") :]
EDITS = [
    ("description: >", "descripton: >"),
    ("    entries: 3\n    max_length: 25", "    entries: 12\n    max_length: 25"),
    ("      - {en: Design, es: Diseño}", "      - {en: diagnosis, es: Diseño}"),
    ("    multiple: true\n    max_choices: 2\n", "    multiple: true\n    max_choices: 2\n    shuffle: true\n"),
    ("    results: hidden\n", "    results: later\n"),
    ("  - kind: sort\n", "  - kind: trivia\n"),
]


def check(*files: str, cwd: Path) -> tuple[list[str], int]:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "deck", "check", *files],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    return (done.stdout + done.stderr).splitlines(), done.returncode


def shown(command: str) -> list[str]:
    """The lines the docs show after `$ handsup deck check <command>`, up to the next prompt or the block's end."""
    block = re.search(rf"\$ handsup deck check {re.escape(command)}\n(.*?)(?:\$|```)", SECTION, re.S)
    assert block, command
    return block.group(1).splitlines()


def test_the_good_deck_example_is_what_deck_check_prints() -> None:
    lines, status = check("examples/decks/distributed-leadership.yaml", cwd=ROOT)
    assert status == 0
    assert lines == shown("examples/decks/distributed-leadership.yaml")


def test_the_broken_deck_example_is_what_deck_check_prints(tmp_path: Path) -> None:
    text = (ROOT / "examples/decks/distributed-leadership.yaml").read_text()
    for old, new in EDITS:
        assert old in text
        text = text.replace(old, new, 1)
    (tmp_path / "broken.yaml").write_text(text)
    lines, status = check("broken.yaml", cwd=tmp_path)
    assert status == 1
    assert lines == shown("broken.yaml")
