"""Security headers on every HTTP response, and the endpoint browsers report Content-Security-Policy violations to.

The policy allows nothing inline: no `<script>` in a page, no `style=` or `on...=` attributes, no `javascript:` URLs,
and no `<style>` but one: the participant page's critical stylesheet, allowed by the hash of its exact bytes
(server/web/critical.py), never by 'unsafe-inline'. Our own scripts and stylesheets come from /static; htmx swaps in
markup that obeys the same rule.
A violation is blocked by the browser and reported here, counted and logged, so a page that breaks the rule shows
up in the server's log (and fails the browser tests) rather than quietly losing its styling.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.accounts.access import Access, declare
from server.web.bodies import TooLarge, capped
from server.web.critical import CRITICAL_CSS_SOURCE
from server.web.deps import ServicesDep
from server.web.problems import Problem

log = logging.getLogger(__name__)

# Pages and answers that hold secrets (a new API token, a one-time password) are never kept by a browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}
CSP_REPORTS = "/csp-reports"
REPORT_GROUP = "csp"
POLICY = "; ".join(
    [
        "default-src 'self'",
        # 'report-sample': a report quotes the start of what was blocked, which says where to look.
        "script-src 'self' 'report-sample'",
        # The hash: the participant page's inlined critical stylesheet, and no other <style> (server/web/critical.py).
        f"style-src 'self' {CRITICAL_CSS_SOURCE} 'report-sample'",
        "img-src 'self' data:",
        "connect-src 'self'",  # CSP Level 3: 'self' covers ws: and wss: to this host
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        f"report-uri {CSP_REPORTS}",
    ]
)
# Over HTTPS, the Reporting API too. Not over plain HTTP: browsers ignore an endpoint that is not secure, and with
# report-to in the policy they would skip report-uri as well, leaving a LAN server without reports.
POLICY_HTTPS = f"{POLICY}; report-to {REPORT_GROUP}"
# Nothing here uses these; a page that gets injected into anyway cannot ask for them.
FEATURES_OFF = ("accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb")
PERMISSIONS = ", ".join(f"{feature}=()" for feature in FEATURES_OFF)
HSTS = "max-age=31536000"  # a year; no includeSubDomains: the server rarely owns its whole domain
HEADERS: tuple[tuple[str, str], ...] = (
    ("x-content-type-options", "nosniff"),
    # Join links carry the session's code: other sites (a shared resource's link) are not told the page.
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", PERMISSIONS),
)
HTTP_HEADERS = (("content-security-policy", POLICY),)
HTTPS_HEADERS = (
    ("content-security-policy", POLICY_HTTPS),
    ("reporting-endpoints", f'{REPORT_GROUP}="{CSP_REPORTS}"'),
    ("strict-transport-security", HSTS),
)
REPORT_TYPES = frozenset({"application/csp-report", "application/reports+json", "application/json"})


class SecurityHeaders:
    """Adds HEADERS and the policy (with HSTS and the Reporting API over HTTPS) to every HTTP response's start,
    leaving the body alone.

    Plain ASGI rather than BaseHTTPMiddleware: streamed downloads pass through chunk by chunk, and websockets are
    not touched. A header a response sets itself (its own Content-Security-Policy) is kept.
    """

    def __init__(self, app: ASGIApp, *, always_https: bool = False) -> None:
        self.app = app
        self.always_https = always_https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The scheme as the browser used it: uvicorn has applied a trusted proxy's X-Forwarded-Proto already.
        added = HEADERS + (HTTPS_HEADERS if self.always_https or scope.get("scheme") == "https" else HTTP_HEADERS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class Violation:
    """One CSP violation as a browser reported it (the old report-uri shape or the Reporting API's)."""

    directive: str
    blocked: str
    page: str
    source: str = ""
    sample: str = ""

    def describe(self) -> str:
        where = f" at {self.source}" if self.source else ""
        sample = f" ({self.sample!r})" if self.sample else ""
        return f"{self.directive!r} blocked {self.blocked!r}{sample} on {self.page!r}{where}"


@dataclass
class CspReports:
    """The violations reported to this server: every one counted, and logged within a budget per minute so a
    flood of reports cannot flood the log. Nothing of a report is kept beyond its log line."""

    log_per_minute: int
    received: int = 0
    unlogged: int = 0
    _window: float = field(default=float("-inf"), init=False)  # when the current minute of logging began
    _logged: int = field(default=0, init=False)

    def record(self, violation: Violation, now: float) -> None:
        self.received += 1
        if now - self._window >= 60:
            if self.unlogged:
                log.warning("%d more CSP violation reports in the last minute were not logged", self.unlogged)
            self._window, self._logged, self.unlogged = now, 0, 0
        if self._logged < self.log_per_minute:
            self._logged += 1
            log.warning("CSP violation report: %s", violation.describe())
        else:
            self.unlogged += 1


def _text(value: Any, limit: int = 300) -> str:
    return str(value)[:limit] if isinstance(value, str | int) else ""


def violations(document: Any) -> Iterator[Violation]:
    """The CSP violations in a report body: `{"csp-report": {...}}` (report-uri) or a list of reports of which
    those of type "csp-violation" count (report-to). Anything else holds none."""
    if isinstance(document, Mapping) and isinstance(document.get("csp-report"), Mapping):
        report = document["csp-report"]
        source = _text(report.get("source-file"))
        if source and report.get("line-number"):
            source += f":{_text(report.get('line-number'))}"
        yield Violation(
            directive=_text(report.get("effective-directive") or report.get("violated-directive")),
            blocked=_text(report.get("blocked-uri")),
            page=_text(report.get("document-uri")),
            source=source,
            sample=_text(report.get("script-sample"), 80),
        )
    elif isinstance(document, list):
        for report in document:
            if not isinstance(report, Mapping) or report.get("type") != "csp-violation":
                continue
            body = report.get("body")
            if not isinstance(body, Mapping):
                continue
            source = _text(body.get("sourceFile"))
            if source and body.get("lineNumber"):
                source += f":{_text(body.get('lineNumber'))}"
            yield Violation(
                directive=_text(body.get("effectiveDirective")),
                blocked=_text(body.get("blockedURL")),
                page=_text(body.get("documentURL") or report.get("url")),
                source=source,
                sample=_text(body.get("sample"), 80),
            )


router = APIRouter(include_in_schema=False)


@router.post(CSP_REPORTS, status_code=204, dependencies=[declare(Access.anyone)])
async def csp_report(request: Request, services: ServicesDep) -> Response:
    """Where browsers send CSP violation reports (anyone's browser may): counted and logged, 204."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in REPORT_TYPES:
        raise Problem(415, "Unsupported media type", "Send a CSP violation report as JSON.")
    limit = services.settings.csp_report_bytes
    try:
        body = await capped(request, limit).body()
    except TooLarge:
        raise Problem(413, "Too large", f"A CSP report is at most {limit // 1024} KiB.") from None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: brackets nested deeper than the parser goes
        raise Problem(400, "Bad request", "That is not a CSP report (not JSON).") from None
    reports: CspReports = request.app.state.csp_reports
    now = time.monotonic()
    for violation in violations(document):
        reports.record(violation, now)
    return Response(status_code=204)
