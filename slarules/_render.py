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
    cells = [
        (_cells(progress.response, scale, width), "green"),
        (_cells(progress.handling, scale, width), "blue"),
        (_cells(progress.overtime, scale, width), "red"),
    ]
    used = sum(count for count, _ in cells)
    bar = Text()
    for count, style in cells:
        bar.append("█" * count, style=style)
    bar.append("░" * max(width - used, 0), style="dim")
    return bar


def _cells(part: timedelta, scale: timedelta, width: int) -> int:
    return round(width * (part / scale)) if part > timedelta(0) else 0


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
            f"{clock.percent:g}%",
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
