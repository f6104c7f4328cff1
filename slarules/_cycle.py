"""A clock cycle as the engine keeps it: mutable, in integer microseconds, measured against a
calendar and a target into the public :class:`~slarules.clocks.Clock` and
:class:`~slarules.clocks.ClockReading`.

Part of the engine's inner loop, which a wheel built with ``HATCH_BUILD_HOOK_ENABLE_MYPYC=true``
compiles with mypyc (see ``pyproject.toml``); so it keeps to what mypyc compiles: classes with
``__slots__`` and typed attributes, built by their ``__init__``.
"""

from __future__ import annotations

import math
import operator

from slarules._instants import MICROSECOND, from_micros
from slarules.calendar import Calendar
from slarules.clocks import Clock, ClockReading, ClockState, Progress
from slarules.errors import CalendarError

_CANCELLED, _BREACH_NOTICED = 1, 2

# A cycle's slots, named once here: its class reads them, and so does a frozen cycle, in this
# order (mypyc compiles no reading of a class's `__slots__`).
_SLOTS = (
    "flags",
    "intervals",
    "metric",
    "node",
    "number",
    "resumed",
    "started",
    "stopped",
    "wake",
    "warned",
)
FrozenCycle = tuple[
    int, tuple[int, ...], str, str | None, int, int | None, int, int | None, int | None, float
]


class Cycle:
    """The mutable record of one clock cycle, owned by the engine's ticket state.

    Running time is the closed ``intervals`` (ended by a pause) plus the last segment, from
    ``resumed`` to ``stopped`` (or on, while running). Most cycles never pause, so they need no
    interval at all.
    """

    # Ten slots, not eleven: a pymalloc block is a multiple of 16 bytes, and a ticket holds about
    # ten cycles, so the two flags share one slot to keep each cycle at 112 bytes rather than 128.
    __slots__ = _SLOTS

    def __init__(self, metric: str, number: int, started: int, node: str | None) -> None:
        self.metric = metric
        self.number = number
        self.node = node
        self.started = started
        # Closed running intervals, flat: start, end, start, end… A tuple, because the empty
        # tuple costs nothing.
        self.intervals: tuple[int, ...] = ()
        self.resumed: int | None = started  # None while paused
        self.stopped: int | None = None
        self.flags = 0  # _CANCELLED, _BREACH_NOTICED
        self.warned = 0.0  # the highest warning percent already given
        # The engine's timer for this cycle (see ``_ticket``), or None to work it out again.
        # It stays right while the cycle keeps running as it does, so pausing, resuming and
        # stopping forget it.
        self.wake: int | None = None

    def frozen(self) -> FrozenCycle:
        """Every slot's value, in slot order: what :meth:`thawed` takes back."""
        values: FrozenCycle = _SLOT_VALUES(self)
        return values

    @classmethod
    def thawed(cls, values: FrozenCycle) -> Cycle:
        flags, intervals, metric, node, number, resumed, started, stopped, wake, warned = values
        cycle = cls(metric, number, started, node)
        cycle.flags, cycle.intervals, cycle.resumed = flags, intervals, resumed
        cycle.stopped, cycle.wake, cycle.warned = stopped, wake, warned
        return cycle

    @property
    def cancelled(self) -> bool:
        return bool(self.flags & _CANCELLED)

    @property
    def breach_noticed(self) -> bool:
        """Whether the engine has announced that this cycle went over its target."""
        return bool(self.flags & _BREACH_NOTICED)

    def notice_breach(self) -> None:
        self.flags |= _BREACH_NOTICED

    @property
    def active(self) -> bool:
        """Started and not stopped: running or paused."""
        return self.stopped is None

    @property
    def running(self) -> bool:
        return self.stopped is None and self.resumed is not None

    @property
    def paused(self) -> bool:
        return self.stopped is None and self.resumed is None

    def pause(self, at: int) -> None:
        if self.running:
            assert self.resumed is not None
            if at > self.resumed:
                self.intervals += (self.resumed, at)
            self.resumed = None
            self.wake = None

    def resume(self, at: int) -> None:
        if self.paused:
            self.resumed = at
            self.wake = None

    def stop(self, at: int, cancelled: bool = False) -> None:
        self.stopped = at
        if cancelled:
            self.flags |= _CANCELLED
        self.wake = None

    # -- measurements ------------------------------------------------------------------------

    def elapsed(self, calendar: Calendar, now: int) -> int:
        """Business microseconds the clock has run up to ``now``."""
        total = 0
        intervals = self.intervals
        for i in range(0, len(intervals), 2):
            start, end = intervals[i], intervals[i + 1]
            if start >= now:
                return total
            total += calendar._business(start, min(end, now))
        resumed = self.resumed
        if resumed is not None and now > resumed:
            end = now if self.stopped is None else min(now, self.stopped)
            if end > resumed:
                total += calendar._business(resumed, end)
        return total

    def crossing(self, calendar: Calendar, amount: int, latest: bool = True) -> int | None:
        """The instant after which the elapsed time exceeds ``amount``: the latest instant at which
        it equals ``amount``, or with ``latest`` false the earliest (the closing, when it gets
        there at a closing). ``None`` when the clock stopped or paused before getting there."""
        done = 0
        intervals = self.intervals
        for i in range(0, len(intervals), 2):
            start, end = intervals[i], intervals[i + 1]
            length = calendar._business(start, end)
            # The earliest instant may close a stretch that ends just as the amount is reached.
            if done + length > amount or (not latest and done + length == amount):
                return _instant_after(calendar, start, amount - done, latest)
            done += length
        resumed = self.resumed
        if resumed is None:
            return None
        if self.stopped is not None:
            if (
                self.stopped <= resumed
                or done + calendar._business(resumed, self.stopped) <= amount
            ):
                return None
            return _instant_after(calendar, resumed, amount - done, latest)
        return _instant_after(calendar, resumed, max(amount - done, 0), latest)

    def due(self, calendar: Calendar, target: int) -> int | None:
        """When the target runs out: at the next opening when it runs out at a closing, unless
        the calendar says ``on_close close``; ``None`` when :meth:`crossing` is. The clock is
        breached only once its elapsed time exceeds the target, after :meth:`crossing`, which
        is the next opening either way."""
        return self._due(self.crossing(calendar, target), calendar, target)

    def _due(self, crossing: int | None, calendar: Calendar, target: int) -> int | None:
        """:meth:`due`, given the :meth:`crossing` of the target."""
        if crossing is None or calendar.on_close == "next_open":
            return crossing
        return self.crossing(calendar, target, latest=False)

    def first_instant_over(self, calendar: Calendar, amount: int) -> int | None:
        """The first instant at which the elapsed time is greater than ``amount``."""
        crossing = self.crossing(calendar, amount)
        return None if crossing is None else crossing + 1

    def snapshot(
        self,
        ticket: str,
        policy: str | None,
        calendar: Calendar,
        target: int,
        now: int,
        responded: int | None,
    ) -> Clock:
        elapsed = self.elapsed(calendar, now)
        breached = elapsed > target
        state = self.state(breached)
        # When the target runs out: the due time, and the breach instant once it has passed.
        crossing = (
            self.crossing(calendar, target) if breached or state is not ClockState.PAUSED else None
        )
        due = None if state is ClockState.PAUSED else self._due(crossing, calendar, target)
        response = elapsed  # until the response, or to the end if it came after
        if responded is not None and not self._all_before(responded, now):
            response = self.elapsed(calendar, responded)
        within = min(elapsed, target)
        response = min(response, within)
        return Clock(
            ticket=ticket,
            metric=self.metric,
            node=self.node,
            policy=policy,
            cycle=self.number,
            state=state,
            started_at=from_micros(self.started),
            stopped_at=None if self.stopped is None else from_micros(self.stopped),
            elapsed=elapsed * MICROSECOND,
            target=target * MICROSECOND,
            remaining=(target - elapsed) * MICROSECOND,
            due_at=None if due is None else from_micros(due),
            percent=percent(elapsed, target),
            breached_at=from_micros(crossing or 0) if breached else None,
            progress=Progress(
                response=response * MICROSECOND,
                handling=(within - response) * MICROSECOND,
                overtime=max(elapsed - target, 0) * MICROSECOND,
            ),
        )

    def _all_before(self, instant: int, now: int) -> bool:
        """Whether all the time the clock ran by ``now`` lies before ``instant``: whether
        ``instant`` comes no earlier than ``now`` or the stop."""
        return instant >= now or (self.stopped is not None and instant >= self.stopped)

    def reading(
        self, ticket: str, policy: str | None, calendar: Calendar, target: int, now: int
    ) -> ClockReading:
        """The fields of :meth:`snapshot` that reports count, equal to its."""
        elapsed = self.elapsed(calendar, now)
        breached = elapsed > target
        return ClockReading(
            ticket,
            self.metric,
            self.node,
            policy,
            self.number,
            self.state(breached),
            from_micros(self.started),
            None if self.stopped is None else from_micros(self.stopped),
            elapsed * MICROSECOND,
            target * MICROSECOND,
            from_micros(self.crossing(calendar, target) or 0) if breached else None,
        )

    def state(self, breached: bool) -> ClockState:
        if self.cancelled:
            return ClockState.CANCELLED
        if self.stopped is not None:
            return ClockState.BREACHED_MET if breached else ClockState.MET
        if self.resumed is None:
            return ClockState.PAUSED
        return ClockState.BREACHED_RUNNING if breached else ClockState.RUNNING


_SLOT_VALUES = operator.attrgetter(*_SLOTS)


def latest_instant_after(calendar: Calendar, start: int, amount: int) -> int | None:
    """The latest instant with ``amount`` of business time since ``start``; ``None`` when the
    calendar never gets there (it never opens again, or only after the year 9998)."""
    return _instant_after(calendar, start, amount, True)


def _instant_after(calendar: Calendar, start: int, amount: int, latest: bool) -> int | None:
    try:
        return calendar._add(start, amount, latest)
    except CalendarError:
        return None


def percent(elapsed: int, target: int) -> float:
    if target <= 0:
        return math.inf if elapsed > 0 else 0.0
    return round(100 * elapsed / target, 2)
