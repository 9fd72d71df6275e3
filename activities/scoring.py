"""Points for right answers, the same for every kind that scores (the quiz; a guess-the-number or a pin with a right
answer and `points: true`): the server measures how long each answer took, and a right answer scores more the faster
it came. The session's standings (server/standings.py) add up what these kinds' `scores()` give."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationInfo

from activities.i18n import N_, _

FULL_POINTS = 1000
DEFAULT_TIME_LIMIT = 20
MIN_TIME_LIMIT = 5
MAX_TIME_LIMIT = 600

TIME_LIMIT_DESCRIPTION = N_("Seconds to answer; a right answer scores 1000 points at once, falling to 500 at the limit")


def time_limit_field() -> Any:
    """The `time_limit` field of a kind that scores (seconds; 5 to 600, 20 by default)."""
    return Field(default=DEFAULT_TIME_LIMIT, ge=MIN_TIME_LIMIT, le=MAX_TIME_LIMIT, description=TIME_LIMIT_DESCRIPTION)


def elapsed_field() -> Any:
    """The `elapsed` field of a timed kind's Submission: never from the form (the server's measure replaces it)."""
    return Field(default=None, ge=0, description="Seconds from the question's opening to the answer, by the server")


def timed_points(right: bool, elapsed: float | None, limit: int) -> int:
    """round(1000 * (1 - t / (2 * limit))) for a right answer after t <= limit seconds (1000 down to 500); 0 for a
    wrong answer, a late one, and one without a clock."""
    if not right or elapsed is None or elapsed > limit:
        return 0
    return round(FULL_POINTS * (1 - elapsed / (2 * limit)))


def server_elapsed(info: ValidationInfo) -> float:
    """The seconds the server measured from the question's opening to this answer (put in the validation context by
    the server: a phone cannot claim a time), or a refusal when the question never opened for the room."""
    elapsed = (info.context or {}).get("elapsed")
    if elapsed is None:
        raise ValueError(_("This question has not started yet: wait for the presenter to show it."))
    return round(float(elapsed), 3)


def points_field(description: str) -> Any:
    """The `points` switch of a kind whose right answer may score (off by default: it then is no part of the
    standings); `description` says so and names the right answer it needs (marked with N_ for the editor's form)."""
    return Field(default=False, description=description)


def clocked(data: Any, info: ValidationInfo, scored: bool) -> Any:
    """A Submission's raw data with the server's `elapsed` when its activity is scored (refused without a clock),
    and without any `elapsed` a phone sent otherwise. Stored data is left as it is."""
    if (info.context or {}).get("stored") or not isinstance(data, dict):
        return data
    return {**data, "elapsed": server_elapsed(info) if scored else None}
