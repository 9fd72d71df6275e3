"""The language of what is being rendered or refused right now, for kinds and the server alike.

The server picks a language per request, socket or push (server/web/i18n.py) and makes its catalogue current here;
a kind only marks what participants read with `_` (or `ngettext`), as the standard gettext tools expect, and never
needs to know which language is in use. Outside any request the catalogue is gettext's null one: the English
source text.
"""

from __future__ import annotations

import gettext as _gettext
from contextvars import ContextVar

SOURCE_TEXT = _gettext.NullTranslations()
# Never mutated: a catalogue is replaced (set), not changed.
CATALOGUE: ContextVar[_gettext.NullTranslations] = ContextVar("catalogue", default=SOURCE_TEXT)  # noqa: B039


def _(message: str) -> str:
    """`message` in the current language (the English source when no translation is current)."""
    return CATALOGUE.get().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural of a message for `count`, in the current language."""
    return CATALOGUE.get().ngettext(singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 - the name gettext's extractors look for
    """Mark a message for the catalogue where it is defined; it is translated where it is shown, with `_`."""
    return message
