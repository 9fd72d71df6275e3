"""Reactions: a tap on a phone that floats up the projector for a moment. Counted, never stored."""

from __future__ import annotations

from activities.i18n import N_

# name -> (symbol, what a screen reader says)
REACTIONS: dict[str, tuple[str, str]] = {
    "like": ("👍", N_("Like")),
    "heart": ("❤️", N_("Love it")),
    "question": ("❓", N_("I have a question")),
    "applause": ("👏", N_("Applause")),
}
# The projector floats at most this many of one reaction per push; the rest only count.
FLOATS_PER_PUSH = 4
LANES = 8


class ReactionRefused(ValueError):
    """A reaction not taken (unknown, switched off); the message is for the participant."""

    status = 409


class TooFast(ReactionRefused):
    """More reactions than the rate allows (reactions_per_minute, reaction_burst): try again in a moment."""

    status = 429
