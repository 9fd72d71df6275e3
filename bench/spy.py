"""Where the server's time goes during the burst and the fan-out: py-spy sampling the server process from outside.

`python -m bench.run --profile full --server-profile` records the server's stacks with `py-spy record --format raw`
(collapsed stacks: `frame;frame;frame count`) from the start of the burst to the end of the fan-out, and reduces them
to two lists for the JSON: the functions the samples were *in* (self time) and the functions of Handsup's own code
(server/, activities/) the samples passed *through* (inclusive time). The raw file stays beside the results for a
flame graph (e.g. speedscope.app opens it, or `py-spy record --format speedscope`).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RATE_HZ = 200
TOP = 15
OURS = re.compile(r"\((?:.*/)?(server|activities)/[^)]*\)")
STARTUP = re.compile(r"\((?:.*/)?server/cli\.py")  # every sample passes through `handsup serve`: it says nothing


@contextlib.contextmanager
def recording(pid: int, out: Path) -> Iterator[None]:
    """py-spy attached to `pid` while the block runs; its collapsed stacks in `out`."""
    program = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    process = subprocess.Popen(
        [program, "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--format", "raw", "--output", str(out)]
        + ["--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
        try:
            _, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        if process.returncode not in (0, -signal.SIGINT) and not out.exists():
            raise RuntimeError(f"py-spy failed ({process.returncode}): {err.decode(errors='replace')[-400:]}")


def summary(raw: Path) -> dict[str, Any]:
    """Self and inclusive shares of the samples, the largest first, from py-spy's collapsed stacks.

    Without `--native`, time in C (uvloop's socket writes, SQLite, zlib) counts as the Python frame that called it;
    the event loop's own C work shows as `Runner.run`."""
    own: Counter[str] = Counter()
    through: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[_short(frames[-1])] += count
        for frame in {_short(f) for f in frames if OURS.search(f) and not STARTUP.search(f)}:
            through[frame] += count

    def shares(counter: Counter[str]) -> list[dict[str, Any]]:
        return [{"function": name, "share_pct": round(100 * n / total, 1)} for name, n in counter.most_common(TOP)]

    return {"samples": total, "rate_hz": RATE_HZ, "self": shares(own), "handsup_inclusive": shares(through)}


def _short(frame: str) -> str:
    """`name (path/to/file.py:12)` as `name (file.py)`: the same function at other lines counts once."""
    found = re.match(r"(.*) \((?:.*/)?([^/:]+)(?::\d+)?\)$", frame)
    return f"{found.group(1)} ({found.group(2)})" if found else frame
