"""Aware datetimes in, integer microseconds since the Unix epoch (UTC) inside, aware datetimes out.

Business-time arithmetic runs on integers so that it is exact to the microsecond and fast; this
module is the border where datetimes are checked and converted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from slarules.errors import CalendarError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MICROS_PER_SECOND = 1_000_000
MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND

Int64Array = NDArray[np.int64]


def to_micros(instant: datetime, what: str = "instant") -> int:
    """Microseconds since the epoch of an aware datetime (any tzinfo: zoneinfo, pytz, dateutil)."""
    try:
        return (instant - EPOCH) // MICROSECOND
    except TypeError:
        raise CalendarError(_not_aware(instant, what)) from None


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime of a microsecond count."""
    return EPOCH + MICROSECOND * micros


def duration_micros(duration: timedelta, what: str = "duration") -> int:
    """Microseconds in a timedelta, exactly."""
    if not isinstance(duration, timedelta):
        raise CalendarError(
            f"{what} must be a timedelta, got {type(duration).__name__} `{duration!r}`"
        )
    return duration // MICROSECOND


def instants_array(values: Any, what: str = "instants") -> Int64Array:
    """Microseconds since the epoch for a NumPy ``datetime64`` array (read as UTC) or a sequence of
    aware datetimes."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return values.astype("datetime64[us]").astype(np.int64)
    if isinstance(values, datetime):
        return np.array([to_micros(values, what)], dtype=np.int64)
    return np.fromiter(
        (to_micros(value, what) for value in _iterable(values, what)), dtype=np.int64
    )


def durations_array(values: Any, what: str = "durations") -> Int64Array:
    """Microseconds for a ``timedelta64`` array, a sequence of timedeltas, or one timedelta."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "m":
        return values.astype("timedelta64[us]").astype(np.int64)
    if isinstance(values, timedelta):
        return np.array([duration_micros(values, what)], dtype=np.int64)
    return np.fromiter(
        (duration_micros(value, what) for value in _iterable(values, what)), dtype=np.int64
    )


def _iterable(values: Any, what: str) -> Iterable[Any]:
    if isinstance(values, Iterable) and not isinstance(values, str | bytes):
        return values
    raise CalendarError(
        f"{what} must be a NumPy array or a sequence, got {type(values).__name__} `{values!r}`"
    )


def _not_aware(value: object, what: str) -> str:
    if isinstance(value, datetime):
        return (
            f"{what} `{value.isoformat()}` has no time zone; pass an aware datetime "
            f"(for example `{value.replace(tzinfo=UTC).isoformat()}`)"
        )
    return f"{what} must be an aware datetime, got {type(value).__name__} `{value!r}`"
