"""Rendering: the Jinja environment (kinds' templates first) and the fragments each audience is pushed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import segno
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from activities import Registry
from server import ROOT, __version__
from server.models import Activity
from server.sessions import format_code, seconds_left

if TYPE_CHECKING:
    from server.hub import Audience, Room

TEMPLATES = ROOT / "client" / "templates"


def make_environment(registry: Registry) -> Environment:
    """Templates of every kind (`<kind>/...`) ahead of the client's, autoescaped, undefined names are errors."""
    loaders = [FileSystemLoader(kind.templates_dir) for kind in registry.all()]
    env = Environment(
        loader=ChoiceLoader([*loaders, FileSystemLoader(TEMPLATES)]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        enable_async=False,
    )
    env.globals.update(version=__version__, format_code=format_code, seconds_left=seconds_left)
    return env


def qr_svg(url: str) -> str:
    """A QR code of a URL as inline SVG markup (no external request, scales with CSS)."""
    return str(segno.make(url, error="m").svg_inline(scale=1, border=2, dark="#000", light="#fff", omitsize=True))


class Views:
    """The HTML of each audience's live areas, rendered from a room."""

    def __init__(self, env: Environment, registry: Registry) -> None:
        self.env = env
        self.registry = registry

    def render(self, name: str, **context: Any) -> str:
        return self.env.get_template(name).render(**context)

    def activity_context(self, room: Room, activity: Activity, audience: Audience) -> dict[str, Any]:
        """What a kind's template gets for one activity, as this audience may see it."""
        assert activity.id is not None
        tally = room.tallies[activity.id]
        session = room.snapshot.session
        base = f"/present/{session.id}" if audience == "presenter" else f"/projector/{session.projector_secret}"
        return {
            "activity": activity,
            "config": room.snapshot.configs[activity.id],
            "results": tally.snapshot(activity.moderation),
            "results_visible": room.snapshot.results_visible(activity),
            "audience": str(audience),
            "asset_base": f"{base}/activities/{activity.id}",
        }

    def projected_activities(self, room: Room) -> list[Activity]:
        """What the projector shows now: the current activity (side-by-side layouts will add more)."""
        current = room.snapshot.current
        return [current] if current is not None else []

    def participant_stage(self, room: Room, answer: Any = None, *, error: str | None = None) -> str:
        """The participant's `#stage`: the current activity's form (with their answer), or a plain state."""
        activity = room.snapshot.current
        return self.render(
            "participant/stage.html",
            room=room,
            session=room.snapshot.session,
            activity=activity,
            config=room.snapshot.configs.get(activity.id) if activity and activity.id else None,
            answer=answer,
            error=error,
        )

    def participant_status(self, activity: Activity, *, error: str | None) -> str:
        """Just the status line of an activity: 'received', or what to fix."""
        return self.render("participant/reply.html", activity=activity, error=error, received=error is None)

    def presenter_live(self, room: Room) -> str:
        return self.render("presenter/live.html", room=room, views=self, snapshot=room.snapshot)

    def projector_stage(self, room: Room) -> str:
        return self.render("projector/stage.html", room=room, views=self, snapshot=room.snapshot)

    def results(self, room: Room, activity: Activity, audience: Audience) -> str:
        """An activity's `#results-<id>` for one audience; the room sees a count only until results are shown."""
        context = self.activity_context(room, activity, audience)
        if audience == "projector" and not context["results_visible"]:
            return self.render("projector/hidden.html", **context)
        return self.render(f"{activity.kind}/{audience}.html", **context)

    def counts(self, room: Room) -> str:
        current = room.snapshot.current
        responded = room.tallies[current.id].respondents if current is not None and current.id is not None else 0
        return self.render("presenter/counts.html", room=room, responded=responded, current=current)
