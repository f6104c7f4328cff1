"""What ``slarules report`` shows, built from measured clocks, and its HTML form.

:func:`build_report` is pure: clocks in (:class:`~slarules.metrics.TicketClocks`, from a replay
or a store), figures out. The terminal, CSV and JSON forms are in the command line; the HTML
form (:func:`report_html`) is one self-contained page with its charts drawn as inline SVG, so it
can be mailed or archived with no network and no script.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from slarules._html import render
from slarules.metrics import (
    DEFAULT_SHORT_ABANDON,
    SERVICE_LEVEL_FORMULAS,
    BreachRow,
    ContactFigures,
    Period,
    ServiceLevelFormula,
    SummaryRow,
    TicketClocks,
    breach_list,
    compliance_of,
    contact_figures,
    period_label,
    summarize,
)

__all__ = ["Report", "ReportOptions", "build_report", "report_html"]


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


@dataclass(frozen=True)
class Report:
    options: ReportOptions
    rows: list[SummaryRow]
    breaches: list[BreachRow]
    # The same contacts under each service level formula, side by side.
    contacts: dict[ServiceLevelFormula, ContactFigures]
    periods: list[PeriodFigures]

    @property
    def compliance(self) -> float | None:
        """Over every row: met / (met + breached), in percent."""
        return compliance_of(self.rows)

    def as_dict(self) -> dict[str, Any]:
        options = self.options
        return {
            "at": options.at.isoformat(),
            "by": list(options.by),
            "period": options.period,
            "timezone": options.timezone,
            "compliance": self.compliance,
            "rows": [row.as_dict() for row in self.rows],
            "breaches": [row.as_dict() for row in self.breaches],
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
    measured = _started_in(tickets, options.started_from, options.started_to)
    # The counts do not depend on the formula: count once, read them under each.
    counted = contact_figures(
        measured, options.threshold, metric=options.contact_metric,
        short_abandon=options.short_abandon,
    )  # fmt: skip
    contacts = {formula: replace(counted, formula=formula) for formula in SERVICE_LEVEL_FORMULAS}
    return Report(
        options=options,
        rows=summarize(measured, options.by, period=options.period, timezone=options.timezone),
        breaches=breach_list(measured),
        contacts=contacts,
        periods=_periods(measured, options),
    )


def _started_in(
    tickets: Iterable[TicketClocks], first: datetime | None, last: datetime | None
) -> list[TicketClocks]:
    return [
        TicketClocks(ticket.ticket, ticket.fields, kept)
        for ticket in tickets
        if (
            kept := tuple(
                clock
                for clock in ticket.clocks
                if (first is None or clock.started_at >= first)
                and (last is None or clock.started_at < last)
            )
        )
    ]


def _periods(tickets: Sequence[TicketClocks], options: ReportOptions) -> list[PeriodFigures]:
    """Per period, in time order: the compliance of every metric but the contacts' one, and
    the contacts' service level."""
    contact = options.contact_metric
    others, calls = _apart(tickets, contact)
    compliance = {
        row.group["period"]: row
        for row in summarize(others, ("period",), period=options.period, timezone=options.timezone)
    }
    buckets: dict[str, list[TicketClocks]] = {}
    earliest = {label: row._earliest for label, row in compliance.items()}
    for ticket in calls:
        for clock in ticket.clocks:
            label = period_label(clock.started_at, options.period, options.timezone)
            buckets.setdefault(label, []).append(
                TicketClocks(ticket.ticket, ticket.fields, (clock,))
            )
            earliest[label] = min(earliest.get(label, clock.started_at), clock.started_at)
    return [
        PeriodFigures(
            label,
            compliance.get(label) or SummaryRow({}),
            contact_figures(
                buckets.get(label, ()),
                options.threshold,
                metric=contact,
                short_abandon=options.short_abandon,
            ),
        )
        for label in sorted(earliest, key=earliest.__getitem__)
    ]


def _apart(
    tickets: Sequence[TicketClocks], metric: str
) -> tuple[list[TicketClocks], list[TicketClocks]]:
    """The tickets with their clocks of other metrics, and with their ``metric`` clocks."""
    others: list[TicketClocks] = []
    chosen: list[TicketClocks] = []
    for ticket in tickets:
        for found, clocks in (
            (others, tuple(clock for clock in ticket.clocks if clock.metric != metric)),
            (chosen, tuple(clock for clock in ticket.clocks if clock.metric == metric)),
        ):
            if clocks:
                found.append(TicketClocks(ticket.ticket, ticket.fields, clocks))
    return others, chosen


# -- HTML ----------------------------------------------------------------------------------------

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
    return render("report.html", report=report, charts=charts, title=title)
