"""Benchmark of business-time arithmetic: slarules against pandas and a day-by-day loop.

What is measured
    Two calendars in America/New_York with the 2026 US federal holidays: ``office`` (Mon-Fri
    09:00-17:00) and ``lunch`` (Mon-Fri 09:00-12:00 and 13:00-17:00). For each, N seeded pairs:
    a start instant drawn uniformly over 2026 (whole minutes), a budget drawn from
    {15 min, 1 h, 4 h, 8 h, 24 h, 72 h}, and an end instant 0-30 days (whole minutes) after the
    start.

    * op ``add``: the deadline, ``Calendar.add(start, budget)``;
    * op ``between``: business time in ``[start, end)``, ``Calendar.between(start, end)``.

    Operations per second of four implementations, side by side in one run:

    1. slarules scalar: a Python loop over ``Calendar.add`` / ``Calendar.between``, aware UTC
       datetimes in, aware UTC datetimes (or timedeltas) out; the conversions are timed.
    2. slarules batch: ``add_many`` / ``between_many`` on NumPy arrays prepared beforehand; only
       the call is timed.
    3. pandas ``CustomBusinessHour`` (add only), on a subsample (``--pandas-pairs``) because it
       is slow, twice: "pandas, aware" does the same job as slarules scalar (aware datetimes in,
       converted with ``tz_convert`` inside the timed loop, aware timestamps out), and "pandas,
       naive" is its best case, on naive New York wall times converted before timing. pandas has
       no business-time difference, so it is not measured for ``between``. See
       :class:`PandasBusinessHours` for how a budget that is not a whole number of hours is added.
    4. a day-by-day loop as found in open-source helpdesk SLA code (:class:`DayByDayLoop`): naive
       local wall times, walking one day at a time and clipping each day's spans to the budget.
       Its inputs are converted from aware UTC to naive New York wall time once, before timing.

    Each figure is the best of ``--repeat`` runs timed with ``time.perf_counter``. The calendar's
    interval index is built on first use, so every implementation is warmed up before timing.

    Agreement is checked on every pair (pandas: on its subsample): scalar and batch must agree
    exactly; pandas and the loop must agree with slarules up to the closing-instant rule (slarules
    returns the next opening where another implementation may return the closing instant with no
    business time in between). Disagreements on pairs whose interval spans a DST change are
    reported separately and tolerated, since the loop and pandas ignore time zones; any other
    disagreement makes the script exit with status 1. Performance targets are reported, never
    asserted.

Targets (per calendar)
    * scalar ``add``      >= 50x pandas ``add`` (both pandas variants are reported)
    * scalar ``add``      >= 1x the day-by-day loop
    * scalar ``between``  >= 3x the day-by-day loop
    * batch ``add`` and batch ``between`` >= 2,000,000 ops/s

How to run
    ``tox -e bench``, or directly::

        python tests/benchmarks/bench_calendar.py [--pairs 100000] [--seed 2026]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from slarules import Calendar

T = TypeVar("T")

ZONE_NAME = "America/New_York"
NEW_YORK = ZoneInfo(ZONE_NAME)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
ZERO = timedelta(0)
MICROSECOND = timedelta(microseconds=1)

# 2026 US federal holidays (Independence Day falls on a Saturday and is observed on Friday 3 July).
HOLIDAYS_2026 = (
    date(2026, 1, 1),
    date(2026, 1, 19),
    date(2026, 2, 16),
    date(2026, 5, 25),
    date(2026, 6, 19),
    date(2026, 7, 3),
    date(2026, 9, 7),
    date(2026, 10, 12),
    date(2026, 11, 11),
    date(2026, 11, 26),
    date(2026, 12, 25),
)
BUDGETS = (15 * MINUTE, HOUR, 4 * HOUR, 8 * HOUR, 24 * HOUR, 72 * HOUR)
MAX_BETWEEN = timedelta(days=30)
MONDAY_TO_FRIDAY = frozenset(range(5))  # date.weekday() numbers

BATCH_TARGET = 2_000_000.0

Span = tuple[str, str]  # ("09:00", "17:00"), local wall time


@dataclass(frozen=True)
class CalendarCase:
    label: str
    spans: tuple[Span, ...]

    @property
    def description(self) -> str:
        hours = ", ".join(f"{opens}-{closes}" for opens, closes in self.spans)
        return f"Mon-Fri {hours} {ZONE_NAME}, 2026 US federal holidays"

    def calendar(self) -> Calendar:
        weekly = {"mon-fri": [f"{opens}-{closes}" for opens, closes in self.spans]}
        return Calendar(ZONE_NAME, weekly, holidays=HOLIDAYS_2026)


CASES = (
    CalendarCase("office", (("09:00", "17:00"),)),
    CalendarCase("lunch", (("09:00", "12:00"), ("13:00", "17:00"))),
)


# -- the workload ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """The same pairs in every form an implementation takes, all prepared before timing."""

    starts: list[datetime]  # aware UTC
    budgets: list[timedelta]
    ends: list[datetime]  # aware UTC, op B
    local_starts: list[datetime]  # naive New York wall time
    local_ends: list[datetime]
    start_array: NDArray[np.datetime64]  # datetime64[us], UTC
    budget_array: NDArray[np.timedelta64]  # timedelta64[us]
    end_array: NDArray[np.datetime64]

    def __len__(self) -> int:
        return len(self.starts)


def make_workload(pairs: int, seed: int) -> Workload:
    rng = np.random.default_rng(seed)
    first = datetime(2026, 1, 1, tzinfo=NEW_YORK).astimezone(UTC)
    last = datetime(2027, 1, 1, tzinfo=NEW_YORK).astimezone(UTC)
    start_minutes = rng.integers(0, (last - first) // MINUTE, size=pairs)
    budget_choice = rng.integers(0, len(BUDGETS), size=pairs)
    gap_minutes = rng.integers(0, MAX_BETWEEN // MINUTE, size=pairs, endpoint=True)

    origin = np.datetime64(first.replace(tzinfo=None), "us")
    start_array = origin + start_minutes.astype("timedelta64[m]")
    end_array = start_array + gap_minutes.astype("timedelta64[m]")
    budget_array = np.array(BUDGETS, dtype="timedelta64[us]")[budget_choice]

    starts = [moment.replace(tzinfo=UTC) for moment in start_array.tolist()]
    ends = [moment.replace(tzinfo=UTC) for moment in end_array.tolist()]
    return Workload(
        starts=starts,
        budgets=budget_array.tolist(),
        ends=ends,
        local_starts=[to_local(moment) for moment in starts],
        local_ends=[to_local(moment) for moment in ends],
        start_array=start_array,
        budget_array=budget_array,
        end_array=end_array,
    )


def to_local(instant: datetime) -> datetime:
    """Aware instant to naive New York wall time, what the loop and pandas work on."""
    return instant.astimezone(NEW_YORK).replace(tzinfo=None)


def from_local(wall_time: datetime) -> datetime:
    """Naive New York wall time to aware UTC (results fall in business hours, never ambiguous)."""
    return wall_time.replace(tzinfo=NEW_YORK).astimezone(UTC)


# -- the day-by-day loop ---------------------------------------------------------------------


def _offset(hhmm: str) -> timedelta:
    hours, minutes = hhmm.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


class DayByDayLoop:
    """Business time the way many helpdesk SLA modules compute it.

    Works on naive local wall times and ignores time zones: it walks one calendar day at a time,
    skips weekends and holidays, clips each of the day's spans to what is left and subtracts.
    """

    def __init__(self, spans: Sequence[Span], holidays: Sequence[date]) -> None:
        self._spans = tuple((_offset(opens), _offset(closes)) for opens, closes in spans)
        self._holidays = frozenset(holidays)

    def _spans_on(self, day: date) -> tuple[tuple[timedelta, timedelta], ...]:
        if day.weekday() not in MONDAY_TO_FRIDAY or day in self._holidays:
            return ()
        return self._spans

    def add(self, start: datetime, budget: timedelta) -> datetime:
        remaining = budget
        day = start.date()
        midnight = datetime(day.year, day.month, day.day)
        while True:
            for opens, closes in self._spans_on(day):
                span_start = max(midnight + opens, start)
                span_end = midnight + closes
                if span_start >= span_end:
                    continue
                available = span_end - span_start
                # Strictly less: a budget that runs out exactly at closing is due at the next
                # opening, as with slarules' default on_close="next_open".
                if remaining < available:
                    return span_start + remaining
                remaining -= available
            day += DAY
            midnight += DAY

    def between(self, start: datetime, end: datetime) -> timedelta:
        total = ZERO
        day = start.date()
        last_day = end.date()
        midnight = datetime(day.year, day.month, day.day)
        while day <= last_day:
            for opens, closes in self._spans_on(day):
                span_start = max(midnight + opens, start)
                span_end = min(midnight + closes, end)
                if span_start < span_end:
                    total += span_end - span_start
            day += DAY
            midnight += DAY
        return total


# -- pandas ----------------------------------------------------------------------------------


class PandasBusinessHours:
    """Deadlines with ``pd.offsets.CustomBusinessHour`` on naive New York wall times.

    ``CustomBusinessHour`` only takes a whole number of hours (``n`` must be an integer), so a
    budget is added in two steps with public API only: the whole hours with a pre-built
    ``CustomBusinessHour(n=hours)``, then the rest (under an hour) by hand: roll forward to an
    opening, add the rest as plain time, and if that lands after a closing (``is_on_offset`` is
    false), carry what overshot the closing (``rollback``) over to the next opening
    (``rollforward``). Every span and every gap between spans is at least an hour long, so the rest
    crosses at most one closing. pandas may return a closing instant where slarules returns the
    next opening; the agreement check allows for that.
    """

    def __init__(self, spans: Sequence[Span], holidays: Sequence[date]) -> None:
        self._options = {
            "start": [opens for opens, _ in spans],
            "end": [closes for _, closes in spans],
            "holidays": list(holidays),
            "weekmask": "Mon Tue Wed Thu Fri",
        }
        self._hour = pd.offsets.CustomBusinessHour(**self._options)
        # Built once, outside timing: one offset per whole-hour count the workload uses.
        self._by_hours = {
            budget // HOUR: pd.offsets.CustomBusinessHour(n=budget // HOUR, **self._options)
            for budget in BUDGETS
            if budget >= HOUR
        }

    def add(self, start: pd.Timestamp, budget: timedelta) -> pd.Timestamp:
        hours, rest = divmod(budget, HOUR)
        deadline = start + self._by_hours[hours] if hours else start
        if rest:
            deadline = self._add_under_an_hour(deadline, rest)
        return deadline

    def _add_under_an_hour(self, start: pd.Timestamp, rest: timedelta) -> pd.Timestamp:
        opened = self._hour.rollforward(start)
        deadline = opened + rest
        if self._hour.is_on_offset(deadline):
            return deadline
        closing = self._hour.rollback(deadline)
        return self._hour.rollforward(deadline) + (deadline - closing)


# -- timing ----------------------------------------------------------------------------------


def best_rate(run: Callable[[], T], operations: int, repeat: int) -> tuple[float, T]:
    """Operations per second of the fastest of ``repeat`` runs, and the last run's result."""
    fastest = float("inf")
    result: T | None = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = run()
        fastest = min(fastest, time.perf_counter() - began)
    assert result is not None
    return operations / fastest, result


@dataclass
class CaseRun:
    """Rates (ops/s; None where not measured) and outputs of each implementation on a calendar."""

    case: CalendarCase
    calendar: Calendar
    warmup_seconds: float
    rates: dict[tuple[str, str], float | None] = field(default_factory=dict)
    scalar_add: list[datetime] = field(default_factory=list)
    scalar_between: list[timedelta] = field(default_factory=list)
    batch_add: NDArray[np.datetime64] | None = None
    batch_between: NDArray[np.timedelta64] | None = None
    pandas_add: list[datetime] = field(default_factory=list)  # aware UTC, pandas subsample
    pandas_aware_add: list[datetime] = field(default_factory=list)
    loop_add: list[datetime] = field(default_factory=list)  # aware UTC
    loop_between: list[timedelta] = field(default_factory=list)


SCALAR, BATCH, LOOP = "slarules scalar", "slarules batch", "day-by-day loop"
PANDAS_AWARE, PANDAS = "pandas, aware", "pandas, naive"
IMPLEMENTATIONS = (SCALAR, BATCH, PANDAS_AWARE, PANDAS, LOOP)
ADD, BETWEEN = "add", "between"


def warm_up(calendar: Calendar, work: Workload) -> float:
    """Build the calendar's index over every year the workload touches; return how long it took.

    The first query builds the index (and later ones widen it into 2027, where some deadlines and
    ends fall), which is a one-off cost per calendar, not per operation.
    """
    began = time.perf_counter()
    calendar.add_many(work.start_array, work.budget_array)
    calendar.between_many(work.start_array, work.end_array)
    calendar.add(work.starts[0], work.budgets[0])
    calendar.between(work.starts[0], work.ends[0])
    return time.perf_counter() - began


def run_case(case: CalendarCase, work: Workload, pandas_pairs: int, repeat: int) -> CaseRun:
    calendar = case.calendar()
    run = CaseRun(case, calendar, warm_up(calendar, work))
    n = len(work)
    add, between = calendar.add, calendar.between
    starts, budgets, ends = work.starts, work.budgets, work.ends

    run.rates[SCALAR, ADD], run.scalar_add = best_rate(
        lambda: [add(s, b) for s, b in zip(starts, budgets, strict=True)], n, repeat
    )
    run.rates[SCALAR, BETWEEN], run.scalar_between = best_rate(
        lambda: [between(s, e) for s, e in zip(starts, ends, strict=True)], n, repeat
    )

    run.rates[BATCH, ADD], run.batch_add = best_rate(
        lambda: calendar.add_many(work.start_array, work.budget_array), n, repeat
    )
    run.rates[BATCH, BETWEEN], run.batch_between = best_rate(
        lambda: calendar.between_many(work.start_array, work.end_array), n, repeat
    )

    run.rates[PANDAS, ADD], run.pandas_add = time_pandas(case, work, pandas_pairs, repeat)
    run.rates[PANDAS_AWARE, ADD], run.pandas_aware_add = time_pandas_aware(
        case, work, pandas_pairs, repeat
    )
    # pandas has no business-time difference
    run.rates[PANDAS, BETWEEN] = run.rates[PANDAS_AWARE, BETWEEN] = None

    loop = DayByDayLoop(case.spans, HOLIDAYS_2026)
    local_starts, local_ends = work.local_starts, work.local_ends
    loop.add(local_starts[0], budgets[0])  # warm-up, for symmetry with the others
    run.rates[LOOP, ADD], loop_add = best_rate(
        lambda: [loop.add(s, b) for s, b in zip(local_starts, budgets, strict=True)], n, repeat
    )
    run.rates[LOOP, BETWEEN], run.loop_between = best_rate(
        lambda: [loop.between(s, e) for s, e in zip(local_starts, local_ends, strict=True)],
        n,
        repeat,
    )
    run.loop_add = [from_local(deadline) for deadline in loop_add]
    return run


def time_pandas(
    case: CalendarCase, work: Workload, pairs: int, repeat: int
) -> tuple[float, list[datetime]]:
    """pandas ``add`` on the first ``pairs`` pairs (a uniform subsample: the pairs are i.i.d.)."""
    business_hours = PandasBusinessHours(case.spans, HOLIDAYS_2026)
    starts = [pd.Timestamp(moment) for moment in work.local_starts[:pairs]]
    budgets = work.budgets[:pairs]
    business_hours.add(starts[0], budgets[0])  # warm-up: pandas builds its holiday calendar lazily
    rate, deadlines = best_rate(
        lambda: [business_hours.add(s, b) for s, b in zip(starts, budgets, strict=True)],
        len(starts),
        repeat,
    )
    return rate, [from_local(deadline.to_pydatetime()) for deadline in deadlines]


def time_pandas_aware(
    case: CalendarCase, work: Workload, pairs: int, repeat: int
) -> tuple[float, list[datetime]]:
    """pandas ``add`` doing slarules' job: aware datetimes in, aware timestamps out."""
    business_hours = PandasBusinessHours(case.spans, HOLIDAYS_2026)
    starts, budgets = work.starts[:pairs], work.budgets[:pairs]
    add = business_hours.add
    add(pd.Timestamp(starts[0]).tz_convert(ZONE_NAME), budgets[0])  # warm-up, as above
    rate, deadlines = best_rate(
        lambda: [
            add(pd.Timestamp(s).tz_convert(ZONE_NAME), b)
            for s, b in zip(starts, budgets, strict=True)
        ],
        len(starts),
        repeat,
    )
    return rate, [deadline.to_pydatetime().astimezone(UTC) for deadline in deadlines]


# -- agreement -------------------------------------------------------------------------------


@dataclass
class Agreement:
    """One comparison of an implementation's outputs with slarules scalar."""

    what: str
    checked: int = 0
    via_closing_rule: int = 0
    spanning_dst: int = 0
    dst_relevant: bool = True  # False for batch against scalar: both are slarules
    dst_differences: int = 0
    failures: int = 0
    examples: list[str] = field(default_factory=list)

    def record(self, detail: str, near_dst: bool) -> None:
        """A disagreement: tolerated when the pair spans a DST change, a failure otherwise."""
        if near_dst:
            self.dst_differences += 1
        else:
            self.failures += 1
        if len(self.examples) < 10:
            self.examples.append(("DST (tolerated) " if near_dst else "DISAGREE ") + detail)

    def summary(self) -> str:
        agreeing = self.checked - self.failures - self.dst_differences
        text = f"{self.what:<34} {agreeing:>7,}/{self.checked:,} agree"
        if self.via_closing_rule:
            text += f" ({self.via_closing_rule:,} via the closing-instant rule)"
        if self.dst_relevant:
            text += f"; {self.spanning_dst:,} span a DST change"
        if self.dst_differences:
            text += f", {self.dst_differences:,} of them differ (tolerated)"
        if self.failures:
            text += f"; {self.failures:,} DISAGREE"
        return text


def dst_changes(first: datetime, last: datetime) -> list[datetime]:
    """UTC instants in ``[first, last]`` where New York's offset changes (whole hours in UTC)."""
    changes = []
    moment = first
    offset = moment.astimezone(NEW_YORK).utcoffset()
    while moment <= last:
        moment += HOUR
        current = moment.astimezone(NEW_YORK).utcoffset()
        if current != offset:
            changes.append(moment)
            offset = current
    return changes


def spans_dst(changes: Sequence[datetime], first: datetime, last: datetime) -> bool:
    return any(first <= change <= last for change in changes)


def is_closing(calendar: Calendar, instant: datetime) -> bool:
    return not calendar.is_open(instant) and calendar.is_open(instant - MICROSECOND)


def same_deadline(calendar: Calendar, reference: datetime, other: datetime) -> tuple[bool, bool]:
    """Whether ``other`` is ``reference`` up to the closing-instant rule, and whether the rule
    was needed: ``other`` may be a closing instant with no business time until ``reference``."""
    if other == reference:
        return True, False
    closing = (
        other < reference
        and is_closing(calendar, other)
        and calendar.between(other, reference) == ZERO
    )
    return closing, closing


def check_adds(
    what: str,
    run: CaseRun,
    work: Workload,
    others: Sequence[datetime],
    changes: Sequence[datetime],
) -> Agreement:
    agreement = Agreement(what, checked=len(others))
    for i, other in enumerate(others):
        reference, start = run.scalar_add[i], work.starts[i]
        near_dst = spans_dst(changes, start, max(reference, other))
        agreement.spanning_dst += near_dst
        agrees, via_rule = same_deadline(run.calendar, reference, other)
        agreement.via_closing_rule += via_rule
        if not agrees:
            agreement.record(
                f"{run.case.label} add #{i}: start {start.isoformat()} "
                f"({work.local_starts[i]} New York), budget {work.budgets[i]}: "
                f"slarules {reference.isoformat()}, other {other.isoformat()}",
                near_dst,
            )
    return agreement


def check_betweens(
    what: str,
    run: CaseRun,
    work: Workload,
    others: Sequence[timedelta],
    changes: Sequence[datetime],
) -> Agreement:
    agreement = Agreement(what, checked=len(others))
    for i, other in enumerate(others):
        reference, start, end = run.scalar_between[i], work.starts[i], work.ends[i]
        near_dst = spans_dst(changes, start, end)
        agreement.spanning_dst += near_dst
        if other != reference:
            agreement.record(
                f"{run.case.label} between #{i}: {start.isoformat()} .. {end.isoformat()}: "
                f"slarules {reference}, other {other}",
                near_dst,
            )
    return agreement


def check_batch(run: CaseRun) -> list[Agreement]:
    """Batch against scalar, exactly: the same instants and durations to the microsecond."""
    assert run.batch_add is not None
    assert run.batch_between is not None
    scalar_add = np.array(
        [deadline.replace(tzinfo=None) for deadline in run.scalar_add], dtype="datetime64[us]"
    )
    scalar_between = np.array(run.scalar_between, dtype="timedelta64[us]")
    agreements = []
    for op, scalar, batch in (
        (ADD, scalar_add, run.batch_add),
        (BETWEEN, scalar_between, run.batch_between),
    ):
        agreement = Agreement(
            f"{run.case.label} {op}: batch == scalar", checked=len(scalar), dst_relevant=False
        )
        for i in np.flatnonzero(scalar != batch):
            agreement.record(
                f"{run.case.label} {op} #{i}: scalar {scalar[i]}, batch {batch[i]}",
                near_dst=False,
            )
        agreements.append(agreement)
    return agreements


def check_agreement(run: CaseRun, work: Workload) -> list[Agreement]:
    # Deadlines are at most 72 business hours (under three weeks) after the start, ends at most
    # 30 days, so 60 days past the last end covers every interval checked.
    changes = dst_changes(min(work.starts) - DAY, max(work.ends) + 60 * DAY)
    label = run.case.label
    return [
        *check_batch(run),
        check_adds(f"{label} add: pandas ~ scalar", run, work, run.pandas_add, changes),
        check_adds(f"{label} add: pandas aware ~ scalar", run, work, run.pandas_aware_add, changes),
        check_adds(f"{label} add: day loop ~ scalar", run, work, run.loop_add, changes),
        check_betweens(
            f"{label} between: day loop == scalar", run, work, run.loop_between, changes
        ),
    ]


# -- report ----------------------------------------------------------------------------------


def format_rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:,.0f}"


def print_table(runs: Sequence[CaseRun]) -> None:
    columns = [(run.case.label, op) for run in runs for op in (ADD, BETWEEN)]
    header = f"{'ops/s':<18}" + "".join(f"{label + ' ' + op:>17}" for label, op in columns)
    print(header)
    print("-" * len(header))
    by_label = {run.case.label: run for run in runs}
    for implementation in IMPLEMENTATIONS:
        cells = [format_rate(by_label[label].rates[implementation, op]) for label, op in columns]
        print(f"{implementation:<18}" + "".join(f"{cell:>17}" for cell in cells))


def ratio_line(label: str, what: str, measured: str, target: str, met: bool) -> str:
    verdict = "met" if met else "NOT met"
    return f"  {label:<7} {what:<34}: {measured:>17}  (target >= {target:>15})  {verdict}"


def target_lines(run: CaseRun) -> list[str]:
    label = run.case.label

    def rate(implementation: str, op: str) -> float:
        value = run.rates[implementation, op]
        assert value is not None
        return value

    def ratio(what: str, numerator: float, denominator: float, goal: float) -> str:
        measured = numerator / denominator
        return ratio_line(label, what, f"{measured:.2f}x", f"{goal:g}x", measured >= goal)

    def throughput(what: str, measured: float) -> str:
        goal = f"{BATCH_TARGET:,.0f} ops/s"
        return ratio_line(label, what, f"{measured:,.0f} ops/s", goal, measured >= BATCH_TARGET)

    return [
        ratio("scalar add / pandas add, aware", rate(SCALAR, ADD), rate(PANDAS_AWARE, ADD), 50),
        ratio("scalar add / pandas add, naive", rate(SCALAR, ADD), rate(PANDAS, ADD), 50),
        ratio("scalar add / day-loop add", rate(SCALAR, ADD), rate(LOOP, ADD), 1),
        ratio("scalar between / day-loop between", rate(SCALAR, BETWEEN), rate(LOOP, BETWEEN), 3),
        throughput("batch add", rate(BATCH, ADD)),
        throughput("batch between", rate(BATCH, BETWEEN)),
    ]


def print_report(
    args: argparse.Namespace, runs: Sequence[CaseRun], agreements: Sequence[Agreement]
) -> None:
    pandas_pairs = min(args.pandas_pairs, args.pairs)
    print(
        f"slarules calendar benchmark: {args.pairs:,} pairs, seed {args.seed}, "
        f"best of {args.repeat}; pandas on a subsample of {pandas_pairs:,} pairs"
    )
    for run in runs:
        print(
            f"  {run.case.label:<7} {run.case.description}\n"
            f"          index warmed before timing (first use built it in "
            f"{run.warmup_seconds * 1000:.1f} ms)"
        )
    print(
        "  slarules scalar: aware UTC datetimes in and out (conversions timed).\n"
        "  slarules batch: only the add_many/between_many call is timed.\n"
        "  pandas, aware: aware datetimes in (tz_convert timed), aware timestamps out.\n"
        "  pandas, naive and the day loop: inputs converted to naive New York wall time before\n"
        "  timing.\n"
        "  pandas has no business-time difference, so pandas between is n/a."
    )
    print()
    print_table(runs)
    print()
    print("Agreement (every pair; pandas on its subsample):")
    for agreement in agreements:
        print(f"  {agreement.summary()}")
    for agreement in agreements:
        for example in agreement.examples:
            print(f"    {example}")
    print()
    print("Targets (measured vs target; reported, not asserted):")
    for run in runs:
        for line in target_lines(run):
            print(line)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=positive, default=100_000, help="pairs (default 100000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    parser.add_argument(
        "--pandas-pairs", type=positive, default=2_000, help="pandas subsample (default 2000)"
    )
    parser.add_argument("--repeat", type=positive, default=3, help="timed runs, best kept (3)")
    return parser.parse_args(argv)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    began = time.perf_counter()
    args = parse_args(argv)
    work = make_workload(args.pairs, args.seed)
    runs = [run_case(case, work, args.pandas_pairs, args.repeat) for case in CASES]
    agreements = [agreement for run in runs for agreement in check_agreement(run, work)]
    print_report(args, runs, agreements)
    print()
    print(f"Total runtime: {time.perf_counter() - began:.1f} s")
    failures = sum(agreement.failures for agreement in agreements)
    if failures:
        print(
            f"FAILED: {failures:,} results disagree with slarules scalar outside DST changes",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
