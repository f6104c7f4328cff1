"""Reports over clocks: compliance, breaches, percentiles, and the contact-center figures.

Everything here is a pure function of measured clocks (:class:`TicketClocks`, from
:meth:`slarules.Engine.measure` or a replay) and of the options it is given; nothing reads a
clock or a store.

* :func:`summarize` groups clocks by any of ``policy``, ``metric``, ``node``, ``period`` and ticket
  fields (``priority``, ``group``, ``channel``, ``custom.region``…; a list field such as ``tags``
  gives a group per value) and counts met / breached / running, the compliance
  (met / (met + breached)) and percentiles of elapsed business time;
* :func:`breach_list` lists the breached clocks with how late each is;
* :func:`contact_figures` gives the service level (one of :data:`SERVICE_LEVEL_FORMULAS`), the
  average speed of answer and the abandonment rate of contacts (the ``answer`` metric).

Each has an accumulator that takes one clock at a time (:class:`Summary`, :class:`Breaches`,
:class:`ContactCount`), for clocks streamed from an engine rather than held: a report over a
million tickets then holds its figures, not their clocks.

A clock belongs to the period (or window) in which it *started*: a ticket to the day it was
opened, a call to the interval it was offered in, as contact-center interval reports count.
Figures with nothing to count are ``None`` ("no data"), never a division by zero.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, get_args, overload

import numpy as np
from numpy.typing import NDArray

from slarules._fields import read_path
from slarules._instants import MICROSECOND, from_micros, to_micros
from slarules.clocks import Clock, ClockState
from slarules.timezones import offset_table

__all__ = [
    "SERVICE_LEVEL_FORMULAS",
    "BreachList",
    "BreachRow",
    "Breaches",
    "ContactCount",
    "ContactFigures",
    "CountedClock",
    "CountedTicket",
    "Period",
    "ServiceLevelFormula",
    "Summary",
    "SummaryRow",
    "TicketClocks",
    "breach_list",
    "compliance_of",
    "contact_figures",
    "percentile",
    "period_label",
    "summarize",
]

Period = Literal["hour", "day", "week", "month"]
ServiceLevelFormula = Literal[
    "abandoned_missed", "abandoned_excluded", "abandoned_within_met", "abandoned_after_missed"
]
SERVICE_LEVEL_FORMULAS: tuple[ServiceLevelFormula, ...] = get_args(ServiceLevelFormula)
DEFAULT_SHORT_ABANDON = timedelta(seconds=5)
PERCENTILES = (50, 90, 99)

_MET = frozenset({ClockState.MET})
_BREACHED = frozenset({ClockState.BREACHED_MET, ClockState.BREACHED_RUNNING})
_RUNNING = frozenset({ClockState.RUNNING, ClockState.PAUSED})
_ENDED = frozenset({ClockState.MET, ClockState.BREACHED_MET})
# The keys of a clock itself; any other key is read from the ticket's fields.
_CLOCK_KEYS = frozenset({"policy", "metric", "node", "period"})


class CountedTicket(Protocol):
    """What the counts read of a ticket: its id and fields (a :class:`TicketClocks` has them)."""

    @property
    def ticket(self) -> str: ...

    @property
    def fields(self) -> Mapping[str, Any]: ...


class CountedClock(Protocol):
    """What the counts read of a clock: a :class:`~slarules.clocks.Clock` has it all, and so
    has the lighter :class:`~slarules.clocks.ClockReading` that a replay's report measures."""

    @property
    def metric(self) -> str: ...

    @property
    def node(self) -> str | None: ...

    @property
    def policy(self) -> str | None: ...

    @property
    def state(self) -> ClockState: ...

    @property
    def started_at(self) -> datetime: ...

    @property
    def stopped_at(self) -> datetime | None: ...

    @property
    def elapsed(self) -> timedelta: ...

    @property
    def target(self) -> timedelta: ...

    @property
    def breached_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class TicketClocks:
    """One ticket's clocks measured at one instant, with the ticket's fields at that instant."""

    ticket: str
    fields: Mapping[str, Any]
    clocks: Sequence[Clock]


@dataclass(slots=True)
class SummaryRow:
    """The figures of one group: ``group`` maps each grouping key to its value."""

    group: dict[str, str]
    met: int = 0
    breached: int = 0
    running: int = 0
    cancelled: int = 0
    # Elapsed business microseconds of the clocks that ended (met or breached), for the
    # percentiles: unboxed, 8 bytes a clock, as a report over a million tickets has millions.
    _ended: array[int] = field(default_factory=lambda: array("q"), repr=False)
    # The first start in the group: periods are disjoint, so this orders them in time.
    _earliest: datetime = field(default=datetime.max.replace(tzinfo=UTC), repr=False)

    @property
    def compliance(self) -> float | None:
        """Percent of clocks within target among those decided: met / (met + breached)."""
        return _share(self.met, self.met + self.breached)

    def percentile(self, rank: float) -> timedelta | None:
        """The elapsed time below which ``rank`` percent of the ended clocks fall."""
        return _percentile(np.frombuffer(self._ended, dtype=np.int64), rank)

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            **self.group,
            "met": self.met,
            "breached": self.breached,
            "running": self.running,
            "cancelled": self.cancelled,
            "compliance": self.compliance,
        }
        for rank in PERCENTILES:
            value = self.percentile(rank)
            row[f"p{rank}"] = None if value is None else value.total_seconds()
        return row


@dataclass(frozen=True, slots=True)
class BreachRow:
    ticket: str
    metric: str
    policy: str | None
    node: str | None
    state: ClockState
    target: timedelta
    elapsed: timedelta
    breached_at: datetime

    @property
    def late_by(self) -> timedelta:
        """Business time past the target, so far (still growing while the clock runs)."""
        return self.elapsed - self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket,
            "metric": self.metric,
            "policy": self.policy,
            "node": self.node,
            "state": self.state.value,
            "target": self.target.total_seconds(),
            "elapsed": self.elapsed.total_seconds(),
            "late_by": self.late_by.total_seconds(),
            "breached_at": self.breached_at.isoformat(),
        }


@dataclass(frozen=True)
class ContactFigures:
    """Calls or chats: what happened to each contact offered, and the figures that follow.

    ``abandoned`` excludes the short abandons when ``short_abandon`` is set (they are counted in
    ``short_abandoned`` and left out of every figure, as if never offered).
    """

    threshold: timedelta
    formula: ServiceLevelFormula
    short_abandon: timedelta | None
    answered: int
    answered_within: int
    abandoned: int
    abandoned_within: int
    short_abandoned: int
    waiting: int
    total_answer_wait: timedelta

    @property
    def offered(self) -> int:
        return self.answered + self.abandoned

    @property
    def service_level(self) -> float | None:
        """Percent, by :attr:`formula` (see :data:`SERVICE_LEVEL_FORMULAS` and docs/reports.md)."""
        within, counted = self.answered_within, self.answered + self.abandoned
        if self.formula == "abandoned_excluded":
            counted = self.answered
        elif self.formula == "abandoned_within_met":
            within += self.abandoned_within
        elif self.formula == "abandoned_after_missed":
            counted = self.answered + self.abandoned - self.abandoned_within
        return None if counted == 0 else 100.0 * within / counted

    @property
    def average_speed_of_answer(self) -> timedelta | None:
        return None if self.answered == 0 else self.total_answer_wait / self.answered

    @property
    def abandonment_rate(self) -> float | None:
        """Percent of the contacts offered that were abandoned before an answer."""
        return None if self.offered == 0 else 100.0 * self.abandoned / self.offered

    def as_dict(self) -> dict[str, Any]:
        speed = self.average_speed_of_answer
        return {
            "threshold": self.threshold.total_seconds(),
            "formula": self.formula,
            "short_abandon": (
                None if self.short_abandon is None else self.short_abandon.total_seconds()
            ),
            "offered": self.offered,
            "answered": self.answered,
            "answered_within": self.answered_within,
            "abandoned": self.abandoned,
            "abandoned_within": self.abandoned_within,
            "short_abandoned": self.short_abandoned,
            "waiting": self.waiting,
            "service_level": self.service_level,
            "average_speed_of_answer": None if speed is None else speed.total_seconds(),
            "abandonment_rate": self.abandonment_rate,
        }


# -- grouping ------------------------------------------------------------------------------------


def summarize(
    tickets: Iterable[TicketClocks],
    by: Sequence[str] = ("metric",),
    *,
    period: Period = "day",
    timezone: str = "UTC",
    started: tuple[datetime | None, datetime | None] = (None, None),
) -> list[SummaryRow]:
    """One row per group, in the order groups are first seen (periods sorted in time).

    ``period`` and ``timezone`` say what the ``period`` key means; ``started`` keeps the clocks
    that started in ``[from, to)``.
    """
    summary = Summary(by, period=period, timezone=timezone)
    for ticket, clock in _clocks(tickets, started):
        summary.add(ticket, clock)
    return summary.rows()


class Summary:
    """:func:`summarize`, one clock at a time."""

    def __init__(
        self, by: Sequence[str] = ("metric",), *, period: Period = "day", timezone: str = "UTC"
    ) -> None:
        self.by, self.period, self.timezone = tuple(by), period, timezone
        self._groups = _grouping(self.by, period, timezone)
        self._rows: dict[tuple[str, ...], SummaryRow] = {}
        # Grouped by a ticket field, which may hold a list, a clock may count in several rows;
        # the total is then counted apart. Otherwise the rows share the clocks out, and the
        # total is their sum, made when asked.
        self._overlapping = not _of_clocks_only(self.by)
        self._total = SummaryRow({})

    def add(self, ticket: CountedTicket, clock: CountedClock) -> None:
        for key in self._groups(ticket, clock):
            row = self._rows.get(key)
            if row is None:
                row = self._rows[key] = SummaryRow(dict(zip(self.by, key, strict=True)))
            _count(row, clock)
        if self._overlapping:
            _count(self._total, clock)

    def merge(self, other: Summary) -> None:
        """Add the rows of ``other``, grouped the same way, of clocks counted after these."""
        for key, theirs in other._rows.items():
            row = self._rows.get(key)
            if row is None:
                self._rows[key] = theirs
            else:
                _add_up(row, theirs)
        _add_up(self._total, other._total)

    def __getstate__(self) -> dict[str, Any]:
        # The grouping is a closure, which does not pickle: it is made again from `by`.
        return {name: value for name, value in vars(self).items() if name != "_groups"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        self._groups = _grouping(self.by, self.period, self.timezone)

    def rows(self) -> list[SummaryRow]:
        ordered = list(self._rows.values())
        if "period" in self.by:
            ordered.sort(key=lambda row: row._earliest)
        return ordered

    def total(self) -> SummaryRow:
        """The figures of every clock counted, each once, whatever rows it is in."""
        if self._overlapping:
            return self._total
        total = SummaryRow({})
        for row in self._rows.values():
            _add_up(total, row)
        return total


def _add_up(row: SummaryRow, other: SummaryRow) -> None:
    row.met += other.met
    row.breached += other.breached
    row.running += other.running
    row.cancelled += other.cancelled
    row._ended += other._ended
    row._earliest = min(row._earliest, other._earliest)


def compliance_of(rows: Iterable[SummaryRow]) -> float | None:
    """The compliance of several groups together (not the mean of theirs)."""
    met = breached = 0
    for row in rows:
        met, breached = met + row.met, breached + row.breached
    return _share(met, met + breached)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def _count(row: SummaryRow, clock: CountedClock) -> None:
    state = clock.state
    if state in _MET:
        row.met += 1
    elif state in _BREACHED:
        row.breached += 1
    elif state in _RUNNING:
        row.running += 1
    else:
        row.cancelled += 1
    if state in _ENDED:
        row._ended.append(clock.elapsed // MICROSECOND)
    row._earliest = min(row._earliest, clock.started_at)


Group = tuple[str, ...]


def _grouping(
    by: Sequence[str], period: Period, timezone: str
) -> Callable[[CountedTicket, CountedClock], Iterable[Group]]:
    """The groups a clock counts in: one, or, grouped by a field that holds a list (``tags``),
    one for each of its values, so that a ticket tagged ``vip`` and ``billing`` counts in both
    rows (and once in a report's totals, which are counted apart)."""
    if _of_clocks_only(by):
        readers = [_clock_reader(key, period, timezone) for key in by]
        return lambda ticket, clock: (tuple(read(ticket, clock) for read in readers),)
    choices = [_choices_reader(key, period, timezone) for key in by]
    return lambda ticket, clock: itertools.product(*(read(ticket, clock) for read in choices))


def _of_clocks_only(by: Sequence[str]) -> bool:
    """Whether the keys are all the clock's own, with one value each: no ticket field."""
    return all(key in _CLOCK_KEYS for key in by)


def _clock_reader(
    key: str, period: Period, timezone: str
) -> Callable[[CountedTicket, CountedClock], str]:
    if key == "period":
        return lambda ticket, clock: period_label(clock.started_at, period, timezone)
    return lambda ticket, clock: _text(getattr(clock, key))


def _choices_reader(
    key: str, period: Period, timezone: str
) -> Callable[[CountedTicket, CountedClock], Group]:
    """The values of ``key`` a clock is counted under: one, or a list field's distinct ones."""
    if key in _CLOCK_KEYS:
        read = _clock_reader(key, period, timezone)
        return lambda ticket, clock: (read(ticket, clock),)
    path = key.removeprefix("fields.").split(".")
    return lambda ticket, clock: _choices(read_path(ticket.fields, path))


def _choices(value: Any) -> Group:
    if isinstance(value, list):
        return tuple(dict.fromkeys(map(_text, value))) or (_text(None),)
    return (_text(value),)


def _text(value: Any) -> str:
    return "(none)" if value is None else str(value)


def period_label(instant: datetime, period: Period, timezone: str) -> str:
    """The period an instant falls in, in local time: ``2026-03-29T01:00+01:00`` (an hour, with
    its offset, so that the repeated hour of a DST change is two periods), ``2026-03-29``,
    ``2026-W13`` (ISO weeks, from Monday) or ``2026-03``."""
    return _labeller(period, timezone)(instant)


@functools.cache
def _labeller(period: Period, timezone: str) -> Callable[[datetime], str]:
    """Labels of one period kind in one zone. A report labels every clock, and clocks crowd
    into few periods: each period's label is written once."""
    table = offset_table(timezone)
    unit = 3600 if period == "hour" else 86400
    labels: dict[tuple[int, int], str] = {}

    def label(instant: datetime) -> str:
        seconds = math.floor(instant.timestamp())
        offset = table.offset_at(seconds)
        key = ((seconds + offset) // unit, offset)
        found = labels.get(key)
        if found is None:
            local = _EPOCH + timedelta(seconds=key[0] * unit)
            found = labels[key] = _period_text(period, local, offset)
        return found

    return label


def _period_text(period: Period, local: datetime, offset: int) -> str:
    if period == "hour":
        sign, minutes = ("+" if offset >= 0 else "-"), abs(offset) // 60
        return f"{local:%Y-%m-%dT%H}:00{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    if period == "day":
        return local.date().isoformat()
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{local.year}-{local.month:02d}"


_EPOCH = datetime(1970, 1, 1)


def _clocks(
    tickets: Iterable[TicketClocks], started: tuple[datetime | None, datetime | None]
) -> Iterable[tuple[TicketClocks, Clock]]:
    first, last = started
    for ticket in tickets:
        for clock in ticket.clocks:
            if first is not None and clock.started_at < first:
                continue
            if last is not None and clock.started_at >= last:
                continue
            yield ticket, clock


# -- breaches ------------------------------------------------------------------------------------


def breach_list(
    tickets: Iterable[TicketClocks],
    *,
    started: tuple[datetime | None, datetime | None] = (None, None),
) -> list[BreachRow]:
    """Every breached clock, the latest first by how late it is."""
    breaches = Breaches()
    for ticket, clock in _clocks(tickets, started):
        breaches.add(ticket, clock)
    return list(breaches.rows())


class Breaches:
    """:func:`breach_list`, one clock at a time.

    A report over a million tickets may count a million breaches and more, so each is kept in
    columns rather than as a row of objects: its ticket's id (the string the ticket already
    has), the position of its kind (metric, policy, node, state: few of them, kept once), and
    its target, elapsed time and breach instant as plain integers. Some 40 bytes a breach, a
    sixth of a :class:`BreachRow` with its timedeltas and datetime; the rows are made when read.
    """

    def __init__(self) -> None:
        self._tickets: list[str] = []
        self._kind_of = array("I")
        self._kinds: list[_BreachKind] = []
        self._kind_numbers: dict[_BreachKind, int] = {}
        # Per breach, three integers: the target and elapsed time in business microseconds, and
        # the breach instant in microseconds since the epoch.
        self._numbers = array("q")

    def add(self, ticket: CountedTicket, clock: CountedClock) -> None:
        if clock.breached_at is None or clock.state not in _BREACHED:
            return
        kind = (clock.metric, clock.policy, clock.node, clock.state)
        self._tickets.append(ticket.ticket)
        self._kind_of.append(self._kind_number(kind))
        self._numbers.extend(
            (
                clock.target // MICROSECOND,
                clock.elapsed // MICROSECOND,
                to_micros(clock.breached_at, "a breach instant"),
            )
        )

    def merge(self, other: Breaches) -> None:
        """Add the breaches of ``other``, of clocks counted after these."""
        renumbered = [self._kind_number(kind) for kind in other._kinds]
        self._tickets += other._tickets
        self._kind_of.extend(renumbered[number] for number in other._kind_of)
        self._numbers += other._numbers

    def rows(self) -> BreachList:
        return BreachList(self)

    def row(self, position: int) -> BreachRow:
        """The breach counted ``position``-th."""
        metric, policy, node, state = self._kinds[self._kind_of[position]]
        target, elapsed, breached_at = self._numbers[3 * position : 3 * position + 3]
        return BreachRow(
            ticket=self._tickets[position],
            metric=metric,
            policy=policy,
            node=node,
            state=state,
            target=target * MICROSECOND,
            elapsed=elapsed * MICROSECOND,
            breached_at=from_micros(breached_at),
        )

    def latest_first(self) -> array[int]:
        """The positions of the breaches, the latest first by how late each is, then by ticket
        and metric. Sorted on one key at a time (each sort keeps the order of the one before):
        a key of three values for each of millions of breaches would take more memory than the
        breaches themselves."""
        order = list(range(len(self._tickets)))
        kinds, kind_of, numbers = self._kinds, self._kind_of, self._numbers
        order.sort(key=lambda position: kinds[kind_of[position]][0])
        order.sort(key=self._tickets.__getitem__)
        order.sort(key=lambda position: numbers[3 * position] - numbers[3 * position + 1])
        return array("I", order)

    def _kind_number(self, kind: _BreachKind) -> int:
        number = self._kind_numbers.get(kind)
        if number is None:
            number = self._kind_numbers[kind] = len(self._kinds)
            self._kinds.append(kind)
        return number


_BreachKind = tuple[str, str | None, str | None, ClockState]  # metric, policy, node, state


class BreachList(Sequence[BreachRow]):
    """Breaches, the latest first by how late each is: a sequence of :class:`BreachRow`, each
    made when it is read (see :class:`Breaches`). It compares equal to any sequence of the same
    rows, a list among them."""

    def __init__(self, breaches: Breaches) -> None:
        self._breaches = breaches
        self._order = breaches.latest_first()

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> BreachRow: ...

    @overload
    def __getitem__(self, index: slice) -> list[BreachRow]: ...

    def __getitem__(self, index: int | slice) -> BreachRow | list[BreachRow]:
        if isinstance(index, slice):
            return [self._breaches.row(position) for position in self._order[index]]
        return self._breaches.row(self._order[index])

    def __iter__(self) -> Iterator[BreachRow]:
        return map(self._breaches.row, self._order)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(map(operator.eq, self, other))

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which do not hash

    def __repr__(self) -> str:
        return f"BreachList({list(self[:3])!r}{', …' if len(self) > 3 else ''}, {len(self)} in all)"


# -- contacts ------------------------------------------------------------------------------------


def contact_figures(
    tickets: Iterable[TicketClocks],
    threshold: timedelta,
    *,
    metric: str = "answer",
    formula: ServiceLevelFormula = "abandoned_missed",
    short_abandon: timedelta | None = None,
    started: tuple[datetime | None, datetime | None] = (None, None),
) -> ContactFigures:
    """The service level within ``threshold``, ASA and abandonment of the ``metric`` clocks.

    A contact is answered when its clock was met (in time or not), abandoned when it was
    cancelled, and waiting while it runs. Its wait is the caller's: wall time from offered to
    answered or abandoned, whatever the clock's calendar (a phone line's business hours would
    count nothing for a call made while it is closed). With ``short_abandon`` set, contacts
    abandoned in less than that are left out altogether.
    """
    _check_formula(formula)
    count = ContactCount(threshold, metric=metric, short_abandon=short_abandon)
    for _, clock in _clocks(tickets, started):
        count.add(clock)
    return count.figures(formula)


class ContactCount:
    """:func:`contact_figures`, one clock at a time; the counts read under any formula."""

    def __init__(
        self,
        threshold: timedelta,
        *,
        metric: str = "answer",
        short_abandon: timedelta | None = None,
    ) -> None:
        self.threshold, self.metric, self.short_abandon = threshold, metric, short_abandon
        self.answered = self.answered_within = self.abandoned = self.abandoned_within = 0
        self.short_abandoned = self.waiting = 0
        self.total_wait = timedelta()

    def add(self, clock: CountedClock) -> None:
        """Count a clock of the contacts' metric (others are left alone)."""
        if clock.metric != self.metric:
            return
        wait = (clock.stopped_at or clock.started_at) - clock.started_at
        if clock.state in _ENDED:
            self.answered += 1
            self.answered_within += wait <= self.threshold
            self.total_wait += wait
        elif clock.state == ClockState.CANCELLED:
            if self.short_abandon is not None and wait < self.short_abandon:
                self.short_abandoned += 1
                return
            self.abandoned += 1
            self.abandoned_within += wait <= self.threshold
        else:
            self.waiting += 1

    def merge(self, other: ContactCount) -> None:
        """Add the contacts of ``other``, counted with the same threshold and short abandons."""
        self.answered += other.answered
        self.answered_within += other.answered_within
        self.abandoned += other.abandoned
        self.abandoned_within += other.abandoned_within
        self.short_abandoned += other.short_abandoned
        self.waiting += other.waiting
        self.total_wait += other.total_wait

    def figures(self, formula: ServiceLevelFormula = "abandoned_missed") -> ContactFigures:
        _check_formula(formula)
        return ContactFigures(
            threshold=self.threshold,
            formula=formula,
            short_abandon=self.short_abandon,
            answered=self.answered,
            answered_within=self.answered_within,
            abandoned=self.abandoned,
            abandoned_within=self.abandoned_within,
            short_abandoned=self.short_abandoned,
            waiting=self.waiting,
            total_answer_wait=self.total_wait,
        )


def _check_formula(formula: str) -> None:
    if formula not in SERVICE_LEVEL_FORMULAS:
        raise ValueError(
            f"unknown service level formula `{formula}`; use one of "
            + ", ".join(f"`{name}`" for name in SERVICE_LEVEL_FORMULAS)
        )


# -- percentiles ---------------------------------------------------------------------------------


def percentile(values: Sequence[timedelta], rank: float) -> timedelta | None:
    """Linear interpolation between closest ranks (NumPy's default): p50 of 1 s and 2 s is 1.5 s."""
    micros = np.fromiter((value // MICROSECOND for value in values), np.int64, len(values))
    return _percentile(micros, rank)


def _percentile(micros: NDArray[np.int64], rank: float) -> timedelta | None:
    if micros.size == 0:
        return None
    return timedelta(microseconds=round(float(np.percentile(micros, rank))))
