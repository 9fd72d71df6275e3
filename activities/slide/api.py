"""The content slide's model in the JSON API: it takes no answers, so its tally's results are empty."""

from __future__ import annotations

from activities.base import KindResults


class SlideResults(KindResults):
    """A slide's tally: `{}` (nobody answers a slide)."""
