"""Business calendars: when SLA clocks run, and the exact arithmetic of business time.

A :class:`Calendar` turns local opening hours (weekly spans, holidays, date overrides in an IANA
time zone) into sorted UTC intervals, once per range of years, and answers every query with a
binary search over their cumulative length. Elapsed time is physical time: a 25-hour DST day open
00:00-24:00 holds 25 hours, a span that starts inside a spring-forward gap starts at the first
valid local instant after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, Literal, NoReturn, get_args

import numpy as np
from numpy.typing import NDArray

from slarules._hours import (
    DAY,
    WEEKDAYS,
    Span,
    check_midnight,
    format_span,
    parse_day,
    parse_weekday,
)
from slarules._instants import (
    EPOCH,
    MICROS_PER_SECOND,
    MICROSECOND,
    Int64Array,
    duration_micros,
    durations_array,
    from_micros,
    instants_array,
    to_micros,
)
from slarules._suggest import did_you_mean
from slarules._timeline import Timeline
from slarules.errors import CalendarError
from slarules.timezones import get_zone, offset_table

__all__ = ["Calendar", "OnClose"]

OnClose = Literal["next_open", "close"]

# Year 1 and 9999 have no neighbouring days to build from; nobody's SLA lives there.
MIN_YEAR = 2
MAX_YEAR = 9998
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Local days are built with this margin around the years a timeline covers, so that overnight
# spans and UTC offsets (always less than a day) cannot leave a hole at its edges.
_MARGIN = timedelta(days=2)

Weekly = tuple[tuple[Span, ...], ...]


class Calendar:
    """When the clock runs: a time zone, weekly hours, holidays and date overrides.

    >>> from datetime import date, datetime, timedelta, timezone
    >>> cal = Calendar("Europe/Berlin", {"mon-fri": "09:00-17:00"}, holidays=[date(2026, 12, 25)])
    >>> start = datetime(2026, 12, 24, 15, 0, tzinfo=timezone.utc)   # Thursday 16:00 in Berlin
    >>> cal.add(start, timedelta(hours=2)).isoformat()              # 1 h on Thursday, 1 h on Monday
    '2026-12-28T09:00:00+00:00'

    Calendars are immutable and hashable; the interval index is built on first use and cached on
    the instance, so share calendars rather than rebuilding them.
    """

    __slots__ = (
        "_holidays",
        "_key",
        "_on_close",
        "_overrides",
        "_timeline",
        "_timezone",
        "_weekly",
    )

    _timezone: str
    _weekly: Weekly
    _holidays: frozenset[date]
    _overrides: dict[date, tuple[Span, ...]]
    _on_close: OnClose
    _key: tuple[Any, ...]
    _timeline: Timeline | None

    def __init__(
        self,
        timezone: str,
        weekly: Mapping[str, Any],
        holidays: Iterable[date] = (),
        overrides: Mapping[date, Any] | None = None,
        on_close: OnClose = "next_open",
    ) -> None:
        if not isinstance(timezone, str):
            raise CalendarError(
                f"time zone must be an IANA name like `Europe/Berlin`, got `{timezone!r}`"
            )
        get_zone(timezone)
        if on_close not in get_args(OnClose):
            hint = did_you_mean(str(on_close), get_args(OnClose))
            raise CalendarError(f"unknown on_close `{on_close}`{hint}; use `next_open` or `close`")
        parsed_weekly = _parse_weekly(weekly)
        parsed_holidays = frozenset(_parse_date(day, "holiday") for day in holidays)
        parsed_overrides = {
            _parse_date(day, "override"): parse_day(spans, f"override {day}")
            for day, spans in sorted((overrides or {}).items())
        }
        init = super().__setattr__
        init("_timezone", timezone)
        init("_weekly", parsed_weekly)
        init("_holidays", parsed_holidays)
        init("_overrides", parsed_overrides)
        init("_on_close", on_close)
        init(
            "_key",
            (timezone, parsed_weekly, parsed_holidays, tuple(parsed_overrides.items()), on_close),
        )
        init("_timeline", None)
        self._check_overrides_at_midnight()

    @classmethod
    def always(cls) -> Calendar:
        """Open 24 hours a day, 7 days a week, in UTC: business time is physical time."""
        return cls("UTC", {"mon-sun": "00:00-24:00"})

    # -- the four queries --------------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has passed since ``start``.

        A negative duration goes backwards. Where several instants qualify (the budget runs out
        when the calendar closes), ``on_close="next_open"`` picks the latest, the next opening,
        and ``on_close="close"`` the earliest; with the default, a zero duration from a closed
        instant returns the next opening.
        """
        # Deadlines are the hot path of every clock: the conversions of to_micros() and
        # duration_micros() are inlined, and their checks only run to explain a failure.
        try:
            t, delta = (start - EPOCH) // MICROSECOND, duration // MICROSECOND
        except TypeError:
            t, delta = to_micros(start, "start"), duration_micros(duration)
        return EPOCH + MICROSECOND * self._add(t, delta, self._on_close == "next_open")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)``; negative when ``end`` is before ``start``."""
        try:  # inlined to_micros(), as in add()
            a, b = (start - EPOCH) // MICROSECOND, (end - EPOCH) // MICROSECOND
        except TypeError:
            a, b = to_micros(start, "start"), to_micros(end, "end")
        timeline = self._covering(min(a, b), max(a, b))
        return MICROSECOND * (timeline.business(b) - timeline.business(a))

    def is_open(self, instant: datetime) -> bool:
        """Whether the clock runs at ``instant``; spans are half-open, ``[open, close)``."""
        t = to_micros(instant, "instant")
        return self._covering(t, t).is_open(t)

    def next_open(self, instant: datetime) -> datetime:
        """``instant`` itself when open, else the next opening."""
        t = to_micros(instant, "instant")
        return from_micros(self._add(t, 0, latest=True))

    # -- batch queries -----------------------------------------------------------------------

    def add_many(self, starts: Any, durations: Any) -> NDArray[np.datetime64]:
        """:meth:`add` over arrays: ``datetime64[us]`` deadlines in UTC.

        ``starts`` is a NumPy ``datetime64`` array (UTC) or a sequence of aware datetimes;
        ``durations`` a ``timedelta64`` array, a sequence of timedeltas or one timedelta. They
        broadcast against each other.
        """
        t, d = np.broadcast_arrays(instants_array(starts, "start"), durations_array(durations))
        if t.size == 0:
            return np.empty(t.shape, dtype="datetime64[us]")
        deadlines = self._add_many(t, d, self._on_close == "next_open")
        return deadlines.astype("datetime64[us]")

    def between_many(self, starts: Any, ends: Any) -> NDArray[np.timedelta64]:
        """:meth:`between` over arrays: ``timedelta64[us]`` business times."""
        a, b = np.broadcast_arrays(instants_array(starts, "start"), instants_array(ends, "end"))
        if a.size == 0:
            return np.empty(a.shape, dtype="timedelta64[us]")
        timeline = self._covering(int(min(a.min(), b.min())), int(max(a.max(), b.max())))
        spent = timeline.business_many(b) - timeline.business_many(a)
        return spent.astype("timedelta64[us]")

    # -- what the calendar is ----------------------------------------------------------------

    @property
    def timezone(self) -> str:
        return self._timezone

    @property
    def weekly(self) -> dict[str, tuple[str, ...]]:
        """Weekly hours as ``{"mon": ("09:00-12:00", "13:00-17:00"), ...}``; closed days omitted."""
        return {
            WEEKDAYS[day]: tuple(format_span(span) for span in spans)
            for day, spans in enumerate(self._weekly)
            if spans
        }

    @property
    def holidays(self) -> frozenset[date]:
        return self._holidays

    @property
    def overrides(self) -> dict[date, tuple[str, ...]]:
        """Date overrides; an empty tuple closes the day. An override on a holiday wins."""
        return {day: tuple(format_span(s) for s in spans) for day, spans in self._overrides.items()}

    @property
    def on_close(self) -> OnClose:
        return self._on_close

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Calendar):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        parts = [f"{self._timezone!r}", f"{self.weekly!r}"]
        if self._holidays:
            parts.append(f"holidays={sorted(self._holidays)!r}")
        if self._overrides:
            parts.append(f"overrides={self.overrides!r}")
        if self._on_close != "next_open":
            parts.append(f"on_close={self._on_close!r}")
        return f"Calendar({', '.join(parts)})"

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Calendar is immutable; cannot set `{name}`")

    def __reduce__(self) -> tuple[Any, ...]:
        overrides = {day: list(spans) for day, spans in self.overrides.items()}
        return (Calendar, (self._timezone, self.weekly, self._holidays, overrides, self._on_close))

    # -- integer forms for the engine, which keeps instants as microseconds since the epoch --

    def _business(self, start: int, end: int) -> int:
        """Business microseconds in ``[start, end)``, for ``start <= end``."""
        timeline = self._timeline
        if timeline is None or not (timeline.lo <= start and end <= timeline.hi):
            timeline = self._covering(start, end)
        return timeline.business(end) - timeline.business(start)

    # -- the index ---------------------------------------------------------------------------

    def _add(self, t: int, delta: int, latest: bool) -> int:
        if delta == 0 and not latest:
            return t  # the earliest instant with no business time since t is t itself
        timeline = self._timeline
        if timeline is None or not timeline.lo <= t <= timeline.hi:
            timeline = self._covering(t, t)
        while (found := timeline.shift(t, delta, latest)) is None:
            timeline = self._widen(timeline, forward=delta >= 0, origin=t)
        return found

    def _add_many(self, t: Int64Array, delta: Int64Array, latest: bool) -> Int64Array:
        trivial = (delta == 0) & (not latest)
        timeline = self._covering(int(t.min()), int(t.max()))
        while True:
            target = timeline.business_many(t) + delta
            low, high = timeline.low, timeline.high
            beyond = (target >= high) if latest else (target > high)
            before = (target < low) if latest else (target <= low)
            if np.any(beyond & ~trivial):
                timeline = self._widen(timeline, forward=True, origin=int(t.max()))
            elif np.any(before & ~trivial):
                timeline = self._widen(timeline, forward=False, origin=int(t.min()))
            else:
                break
        if timeline.is_empty:
            return t
        found = timeline.locate_many(target, latest)
        result: Int64Array = np.where(trivial, t, found)
        return result

    def _covering(self, lo: int, hi: int) -> Timeline:
        """A timeline valid for every instant in ``[lo, hi]``, built or widened as needed."""
        timeline = self._timeline
        if timeline is not None and timeline.lo <= lo and hi <= timeline.hi:
            return timeline
        first, last = _year_of(lo), _year_of(hi)
        if timeline is not None:
            built_first, built_last = _years_of(timeline)
            first, last = min(first, built_first), max(last, built_last)
        return self._build(first, last)

    def _widen(self, timeline: Timeline, forward: bool, origin: int) -> Timeline:
        """Double the years a timeline covers, towards where an answer must lie."""
        first, last = _years_of(timeline)
        if self._closed_for_good(first, last, forward):
            direction = "after" if forward else "before"
            raise CalendarError(
                f"the calendar is never open {direction} {from_micros(origin).isoformat()}: "
                "it has no weekly hours and no override opens it"
            )
        if last >= MAX_YEAR if forward else first <= MIN_YEAR:
            raise CalendarError(
                f"the answer from `{from_micros(origin).isoformat()}` lies outside the supported "
                f"years {MIN_YEAR}-{MAX_YEAR}"
            )
        years = last - first + 1
        if forward:
            return self._build(first, min(last + years, MAX_YEAR))
        return self._build(max(first - years, MIN_YEAR), last)

    def _closed_for_good(self, first: int, last: int, forward: bool) -> bool:
        """Whether no opening exists beyond the years ``first..last`` in that direction."""
        if any(self._weekly):
            return False
        opening = [day.year for day, spans in self._overrides.items() if spans]
        if not opening:
            return True
        return last >= max(opening) if forward else first <= min(opening)

    def _build(self, first_year: int, last_year: int) -> Timeline:
        table = offset_table(self._timezone)
        widest = table.widest
        intervals = []
        day = date(first_year, 1, 1) - _MARGIN
        end = date(last_year, 12, 31) + _MARGIN
        while day <= end:
            midnight = (day.toordinal() - _EPOCH_ORDINAL) * DAY
            for start, stop in self._spans_on(day):
                local_start, local_stop = midnight + start, midnight + stop
                # The UTC instants whose local wall time falls in the span, one offset at a time:
                # a spring-forward gap has none, a fall-back hour has two.
                for piece_start, piece_end, offset in table.pieces(
                    local_start - widest, local_stop + widest
                ):
                    lo = max(piece_start, local_start - offset)
                    hi = min(piece_end, local_stop - offset)
                    if lo < hi:
                        intervals.append((lo * MICROS_PER_SECOND, hi * MICROS_PER_SECOND))
            day += timedelta(days=1)
        timeline = Timeline(intervals, lo=_year_start(first_year), hi=_year_start(last_year + 1))
        super().__setattr__("_timeline", timeline)
        return timeline

    def _spans_on(self, day: date) -> tuple[Span, ...]:
        if day in self._overrides:
            return self._overrides[day]
        if day in self._holidays:
            return ()
        return self._weekly[day.weekday()]

    def _check_overrides_at_midnight(self) -> None:
        for day, spans in self._overrides.items():
            before, after = day - timedelta(days=1), day + timedelta(days=1)
            check_midnight(self._spans_on(before), spans, f"override {day}")
            check_midnight(spans, self._spans_on(after), f"{after} (after override {day})")


def _parse_weekly(weekly: Mapping[str, Any]) -> Weekly:
    if not isinstance(weekly, Mapping):
        raise CalendarError(
            f"weekly hours must map weekdays to spans, like {{'mon': [('09:00', '17:00')]}}, "
            f"got `{weekly!r}`"
        )
    days: list[tuple[Span, ...] | None] = [None] * 7
    for key, spans in weekly.items():
        for day in _weekday_keys(key):
            if days[day] is not None:
                raise CalendarError(f"weekday `{WEEKDAYS[day]}` is given twice in weekly hours")
            days[day] = parse_day(spans, f"`{WEEKDAYS[day]}` hours")
    parsed = tuple(spans or () for spans in days)
    for day in range(7):
        following = (day + 1) % 7
        check_midnight(parsed[day], parsed[following], f"`{WEEKDAYS[following]}` hours")
    return parsed


def _weekday_keys(key: object) -> list[int]:
    """``mon``, ``monday``, or a range such as ``mon-fri`` or ``fri-mon`` (wrapping the week)."""
    if isinstance(key, str) and "-" in key:
        first, last = (parse_weekday(part) for part in key.split("-", 1))
        return [(first + step) % 7 for step in range((last - first) % 7 + 1)]
    return [parse_weekday(key)]


def _parse_date(value: object, what: str) -> date:
    if isinstance(value, datetime):
        raise CalendarError(
            f"{what} `{value.isoformat()}` is an instant: give the day, a datetime.date "
            f"(`{value.date()!r}`)"
        )
    if not isinstance(value, date):
        raise CalendarError(
            f"{what} must be a day, a datetime.date, got {type(value).__name__} `{value!r}`"
        )
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise CalendarError(
            f"{what} `{value}` is outside the supported years {MIN_YEAR}-{MAX_YEAR}"
        )
    return value


def _year_of(micros: int) -> int:
    if not _year_start(MIN_YEAR) <= micros < _year_start(MAX_YEAR + 1):
        _out_of_range(micros)
    return from_micros(micros).year


def _years_of(timeline: Timeline) -> tuple[int, int]:
    """The first and last year a timeline covers."""
    return from_micros(timeline.lo).year, from_micros(timeline.hi - 1).year


def _year_start(year: int) -> int:
    return (date(year, 1, 1).toordinal() - _EPOCH_ORDINAL) * DAY * MICROS_PER_SECOND


def _out_of_range(micros: int) -> NoReturn:
    try:
        shown = from_micros(micros).isoformat()
    except OverflowError:
        shown = f"{micros} µs after 1970"
    raise CalendarError(f"instant `{shown}` is outside the supported years {MIN_YEAR}-{MAX_YEAR}")
