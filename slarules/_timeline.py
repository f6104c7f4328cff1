"""Sorted open intervals with cumulative business time: the index every calendar query uses.

Business time since the start of the timeline, ``B(t)``, is a non-decreasing step-and-ramp function
of the UTC instant ``t``. With the intervals sorted and their cumulative lengths precomputed, ``B``
and its inverses are one binary search each, for one query (``bisect``) or for many
(``numpy.searchsorted``).
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

import numpy as np

from slarules._instants import Int64Array


class Timeline:
    """Disjoint, sorted ``[start, end)`` intervals in microseconds, valid within ``[lo, hi]``.

    Outside ``[lo, hi]`` the intervals may be incomplete, so callers check :meth:`covers` first and
    build a wider timeline when it fails.
    """

    __slots__ = ("__dict__", "cum", "cum_end", "ends", "hi", "high", "lo", "low", "starts")

    def __init__(self, intervals: Iterable[tuple[int, int]], lo: int, hi: int) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(intervals):
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)  # adjacent across midnight or a DST change
            else:
                self.starts.append(start)
                self.ends.append(end)
        self.cum: list[int] = []
        self.cum_end: list[int] = []
        total = 0
        for start, end in zip(self.starts, self.ends, strict=True):
            self.cum.append(total)
            total += end - start
            self.cum_end.append(total)
        self.lo = lo
        self.hi = hi
        # B at the edges of the valid window, which every shift checks against.
        self.low = self.business(lo)
        self.high = self.business(hi)

    def covers(self, instant: int) -> bool:
        return self.lo <= instant <= self.hi

    @property
    def is_empty(self) -> bool:
        return not self.starts

    def business(self, instant: int) -> int:
        """``B(instant)``: open microseconds from the timeline's start up to ``instant``."""
        i = bisect_right(self.starts, instant) - 1
        if i < 0:
            return 0
        if instant < self.ends[i]:
            return self.cum[i] + instant - self.starts[i]
        return self.cum_end[i]

    def is_open(self, instant: int) -> bool:
        i = bisect_right(self.starts, instant) - 1
        return i >= 0 and instant < self.ends[i]

    def shift(self, instant: int, delta: int, latest: bool) -> int | None:
        """An instant ``x`` with ``B(x) == B(instant) + delta``: the latest one or the earliest.

        Many instants share a value of ``B`` (every closed stretch); the latest is the next
        opening, the earliest is the last closing. ``None`` when the answer may lie outside the
        valid window: after it when ``delta >= 0``, before it otherwise.
        """
        # One scalar query is the hot path of every clock, so this inlines business() and the
        # window checks rather than calling helpers.
        starts, cum = self.starts, self.cum
        i = bisect_right(starts, instant) - 1
        if i < 0:
            target = delta
        elif instant < self.ends[i]:
            target = cum[i] + instant - starts[i] + delta
        else:
            target = self.cum_end[i] + delta
        if latest:
            if not self.low <= target < self.high:
                return None
            j = bisect_right(self.cum_end, target)
        else:
            if not self.low < target <= self.high:
                return None
            j = bisect_left(self.cum_end, target)
        return starts[j] + target - cum[j]

    # Vectorised forms of the above for the batch API.

    def business_many(self, instants: Int64Array) -> Int64Array:
        if self.is_empty:
            return np.zeros_like(instants)
        starts, lengths, cum, _ = self._arrays
        i = np.maximum(np.searchsorted(starts, instants, side="right") - 1, 0)
        result: Int64Array = cum[i] + np.clip(instants - starts[i], 0, lengths[i])
        return result

    def locate_many(self, targets: Int64Array, latest: bool) -> Int64Array:
        starts, _, cum, cum_end = self._arrays
        j = np.searchsorted(cum_end, targets, side="right" if latest else "left")
        result: Int64Array = starts[j] + targets - cum[j]
        return result

    @functools.cached_property
    def _arrays(self) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array]:
        starts = np.array(self.starts, dtype=np.int64)
        ends = np.array(self.ends, dtype=np.int64)
        return (
            starts,
            ends - starts,
            np.array(self.cum, dtype=np.int64),
            np.array(self.cum_end, dtype=np.int64),
        )
