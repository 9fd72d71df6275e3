"""Languages: Accept-Language negotiation, the catalogues in server/locales, and the .pot kept up to date."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from activities.i18n import _, ngettext
from server.web.i18n import (
    LOCALES,
    SOURCE,
    Catalogues,
    catalogues,
    compile_catalogue,
    format_day,
    format_moment,
    format_number,
    format_percent,
    preferred,
    speaking,
)

ROOT = Path(__file__).resolve().parents[3]
POT = LOCALES / "messages.pot"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def read(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source)


def ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


# --- negotiation ----------------------------------------------------------------------------------------------------


def test_preferred_orders_ranges_by_q_value_keeping_the_header_order_on_ties() -> None:
    header = "fr;q=0.5, es-MX, en;q=0.8, de;q=0.8, pt"
    assert preferred(header) == ["es-MX", "pt", "en", "de", "fr"]


def test_preferred_leaves_out_refused_wildcard_and_malformed_ranges() -> None:
    assert preferred("es;q=0, *;q=0.5, en;q=abc, <script>, fr;q=0.3, it;q=1.5") == ["fr"]
    assert preferred("") == []


def test_negotiation_picks_the_best_language_we_have() -> None:
    speak = catalogues()
    assert speak.negotiate("es-MX,es;q=0.9,en;q=0.8") == "es"
    assert speak.negotiate("de-DE, de;q=0.9, es;q=0.5, en;q=0.4") == "es"  # no German: the next best we have
    assert speak.negotiate("en;q=0.4, es;q=0.9") == "es"
    assert speak.negotiate("de, fr") == SOURCE
    assert speak.negotiate(None) == SOURCE


def test_a_choice_wins_over_accept_language_and_an_unknown_one_is_ignored() -> None:
    speak = catalogues()
    assert speak.negotiate("es", chosen="en") == "en"
    assert speak.negotiate("en", chosen="es") == "es"
    assert speak.negotiate("es", chosen="xx") == "es"


def test_languages_are_the_catalogue_folders_named_in_themselves(tmp_path: Path) -> None:
    for code in ("pt_BR", "es"):
        folder = tmp_path / code / "LC_MESSAGES"
        folder.mkdir(parents=True)
        catalog = Catalog(locale=code)
        catalog.add("Send", {"pt_BR": "Enviar", "es": "Enviar"}[code])
        with (folder / "messages.po").open("wb") as po:
            write_po(po, catalog)
    found = Catalogues(tmp_path)
    assert [(language.code, language.name, language.tag) for language in found.languages] == [
        ("en", "English", "en"),
        ("es", "Español", "es"),
        ("pt_BR", "Português (Brasil)", "pt-BR"),
    ]
    assert found.negotiate("pt-br") == "pt_BR"
    assert found.negotiate("pt-PT, pt;q=0.9") == "pt_BR"  # a regional catalogue serves its whole language
    assert found.negotiate("es-AR") == "es"


def test_fuzzy_translations_are_left_out_so_the_source_text_shows(tmp_path: Path) -> None:
    catalog = Catalog(locale="es")
    catalog.add("Send", "Enviar")
    catalog.add("Finish", "Terminado", flags=["fuzzy"])
    po = tmp_path / "messages.po"
    with po.open("wb") as target:
        write_po(target, catalog)
    compiled = compile_catalogue(po)
    assert compiled.gettext("Send") == "Enviar"
    assert compiled.gettext("Finish") == "Finish"


def test_messages_follow_the_language_being_spoken() -> None:
    assert _("Send") == "Send"
    with speaking("es"):
        assert _("Send") == "Enviar"
        assert ngettext("%(num)d vote", "%(num)d votes", 2) % {"num": 2} == "2 votos"
        with speaking("en"):
            assert _("Send") == "Send"
        assert _("Send") == "Enviar"
    assert _("Send") == "Send"


# --- the catalogues -------------------------------------------------------------------------------------------------


def test_the_pot_lists_exactly_the_messages_of_the_sources(tmp_path: Path) -> None:
    """Run `pybabel extract` as docs/translating.md says: a new or changed message the .pot lacks fails here."""
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(fresh), str(ROOT)])
    extracted, committed = read(fresh), read(POT)
    missing = sorted(map(str, ids(extracted) - ids(committed)))
    stale = sorted(map(str, ids(committed) - ids(extracted)))
    assert not missing and not stale, (
        f"server/locales/messages.pot is out of date (run the commands of docs/translating.md); "
        f"new: {missing[:5]}, gone: {stale[:5]}"
    )


@pytest.mark.parametrize("code", [code for code in catalogues().codes if code != SOURCE])
def test_every_catalogue_is_updated_from_the_pot(code: str) -> None:
    catalog = read(LOCALES / code / "LC_MESSAGES" / "messages.po")
    assert ids(catalog) == ids(read(POT)), "run: make messages (docs/translating.md)"


def test_every_spanish_message_is_translated_and_none_is_fuzzy() -> None:
    """Every message in the catalogue is something a participant or the projector shows: each needs Spanish."""
    catalog = read(LOCALES / "es" / "LC_MESSAGES" / "messages.po")
    untranslated = [message.id for message in catalog if message.id and not _translated(message)]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert not untranslated, f"untranslated in es: {untranslated[:5]}"
    assert not fuzzy, f"fuzzy in es: {fuzzy[:5]}"


def test_spanish_translations_keep_the_placeholders_of_their_source() -> None:
    catalog = read(LOCALES / "es" / "LC_MESSAGES" / "messages.po")
    for message in catalog:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(placeholders(source) for source in sources))
        for string in strings:
            # A singular may leave out the count ("Pick one option."), never add a name the code does not pass.
            assert placeholders(string) <= wanted, (message.id, string)
        if not isinstance(message.id, tuple):
            assert placeholders(strings[0]) == wanted, (message.id, strings[0])


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


# --- numbers, shares, days and moments for the language (issue 17) --------------------------------------------------


def test_numbers_are_grouped_and_marked_as_the_language_writes_them() -> None:
    assert format_number(1234.5) == "1,234.5"
    assert format_number(2, digits=1) == "2.0"
    with speaking("es"):
        assert format_number(1234.5) == "1.234,5"
        assert format_number(1234567) == "1.234.567"
        assert format_number(2.25, digits=1) == "2,2"  # half to even, as Babel rounds
        assert format_number(3, digits=0) == "3"


def test_shares_are_percentages_with_the_language_spacing() -> None:
    assert format_percent(0.375) == "38%"
    assert format_percent(0.3754, 1) == "37.5%"
    with speaking("es"):
        assert format_percent(0.375) == "38\N{NO-BREAK SPACE}%"
        assert format_percent(0.3754, 1) == "37,5\N{NO-BREAK SPACE}%"
        assert format_percent(12.5) == "1.250\N{NO-BREAK SPACE}%"


def test_days_and_moments_are_written_for_the_language_in_the_cohort_zone() -> None:
    moment = datetime(2017, 4, 24, 16, 12, 30)  # naive UTC, as SQLite gives it back
    assert format_day(date(2017, 4, 24)) == "Apr 24, 2017"
    assert format_moment(moment, "America/Phoenix") == "2017-04-24 09:12 MST"  # the source language: as before
    assert format_moment(moment, None, with_zone=False) == "2017-04-24 16:12"
    with speaking("es"):
        assert format_day(date(2017, 4, 24)) == "24 abr 2017"
        assert format_moment(moment, "America/Phoenix") == "24 abr 2017, 9:12 MST"
        assert format_moment(moment.replace(tzinfo=UTC), "Europe/Madrid", with_zone=False) == "24 abr 2017, 18:12"
