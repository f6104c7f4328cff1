"""Opening hours as written by people: weekday names, ``HH:MM`` times and spans.

A span is stored as ``(start, end)`` in seconds after the local midnight of the day it belongs to.
A span that crosses midnight (``22:00-06:00``) belongs to the day it starts, so its end is past
86,400; ``24:00`` is only valid as an end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time
from itertools import pairwise

from slarules._suggest import did_you_mean
from slarules.errors import CalendarError

Span = tuple[int, int]

DAY = 86_400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?")


def parse_weekday(name: object) -> int:
    """Monday is 0, as in :meth:`datetime.date.weekday`; accepts ``mon`` and ``monday``."""
    if isinstance(name, str):
        key = name.strip().lower()
        if key in WEEKDAYS:
            return WEEKDAYS.index(key)
        if key in _FULL_NAMES:
            return _FULL_NAMES.index(key)
    hint = did_you_mean(str(name).lower(), WEEKDAYS + _FULL_NAMES)
    raise CalendarError(f"unknown weekday `{name}`{hint}; use mon, tue, wed, thu, fri, sat or sun")


def parse_clock(value: object, where: str, *, is_end: bool = False) -> int:
    """Seconds after midnight of ``HH:MM``, ``HH:MM:SS`` or a :class:`datetime.time`."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise CalendarError(f"time `{value}` in {where} must not carry a time zone")
        if value.microsecond:
            raise CalendarError(f"time `{value}` in {where} has fractions of a second")
        return value.hour * 3600 + value.minute * 60 + value.second
    match = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise CalendarError(f"invalid time `{value}` in {where}: write it as HH:MM, like `09:30`")
    hours, minutes, seconds = int(match["h"]), int(match["m"]), int(match["s"] or 0)
    if (hours, minutes, seconds) == (24, 0, 0):
        if is_end:
            return DAY
        raise CalendarError(f"invalid time `{value}` in {where}: `24:00` can only end a span")
    if hours > 23 or minutes > 59 or seconds > 59:
        raise CalendarError(
            f"invalid time `{value}` in {where}: hours run 00-23 and minutes 00-59 "
            "(`24:00` ends a span at midnight)"
        )
    return hours * 3600 + minutes * 60 + seconds


def parse_span(value: object, where: str) -> Span:
    """A ``("09:00", "17:00")`` pair or a ``"09:00-17:00"`` string."""
    if isinstance(value, str) and "-" in value:
        value = tuple(value.split("-", 1))
    if not (isinstance(value, tuple | list) and len(value) == 2):
        raise CalendarError(
            f"invalid span `{value!r}` in {where}: give a (start, end) pair like ('09:00', '17:00')"
        )
    start = parse_clock(value[0], where)
    end = parse_clock(value[1], where, is_end=True)
    if end == start:
        raise CalendarError(f"empty span `{format_span((start, end))}` in {where}")
    if end < start:
        end += DAY  # crosses midnight: belongs to the day it starts
    return (start, end)


def parse_day(spans: object, where: str) -> tuple[Span, ...]:
    """The sorted spans of one day; overlapping spans are an error."""
    if isinstance(spans, str) or not isinstance(spans, Iterable):
        spans = [spans]
    parsed = sorted(parse_span(span, where) for span in spans)
    for earlier, later in pairwise(parsed):
        if later[0] < earlier[1]:
            raise CalendarError(
                f"overlapping spans `{format_span(earlier)}` and `{format_span(later)}` in {where}"
            )
    return tuple(parsed)


def check_midnight(day: tuple[Span, ...], next_day: tuple[Span, ...], where: str) -> None:
    """A span crossing midnight must end before the next day's first span starts."""
    if not day or not next_day or day[-1][1] <= DAY:
        return
    tail_end = day[-1][1] - DAY
    if next_day[0][0] < tail_end:
        raise CalendarError(
            f"overlapping spans: `{format_span(day[-1])}` runs past midnight into "
            f"`{format_span(next_day[0])}` of {where}"
        )


def format_clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def format_span(span: Span) -> str:
    start, end = span
    return f"{format_clock(start)}-{format_clock(end if end <= DAY else end - DAY)}"
