"""Fixed cases for business calendars (design section 3)."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import pytz
from dateutil import tz as dateutil_tz

from slarules import Calendar

UTC = UTC
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)
SECOND = timedelta(seconds=1)

OFFICE = {"mon-fri": "09:00-17:00"}


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def office() -> Calendar:
    return Calendar("America/New_York", OFFICE)


@pytest.fixture
def office_close() -> Calendar:
    return Calendar("America/New_York", OFFICE, on_close="close")


class TestAdd:
    def test_within_one_day(self, office: Calendar) -> None:
        assert office.add(ny(2026, 3, 4, 10, 0), 4 * H) == ny(2026, 3, 4, 14, 0)

    def test_carries_over_the_weekend(self, office: Calendar) -> None:
        assert office.add(ny(2026, 3, 6, 15, 0), 4 * H) == ny(2026, 3, 9, 11, 0)

    def test_starting_while_closed_counts_from_the_opening(self, office: Calendar) -> None:
        assert office.add(ny(2026, 3, 7, 12, 0), 30 * M) == ny(2026, 3, 9, 9, 30)

    def test_budget_ending_at_closing_is_due_at_next_opening(self, office: Calendar) -> None:
        assert office.add(ny(2026, 3, 6, 9, 0), 8 * H) == ny(2026, 3, 9, 9, 0)

    def test_budget_ending_at_closing_with_on_close_close(self, office_close: Calendar) -> None:
        assert office_close.add(ny(2026, 3, 6, 9, 0), 8 * H) == ny(2026, 3, 6, 17, 0)

    def test_backwards(self, office: Calendar) -> None:
        assert office.add(ny(2026, 3, 9, 10, 0), -2 * H) == ny(2026, 3, 6, 16, 0)

    def test_backwards_landing_on_an_opening_returns_the_opening(self, office: Calendar) -> None:
        assert office.add(ny(2026, 3, 9, 10, 0), -1 * H) == ny(2026, 3, 9, 9, 0)

    def test_backwards_landing_on_an_opening_with_on_close_close(
        self, office_close: Calendar
    ) -> None:
        assert office_close.add(ny(2026, 3, 9, 10, 0), -1 * H) == ny(2026, 3, 6, 17, 0)

    def test_zero_from_a_closed_instant_is_the_next_opening(self, office: Calendar) -> None:
        assert office.add(ny(2026, 3, 7, 12, 0), timedelta(0)) == ny(2026, 3, 9, 9, 0)

    def test_zero_from_a_closed_instant_with_on_close_close(self, office_close: Calendar) -> None:
        start = ny(2026, 3, 7, 12, 0)
        assert office_close.add(start, timedelta(0)) == start

    def test_zero_from_an_open_instant(self, office: Calendar) -> None:
        start = ny(2026, 3, 4, 11, 17, 3)
        assert office.add(start, timedelta(0)) == start

    def test_microseconds_are_exact(self, office: Calendar) -> None:
        start = ny(2026, 3, 4, 16, 59, 59, 999_999)
        assert office.add(start, timedelta(microseconds=2)) == ny(2026, 3, 5, 9, 0, 0, 1)

    def test_long_budget_spans_years(self, office: Calendar) -> None:
        # 2027 has 261 weekdays of 8 hours; 2026-12-31 17:00 plus all of 2027 lands on the first
        # opening of 2028.
        assert office.add(ny(2026, 12, 31, 17, 0), 261 * 8 * H) == ny(2028, 1, 3, 9, 0)
        assert office.add(ny(2028, 1, 3, 9, 0), -261 * 8 * H) == ny(2027, 1, 1, 9, 0)

    def test_results_are_aware_utc(self, office: Calendar) -> None:
        deadline = office.add(ny(2026, 3, 4, 10, 0), H)
        assert deadline.tzinfo is UTC

    def test_several_spans_a_day(self) -> None:
        cal = Calendar("America/New_York", {"mon-fri": ["09:00-12:00", "13:00-17:00"]})
        assert cal.add(ny(2026, 3, 4, 11, 0), 2 * H) == ny(2026, 3, 4, 14, 0)
        assert cal.add(ny(2026, 3, 4, 11, 0), H) == ny(2026, 3, 4, 13, 0)


class TestBetween:
    def test_forward(self, office: Calendar) -> None:
        assert office.between(ny(2026, 3, 6, 15, 0), ny(2026, 3, 9, 11, 0)) == 4 * H

    def test_reversed_is_negative(self, office: Calendar) -> None:
        assert office.between(ny(2026, 3, 9, 11, 0), ny(2026, 3, 6, 15, 0)) == -4 * H

    def test_empty_range(self, office: Calendar) -> None:
        start = ny(2026, 3, 4, 10, 0)
        assert office.between(start, start) == timedelta(0)

    def test_a_closed_stretch_holds_nothing(self, office: Calendar) -> None:
        assert office.between(ny(2026, 3, 6, 17, 0), ny(2026, 3, 9, 9, 0)) == timedelta(0)

    def test_mixed_time_zones(self, office: Calendar) -> None:
        start = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # 09:00 in New York
        assert office.between(start, berlin(2026, 3, 4, 16, 0)) == H


class TestIsOpenAndNextOpen:
    def test_intervals_are_half_open(self, office: Calendar) -> None:
        assert office.is_open(ny(2026, 3, 4, 9, 0))
        assert office.is_open(ny(2026, 3, 4, 16, 59, 59, 999_999))
        assert not office.is_open(ny(2026, 3, 4, 17, 0))
        assert not office.is_open(ny(2026, 3, 4, 8, 59, 59))

    def test_next_open_is_the_instant_itself_when_open(self, office: Calendar) -> None:
        assert office.next_open(ny(2026, 3, 4, 9, 0)) == ny(2026, 3, 4, 9, 0)

    def test_next_open_from_the_closing_instant(self, office: Calendar) -> None:
        assert office.next_open(ny(2026, 3, 6, 17, 0)) == ny(2026, 3, 9, 9, 0)

    def test_next_open_ignores_on_close(self, office_close: Calendar) -> None:
        assert office_close.next_open(ny(2026, 3, 7, 1, 0)) == ny(2026, 3, 9, 9, 0)


class TestDaylightSaving:
    """New York: 2026-03-08 loses 02:00-03:00, 2026-11-01 repeats 01:00-02:00."""

    @pytest.fixture
    def all_day(self) -> Calendar:
        return Calendar("America/New_York", {"mon-sun": "00:00-24:00"})

    def test_fall_back_day_holds_25_hours(self, all_day: Calendar) -> None:
        assert all_day.between(ny(2026, 11, 1, 0, 0), ny(2026, 11, 2, 0, 0)) == 25 * H

    def test_spring_forward_day_holds_23_hours(self, all_day: Calendar) -> None:
        assert all_day.between(ny(2026, 3, 8, 0, 0), ny(2026, 3, 9, 0, 0)) == 23 * H

    def test_the_repeated_hour_counts_twice(self) -> None:
        cal = Calendar("America/New_York", {"sun": "00:00-03:00"})
        assert cal.add(ny(2026, 11, 1, 0, 0), 3 * H) == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
        assert cal.between(ny(2026, 11, 1, 0, 0), ny(2026, 11, 2, 0, 0)) == 4 * H

    def test_a_span_starting_in_the_gap_starts_after_it(self) -> None:
        cal = Calendar("America/New_York", {"sun": "02:30-04:00"})
        start = ny(2026, 3, 8, 0, 0)
        assert cal.next_open(start) == ny(2026, 3, 8, 3, 0)
        assert cal.between(start, ny(2026, 3, 9, 0, 0)) == H
        assert cal.add(start, 30 * M) == ny(2026, 3, 8, 3, 30)

    def test_physical_time_across_the_change(self) -> None:
        cal = Calendar("Europe/Berlin", {"mon-sun": "00:00-24:00"})
        assert cal.add(berlin(2026, 3, 29, 1, 0), 2 * H) == berlin(2026, 3, 29, 4, 0)

    def test_lord_howe_half_hour_shift(self) -> None:
        cal = Calendar("Australia/Lord_Howe", {"mon-sun": "00:00-24:00"})
        zone = ZoneInfo("Australia/Lord_Howe")
        # 2026-04-05: clocks go back from 02:00 to 01:30, so the day holds 24.5 hours.
        start = datetime(2026, 4, 5, tzinfo=zone)
        assert cal.between(start, datetime(2026, 4, 6, tzinfo=zone)) == timedelta(hours=24.5)


class TestHolidaysAndOverrides:
    def test_holiday_closes_the_whole_day(self) -> None:
        cal = Calendar("Europe/Berlin", OFFICE, holidays=[date(2026, 12, 25)])
        assert cal.add(berlin(2026, 12, 24, 16, 0), 2 * H) == berlin(2026, 12, 28, 10, 0)
        assert not cal.is_open(berlin(2026, 12, 25, 10, 0))

    def test_holiday_on_a_weekend_changes_nothing(self) -> None:
        plain = Calendar("Europe/Berlin", OFFICE)
        cal = Calendar("Europe/Berlin", OFFICE, holidays=[date(2026, 12, 26), date(2026, 12, 27)])
        start, end = berlin(2026, 12, 20), berlin(2027, 1, 10)
        assert cal.between(start, end) == plain.between(start, end)

    def test_holiday_on_a_weekend_of_a_weekend_calendar(self) -> None:
        cal = Calendar("Europe/Berlin", {"sat": "10:00-14:00"}, holidays=[date(2026, 12, 26)])
        assert cal.next_open(berlin(2026, 12, 25)) == berlin(2027, 1, 2, 10, 0)

    def test_override_replaces_the_day(self) -> None:
        cal = Calendar("Europe/Berlin", OFFICE, overrides={date(2026, 12, 24): ["09:00-12:00"]})
        assert cal.add(berlin(2026, 12, 24, 11, 0), 2 * H) == berlin(2026, 12, 25, 10, 0)

    def test_override_opens_a_weekend_day(self) -> None:
        cal = Calendar("Europe/Berlin", OFFICE, overrides={date(2026, 12, 27): ["10:00-12:00"]})
        assert cal.next_open(berlin(2026, 12, 26)) == berlin(2026, 12, 27, 10, 0)

    def test_empty_override_closes_the_day(self) -> None:
        cal = Calendar("Europe/Berlin", OFFICE, overrides={date(2026, 12, 24): []})
        assert not cal.is_open(berlin(2026, 12, 24, 10, 0))

    def test_override_on_a_holiday_wins(self) -> None:
        cal = Calendar(
            "Europe/Berlin",
            OFFICE,
            holidays=[date(2026, 12, 24)],
            overrides={date(2026, 12, 24): ["09:00-12:00"]},
        )
        assert cal.is_open(berlin(2026, 12, 24, 10, 0))
        assert not cal.is_open(berlin(2026, 12, 24, 13, 0))

    def test_overnight_span_from_the_eve_of_a_holiday_still_runs(self) -> None:
        cal = Calendar("Europe/Berlin", {"mon-sun": "22:00-06:00"}, holidays=[date(2026, 12, 25)])
        assert cal.is_open(berlin(2026, 12, 25, 5, 0))
        assert not cal.is_open(berlin(2026, 12, 25, 23, 0))


class TestSpans:
    def test_24_00_ends_the_day(self) -> None:
        cal = Calendar("UTC", {"mon": "18:00-24:00", "tue": "00:00-02:00"})
        monday = datetime(2026, 3, 2, 18, tzinfo=UTC)
        assert cal.add(monday, 7 * H) == datetime(2026, 3, 3, 1, tzinfo=UTC)

    def test_overnight_span_belongs_to_the_day_it_starts(self) -> None:
        cal = Calendar("UTC", {"fri": "22:00-06:00"})
        assert cal.is_open(datetime(2026, 3, 7, 5, 0, tzinfo=UTC))  # Saturday morning
        assert not cal.is_open(datetime(2026, 3, 6, 5, 0, tzinfo=UTC))  # Friday morning

    def test_sunday_overnight_wraps_into_monday(self) -> None:
        cal = Calendar("UTC", {"sun": "20:00-04:00"})
        assert cal.is_open(datetime(2026, 3, 9, 3, 0, tzinfo=UTC))

    def test_time_objects_and_pairs(self) -> None:
        strings = Calendar("UTC", {"mon": [("09:00", "17:00")]})
        times = Calendar("UTC", {"Monday": [(time(9), time(17))]})
        assert strings == times
        assert hash(strings) == hash(times)

    def test_weekday_range_wraps_the_week(self) -> None:
        cal = Calendar("UTC", {"fri-mon": "10:00-11:00"})
        assert set(cal.weekly) == {"fri", "sat", "sun", "mon"}


class TestAlwaysOpen:
    def test_business_time_is_physical_time(self) -> None:
        cal = Calendar.always()
        start = ny(2026, 3, 7, 23, 0)  # New York skips an hour on 2026-03-08
        # Python adds to an aware datetime in wall time; physical time is UTC arithmetic.
        assert cal.add(start, 50 * H) == start.astimezone(UTC) + 50 * H
        assert cal.between(start, start.astimezone(UTC) + 1000 * H) == 1000 * H
        assert cal.is_open(start)

    def test_backwards(self) -> None:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        assert Calendar.always().add(start, -24 * H) == datetime(2025, 12, 31, tzinfo=UTC)


class TestNeverOpen:
    def test_add_raises_instead_of_looping(self) -> None:
        from slarules import CalendarError

        cal = Calendar("UTC", {})
        with pytest.raises(CalendarError, match="never open after 2026-03-04"):
            cal.add(datetime(2026, 3, 4, tzinfo=UTC), H)
        with pytest.raises(CalendarError, match="never open"):
            cal.next_open(datetime(2026, 3, 4, tzinfo=UTC))
        assert cal.between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)) == (
            timedelta(0)
        )
        assert not cal.is_open(datetime(2026, 3, 4, tzinfo=UTC))

    def test_times_to_the_second_as_text_or_as_time_objects(self) -> None:
        monday = datetime(2026, 3, 2, tzinfo=UTC)
        for weekly in ({"mon": "09:30-17:45:30"}, {"mon": [(time(9, 30), time(17, 45, 30))]}):
            cal = Calendar("UTC", weekly)
            assert cal.between(monday, monday + timedelta(days=1)) == 8 * H + 15 * M + 30 * SECOND
            assert cal.next_open(monday) == monday.replace(hour=9, minute=30)

        from slarules import CalendarError

        cal = Calendar("UTC", {}, overrides={date(2030, 6, 3): ["09:00-10:00"]})
        assert cal.next_open(datetime(2026, 3, 4, tzinfo=UTC)) == datetime(
            2030, 6, 3, 9, tzinfo=UTC
        )
        assert cal.add(datetime(2026, 3, 4, tzinfo=UTC), 30 * M) == datetime(
            2030, 6, 3, 9, 30, tzinfo=UTC
        )
        with pytest.raises(CalendarError, match="never open after"):
            cal.add(datetime(2026, 3, 4, tzinfo=UTC), 2 * H)
        with pytest.raises(CalendarError, match="never open before"):
            cal.add(datetime(2026, 3, 4, tzinfo=UTC), -H)
        # All of its hour, forwards or back: the arrays answer as add() does.
        with pytest.raises(CalendarError, match="never open after"):
            cal.add_many([datetime(2026, 3, 4, tzinfo=UTC)], H)
        after = datetime(2030, 6, 3, 12, tzinfo=UTC)
        assert cal.add(after, -H) == datetime(2030, 6, 3, 9, tzinfo=UTC)
        assert cal.add_many([after], -H).tolist() == [datetime(2030, 6, 3, 9)]

    def test_after_its_last_override(self) -> None:
        from slarules import CalendarError

        cal = Calendar("Europe/Berlin", {}, overrides={date(2026, 12, 24): ["09:00-10:00"]})
        with pytest.raises(CalendarError, match="never open after 2026-12-24T15:00:00"):
            cal.add(datetime(2026, 12, 24, 15, tzinfo=UTC), 2 * H)
        assert cal.add(datetime(2026, 12, 24, 15, tzinfo=UTC), -H) == datetime(
            2026, 12, 24, 8, tzinfo=UTC
        )


class TestInputs:
    @pytest.mark.parametrize(
        "start",
        [
            datetime(2026, 3, 4, 10, tzinfo=ZoneInfo("America/New_York")),
            pytz.timezone("America/New_York").localize(datetime(2026, 3, 4, 10)),
            datetime(2026, 3, 4, 10, tzinfo=dateutil_tz.gettz("America/New_York")),
            datetime(2026, 3, 4, 15, tzinfo=UTC),
        ],
        ids=["zoneinfo", "pytz", "dateutil", "utc"],
    )
    def test_any_aware_datetime(self, office: Calendar, start: datetime) -> None:
        assert office.add(start, H) == datetime(2026, 3, 4, 16, tzinfo=UTC)

    def test_fold_selects_the_second_repeated_hour(self) -> None:
        cal = Calendar.always()
        first = datetime(2026, 11, 1, 1, 30, tzinfo=NY)
        second = first.replace(fold=1)
        assert cal.between(first, second) == H


class TestValueSemantics:
    def test_equal_calendars_are_equal_and_hash_alike(self) -> None:
        a = Calendar("UTC", {"mon-fri": "09:00-17:00"}, holidays=[date(2026, 1, 1)])
        b = Calendar(
            "UTC",
            {"mon": "9:00-17:00", "tue-fri": [("09:00", "17:00")]},
            holidays={date(2026, 1, 1)},
        )
        assert a == b
        assert len({a, b}) == 1

    def test_on_close_distinguishes(self) -> None:
        assert Calendar("UTC", OFFICE) != Calendar("UTC", OFFICE, on_close="close")

    def test_immutable(self, office: Calendar) -> None:
        with pytest.raises(AttributeError, match="immutable"):
            office.on_close = "close"  # type: ignore[misc]

    def test_pickles(self, office: Calendar) -> None:
        office.add(ny(2026, 3, 4), H)  # with a built index
        assert pickle.loads(pickle.dumps(office)) == office

    def test_repr_round_trips(self) -> None:
        cal = Calendar(
            "Europe/Berlin",
            {"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": "22:00-02:00"},
            holidays=[date(2026, 12, 25)],
            overrides={date(2026, 12, 24): ["09:00-12:00"]},
            on_close="close",
        )
        assert eval(repr(cal), {"Calendar": Calendar, "datetime": __import__("datetime")}) == cal
        assert "22:00-02:00" in repr(cal)


class TestBatch:
    def test_deadlines_years_ahead_and_behind_of_the_first_widen_the_timeline(self) -> None:
        # The timeline is built around the first instants asked about; deadlines three years
        # ahead and two years back, in one call, need it widened both ways.
        office = Calendar("Europe/Berlin", OFFICE, holidays=[date(2026, 12, 25)])
        starts = [berlin(2026, 3, 2, 10, 0)] * 2 + [berlin(2030, 1, 1, 0, 0)]
        budgets = [3 * 2080 * H, -2 * 2080 * H, H]  # some 260 working days of 8 h a year
        due = office.add_many(starts, budgets)
        expected = [
            office.add(start, budget) for start, budget in zip(starts, budgets, strict=True)
        ]
        assert [value.item().replace(tzinfo=UTC) for value in due] == expected
        assert expected[2] == berlin(2030, 1, 1, 10, 0)

    def test_no_instants_give_no_deadlines(self, office: Calendar) -> None:
        assert office.add_many([], []).shape == (0,)
        assert office.between_many([], []).shape == (0,)
