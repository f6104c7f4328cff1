"""What ``slarules report`` shows, built from measured clocks, and its HTML form.

:func:`build_report` is pure: clocks in (:class:`~slarules.metrics.TicketClocks`, from a replay
or a store), figures out. The terminal, CSV and JSON forms are in the command line; the HTML
form (:func:`report_html`) is one self-contained page with its charts drawn as inline SVG, so it
can be mailed or archived with no network and no script.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TextIO

from slarules._html import render
from slarules.metrics import (
    DEFAULT_SHORT_ABANDON,
    SERVICE_LEVEL_FORMULAS,
    Breaches,
    BreachRow,
    ContactCount,
    ContactFigures,
    CountedClock,
    CountedTicket,
    Period,
    ServiceLevelFormula,
    Summary,
    SummaryRow,
    TicketClocks,
    period_label,
)

__all__ = ["Report", "ReportCount", "ReportOptions", "build_report", "report_html"]


@dataclass(frozen=True)
class ReportOptions:
    at: datetime  # the instant the clocks were measured at
    by: tuple[str, ...] = ("metric",)
    period: Period = "day"
    timezone: str = "UTC"
    started_from: datetime | None = None
    started_to: datetime | None = None
    # The contact-center figures: the metric of calls and chats, the service level target.
    contact_metric: str = "answer"
    threshold: timedelta = timedelta(seconds=20)
    service_level_target: float = 80.0
    short_abandon: timedelta | None = DEFAULT_SHORT_ABANDON


@dataclass(frozen=True)
class PeriodFigures:
    period: str
    compliance: SummaryRow
    contacts: ContactFigures


def _indented(flat: dict[str, Any], indent: str) -> str:
    """``json.dumps(flat, indent=2)`` of a dict of plain values, nested ``indent`` deep, in one
    call to the encoder's C code, which an ``indent`` would turn off (five times slower, for a
    million breaches): the items come a line each, since JSON text never holds a line break."""
    if not flat:
        return "{}"
    inner = indent + "  "
    items = _ITEMS_ON_LINES(flat)[1:-1].replace("\n", ",\n" + inner)
    return f"{{\n{inner}{items}\n{indent}}}"


_ITEMS_ON_LINES = json.JSONEncoder(separators=("\n", ": ")).encode


@dataclass(frozen=True)
class Report:
    options: ReportOptions
    rows: list[SummaryRow]
    # Every clock once: rows by a list field (tags) overlap, so the rows may count one twice.
    total: SummaryRow
    breaches: Sequence[BreachRow]  # a BreachList: rows made when read
    # The same contacts under each service level formula, side by side.
    contacts: dict[ServiceLevelFormula, ContactFigures]
    periods: list[PeriodFigures]

    @property
    def compliance(self) -> float | None:
        """Over every clock: met / (met + breached), in percent."""
        return self.total.compliance

    def as_dict(self) -> dict[str, Any]:
        return self._as_dict([row.as_dict() for row in self.breaches])

    def write_json(self, out: TextIO) -> None:
        """``json.dump(self.as_dict(), out, indent=2)``, the same text, written a breach at a
        time: a report over a million tickets may list a million breaches, and their dicts
        would take more memory than the rest of the report."""
        # A real line break is never inside a JSON string: this is the key, not a value.
        key = '\n  "breaches": '
        head, _, tail = json.dumps(self._as_dict([]), indent=2).partition(key + "[]")
        out.write(head + key)
        for position, row in enumerate(self.breaches):
            out.write(f"{',' if position else '['}\n    {_indented(row.as_dict(), '    ')}")
        out.write("\n  ]" if self.breaches else "[]")
        out.write(tail)

    def _as_dict(self, breaches: Any) -> dict[str, Any]:
        options = self.options
        return {
            "at": options.at.isoformat(),
            "by": list(options.by),
            "period": options.period,
            "timezone": options.timezone,
            "compliance": self.compliance,
            "rows": [row.as_dict() for row in self.rows],
            "total": self.total.as_dict(),
            "breaches": breaches,
            "contacts": {name: figures.as_dict() for name, figures in self.contacts.items()},
            "periods": [
                {
                    "period": item.period,
                    "met": item.compliance.met,
                    "breached": item.compliance.breached,
                    "compliance": item.compliance.compliance,
                    "service_level": item.contacts.service_level,
                    "offered": item.contacts.offered,
                }
                for item in self.periods
            ],
        }


def build_report(tickets: Iterable[TicketClocks], options: ReportOptions) -> Report:
    """The report in one pass over the clocks, each counted and let go: fed by a generator
    (:meth:`slarules.replays.Replay.measure`, :meth:`slarules.Engine.measure`), a report over a
    million tickets holds its figures, not a million tickets' clocks."""
    count = ReportCount(options)
    for ticket in tickets:
        count.add(ticket)
    return count.report()


class ReportCount:
    """:func:`build_report`, one ticket at a time. The counts of separate sets of tickets merge
    into the counts of them all: shares of the tickets can be counted apart (in other processes:
    a count pickles), and merged in the order of the shares they give the report of the tickets
    counted in that order."""

    def __init__(self, options: ReportOptions) -> None:
        self.options = options
        period, timezone = options.period, options.timezone
        self._rows = Summary(options.by, period=period, timezone=timezone)
        self._breaches = Breaches()
        self._contacts = _contact_count(options)
        # Per period: the compliance of every clock, as the rows count it, and the contacts.
        self._compliance = Summary(("period",), period=period, timezone=timezone)
        self._calls: dict[str, ContactCount] = {}
        self._first_call: dict[str, datetime] = {}

    def add(self, ticket: TicketClocks) -> None:
        self.add_clocks(ticket, ticket.clocks)

    def add_clocks(self, ticket: CountedTicket, clocks: Iterable[CountedClock]) -> None:
        """Count a ticket's clocks, measured whole (:class:`~slarules.clocks.Clock`) or as
        readings (:class:`~slarules.clocks.ClockReading`, what a replay's report measures)."""
        options = self.options
        first, last = options.started_from, options.started_to
        for clock in clocks:
            started = clock.started_at
            if (first is not None and started < first) or (last is not None and started >= last):
                continue
            self._rows.add(ticket, clock)
            self._breaches.add(ticket, clock)
            self._compliance.add(ticket, clock)
            if clock.metric != options.contact_metric:
                continue
            self._contacts.add(clock)
            label = period_label(started, options.period, options.timezone)
            calls = self._calls.get(label)
            if calls is None:
                calls = self._calls[label] = _contact_count(options)
                self._first_call[label] = started
            calls.add(clock)
            self._first_call[label] = min(self._first_call[label], started)

    def merge(self, other: ReportCount) -> None:
        """Add the counts of ``other``, of tickets counted after this count's."""
        self._rows.merge(other._rows)
        self._breaches.merge(other._breaches)
        self._contacts.merge(other._contacts)
        self._compliance.merge(other._compliance)
        for label, calls in other._calls.items():
            mine = self._calls.get(label)
            if mine is None:
                self._calls[label], self._first_call[label] = calls, other._first_call[label]
            else:
                mine.merge(calls)
                self._first_call[label] = min(self._first_call[label], other._first_call[label])

    def report(self) -> Report:
        contacts = self._contacts
        return Report(
            options=self.options,
            rows=self._rows.rows(),
            total=self._rows.total(),
            breaches=self._breaches.rows(),
            contacts={formula: contacts.figures(formula) for formula in SERVICE_LEVEL_FORMULAS},
            periods=_periods(self._compliance.rows(), self._calls, self._first_call, self.options),
        )


def _periods(
    compliance: list[SummaryRow],
    calls: dict[str, ContactCount],
    first_call: dict[str, datetime],
    options: ReportOptions,
) -> list[PeriodFigures]:
    """Per period, the compliance and the contacts' figures. Periods are disjoint, so their
    first clocks put them in time order."""
    by_label = {row.group["period"]: row for row in compliance}
    earliest = {label: row._earliest for label, row in by_label.items()}
    for label, started in first_call.items():
        earliest[label] = min(earliest.get(label, started), started)
    return [
        PeriodFigures(
            label,
            by_label.get(label) or SummaryRow({}),
            calls.get(label, _contact_count(options)).figures(),
        )
        for label in sorted(earliest, key=earliest.__getitem__)
    ]


def _contact_count(options: ReportOptions) -> ContactCount:
    return ContactCount(
        options.threshold, metric=options.contact_metric, short_abandon=options.short_abandon
    )


# -- HTML ----------------------------------------------------------------------------------------

HTML_BREACHES = 1_000
_CHART_WIDTH, _CHART_HEIGHT = 720, 190
_TOP, _GUTTER = 16, 28  # room for the value over a full bar, and for the labels under the axis


@dataclass(frozen=True)
class _Bar:
    label: str
    short: str  # what fits under the bar: `07:00`, `03-04`, `W13`
    x: float
    width: float
    y: float
    height: float
    value: str


@dataclass(frozen=True)
class _Chart:
    title: str
    bars: list[_Bar]
    width: int
    height: int
    target_y: float | None  # the target line, in chart coordinates
    target: str | None
    empty: bool


def _chart(
    title: str,
    values: Sequence[tuple[str, float | None]],
    *,
    top: float,
    unit: str,
    target: float | None = None,
) -> _Chart:
    """Bars of ``values`` on a scale from 0 to ``top``; ``None`` values are periods with no
    data, drawn as gaps, not as zero."""
    bottom = _CHART_HEIGHT - _GUTTER
    plot = bottom - _TOP
    slot = _CHART_WIDTH / max(len(values), 1)

    def y_of(value: float) -> float:
        return bottom - plot * min(value, top) / top if top else bottom

    bars = [
        _Bar(
            label=label,
            short=_short_label(label),
            x=index * slot + slot * 0.15,
            width=slot * 0.7,
            y=y_of(value),
            height=bottom - y_of(value),
            value=f"{value:.1f}{unit}" if unit == "%" else f"{value:g}",
        )
        for index, (label, value) in enumerate(values)
        if value is not None
    ]
    return _Chart(
        title=title,
        bars=bars,
        width=_CHART_WIDTH,
        height=_CHART_HEIGHT,
        target_y=None if target is None else y_of(target),
        target=None if target is None else f"target {target:g}{unit}",
        empty=not bars,
    )


def _short_label(period: str) -> str:
    """``2026-03-04T07:00+01:00`` → ``07:00``; ``2026-03-04`` → ``03-04``; ``2026-W13`` →
    ``W13``; a month stays as it is."""
    if "T" in period:
        return period.split("T")[1][:5]
    if "-W" in period:
        return period.split("-")[1]
    if period.count("-") == 2:
        return period[5:]
    return period


def report_html(report: Report, title: str = "SLA report") -> str:
    periods = report.periods
    most_breaches = max((p.compliance.breached for p in periods), default=0)
    charts = [
        _chart(
            "Compliance over time",
            [(p.period, p.compliance.compliance) for p in periods],
            top=100.0,
            unit="%",
        ),
        _chart(
            f"Service level within {report.options.threshold.total_seconds():g} s per "
            f"{report.options.period}",
            [(p.period, p.contacts.service_level) for p in periods],
            top=100.0,
            unit="%",
            target=report.options.service_level_target,
        ),
        _chart(
            "Breaches",
            [(p.period, float(p.compliance.breached)) for p in periods],
            top=float(max(most_breaches, 1)),
            unit="",
        ),
    ]
    # A page lists the breaches latest first, as many as a browser shows at ease.
    shown = report.breaches[:HTML_BREACHES]
    more = len(report.breaches) - len(shown)
    return render(
        "report.html", report=report, charts=charts, title=title, breaches=shown, more=more
    )
