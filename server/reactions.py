"""Reactions: a tap on a phone that floats up the projector for a moment. Counted, never stored."""

from __future__ import annotations

import time
from dataclasses import dataclass

# name -> (symbol, what a screen reader says)
REACTIONS: dict[str, tuple[str, str]] = {
    "like": ("👍", "Like"),
    "heart": ("❤️", "Love it"),
    "question": ("❓", "I have a question"),
    "applause": ("👏", "Applause"),
}
# Per participant: a burst of this many, then one per REFILL_SECONDS (a thumb hammering the button is not a crowd).
BURST = 3
REFILL_SECONDS = 1.0
# The projector floats at most this many of one reaction per push; the rest only count.
FLOATS_PER_PUSH = 4
LANES = 8


class ReactionRefused(ValueError):
    """A reaction not taken (unknown, switched off); the message is for the participant."""

    status = 409


class TooFast(ReactionRefused):
    """More reactions than the rate allows: try again in a moment."""

    status = 429


@dataclass
class Bucket:
    """A token bucket: `tokens` left as of `at` (monotonic seconds)."""

    tokens: float
    at: float

    def take(self, now: float) -> bool:
        self.tokens = min(BURST, self.tokens + (now - self.at) / REFILL_SECONDS)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RateLimit:
    """One bucket per participant; full buckets are forgotten, so memory follows who is reacting right now."""

    def __init__(self) -> None:
        self._buckets: dict[int, Bucket] = {}

    def allow(self, participant_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        bucket = self._buckets.setdefault(participant_id, Bucket(BURST, now))
        allowed = bucket.take(now)
        if len(self._buckets) > 1024:
            self._buckets = {
                pid: b for pid, b in self._buckets.items() if b.tokens + (now - b.at) / REFILL_SECONDS < BURST
            }
        return allowed
