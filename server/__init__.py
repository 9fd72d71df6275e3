"""Handsup: a self-hosted, real-time workshop facilitation server."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

# The source tree: templates, static assets and example decks live beside the packages.
ROOT = Path(__file__).resolve().parent.parent
