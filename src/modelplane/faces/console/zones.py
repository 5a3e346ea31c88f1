"""Dates and times as the person at the browser reads them: a form's local date (`YYYY-MM-DD`)
in a time zone (`timeZone`, an IANA name; the script fills in the browser's, UTC without
it) becomes the epoch milliseconds a service takes, and a stored time is shown in that
zone. Used by the Keys screen (a key's expiry) and the Audit screen (its time range)."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from modelplane.domain.errors import ViolationCollector

ZONE_FIELD = "timeZone"
ZONE_NAME_MAX = 64
UTC_NAME = "UTC"
DATE_RULE = "must be a date as YYYY-MM-DD"


@functools.cache
def known_zones() -> frozenset[str]:
    """The IANA time zones this machine knows (read once)."""
    return frozenset(zoneinfo.available_timezones()) | {UTC_NAME}


def zone_of(name: str, errors: ViolationCollector) -> dt.tzinfo:
    """The time zone named (blank: UTC); an unknown name is an error on `timeZone`."""
    if not name or name == UTC_NAME:
        return dt.UTC
    if len(name) > ZONE_NAME_MAX or name not in known_zones():
        errors.add(ZONE_FIELD, "must be a time zone such as UTC or Europe/Berlin (IANA name)")
        return dt.UTC
    return zoneinfo.ZoneInfo(name)


def date_of(text: str, name: str, errors: ViolationCollector) -> dt.date | None:
    """The date a form's field gives (blank: None); anything else is an error on `name`."""
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.add(name, DATE_RULE)
        return None


def day_start_ms(day: dt.date, zone: dt.tzinfo) -> int:
    """When `day` begins in `zone`, in epoch milliseconds."""
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone)
    return int(start.timestamp() * 1000)


def day_end_ms(day: dt.date, zone: dt.tzinfo) -> int:
    """When `day` ends in `zone` (the next day's start), in epoch milliseconds."""
    if day == dt.date.max:
        return day_start_ms(day, zone) + 86_400_000
    return day_start_ms(day + dt.timedelta(days=1), zone)


def local_text(at_ms: int | None, zone: dt.tzinfo) -> str:
    """An epoch-ms time as `YYYY-MM-DD HH:MM:SS ZONE` in `zone`."""
    if at_ms is None:
        return ""
    moment = dt.datetime.fromtimestamp(at_ms / 1000, tz=zone)
    return moment.strftime("%Y-%m-%d %H:%M:%S ") + (moment.tzname() or UTC_NAME)


def local_date(at_ms: int | None, zone: dt.tzinfo) -> str:
    """The local date (`YYYY-MM-DD`) of an epoch-ms time in `zone`."""
    if at_ms is None:
        return ""
    return dt.datetime.fromtimestamp(at_ms / 1000, tz=zone).date().isoformat()
