"""axe-core's accessibility rules, run inside a real page (axe-core comes from npm: tests/browser/package.json)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# The impacts that fail a page; "minor" and "moderate" findings are left to judgement.
BLOCKING = ("serious", "critical")
# Each element found comes with the first reason axe gives for it (the line after "Fix any of the following:").
RUN = """async () => {
  const results = await window.axe.run(document, {resultTypes: ["violations"]});
  const reason = node => node.failureSummary ? " (" + node.failureSummary.split("\\n")[1].trim() + ")" : "";
  return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       targets: v.nodes.map(node => node.target.join(" ") + reason(node))}));
}"""


@cache
def axe_source() -> str:
    """axe.min.js as npm installed it; a missing install fails with the command that makes it."""
    if not AXE.exists():
        pytest.fail(
            "axe-core is not installed: run `make test` (it runs `npm ci --prefix tests/browser`) or that command "
            "yourself; it needs Node.js and npm."
        )
    return AXE.read_text(encoding="utf-8")


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations of the page as it is now. The script goes in through Playwright's evaluate, which the page's
    Content-Security-Policy does not govern, so the policy stays as strict as it is for the rest of the suite."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    found: list[dict[str, Any]] = page.evaluate(RUN)
    return found


def describe(name: str, found: list[dict[str, Any]]) -> list[str]:
    """One readable line per violation: rule id, impact, help text and the elements it was found on."""
    return [
        f"{name}: {v['id']} [{v['impact']}] {v['help']}: "
        + "; ".join(v["targets"][:5])
        + (f" (+{len(v['targets']) - 5} more)" if len(v["targets"]) > 5 else "")
        for v in found
    ]


class Audit:
    """Collects the serious and critical violations of every page a test checks, to fail once with all of them."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.checked: list[str] = []

    def check(self, page: Page, name: str) -> None:
        """Run axe on the page as it is now and keep what blocks."""
        self.checked.append(name)
        found = violations(page)
        self.failures += describe(name, [v for v in found if v["impact"] in BLOCKING])

    def assert_clean(self) -> None:
        assert self.checked, "the audit checked no page"
        if self.failures:
            pytest.fail(
                f"axe-core found serious or critical violations on {len(self.checked)} pages checked:\n"
                + "\n".join(self.failures),
                pytrace=False,
            )
