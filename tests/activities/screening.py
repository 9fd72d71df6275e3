"""The profanity filter as a kind's tests meet it: results taken through the server's one path, and templates.

Each kind's tests check the same three things with these: a flagged entry is held back from the room (projector
results and picture), the presenter sees it marked, and the presenter's "show" lets it through.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from activities import registry
from activities.base import KindConfig, Tally
from server.live.fragments import make_environment
from server.sessions import moderated_results

ENV = make_environment(registry)
MARK = "Held back by the profanity filter"


def results(tally: Tally[Any, Any], moderation: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the room's views are rendered from: the snapshot under the moderation and the filter."""
    return moderated_results(tally, moderation or {})


def render(
    kind: str, audience: str, config: KindConfig, tally: Tally[Any, Any], moderation: dict[str, Any] | None = None
) -> str:
    """A kind's presenter or projector results, as the hub renders them for one activity (id 9 of session 3)."""
    activity = SimpleNamespace(id=9, session_id=3, voting_open=True, moderation=moderation or {})
    context = {
        "activity": activity,
        "config": config,
        "results": results(tally, moderation),
        "results_visible": True,
        "audience": audience,
        "asset_base": "/projector/secret/activities/9",
    }
    return ENV.get_template(f"{kind}/{audience}.html").render(**context)


def show_button(html: str, field: str, key: str) -> bool:
    """Whether the presenter's HTML has a Show control for this item (the existing moderation toggle): one form
    posting the verb "show" with the item's key, under a "Show" button."""
    return any(
        'name="verb" value="show"' in form and f'name="{field}" value="{key}"' in form and ">Show</button>" in form
        for form in re.findall(r"<form.*?</form>", html, flags=re.DOTALL)
    )
