"""SLA clocks: one metric running on one ticket, measured in the business time of a calendar.

A clock cycle is a list of running intervals (:mod:`slarules._cycle`). Everything a host asks
about it (elapsed, remaining, due, breached, progress) is a pure function of those intervals, the
policy's calendar and target, and ``now``. Instants are integer microseconds since the epoch
inside; datetimes outside.

A clock is breached once its elapsed time is *greater* than its target: at its due instant it is
still in time, at any later instant it is not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

__all__ = ["Clock", "ClockReading", "ClockState", "Progress"]


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED_RUNNING = "breached_running"
    BREACHED_MET = "breached_met"
    CANCELLED = "cancelled"


class Progress(BaseModel):
    """The elapsed time split for a progress bar: green, blue, red.

    ``response`` is the elapsed time before the ticket's first response (the answer, for a
    contact), ``handling`` the time after it, both within the target; ``overtime`` is the time past
    the target. The three add up to ``elapsed``.
    """

    model_config = ConfigDict(frozen=True)

    response: timedelta
    handling: timedelta
    overtime: timedelta


class Clock(BaseModel):
    """One cycle of one metric on one ticket, as of ``now``."""

    model_config = ConfigDict(frozen=True)

    ticket: str
    metric: str
    node: str | None  # the workflow stage of node_response / node_handling cycles
    policy: str | None
    cycle: int
    state: ClockState
    started_at: datetime
    stopped_at: datetime | None
    elapsed: timedelta
    target: timedelta
    remaining: timedelta  # negative when overdue
    due_at: datetime | None  # None while paused
    percent: float
    breached_at: datetime | None  # when the target ran out; breached at any instant after it
    progress: Progress

    @property
    def breached(self) -> bool:
        return self.breached_at is not None


class ClockReading(NamedTuple):
    """What reports count of a clock: its :class:`Clock`'s fields less the remaining time, the
    due time, the percent and the progress bar. A replay's report reads millions of clocks and
    counts them, so it measures these alone, in less than half the time of whole clocks."""

    ticket: str
    metric: str
    node: str | None
    policy: str | None
    cycle: int
    state: ClockState
    started_at: datetime
    stopped_at: datetime | None
    elapsed: timedelta
    target: timedelta
    breached_at: datetime | None

    @property
    def breached(self) -> bool:
        return self.breached_at is not None
