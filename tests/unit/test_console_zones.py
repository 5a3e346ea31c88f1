"""The console's local dates: a form's date in a time zone becomes the epoch milliseconds of
that day's start or end there (daylight saving time included), and bad input names its
field."""

from __future__ import annotations

import datetime as dt

from modelplane.domain.errors import ViolationCollector
from modelplane.faces.console.zones import (
    date_of,
    day_end_ms,
    day_start_ms,
    local_date,
    local_text,
    zone_of,
)


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def test_a_local_day_starts_and_ends_at_its_midnights_in_the_zone() -> None:
    errors = ViolationCollector()
    berlin = zone_of("Europe/Berlin", errors)
    assert not errors.violations
    day = dt.date(2026, 3, 29)  # the clocks go forward: a day of 23 hours
    assert day_start_ms(day, berlin) == _ms("2026-03-28T23:00:00+00:00")
    assert day_end_ms(day, berlin) == _ms("2026-03-29T22:00:00+00:00")
    assert day_end_ms(dt.date(2026, 3, 29), dt.UTC) == _ms("2026-03-30T00:00:00+00:00")
    assert day_end_ms(dt.date.max, dt.UTC) - day_start_ms(dt.date.max, dt.UTC) == 86_400_000


def test_times_show_in_the_zone_with_its_abbreviation() -> None:
    kiritimati = zone_of("Pacific/Kiritimati", ViolationCollector())
    at = _ms("2026-12-06T12:00:00+00:00")
    assert local_text(at, kiritimati) == "2026-12-07 02:00:00 +14"
    assert local_text(at, zone_of("", ViolationCollector())) == "2026-12-06 12:00:00 UTC"
    assert local_date(at, kiritimati) == "2026-12-07"
    assert local_text(None, dt.UTC) == "" and local_date(None, dt.UTC) == ""


def test_bad_zones_and_dates_name_their_fields() -> None:
    errors = ViolationCollector()
    assert zone_of("Mars/Olympus", errors) is dt.UTC
    assert zone_of("../../etc/passwd", errors) is dt.UTC
    assert date_of("2026-02-30", "since", errors) is None
    assert date_of("20260101", "until", errors) is None
    assert date_of("", "until", errors) is None  # blank: no date, no error
    assert date_of("2026-02-28", "since", errors) == dt.date(2026, 2, 28)
    assert [v.field for v in errors.violations] == ["timeZone", "timeZone", "since", "until"]
