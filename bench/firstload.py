"""The participant page's first load on Slow 3G: how soon a phone can answer, in a real Chromium.

A fresh Handsup server (bench/loadgen.py's target: real CLI, real uvicorn), a session of the example deck on its
first poll, then a fresh phone (360×740, empty cache, no cookie) opens the join link under Chrome DevTools' "Slow 3G"
preset, set with CDP `Network.emulateNetworkConditions`: 50,000 bytes/s each way and 2,000 ms of latency added to
every request. Times are the page's own (ms from the start of navigation): usable (the first frame drawn with the
answer form's Send button laid out and enabled: it posts without JavaScript), first contentful paint, the first
stylesheet file's arrival, DOMContentLoaded, and the socket open (the page follows live). Several phones one after
the other; the figures are medians.

    .venv/bin/python -m bench.firstload [--phones 5] [--warm-up 1] [--out bench/results/firstload.json]

The target (issue 7, kept by issue 18): usable within 3 s. Exit status 1 if the run itself failed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, sync_playwright

from bench.loadgen import DECK, HandsupTarget
from bench.run import Goal, judge

# Chrome DevTools' "Slow 3G" (called "3G" in recent DevTools; Puppeteer's PredefinedNetworkConditions mirror it):
# 500 kbit/s × 0.8 each way, and 400 ms × 5 of latency added to every request.
SLOW_3G = {
    "offline": False,
    "latency": 400 * 5,
    "downloadThroughput": 500 * 1000 / 8 * 0.8,
    "uploadThroughput": 500 * 1000 / 8 * 0.8,
}
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
CHROME_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
# Recorded in the page from its first moment: the first contentful paint; the first frame drawn with the answer form's
# Send button laid out and enabled (usable: the form posts without JavaScript; a first paint may come before the
# form has been parsed); and the socket's opening (htmx's ws extension fires htmx:wsOpen).
TIMINGS = """
window.handsupTimes = {};
new PerformanceObserver(function (list) {
  list.getEntriesByName("first-contentful-paint").forEach(function (entry) {
    window.handsupTimes.paint = entry.startTime;
  });
}).observe({type: "paint", buffered: true});
(function usable() {  // the first frame drawn with the Send button laid out and enabled
  requestAnimationFrame(function (frame) {
    var send = document.querySelector("form.answer button[type=submit]");
    if (send && !send.disabled && !send.closest("[disabled]") && send.getBoundingClientRect().height > 0) {
      window.handsupTimes.usable = frame;
    } else {
      usable();
    }
  });
})();
document.addEventListener("htmx:wsOpen", function () {
  if (!window.handsupTimes.socket) window.handsupTimes.socket = performance.now();
});
"""
CONNECTED = "() => Boolean(window.handsupTimes && window.handsupTimes.socket && window.handsupTimes.usable)"
TIMES = """() => ({paint: window.handsupTimes.paint, usable: window.handsupTimes.usable,
  dom: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd, socket: window.handsupTimes.socket,
  stylesheet: Math.min(...performance.getEntriesByType("resource").filter(function (r) {
    return r.name.indexOf(".css") > 0; }).map(function (r) { return r.responseEnd; }))})"""
USABLE_MS = 3000.0


def goals() -> list[Goal]:
    return [Goal("answer form usable within 3 s on Slow 3G (median)", "usable_ms", USABLE_MS, at_most=True)]


def chromium() -> str:
    """Debian's Chromium, as the browser tests use it (HANDSUP_CHROMIUM names another)."""
    path = os.environ.get("HANDSUP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Chromium is not installed (make test installs it) and HANDSUP_CHROMIUM is not set")
    return path


def one_phone(browser: Browser, url: str) -> dict[str, Any]:
    """One fresh phone's first load of `url` under Slow 3G: its times, rounded to the millisecond."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.add_init_script(TIMINGS)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_function(CONNECTED, timeout=60_000)
        times = page.evaluate(TIMES)
    finally:
        context.close()
    figures: dict[str, Any] = {
        name: round(value) for name, value in times.items() if isinstance(value, int | float) and math.isfinite(value)
    }
    return figures


def measure(phones: int, warm_up: int = 1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="handsup-firstload-") as folder:
        target = HandsupTarget(Path(folder))
        target.launch()
        try:
            headers = {"Authorization": f"Bearer {target.token}"}
            with httpx.Client(base_url=target.url, headers=headers, timeout=30) as api:
                created = api.post("/api/v1/sessions", json={"deck_slug": DECK})
                created.raise_for_status()
                session = created.json()
                poll = next(a for a in session["activities"] if a["kind"] == "poll")
                api.post(
                    f"/api/v1/sessions/{session['id']}/control", json={"action": "goto", "activity_id": poll["id"]}
                ).raise_for_status()
            url = f"{target.url}/{session['code']}"
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=chromium(), args=CHROME_ARGS)
                try:
                    for _ in range(warm_up):  # not counted: the server's templates compiled, Chromium warm
                        one_phone(browser, url)
                    runs = [one_phone(browser, url) for _ in range(phones)]
                finally:
                    browser.close()
        finally:
            target.stop()

    def median(name: str) -> float | None:
        values = [run[name] for run in runs if run.get(name) is not None]
        return statistics.median(values) if len(values) == len(runs) else None

    return {
        "benchmark": "firstload",
        "network": {**SLOW_3G, "preset": "Chrome DevTools Slow 3G"},
        "phones": phones,
        "warm_up_phones": warm_up,
        "page": f"/{{code}} of the {DECK!r} deck, on its first poll",
        "usable_ms": median("usable"),
        "paint_ms": median("paint"),
        "first_stylesheet_ms": median("stylesheet"),
        "dom_content_loaded_ms": median("dom"),
        "socket_open_ms": median("socket"),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--phones", type=int, default=5, help="phones measured one after the other (median)")
    parser.add_argument("--warm-up", type=int, default=1, help="phones before those measured, not counted")
    parser.add_argument("--out", type=Path, default=Path("bench/results/firstload.json"))
    args = parser.parse_args(argv)
    try:
        report = measure(args.phones, args.warm_up)
        failed = False
    except Exception as error:  # noqa: BLE001 - a failed run is reported in the JSON, as bench/run.py does
        report = {"benchmark": "firstload", "error": f"{type(error).__name__}: {error}"}
        failed = True
    report["targets"] = judge(goals(), report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))  # noqa: T201 - the benchmark's report
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
