"""The participant page's critical stylesheet: inlined in the page's <head> so a phone paints the answer form with
the page's first round trip, and allowed by its hash in the Content-Security-Policy (no 'unsafe-inline').

On Slow 3G every request waits 2 s before its first byte: a page that must fetch its stylesheet before it paints is
usable after two round trips, 4 s at the earliest. With the rules the form needs inside the page, it paints after
one; handsup.css and the kinds' stylesheets follow without blocking the paint (client/templates/participant/page.html).

The file is read once, when this module is imported (at start-up); the hash is computed from those same bytes and the
page inlines exactly them, so the two cannot disagree. Nothing here is written by hand but the stylesheet.
"""

from __future__ import annotations

import base64
import hashlib

from markupsafe import Markup

from server import ROOT

CRITICAL_CSS_FILE = ROOT / "static" / "css" / "critical.css"


def load(text: str) -> tuple[Markup, str]:
    """The text to inline and its CSP source expression (`'sha256-…'`).

    A browser hashes a <style> element's text as the HTML parser left it: the parser turns CR LF into LF, so a file
    with CR would hash differently in the page than here; and `</style` would end the element early."""
    if "\r" in text or "</style" in text.lower():
        raise ValueError("the critical stylesheet may hold neither a carriage return nor '</style'")
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return Markup(text), f"'sha256-{digest}'"  # noqa: S704 - our own file, checked above, not user input


CRITICAL_CSS, CRITICAL_CSS_SOURCE = load(CRITICAL_CSS_FILE.read_text(encoding="utf-8"))
