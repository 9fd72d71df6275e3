"""Run `handsup` (server.cli) with its garbage-collector pauses recorded: `python -m bench.gcwatch OUT serve`.

A diagnostic wrapper for `python -m bench.run --server-gc`: the server is the same code in the same process, with a
gc callback that times each collection. Every half second the pauses so far are written to OUT as JSON
([[perf_counter at the end, generation, seconds], ...]); uvicorn ends the process by re-raising SIGTERM, so no
exit hook could be relied on.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

FLUSH_S = 0.5


class Pauses:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.started = 0.0
        self.pauses: list[tuple[float, int, float]] = []
        self.lock = threading.Lock()

    def callback(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self.started = now
        else:
            with self.lock:
                self.pauses.append((now, int(info["generation"]), now - self.started))

    def flush_forever(self) -> None:
        while True:
            time.sleep(FLUSH_S)
            with self.lock:
                text = json.dumps(self.pauses)
            self.out.write_text(text)


def main() -> int:
    out, argv = Path(sys.argv[1]), sys.argv[2:]
    pauses = Pauses(out)
    gc.callbacks.append(pauses.callback)
    threading.Thread(target=pauses.flush_forever, daemon=True).start()
    from server.cli import main as handsup

    return handsup(argv)


if __name__ == "__main__":
    raise SystemExit(main())
