"""The registry of kinds: built-ins and plugins through the same door, duplicate names refused."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

import activities
from activities import ENTRY_POINT_GROUP, Registry, load_registry, registry
from activities.poll import Poll
from activities.poll import kind as poll


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
    assert "poll" in registry and "quiz" not in registry
    with pytest.raises(KeyError):
        registry["quiz"]


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
