"""CSRF: every state-changing form or htmx call carries this browser session's token, and one without it is
refused as an expired form (a page that says so in a browser, a problem body for htmx and scripts).

A participant's token is not kept in a session: it is derived from their participant cookie with the server's key
(`keyed_csrf_token`), so a phone's first page sets no signed session cookie (a room joins at once: that signing
was a tenth of a join's CPU). Another site can read neither the cookie nor the key, so it cannot forge the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from activities.i18n import _
from server.accounts.security import same
from server.web.deps import services_of
from server.web.problems import Problem, http_exception_handler, wants_page

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser session, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def keyed_csrf_token(secret: str, key: str) -> str:
    """The CSRF token of whoever holds `key` (a participant's cookie token): the same on every page they load."""
    digest = hmac.new(secret.encode(), b"csrf:" + key.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing form or htmx call whose CSRF token does not match the session's."""
    await check_sent_csrf(request, request.session.get("csrf"))


async def check_sent_csrf(request: Request, *expected: str | None) -> None:
    """Refuse a request whose CSRF token (header or form field) is none of `expected` (None is never valid)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not any(token and same(str(token), sent) for token in expected):
        raise FormExpired


async def check_upload_csrf(request: Request) -> None:
    """check_csrf for an upload: the header's token needs no body read (the editor sends it); a token in the form's
    field does (within the body's limit), and the spooled files of a refused form are closed at once."""
    try:
        await check_csrf(request)
    except FormExpired:
        if CSRF_HEADER not in request.headers:
            await (await request.form()).close()
        raise


class FormExpired(Problem):
    """A state-changing request without this browser session's CSRF token: a page left open across a sign-in or
    sign-out, a session cookie that ran out, or another site's forged form."""

    def __init__(self) -> None:
        super().__init__(403, _("Form expired"), _("This form has expired. Reload the page and try again."))


async def form_expired_page(request: Request, error: Exception) -> Response:
    """In a browser: a page that says so, with a link back to the page the form was on. Otherwise (htmx, scripts)
    the problem body, whose detail htmx shows."""
    if not wants_page(request):
        return await http_exception_handler(request, error)
    referer = urlsplit(request.headers.get("referer", ""))
    back = "/"
    if referer.netloc == request.url.netloc and referer.path.startswith("/") and not referer.path.startswith("//"):
        back = referer.path + (f"?{referer.query}" if referer.query else "")
    assert isinstance(error, FormExpired)
    views = services_of(request).views
    return HTMLResponse(views.render("errors/expired.html", detail=error.detail, back=back), status_code=403)
