"""The dependency lock: it agrees with pyproject.toml, and this environment holds exactly what it pins."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.py"


def _pins() -> dict[str, str]:
    namespace: dict[str, object] = {"__name__": "lock", "__file__": str(LOCK)}
    exec(compile(LOCK.read_text(encoding="utf-8"), str(LOCK), "exec"), namespace)
    pins = namespace["pins"]
    assert callable(pins)
    found: dict[str, str] = pins(ROOT / "requirements" / "test.txt")
    return found


def test_the_lock_agrees_with_pyproject() -> None:
    check = subprocess.run([sys.executable, str(LOCK), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_lock_check_notices_an_edited_pyproject(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    (copy / "requirements").mkdir(parents=True)
    for name in ("lock.py", "build.in", "run.txt", "test.txt"):
        (copy / "requirements" / name).write_bytes((ROOT / "requirements" / name).read_bytes())
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    edited = pyproject.replace('"pyyaml>=6"', '"pyyaml>=6.0.1"')
    assert edited != pyproject
    (copy / "pyproject.toml").write_text(edited, encoding="utf-8")
    check = subprocess.run(
        [sys.executable, str(copy / "requirements" / "lock.py"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 1
    assert "run `make lock`" in check.stderr


def test_every_locked_package_is_installed_at_its_pinned_version() -> None:
    pins = _pins()
    wrong = {
        name: (version, metadata.version(name)) for name, version in pins.items() if metadata.version(name) != version
    }
    assert len(pins) > 50 and not wrong, (
        f"installed versions differ from requirements/test.txt (run make test): {wrong}"
    )
