"""The registry of kinds: built-ins and plugins through the same door, duplicate names refused."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import meta

import activities
from activities import ENTRY_POINT_GROUP, Registry, load_registry, registry
from activities import testing as screening
from activities.poll import Poll
from activities.poll import kind as poll
from server.decks import parse_deck


class Straw(Poll):
    """A stand-in third-party kind (a straw poll: a poll by another name), loaded through an entry point."""

    name = "strawpoll"
    label = "Straw poll"


strawpoll = Straw()


def test_the_built_in_kinds_are_the_packages_of_the_activities_folder() -> None:
    folder = Path(activities.__file__).parent
    packages = sorted(path.name for path in folder.iterdir() if (path / "__init__.py").exists())
    assert {"poll", "wordcloud"} <= set(packages)
    assert registry.names() == packages
    assert [kind.name for kind in registry.all()] == packages
    assert "poll" in registry and "trivia" not in registry
    with pytest.raises(KeyError):
        registry["trivia"]


def test_a_second_kind_with_a_taken_name_is_refused() -> None:
    fresh = Registry()
    fresh.register(poll)
    with pytest.raises(RuntimeError, match="Two activity kinds are both named 'poll'"):
        fresh.register(Poll())


def test_a_plugin_kind_from_the_entry_point_group_is_loaded_after_the_built_ins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plugin = EntryPoint(name="strawpoll", value=f"{__name__}:strawpoll", group=ENTRY_POINT_GROUP)

    def entry_points(group: str) -> list[EntryPoint]:
        return [plugin] if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(activities, "entry_points", entry_points)
    loaded = load_registry()
    assert loaded.names() == sorted([*registry.names(), "strawpoll"])
    assert loaded["strawpoll"] is strawpoll


def test_a_plugin_may_not_take_a_built_in_name(monkeypatch: pytest.MonkeyPatch) -> None:
    clash = EntryPoint(name="poll", value="activities.poll:kind", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(activities, "entry_points", lambda group: [clash])
    with pytest.raises(RuntimeError, match="both named 'poll'"):
        load_registry()


@pytest.mark.parametrize("kind", registry.all(), ids=lambda kind: kind.name)
def test_every_kind_ships_its_templates(kind: Any) -> None:
    for audience in ("participant", "presenter", "projector"):
        assert (kind.templates_dir / kind.name / f"{audience}.html").is_file()


# --- what a kind's templates are given -------------------------------------------------------------------------------

DECK = Path(__file__).resolve().parents[2] / "examples" / "decks" / "distributed-leadership.yaml"
# Names of the server's live objects that a kind's template must never reach for: it gets data and URLs instead.
SERVER_OBJECTS = {"room", "session", "snapshot", "views", "services", "stage"}


def _templates(kind: Any) -> list[str]:
    return sorted(str(path.relative_to(kind.templates_dir)) for path in kind.templates_dir.rglob("*.html"))


# A kind the example deck does not show (yet) is rendered with its config from this deck instead.
OTHER_KINDS = """\
title: Kinds the example deck has not got
activities:
  - kind: slide
    title: What we mean by distributed leadership
    body: "Leadership is **a practice**, not a position:\\n\\n- shared\\n- [read more](https://example.org)"
  # number (guess the number)
  - kind: number
    title: How many hours a week do principals spend on instruction?
    min: 0
    max: 80
    unit: hours
    correct: 12
    tolerance: 2
  - kind: pin
    title: Where in this school do decisions get made?
    image: {media: 0000000000000000000000000000000000000000000000000000000000000000.png, alt: A school floor plan}
    areas: [{label: Principal's office, x: 0.1, y: 0.1, width: 0.3, height: 0.2}]
  - kind: grid
    title: Influence and authority
    items: [Principal, Teacher leader]
    quadrants: [Influence only, Both, Neither, Authority only]
  - kind: quiz
    title: Which standard is about equity?
    options: [Mission and vision, Ethics, Equity and cultural responsiveness]
    correct: [3]
"""


def _configs() -> dict[str, Any]:
    """Each built-in kind's config as the example deck gives it first (or, for a kind it lacks, OTHER_KINDS)."""
    deck = parse_deck(DECK.read_text(), registry)
    configs: dict[str, Any] = {}
    for spec in [*deck.activities, *parse_deck(OTHER_KINDS, registry).activities]:
        configs.setdefault(spec.kind, registry[spec.kind].parse_config(spec.config))
    return configs


@pytest.mark.parametrize("kind", registry.all(), ids=lambda kind: kind.name)
def test_no_kind_template_names_a_server_object(kind: Any) -> None:
    env = screening.environment()
    for name in _templates(kind):
        source = (kind.templates_dir / name).read_text()
        names = meta.find_undeclared_variables(env.parse(source))
        assert not names & SERVER_OBJECTS, f"{name} reaches for {sorted(names & SERVER_OBJECTS)}"


@pytest.mark.parametrize("kind", registry.all(), ids=lambda kind: kind.name)
def test_every_kind_template_renders_from_data_and_urls_alone(kind: Any) -> None:
    """The context the server renders kinds with, and not a name more: StrictUndefined fails on anything else."""
    config = _configs()[kind.name]
    activity = SimpleNamespace(
        id=9, session_id=3, kind=kind.name, voting_open=True, moderation={}, position=0, revealed=False
    )
    context = {
        "activity": activity,
        "config": config,
        "results": screening.results(kind.new_tally(config)),
        "results_visible": True,
        "asset_base": "/projector/secret/activities/9",
        "control_url": "/present/3/control",
        "standings": [],
        "respond_url": "/424242/respond",
        "answer": None,
        "standing": None,
        "ranked": 0,
        "csrf": None,
    }
    env = screening.environment()
    for audience in ("presenter", "projector"):
        html = env.get_template(f"{kind.name}/{audience}.html").render(**context, audience=audience)
        assert f"results-{activity.id}" in html
    env.get_template(f"{kind.name}/participant.html").render(**context)
    if kind.shares_results:
        assert f"shared-{activity.id}" in env.get_template(f"{kind.name}/shared.html").render(**context)
        env.get_template(f"{kind.name}/own.html").render(**context)
