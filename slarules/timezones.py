"""Time zones: the one module that imports pytz.

Everything else in slarules works with UTC instants. Business calendars need one thing from a time
zone: the UTC offset that holds over each stretch of physical time, so that local wall-clock spans
("Mon 09:00-17:00") can be turned into exact UTC intervals across DST changes.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import pytz

from slarules._suggest import did_you_mean
from slarules.errors import CalendarError

__all__ = ["OffsetTable", "get_zone", "local_to_utc", "offset_table", "to_local"]

_NAIVE_EPOCH = datetime(1970, 1, 1)
_SECOND = timedelta(seconds=1)


def get_zone(name: str) -> tzinfo:
    """Return the pytz zone for an IANA name, or raise :class:`CalendarError` naming it."""
    try:
        return pytz.timezone(name)
    except (pytz.UnknownTimeZoneError, AttributeError, ValueError):
        hint = did_you_mean(name, pytz.all_timezones) if isinstance(name, str) else ""
        raise CalendarError(f"unknown time zone `{name}`{hint}") from None


def to_local(instant: datetime, zone_name: str) -> datetime:
    """Express an aware instant in the named zone (for display)."""
    return instant.astimezone(get_zone(zone_name))


def local_to_utc(wall: datetime, zone_name: str) -> datetime:
    """The instant that a naive local wall-clock time names in the zone, in UTC.

    A time repeated by a fall-back change names its first occurrence; a time skipped by a
    spring-forward gap names the first valid instant after the gap (the change itself), as cron
    runs a job whose time was skipped.
    """
    table = offset_table(zone_name)
    seconds = _seconds(wall.replace(microsecond=0))
    pieces = table.pieces(seconds - table.widest - 1, seconds + table.widest + 1)
    utc = next(
        (seconds - offset for start, end, offset in pieces if start <= seconds - offset < end),
        None,
    )
    if utc is None:  # in a gap: the piece after it starts later than the wall time maps to
        utc = next(start for start, _, offset in pieces if seconds - offset < start)
    instant = _NAIVE_EPOCH + timedelta(seconds=utc, microseconds=wall.microsecond)
    return instant.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class OffsetTable:
    """UTC offsets of a zone as a step function of UTC time, in whole seconds.

    ``offsets[k]`` holds from ``starts[k]`` (seconds since the Unix epoch, UTC) until
    ``starts[k + 1]``; the first step starts in year 1 and the last one never ends.
    """

    starts: tuple[int, ...]
    offsets: tuple[int, ...]

    def offset_at(self, seconds: int) -> int:
        """The offset at ``seconds`` since the Unix epoch."""
        return self.offsets[max(bisect.bisect_right(self.starts, seconds) - 1, 0)]

    def pieces(self, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """The ``(start, end, offset)`` steps that overlap the UTC range ``[lo, hi)``."""
        k = max(bisect.bisect_right(self.starts, lo) - 1, 0)
        found = []
        while k < len(self.starts) and self.starts[k] < hi:
            end = self.starts[k + 1] if k + 1 < len(self.starts) else hi
            found.append((self.starts[k], end, self.offsets[k]))
            k += 1
        return found

    @property
    def widest(self) -> int:
        """The largest absolute offset, to bound the UTC range a local day can fall in."""
        return max(abs(offset) for offset in self.offsets)


@functools.cache
def offset_table(name: str) -> OffsetTable:
    """The offset steps of an IANA zone, read from pytz's transition table.

    pytz exposes its compiled tz data as ``_utc_transition_times`` / ``_transition_info`` on
    DST-aware zones and ``_utcoffset`` on fixed ones. Those attributes have been stable since pytz's
    first releases; reading them gives every transition at once instead of probing ``utcoffset`` at
    guessed instants. The tz files pytz compiles stop listing transitions in 2037, so pytz (and with
    it this table) keeps the last offset after that year.
    """
    zone = get_zone(name)
    transitions = getattr(zone, "_utc_transition_times", None)
    if transitions is None:
        offset = zone.utcoffset(datetime(2000, 1, 1)) or timedelta(0)
        return OffsetTable(starts=(_seconds(datetime.min),), offsets=(int(offset / _SECOND),))
    infos = zone._transition_info  # type: ignore[attr-defined]
    starts = tuple(_seconds(moment) for moment in transitions)
    offsets = tuple(int(info[0] / _SECOND) for info in infos)
    return OffsetTable(starts=starts, offsets=offsets)


def _seconds(naive_utc: datetime) -> int:
    return (naive_utc - _NAIVE_EPOCH) // _SECOND
