"""The dependency lock: compile requirements/*.txt from pyproject.toml's ranges, or check that they still agree.

    python requirements/lock.py                        # `make lock`: keep the pins that still fit, resolve the rest
    python requirements/lock.py --upgrade              # `make lock UPGRADE=--upgrade`: every package at its newest
    python requirements/lock.py --upgrade-package NAME # one package (and what it needs) at its newest
    python requirements/lock.py --check                # what the suite runs: no network, exit 1 with the reason

Compiling needs uv (pinned in requirements/test.txt) and the package index; hashes are always written.

Each lock file starts with a digest of the inputs it was compiled from (the project's dependencies, its test extras,
requires-python and requirements/build.in). Any edit to those inputs changes the digest, so a pyproject.toml edited
without `make lock` fails the check even when the old pins still fall inside the new ranges.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = "3.11"
# Locks: the file, the extras it holds. run.txt is what `make run` and the image install; test.txt adds the suite's.
LOCKS = {"run.txt": (), "test.txt": ("test",)}
DIGEST = "# inputs-sha256: "
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def _project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project: dict[str, object] = tomllib.load(file)["project"]
    return project


def inputs_digest() -> str:
    """The digest of everything a lock is compiled from."""
    project = _project()
    inputs = {
        "dependencies": project["dependencies"],
        "optional-dependencies": project.get("optional-dependencies", {}),
        "requires-python": project["requires-python"],
        "build": (HERE / "build.in").read_text(encoding="utf-8"),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path) -> dict[str, str]:
    """Name -> pinned version, for every requirement of a lock file."""
    found: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            found[canonical(match.group(1))] = match.group(3)
    return found


def compile_locks(upgrade: list[str]) -> None:
    """Compile every lock from pyproject.toml with uv, hashes included; `upgrade` is passed to uv as it is."""
    digest = inputs_digest()
    for name, extras in LOCKS.items():
        target = HERE / name
        command = [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "compile",
            "pyproject.toml",
            "requirements/build.in",
            "--generate-hashes",
            "--python-version",
            PYTHON,
            "--python-platform",
            "x86_64-manylinux_2_28",
            "--custom-compile-command",
            "make lock",
            "--quiet",
            "--output-file",
            f"requirements/{name}",
        ]
        for extra in extras:
            command += ["--extra", extra]
        command += upgrade
        subprocess.run(command, cwd=ROOT, check=True)
        target.write_text(f"{DIGEST}{digest}\n" + target.read_text(encoding="utf-8"), encoding="utf-8")
        print(f"requirements/{name}: {len(pins(target))} pins")  # noqa: T201


def problems() -> list[str]:
    """Every way the locks disagree with pyproject.toml, in words (empty when they agree)."""
    digest = inputs_digest()
    found: list[str] = []
    for name in LOCKS:
        lock = HERE / name
        if not lock.exists():
            found.append(f"requirements/{name} is missing: run `make lock`")
            continue
        first = lock.read_text(encoding="utf-8").splitlines()[0]
        if first != DIGEST + digest:
            found.append(f"requirements/{name} was compiled from other inputs than pyproject.toml: run `make lock`")
        text = lock.read_text(encoding="utf-8")
        for block in re.split(r"\n(?=[A-Za-z0-9])", text):
            if PIN.match(block) and "--hash=sha256:" not in block:
                found.append(f"requirements/{name}: {block.split()[0]} has no hash")
    return found


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        found = problems()
        for problem in found:
            print(problem, file=sys.stderr)  # noqa: T201
        return 1 if found else 0
    if argv and argv != ["--upgrade"] and not (len(argv) % 2 == 0 and set(argv[::2]) == {"--upgrade-package"}):
        print(__doc__, file=sys.stderr)  # noqa: T201
        return 2
    compile_locks(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
