"""Bad calendar input raises CalendarError naming the offending value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from slarules import Calendar, CalendarError
from slarules.errors import SlaRulesError

OFFICE = {"mon-fri": "09:00-17:00"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"timezone": "Europe/Berln"},
            "unknown time zone `Europe/Berln` (did you mean `Europe/Berlin`?)",
        ),
        ({"timezone": 5}, "time zone must be an IANA name"),
        ({"weekly": {"mon": "09:00-25:00"}}, "invalid time `25:00` in `mon` hours"),
        ({"weekly": {"mon": "9am-5pm"}}, "invalid time `9am` in `mon` hours: write it as HH:MM"),
        ({"weekly": {"tue": "24:00-02:00"}}, "`24:00` can only end a span"),
        ({"weekly": {"mon": "09:60-10:00"}}, "invalid time `09:60`"),
        ({"weekly": {"mon": "23:60-24:00"}}, "invalid time `23:60`"),
        ({"weekly": {"mon": "09:00-24:30"}}, "invalid time `24:30`"),
        ({"weekly": {"mon": "09:00:60-10:00"}}, "invalid time `09:00:60`"),
        (
            {"weekly": {"mon": ["20:00-24:00", "23:00-23:30:15"]}},
            "overlapping spans `20:00-24:00` and `23:00-23:30:15` in `mon` hours",
        ),
        ({"weekly": {"mon": "09:00-09:00"}}, "empty span `09:00-09:00` in `mon` hours"),
        (
            {"weekly": {"wed": ["09:00-12:00", "11:00-13:00"]}},
            "overlapping spans `09:00-12:00` and `11:00-13:00` in `wed` hours",
        ),
        (
            {"weekly": {"mon": "22:00-06:00", "tue": "05:00-09:00"}},
            "`22:00-06:00` runs past midnight into `05:00-09:00` of `tue` hours",
        ),
        (
            {"weekly": {"sun": "20:00-10:00", "mon": "09:00-17:00"}},
            "`20:00-10:00` runs past midnight into `09:00-17:00` of `mon` hours",
        ),
        ({"weekly": {"mnday": "09:00-17:00"}}, "unknown weekday `mnday` (did you mean `monday`?)"),
        ({"weekly": {"mon-fir": "09:00-17:00"}}, "unknown weekday `fir` (did you mean `fri`?)"),
        ({"weekly": {"mon": "09:00-17:00", "monday": "10:00-11:00"}}, "`mon` is given twice"),
        ({"weekly": {"mon": [("09:00",)]}}, "invalid span"),
        ({"weekly": ["mon 09:00-17:00"]}, "weekly hours must map weekdays to spans"),
        (
            {"holidays": [datetime(2026, 12, 25)]},
            "holiday `2026-12-25T00:00:00` is an instant: give the day, a datetime.date "
            "(`datetime.date(2026, 12, 25)`)",
        ),
        ({"holidays": ["2026-12-25"]}, "holiday must be a day, a datetime.date, got str"),
        (
            {"overrides": {date(2026, 12, 24): "10:00-26:00"}},
            "invalid time `26:00` in override 2026-12-24",
        ),
        (
            {"weekly": {"mon": "20:00-04:00"}, "overrides": {date(2026, 12, 22): "03:00-05:00"}},
            "`20:00-04:00` runs past midnight into `03:00-05:00` of override 2026-12-22",
        ),
        (
            {"overrides": {date(2026, 12, 21): "22:00-10:00"}},
            "`22:00-10:00` runs past midnight into `09:00-17:00` of 2026-12-22 "
            "(after override 2026-12-21)",
        ),
        ({"on_close": "next"}, "unknown on_close `next` (did you mean `next_open`?)"),
    ],
)
def test_bad_construction(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"timezone": "Europe/Berlin", "weekly": OFFICE} | kwargs
    with pytest.raises(CalendarError) as raised:
        Calendar(**arguments)  # type: ignore[arg-type]
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("weekly", "hours"),
    [
        ({"mon": "00:00-23:59:59"}, timedelta(hours=23, minutes=59, seconds=59)),
        ({"mon": ["09:00-12:00", "12:00-13:00"]}, timedelta(hours=4)),  # touching, not overlapping
        ({"mon": "22:00-06:00", "tue": "06:00-09:00"}, timedelta(hours=11)),  # across midnight
    ],
)
def test_the_edges_of_what_hours_may_be(weekly: dict[str, object], hours: timedelta) -> None:
    monday = datetime(2026, 3, 2, tzinfo=UTC)
    assert Calendar("UTC", weekly).between(monday, monday + timedelta(days=2)) == hours


def test_calendar_error_is_a_value_error_and_a_slarules_error() -> None:
    assert issubclass(CalendarError, ValueError)
    assert issubclass(CalendarError, SlaRulesError)


class TestNaiveInput:
    cal = Calendar("Europe/Berlin", OFFICE)
    naive = datetime(2026, 3, 4, 10, 0)
    aware = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)

    def test_add(self) -> None:
        with pytest.raises(CalendarError, match=r"start `2026-03-04T10:00:00` has no time zone"):
            self.cal.add(self.naive, timedelta(hours=1))

    def test_between(self) -> None:
        with pytest.raises(CalendarError, match=r"end `2026-03-04T10:00:00` has no time zone"):
            self.cal.between(self.aware, self.naive)

    def test_is_open_and_next_open(self) -> None:
        with pytest.raises(CalendarError, match="has no time zone"):
            self.cal.is_open(self.naive)
        with pytest.raises(CalendarError, match="has no time zone"):
            self.cal.next_open(self.naive)

    def test_batch(self) -> None:
        with pytest.raises(CalendarError, match="has no time zone"):
            self.cal.add_many([self.aware, self.naive], timedelta(hours=1))

    def test_not_a_datetime(self) -> None:
        with pytest.raises(CalendarError, match="start must be an aware datetime, got str"):
            self.cal.add("2026-03-04T10:00Z", timedelta(hours=1))  # type: ignore[arg-type]
        with pytest.raises(CalendarError, match="duration must be a timedelta, got int"):
            self.cal.add(self.aware, 3600)  # type: ignore[arg-type]


def test_years_outside_the_supported_range() -> None:
    cal = Calendar("UTC", OFFICE)
    with pytest.raises(CalendarError, match="outside the supported years"):
        cal.is_open(datetime(1, 1, 5, tzinfo=UTC))
    with pytest.raises(CalendarError, match="outside the supported years"):
        cal.add(datetime(9998, 12, 1, tzinfo=UTC), timedelta(days=400))
    with pytest.raises(CalendarError, match=r"answer from `0002-01-02.*outside the supported"):
        cal.add(datetime(2, 1, 2, tzinfo=UTC), -timedelta(days=30))
    with pytest.raises(CalendarError, match="holiday `0001-12-31` is outside the supported"):
        Calendar("UTC", OFFICE, holidays=[date(1, 12, 31)])


def test_the_first_and_last_supported_years_are_supported() -> None:
    holidays = Calendar("UTC", OFFICE, holidays=[date(2, 1, 1), date(9998, 12, 31)]).holidays
    assert holidays == frozenset({date(2, 1, 1), date(9998, 12, 31)})
    first = datetime(2, 1, 1, tzinfo=UTC)
    assert Calendar.always().between(first, first + timedelta(hours=1)) == timedelta(hours=1)
