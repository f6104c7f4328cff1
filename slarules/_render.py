"""Terminal output of clocks and actions (rich): tables and green / blue / red progress bars.

Rich prints plain text when the output is not a terminal, so the same code serves pipes and tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

from slarules.actions import Action
from slarules.clocks import Clock, ClockState
from slarules.durations import format_duration
from slarules.engine import Rejected
from slarules.metrics import ContactFigures, SummaryRow
from slarules.plugins import PluginInfo
from slarules.report import Report
from slarules.store import OutboxEntry

BAR_WIDTH = 24
_STATE_STYLES = {
    ClockState.RUNNING: "green",
    ClockState.PAUSED: "yellow",
    ClockState.MET: "green",
    ClockState.BREACHED_RUNNING: "bold red",
    ClockState.BREACHED_MET: "red",
    ClockState.CANCELLED: "dim",
}


def progress_bar(clock: Clock, width: int = BAR_WIDTH) -> Text:
    """Green for response time, blue for handling time, red for overtime; the target is the
    whole bar unless overtime stretches it."""
    progress = clock.progress
    scale = max(clock.target, clock.elapsed) or timedelta(seconds=1)
    segments = (
        (progress.response, "green"),
        (progress.handling, "blue"),
        (progress.overtime, "red"),
    )
    bar = Text()
    # Round the running total, not each segment: three rounded parts could add up to one cell
    # more than the bar, and a full bar must be exactly `width` cells.
    total = timedelta(0)
    drawn = 0
    for part, style in segments:
        total += part
        end = min(round(width * (total / scale)), width)
        bar.append("█" * (end - drawn), style=style)
        drawn = end
    bar.append("░" * (width - drawn), style="dim")
    return bar


def percent_text(percent: float) -> str:
    """``92.4%``; a clock left running for years reads ``350,640%``, not ``3.5064e+06%``."""
    return f"{percent:,.0f}%" if percent >= 1000 else f"{percent:.3g}%"


def clocks_table(clocks: Iterable[Clock], zone: ZoneInfo, title: str = "Clocks") -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("ticket", "policy", "clock", "state", "progress", "used", "due / breached"):
        table.add_column(column, no_wrap=column in ("ticket", "progress"))
    for clock in clocks:
        name = clock.metric if clock.node is None else f"{clock.metric} ({clock.node})"
        if clock.cycle > 1:
            name += f" #{clock.cycle}"
        table.add_row(
            clock.ticket,
            clock.policy or "-",
            name,
            Text(clock.state.value, style=_STATE_STYLES[clock.state]),
            progress_bar(clock),
            percent_text(clock.percent),
            _deadline(clock, zone),
        )
    return table


def _deadline(clock: Clock, zone: ZoneInfo) -> str:
    if clock.breached_at is not None:
        return f"breached {local(clock.breached_at, zone)}"
    if clock.state is ClockState.PAUSED:
        return f"paused, {format_duration(clock.remaining)} left"
    if clock.due_at is None or clock.state in (ClockState.MET, ClockState.CANCELLED):
        return "-"
    return f"due {local(clock.due_at, zone)}"


def actions_table(
    actions: Sequence[Action], zone: ZoneInfo, limit: int | None = None, title: str = "Actions"
) -> Table:
    shown = actions if limit is None else actions[:limit]
    table = Table(title=title, title_justify="left")
    for column in ("at", "action", "to", "ticket", "trigger", "reason"):
        table.add_column(column, no_wrap=column in ("at", "ticket"))
    for action in shown:
        table.add_row(
            local(action.at, zone),
            action.name,
            ", ".join(arg or "-" for arg in action.args),
            action.ticket,
            action.trigger,
            action.reason,
        )
    if len(shown) < len(actions):
        table.caption = f"… and {len(actions) - len(shown)} more"
    return table


def local(instant: datetime, zone: ZoneInfo) -> str:
    """An instant as the support centre reads it: local wall time, to the second."""
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def calls_text(calls: ContactFigures) -> Text:
    """One line for the phone line: the service level, the speed of answer, who hung up."""
    text = Text("Calls: ", style="bold")
    text.append(
        f"{calls.offered} offered, {calls.answered} answered, {calls.answered_within} of "
        f"them within {format_duration(calls.threshold)} (service level "
        f"{_share(calls.service_level)}, abandoned calls counted as missed), average speed of "
        f"answer {_elapsed(calls.average_speed_of_answer)}, {calls.abandoned} abandoned "
        f"({_share(calls.abandonment_rate)})"
    )
    if calls.short_abandon is not None:
        text.append(
            f"; {calls.short_abandoned} short abandons (under "
            f"{format_duration(calls.short_abandon)}) left out"
        )
    if calls.waiting:
        text.append(f", {calls.waiting} still waiting")
    return text


def _summary_figures(row: SummaryRow) -> list[str]:
    return [
        *map(str, (row.met, row.breached, row.running, row.cancelled)),
        _share(row.compliance),
        *(_elapsed(row.percentile(rank)) for rank in (50, 90, 99)),
    ]


def report_tables(report: Report) -> list[Table]:
    """The report in the terminal: the grouped figures, the service levels side by side, and
    the breaches (the 20 latest)."""
    options = report.options
    summary = Table(title=f"By {', '.join(options.by)}", title_justify="left")
    for column in (*options.by, "met", "breached", "running", "cancelled", "within target"):
        summary.add_column(column, justify="left" if column in options.by else "right")
    for column in ("p50", "p90", "p99"):
        summary.add_column(column, justify="right")
    for row in report.rows:
        summary.add_row(*(row.group[key] for key in options.by), *_summary_figures(row))
    # Rows by a list field (tags) overlap; the total counts each clock once. It is there with no
    # rows too, saying "no data".
    summary.add_section()
    label = ["all", *[""] * (len(options.by) - 1)][: len(options.by)]
    summary.add_row(*label, *_summary_figures(report.total), style="bold")
    levels = Table(
        title=f"Service level of `{options.contact_metric}` within "
        f"{format_duration(options.threshold)}",
        title_justify="left",
    )
    for column in ("formula", "service level", "offered", "answered", "in time", "abandoned",
                   "abandoned in time", "short abandons", "ASA", "abandonment"):  # fmt: skip
        levels.add_column(column, justify="left" if column == "formula" else "right")
    for name, figures in report.contacts.items():
        levels.add_row(
            name,
            _share(figures.service_level),
            *map(str, (figures.offered, figures.answered, figures.answered_within)),
            *map(str, (figures.abandoned, figures.abandoned_within, figures.short_abandoned)),
            _elapsed(figures.average_speed_of_answer),
            _share(figures.abandonment_rate),
        )
    breaches = Table(title="Breaches, latest first", title_justify="left")
    for column in ("ticket", "metric", "policy", "late by", "breached at"):
        breaches.add_column(column, justify="right" if column == "late by" else "left")
    zone = ZoneInfo(options.timezone)
    for breach in report.breaches[:20]:
        metric = breach.metric if breach.node is None else f"{breach.metric} ({breach.node})"
        late_by = format_duration(breach.late_by)
        breaches.add_row(
            breach.ticket, metric, breach.policy or "-", late_by, local(breach.breached_at, zone)
        )
    if len(report.breaches) > 20:
        breaches.caption = f"… and {len(report.breaches) - 20} more"
    return [summary, levels, breaches]


def _elapsed(duration: timedelta | None) -> str:
    return "-" if duration is None else format_duration(duration)


def _share(percent: float | None) -> str:
    return "no data" if percent is None else f"{round(percent, 1):g}%"


def plugins_table(infos: Iterable[PluginInfo]) -> Table:
    table = Table(title="Plugins")
    for column in ("plugin", "distribution", "adapters", "actions", "functions", "calendars"):
        table.add_column(column)
    for info in infos:
        origin = f"{info.distribution} {info.version}" if info.distribution else "(in code)"
        table.add_row(
            info.name,
            origin,
            *(", ".join(names) or "-" for names in (
                info.adapters, info.actions, info.functions, info.calendars
            )),
        )  # fmt: skip
    return table


def deadletters_table(
    dead: Iterable[OutboxEntry], rejected: Iterable[tuple[int, Rejected]]
) -> Table:
    table = Table(title="Dead letters")
    for column in ("id", "kind", "attempts", "why"):
        table.add_column(column)
    for entry in dead:
        table.add_row(entry.action.key, f"action {entry.action.name}", str(entry.attempts),
                      entry.last_error or "")  # fmt: skip
    for number, item in rejected:
        kind = f"{item.stage} ({item.adapter})" if item.adapter else item.stage
        table.add_row(str(number), f"rejected {kind}", "-", item.reason)
    return table
