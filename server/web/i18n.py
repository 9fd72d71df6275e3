"""Languages: the message catalogues in server/locales, the language of each request, and the switch between them.

Every folder `server/locales/<code>/LC_MESSAGES/messages.po` is a language the participant and projector pages speak
(docs/translating.md): adding one is adding its catalogue, no code. Catalogues are compiled in memory when the server
starts, so neither `make run` nor a fresh clone needs a build step, and a fuzzy or missing translation falls back to the
English source text. A visitor's explicit choice (the switch, remembered in a cookie) wins over their browser's
Accept-Language; English is the last resort.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from activities.i18n import CATALOGUE
from server.times import local, shown, zone_label

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SOURCE = "en"  # the language the source text is written in
COOKIE = "handsup_language"
COOKIE_DAYS = 365
MAX_ACCEPT_LANGUAGE = 40  # ranges read from one header; a longer list is cut, not parsed

LANGUAGE: ContextVar[str] = ContextVar("language", default=SOURCE)
# The page a language switch comes back to: the request's own path for a GET, else the page the form was on.
HERE: ContextVar[str] = ContextVar("here", default="/")


@dataclass(frozen=True)
class Language:
    code: str  # as the catalogue's folder is named: "es", "pt_BR"
    name: str  # in itself, as the switch shows it: "Español"

    @property
    def tag(self) -> str:
        """The BCP 47 tag for `lang` attributes: "pt-BR"."""
        return self.code.replace("_", "-")


class Catalogues:
    """The languages of one folder of catalogues, each compiled once."""

    def __init__(self, folder: Path) -> None:
        self._catalogues: dict[str, gettext.NullTranslations] = {SOURCE: gettext.NullTranslations()}
        for po in sorted(folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            self._catalogues[po.parent.parent.name] = compile_catalogue(po)
        codes = [SOURCE, *sorted(code for code in self._catalogues if code != SOURCE)]
        self.languages = [Language(code, _own_name(code)) for code in codes]
        self._by_tag = {_normal(code): code for code in codes}

    @property
    def codes(self) -> list[str]:
        return [language.code for language in self.languages]

    def catalogue(self, code: str) -> gettext.NullTranslations:
        return self._catalogues.get(code, self._catalogues[SOURCE])

    def match(self, tag: str) -> str | None:
        """The language a tag asks for: the same one ("es-mx" for "es_MX"), else its primary language ("es-MX" for
        "es"), else a regional catalogue of that language ("pt" for "pt_BR")."""
        wanted = _normal(tag)
        if wanted in self._by_tag:
            return self._by_tag[wanted]
        primary = wanted.split("-", 1)[0]
        if primary in self._by_tag:
            return self._by_tag[primary]
        return next((code for normal, code in self._by_tag.items() if normal.split("-", 1)[0] == primary), None)

    def negotiate(self, accept_language: str | None, chosen: str | None = None) -> str:
        """The language to answer in: the visitor's choice if we have it, else the best of Accept-Language by its
        q-values, else the source language."""
        if chosen and chosen in self._catalogues:
            return chosen
        for tag in preferred(accept_language or ""):
            code = self.match(tag)
            if code is not None:
                return code
        return SOURCE


def preferred(accept_language: str) -> list[str]:
    """The language ranges of an Accept-Language header, most wanted first (a stable sort by q-value); q=0 ranges,
    the wildcard and malformed parts are left out."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:MAX_ACCEPT_LANGUAGE]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or not all(piece.isalnum() and len(piece) <= 8 for piece in tag.split("-")):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
        if 0 < quality <= 1:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def compile_catalogue(po: Path) -> gettext.NullTranslations:
    """A .po file as a gettext catalogue, compiled in memory; fuzzy entries are left out (their source shows)."""
    with po.open("rb") as source:
        catalog = read_po(source, domain=DOMAIN)  # the language and its plural rule come from the header
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def catalogues() -> Catalogues:
    """The server's catalogues, read on first use."""
    return Catalogues(LOCALES)


def current_language() -> str:
    """The language being rendered in now (the source language outside a request)."""
    return LANGUAGE.get()


def current_tag() -> str:
    """The current language as a `lang` attribute wants it."""
    return current_language().replace("_", "-")


def speak(code: str) -> None:
    """Make `code` the language of the rest of this request or socket (what its pages and messages are in)."""
    LANGUAGE.set(code)
    CATALOGUE.set(catalogues().catalogue(code))


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Render or refuse in `code` for the duration (a push rendered once per language in use)."""
    language, catalogue = LANGUAGE.set(code), CATALOGUE.set(catalogues().catalogue(code))
    try:
        yield
    finally:
        CATALOGUE.reset(catalogue)
        LANGUAGE.reset(language)


def language_of(connection: HTTPConnection) -> str:
    """The language a request or socket asks for: its cookie's choice, else its Accept-Language."""
    return catalogues().negotiate(connection.headers.get("accept-language"), connection.cookies.get(COOKIE))


async def in_their_language(connection: HTTPConnection) -> None:
    """A router dependency: the pages, pushes and messages of this request or socket are in the visitor's language.

    Routers whose pages are not translated yet go without it, and stay in English."""
    speak(language_of(connection))


def here() -> str:
    """The page being rendered, for its language switch to come back to (the join page outside a request)."""
    return HERE.get()


def page_of(request: Request) -> str:
    """A GET's own path and query; for a form's answer (a POST re-rendering its page), the page the form was on."""
    if request.method in ("GET", "HEAD"):
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


class PageAddress:
    """HTTP middleware: remembers which page each request is for (`here()`), whichever router answers it, so the
    language switch on any page, translated or not yet, comes back to it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = HERE.set(page_of(Request(scope)))
        try:
            await self.app(scope, receive, send)
        finally:
            HERE.reset(token)


def _own_name(code: str) -> str:
    """A language's name as its speakers write it, capitalised for a menu: "Español"."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, LookupError):
        return code
    return name[:1].upper() + name[1:]


def _normal(tag: str) -> str:
    return tag.strip().replace("_", "-").lower()


# --- Numbers in the page's language -------------------------------------------------------------------------------

# A decimal point between two digits: where a number as kinds show it ("2.5", a bin's "2.5–5") has its fraction.
DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")


@cache
def decimal_symbol(language: str) -> str:
    """The mark before a number's fraction in a language (CLDR: "," in Spanish, "." in English)."""
    return numbers.get_decimal_symbol(Locale.parse(language))


def local_decimals(text: object) -> str:
    """A number, or a text of numbers, as kinds show them (a point, never grouped) with the current language's
    decimal mark: "37.5" reads "37,5" on a page in Spanish. Anything else in the text is left as it is."""
    return DECIMAL_POINT.sub(decimal_symbol(current_language()), str(text))


# --- Numbers, percentages, days and moments formatted for the page's language (Babel, CLDR) -------------------------
# The one way pages, reports and workbook headings show a number or a time to people: `{{ n | format_number }}` gives
# "1,234.5" in English and "1.234,5" in Spanish. Machine formats (CSV, JSON, the API) never go through these.


LAST_INTEGER_DIGIT = re.compile(r"0(?=[^0#,.]*%)")  # where a percent pattern's fraction goes


def _locale() -> Locale:
    return Locale.parse(current_language())


def format_number(value: float | int, digits: int | None = None) -> str:
    """A number grouped and with the decimal mark of the current language; `digits` fixes the fraction's length
    (rounded half to even as Babel does), else it is shown as it is (up to three decimals)."""
    if digits is None:
        return numbers.format_decimal(value, locale=_locale())
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return numbers.format_decimal(value, format=pattern, locale=_locale())


def format_percent(ratio: float, digits: int = 0) -> str:
    """A share (0.375) as a percentage in the current language: "38%" in English, "38 %" in Spanish."""
    locale = _locale()
    pattern = locale.percent_formats[None].pattern  # the language's own spacing: "#,##0 %" in Spanish
    if digits > 0:
        pattern = LAST_INTEGER_DIGIT.sub("0." + "0" * digits, pattern, count=1)
    return numbers.format_percent(ratio, format=pattern, locale=locale)


def format_day(day: date) -> str:
    """A calendar day as people of the current language write it: "Apr 24, 2017", "24 abr 2017"."""
    return dates.format_skeleton("yMMMd", day, locale=_locale())


def format_moment(moment: datetime, zone: str | None = None, *, with_zone: bool = True) -> str:
    """A stored moment in a zone's local time (the server's UTC when `zone` is None), with the zone's short name.

    In the source language it stays as the pages have always shown it, `2017-04-24 09:12 MST` (unambiguous, sorts
    as text); in another language it is CLDR's medium day and short time: `24 abr 2017, 9:12 MST` in Spanish."""
    if current_language() == SOURCE:
        return shown(moment, zone, with_zone=with_zone)
    at = local(moment, zone)
    text = (
        dates.format_skeleton("yMMMd", at, locale=_locale()) + ", " + dates.format_time(at, "short", locale=_locale())
    )
    return f"{text} {zone_label(at)}" if with_zone else text
