"""The deck editor's preview: its render time per activity kind, against a baseline measured in the same run.

The preview (POST /present/decks/preview) checks the activity as a one-activity deck (the document as YAML, through
the deck parser), builds a transient room and renders two whole pages (phone and projector) with the live templates.
The baseline is what a live push renders for the same activity from a room already loaded: the participant's stage
and the projector's stage fragments (server/live/fragments.py Views). Both run in this process, alternating, so the
figure to read is the ratio (preview / baseline), not the milliseconds of this machine.

    .venv/bin/python -m bench.editor_preview [--rounds 200] [--out bench/results/editor_preview.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from activities import registry
from server.live.fragments import Views, make_environment, preview_pages, preview_room
from server.live.room import Room, Stage
from server.routes.editor import preview_activity

ACTIVITIES: dict[str, dict[str, Any]] = {
    "wordcloud": {"kind": "wordcloud", "title": "Three words for leadership"},
    "poll": {"kind": "poll", "title": "How do school leaders spend their time?", "options": ["A", "B", "C", "D"]},
    "open": {"kind": "open", "title": "One thing you will try"},
    "qa": {"kind": "qa", "title": "Questions"},
    "points": {"kind": "points", "title": "Spend 100 points", "items": ["Time", "Money", "People"]},
    "ranking": {"kind": "ranking", "title": "Rank these", "items": ["Trust", "Data", "Time"]},
    "resources": {"kind": "resources", "title": "Share a resource"},
    "scale": {"kind": "scale", "title": "How true?", "statements": ["We share leadership", "We plan together"]},
    "sort": {"kind": "sort", "title": "Influence or authority?", "cards": ["Timetable", "Budget", "Hiring"]},
    "slide": {"kind": "slide", "title": "Why distributed leadership", "body": "Some **bold** text\n\n- one\n- two"},
}
JOIN_URL = "http://127.0.0.1:8000/000000"


def median_ms(work: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(rounds: int) -> dict[str, Any]:
    views = Views(make_environment(registry), registry)
    results: dict[str, Any] = {}
    for name, raw in ACTIVITIES.items():
        if name not in registry:
            continue
        document = {"title": "Bench", "language": "en", "activities": [raw]}

        def the_preview(document: dict[str, Any] = document) -> object:
            activity, title, pace, problems = preview_activity(registry, document, 0)
            assert activity is not None, problems
            room = preview_room(registry, activity, title=title, pace=pace)
            return preview_pages(views, room, language="en", join_url=JOIN_URL)

        activity, title, pace, _ = preview_activity(registry, document, 0)
        assert activity is not None
        loaded = cast(Room, preview_room(registry, activity, title=title, pace=pace))
        stage = Stage(key="bench", activity=activity, answer=None, answered=frozenset())

        def the_baseline(loaded: Room = loaded, stage: Stage = stage) -> object:
            return views.participant_stage(loaded, stage), views.projector_stage(loaded)

        the_preview(), the_baseline()  # templates compiled before timing
        preview_ms, baseline_ms = [], []
        for _ in range(3):  # alternating, so a busy moment of the machine falls on both
            preview_ms.append(median_ms(the_preview, rounds))
            baseline_ms.append(median_ms(the_baseline, rounds))
        preview, baseline = statistics.median(preview_ms), statistics.median(baseline_ms)
        results[name] = {
            "preview_ms": round(preview, 3),
            "baseline_ms": round(baseline, 3),
            "ratio": round(preview / baseline, 2),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("bench/results/editor_preview.json"))
    args = parser.parse_args()
    kinds = measure(args.rounds)
    ratios = [entry["ratio"] for entry in kinds.values()]
    report = {
        "benchmark": "editor_preview",
        "rounds": args.rounds,
        "baseline": "the same activity's live participant and projector stage fragments, rendered by Views",
        "kinds": kinds,
        "median_ratio": statistics.median(ratios),
        "worst_ratio": max(ratios),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))  # noqa: T201 - the benchmark's report


if __name__ == "__main__":
    main()
