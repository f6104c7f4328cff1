"""Properties of business time over random calendars in several time zones.

Besides the algebra (add and between are inverse, monotonic, additive), the calendars are checked
against an independent oracle: it walks UTC minute by minute, asks ``zoneinfo`` (not pytz) for the
local wall time, and looks it up in the spans as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from slarules import Calendar, CalendarError

UTC = UTC
MINUTE = timedelta(minutes=1)
ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # DST shifts by 30 minutes
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "UTC",
]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# DST changes in the zones above, where the interesting cases live.
TRANSITIONS = [
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 3, 29, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, tzinfo=UTC),
    datetime(2026, 4, 4, 15, tzinfo=UTC),
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    datetime(2026, 4, 4, 14, tzinfo=UTC),
    datetime(2026, 9, 26, 14, tzinfo=UTC),
]

ZONE_TRANSITIONS = {
    "America/New_York": TRANSITIONS[0:2],
    "Europe/Berlin": TRANSITIONS[2:4],
    "Australia/Lord_Howe": TRANSITIONS[4:6],
    "Pacific/Chatham": TRANSITIONS[6:8],
    "America/Sao_Paulo": [
        datetime(2019, 2, 17, 2, tzinfo=UTC),
        datetime(2018, 11, 4, 3, tzinfo=UTC),
    ],
}

Day = TypeVar("Day", str, date)
Spans = list[tuple[int, int]]  # minutes after midnight; end past 1440 for overnight spans


@dataclass(frozen=True)
class Spec:
    zone: str
    weekly: dict[str, Spans]
    holidays: frozenset[date]
    overrides: dict[date, Spans]
    on_close: str

    def calendar(self) -> Calendar:
        return Calendar(
            self.zone,
            {day: [_span(s) for s in spans] for day, spans in self.weekly.items()},
            holidays=self.holidays,
            overrides={day: [_span(s) for s in spans] for day, spans in self.overrides.items()},
            on_close=self.on_close,  # type: ignore[arg-type]
        )

    def spans_on(self, day: date) -> Spans:
        if day in self.overrides:
            return self.overrides[day]
        if day in self.holidays:
            return []
        return self.weekly.get(WEEKDAYS[day.weekday()], [])

    def oracle_is_open(self, instant: datetime) -> bool:
        wall = instant.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)
        minute = wall.hour * 60 + wall.minute
        today = self.spans_on(wall.date())
        yesterday = self.spans_on(wall.date() - timedelta(days=1))
        return any(s <= minute < e for s, e in today) or any(
            s <= minute + 1440 < e for s, e in yesterday
        )


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _span(span: tuple[int, int]) -> str:
    start, end = span
    return f"{_clock(start)}-{_clock(end - 1440 if end > 1440 else end)}"


@st.composite
def day_spans(draw: st.DrawFn) -> Spans:
    cuts = sorted(draw(st.sets(st.integers(0, 1440), max_size=4)))
    spans = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    if draw(st.booleans()):  # an overnight span after the others
        last = spans[-1][1] if spans else 0
        if last < 1439:
            start = draw(st.integers(max(last, 2), 1439))
            spans.append((start, draw(st.integers(1441, 1440 + start - 1))))
    return spans


@st.composite
def specs(draw: st.DrawFn, zones: list[str] = ZONES) -> Spec:
    weekly = {
        day: draw(day_spans()) for day in draw(st.sets(st.sampled_from(WEEKDAYS), min_size=1))
    }
    days = st.dates(date(2025, 12, 1), date(2027, 1, 31))
    overrides = draw(st.dictionaries(days, day_spans(), max_size=4))
    spec = Spec(
        zone=draw(st.sampled_from(zones)),
        weekly=_without_collisions(weekly, weekly, overrides),
        holidays=frozenset(draw(st.lists(days, max_size=6))),
        overrides=_without_collisions(overrides, overrides, weekly),
        on_close=draw(st.sampled_from(["next_open", "close"])),
    )
    assume(any(spec.weekly.values()))
    return spec


def _without_collisions(
    days: dict[Day, Spans], *followers: Mapping[Any, Spans]
) -> dict[Day, Spans]:
    """Cut overnight spans short of the earliest opening any following day could have.

    Calendars rightly reject an overnight span running into the next day's hours; cutting them here
    instead of filtering keeps Hypothesis from discarding most generated calendars.
    """
    openings = [spans[0][0] for follower in followers for spans in follower.values() if spans]
    limit = 1440 + min(openings, default=1440)
    return {
        day: [(start, min(end, limit)) for start, end in spans if start < min(end, limit)]
        for day, spans in days.items()
    }


def calendar_of(spec: Spec) -> Calendar:
    try:
        return spec.calendar()
    except CalendarError:
        assume(False)  # an overnight span ran into the next day's hours
        raise


instants = st.one_of(
    st.datetimes(datetime(2025, 12, 1), datetime(2027, 1, 31), timezones=st.just(UTC)),
    st.builds(
        lambda base, minutes: base + minutes * MINUTE,
        st.sampled_from(TRANSITIONS),
        st.integers(-36 * 60, 36 * 60),
    ),
)
durations = st.integers(-3000 * 60, 3000 * 60).map(
    lambda minutes: minutes * MINUTE
) | st.timedeltas(timedelta(days=-30), timedelta(days=30))


@given(specs(), instants, durations)
def test_between_inverts_add(spec: Spec, start: datetime, duration: timedelta) -> None:
    cal = calendar_of(spec)
    assert cal.between(start, cal.add(start, duration)) == duration


@given(specs(), instants, durations, durations)
def test_add_is_monotonic(spec: Spec, start: datetime, d1: timedelta, d2: timedelta) -> None:
    cal = calendar_of(spec)
    low, high = sorted([d1, d2])
    assert cal.add(start, low) <= cal.add(start, high)


@given(specs(), instants, instants, instants)
def test_between_is_additive(spec: Spec, a: datetime, b: datetime, c: datetime) -> None:
    cal = calendar_of(spec)
    assert cal.between(a, b) + cal.between(b, c) == cal.between(a, c)


@given(specs(), instants)
def test_is_open_agrees_with_between(spec: Spec, instant: datetime) -> None:
    cal = calendar_of(spec)
    whole_second = instant.replace(microsecond=0)  # spans and offsets are whole seconds
    second = timedelta(seconds=1)
    assert cal.is_open(whole_second) == (cal.between(whole_second, whole_second + second) == second)
    tiny = timedelta(microseconds=1)
    assert cal.is_open(instant) == (cal.between(instant, instant + tiny) == tiny)


@given(specs(), instants)
def test_next_open(spec: Spec, instant: datetime) -> None:
    cal = calendar_of(spec)
    opening = cal.next_open(instant)
    assert opening >= instant
    assert cal.is_open(opening)
    assert cal.between(instant, opening) == timedelta(0)
    assert (opening == instant) == cal.is_open(instant)


@settings(max_examples=60, deadline=None)
@given(specs(), instants, st.integers(1, 3 * 24 * 60))
def test_matches_a_minute_by_minute_oracle(spec: Spec, start: datetime, minutes: int) -> None:
    cal = calendar_of(spec)
    start = start.replace(second=0, microsecond=0)
    open_minutes = [spec.oracle_is_open(start + i * MINUTE) for i in range(minutes)]
    assert cal.between(start, start + minutes * MINUTE) == sum(open_minutes) * MINUTE
    assert cal.is_open(start) == open_minutes[0]


@settings(max_examples=60, deadline=None)
@given(specs(zones=sorted(ZONE_TRANSITIONS)), st.data())
def test_matches_the_oracle_across_its_own_zones_transitions(
    spec: Spec, data: st.DataObject
) -> None:
    """Random instants seldom meet a DST change in the spec's own zone; these always do."""
    cal = calendar_of(spec)
    transition = data.draw(st.sampled_from(ZONE_TRANSITIONS[spec.zone]))
    start = transition + data.draw(st.integers(-30 * 60, 0)) * MINUTE
    minutes = data.draw(st.integers(1, 36 * 60))
    open_minutes = [spec.oracle_is_open(start + i * MINUTE) for i in range(minutes)]
    assert cal.between(start, start + minutes * MINUTE) == sum(open_minutes) * MINUTE


@settings(max_examples=50, deadline=None)
@given(
    specs(),
    st.lists(st.tuples(instants, durations, instants), min_size=1, max_size=30),
)
def test_batch_equals_scalar(spec: Spec, rows: list[tuple[datetime, timedelta, datetime]]) -> None:
    cal = calendar_of(spec)
    starts = [start for start, _, _ in rows]
    spans = [duration for _, duration, _ in rows]
    ends = [end for _, _, end in rows]
    expected_due = [cal.add(start, duration) for start, duration in zip(starts, spans, strict=True)]
    expected_spent = [cal.between(start, end) for start, end in zip(starts, ends, strict=True)]

    due = cal.add_many(starts, spans)
    assert due.dtype == np.dtype("datetime64[us]")
    assert [_utc(value) for value in due] == expected_due
    as_arrays = cal.add_many(_datetime64(starts), np.array(spans, dtype="timedelta64[us]"))
    assert (as_arrays == due).all()

    spent = cal.between_many(_datetime64(starts), ends)
    assert [value.item() for value in spent] == expected_spent


def _datetime64(values: list[datetime]) -> np.ndarray:
    return np.array(
        [value.astimezone(UTC).replace(tzinfo=None) for value in values], dtype="datetime64[us]"
    )


def _utc(value: np.datetime64) -> datetime:
    return value.item().replace(tzinfo=UTC)
