"""Time zones: which names are taken (IANA names, checked against the zone database), and the one way a stored UTC
moment is shown to people: in the local time of a cohort (or the server's default zone), with the zone named.

Machine formats (data.json, manifest.json, the API) stay in UTC; only what people read is local.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_ZONE = "UTC"
MAX_ZONE_NAME = 64
# Offered first on the cohort form: the zones the institute's sites are in, then the other common ones.
COMMON_ZONES = (
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Mexico_City",
    "America/Bogota",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Berlin",
    "Africa/Johannesburg",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)


class UnknownZone(ValueError):
    """A time zone name that is not in the zone database; the message says so in words a person understands."""


@cache
def known_zones() -> frozenset[str]:
    """Every IANA zone name this machine knows (from the system's zone files or the tzdata package)."""
    return frozenset(available_timezones()) | {DEFAULT_ZONE}


def check_zone(name: str) -> str:
    """The zone name, tidied, when it is a known IANA name; UnknownZone otherwise (a path, a made-up place)."""
    tidy = name.strip()
    if tidy not in known_zones():
        said = tidy[:MAX_ZONE_NAME] or "(nothing)"
        raise UnknownZone(
            f"“{said}” is not a time zone. Choose one from the list, or type its name as in America/Phoenix."
        )
    return tidy


@cache
def zone(name: str | None) -> ZoneInfo:
    """The zone of a stored name; UTC when there is none."""
    return ZoneInfo(check_zone(name or DEFAULT_ZONE))


def local(moment: datetime, name: str | None) -> datetime:
    """A stored moment (aware, or naive UTC as SQLite gives it back) in the zone's local time, aware."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone(name))


def wall_clock(moment: datetime, name: str | None) -> datetime:
    """The local time as a naive date-time to the second, as a spreadsheet cell holds it (the zone goes in the
    column's header)."""
    return local(moment, name).replace(tzinfo=None, microsecond=0)


def iso_local(moment: datetime, name: str | None) -> str:
    """ISO 8601 local time with its UTC offset, to the second: 2017-04-24T09:12:03-07:00."""
    return local(moment, name).replace(microsecond=0).isoformat()


def shown(moment: datetime, name: str | None, *, with_zone: bool = True) -> str:
    """A moment as a page shows it: `2017-04-24 09:12 MST`, local to the zone, with its abbreviation."""
    at = local(moment, name)
    text = at.strftime("%Y-%m-%d %H:%M")
    return f"{text} {zone_label(at)}" if with_zone else text


def zone_label(at: datetime) -> str:
    """The short name of an aware moment's zone (MST, PDT, UTC), or its offset where the zone has no short name."""
    abbreviation = at.tzname() or ""
    return abbreviation if abbreviation.isalpha() else at.strftime("UTC%z")
