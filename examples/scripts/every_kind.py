"""Run a whole session of every kind through Handsup's API, with three simulated phones, and save its archive.

    HANDSUP_URL=http://127.0.0.1:8000 HANDSUP_TOKEN=hsu_... python examples/scripts/every_kind.py

The token is an API token of an account that may present (the account page's "API tokens", or
`handsup token create EMAIL`). The deck is every-kind.yaml beside this file; its pin shows the example deck's floor
plan, uploaded first. Each phone answers through the JSON API, as docs/api.md says, and the script prints each
activity's results as the tally gives them, then saves the session's archive as every-kind.zip.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from handsup_client import Handsup, Tally

HERE = Path(__file__).resolve().parent
FLOOR_PLAN = HERE.parent / "decks/media/bbaec748f4a4fa0a146bf4bd8f43c24cef6407e983109fe07e734da9701474fb.png"

# What each of three phones answers, by kind (a typed quiz question takes `answer`, the other `choice`).
ANSWERS: dict[str, list[dict[str, Any]]] = {
    "poll": [{"choice": ["0", "2"]}, {"choice": "0"}, {"choice": "1"}],
    "wordcloud": [{"word": ["trust", "voice"]}, {"word": "trust"}, {"word": "listening"}],
    "sort": [{"card-0": "0", "card-1": "unsure"}, {"card-0": "0", "card-1": "1"}, {"card-0": "1", "card-1": "1"}],
    "points": [{"item-0": "50", "item-1": "30", "item-2": "20"}, {"item-0": "0", "item-1": "0", "item-2": "100"}],
    "scale": [{"statement-0": "4", "statement-1": "2"}, {"statement-0": "5"}],
    "ranking": [{"rank-0": "2", "rank-1": "1", "rank-2": "3"}, {"rank-0": "1", "rank-1": "2", "rank-2": "3"}],
    "open": [{"text": "Grading"}, {"text": "grading"}, {"text": "Our timetable"}],
    "resources": [{"type": "video", "title": "A talk", "link": "https://example.org/talk"}],
    "qa": [{"question": "How do we start?", "name": "Ana"}, {"question": "Who decides?"}],
    "grid": [{"item-0-x": "3", "item-0-y": "8", "item-1-skip": "on"}, {"item-0-x": "5", "item-0-y": "4"}],
    "number": [{"value": "8"}, {"value": "10"}, {"value": "20"}],
    "pin": [{"x": "40", "y": "25"}, {"x": "90", "y": "90"}],
    "quiz": [{"choice": "2"}, {"choice": "0"}],
    "quiz-typed": [{"answer": "ten"}, {"answer": "eleven"}],
}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def counted(handsup: Handsup, session_id: int, activity_id: int, answers: int) -> Tally:
    """The tally once it counts every answer sent: it folds a moment after each is stored (docs/api.md)."""
    deadline = time.monotonic() + 10
    while True:
        tally = handsup.tally(session_id, activity_id)
        if tally.respondents >= answers or time.monotonic() > deadline:
            return tally
        time.sleep(0.05)


def main() -> int:
    url, token = os.environ.get("HANDSUP_URL", "http://127.0.0.1:8000"), os.environ["HANDSUP_TOKEN"]
    with Handsup(url, token) as handsup:
        handsup.upload_media(FLOOR_PLAN)
        session = handsup.start_session(deck_yaml=(HERE / "every-kind.yaml").read_text(), title="Every kind")
        say(f"Session {session.id}: join at {session.join_url}")
        phones = [handsup.join(session.code) for _ in range(3)]
        for activity in session.activities:
            handsup.goto(session.id, activity.id)
            typed = "-typed" if activity.config.get("accepted") else ""
            answers = list(zip(phones, ANSWERS.get(activity.kind + typed, []), strict=False))
            for phone, answer in answers:
                phone.answer_fields(activity.id, answer)
            tally = counted(handsup, session.id, activity.id, len(answers))
            say(f"{activity.position + 1:2}. {activity.kind:9} {activity.title}: {tally.respondents} answered")
        handsup.end(session.id)
        (Path.cwd() / "every-kind.zip").write_bytes(handsup.session_archive(session.id))
        say("Archive saved as every-kind.zip")
    return 0


if __name__ == "__main__":
    sys.exit(main())
