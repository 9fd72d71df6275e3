"""Activity kinds: the built-ins, and third-party kinds from the `handsup.activities` entry-point group."""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import Any

from activities.base import ActivityKind

ENTRY_POINT_GROUP = "handsup.activities"


class Registry:
    """The kinds a server knows, by name. A second kind with a taken name is refused at start-up."""

    def __init__(self) -> None:
        self._kinds: dict[str, ActivityKind[Any, Any]] = {}

    def register(self, kind: ActivityKind[Any, Any]) -> None:
        if kind.name in self._kinds:
            raise RuntimeError(f"Two activity kinds are both named {kind.name!r}")
        self._kinds[kind.name] = kind

    def __getitem__(self, name: str) -> ActivityKind[Any, Any]:
        return self._kinds[name]

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def all(self) -> list[ActivityKind[Any, Any]]:
        return [self._kinds[name] for name in self.names()]


def builtin_modules() -> list[str]:
    """Every package in this folder is a kind (its module has `kind`): adding one touches nothing else."""
    return sorted(f"{__name__}.{info.name}" for info in pkgutil.iter_modules(__path__) if info.ispkg)


def load_registry() -> Registry:
    """Every built-in kind, then every installed plugin kind, through the same door."""
    registry = Registry()
    for module in builtin_modules():
        registry.register(importlib.import_module(module).kind)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        registry.register(entry.load())
    return registry


registry = load_registry()
