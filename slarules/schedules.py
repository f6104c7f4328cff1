"""Schedules: checks of figures over many tickets at cron times (croniter), as pure functions.

``schedule "phone service level" every "*/15 8-18 * * mon-fri" in "Europe/Berlin" { … }`` runs
at each cron time in the schedule's time zone. Cron times are wall-clock times there: a time
that a spring-forward change skips runs at the change, and a time that a fall-back change repeats
runs once, at its first occurrence (as cron does).

At each run the condition is evaluated over every ticket's clocks measured at that instant
(report functions read :mod:`slarules.metrics`); when it holds, or when there is none, the
actions are given. Their keys name the schedule and the instant, so a run is given once however
often the engine is restored or replayed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter

from slarules._instants import from_micros, to_micros
from slarules._program import ScheduleProgram
from slarules._ticket import action_argument
from slarules.actions import Action
from slarules.conditions import ReportQuery
from slarules.metrics import TicketClocks, breach_list, contact_figures, summarize
from slarules.timezones import local_to_utc, to_local

__all__ = ["figure", "next_run", "run_schedule"]

_MICROSECOND = timedelta(microseconds=1)
Measure = Callable[[], Sequence[TicketClocks]]


def next_run(schedule: ScheduleProgram, after: int) -> int:
    """The first cron time strictly after ``after`` (microseconds since the epoch)."""
    wall = to_local(from_micros(after), schedule.timezone).replace(tzinfo=None)
    times = croniter(schedule.cron, wall)
    while True:
        instant = to_micros(local_to_utc(times.get_next(datetime), schedule.timezone))
        if instant > after:  # an earlier one is the first pass of a repeated hour
            return instant


def run_schedule(schedule: ScheduleProgram, at: int, measure: Measure) -> list[Action]:
    """The actions of one run at ``at``; ``measure`` gives every ticket's clocks at ``at``."""
    view = _ReportView(from_micros(at), measure)
    if schedule.condition is not None and not schedule.condition(view):
        return []
    local = to_local(from_micros(at), schedule.timezone).isoformat()
    reason = f"`{schedule.text}` holds at {local}" if schedule.text else f"scheduled at {local}"
    return [
        Action(
            name=action.name,
            args=tuple(action_argument(argument, view) for argument in action.arguments),
            ticket="",
            trigger=schedule.name,
            clock=None,
            cycle=None,
            at=from_micros(at),
            reason=reason,
            key=f"schedule/{schedule.name}/{from_micros(at).isoformat()}/{position}",
        )
        for position, action in enumerate(schedule.actions)
    ]


def figure(query: ReportQuery, tickets: Sequence[TicketClocks], at: datetime) -> Any:
    """A report function's value at ``at`` in condition units (percents as floats, durations in
    microseconds), or ``None`` when there is nothing to count."""
    options = query.options
    window = options.get("window")
    started = (None if window is None else at - window * _MICROSECOND, at)
    metric = query.metric
    if query.function == "compliance":
        rows = summarize(tickets, by=("metric",), started=started)
        return next((row.compliance for row in rows if row.group["metric"] == metric), None)
    if query.function == "breaches":
        return sum(row.metric == metric for row in breach_list(tickets, started=started))
    short = options.get("short_abandon")
    contacts = contact_figures(
        tickets,
        options.get("threshold", 0) * _MICROSECOND,
        metric=metric,
        formula=options.get("formula", "abandoned_missed"),
        short_abandon=None if short is None else short * _MICROSECOND,
        started=started,
    )
    if query.function == "service_level":
        return contacts.service_level
    if query.function == "abandonment_rate":
        return contacts.abandonment_rate
    speed = contacts.average_speed_of_answer
    return None if speed is None else speed // _MICROSECOND


class _ReportView:
    """What a schedule's condition reads: figures over all tickets; no ticket of its own."""

    fields: dict[str, Any] = {}  # noqa: RUF012 (read only: placeholders find nothing)
    ticket_id = None

    def __init__(self, at: datetime, measure: Measure) -> None:
        self.at = at
        self._measure = measure
        self._tickets: Sequence[TicketClocks] | None = None

    def clock(self, metric: str, attribute: str) -> Any:
        return None

    def node(self, attribute: str) -> Any:
        return None

    def predicate(self, name: str) -> bool:
        return False

    def report(self, query: ReportQuery) -> Any:
        if self._tickets is None:
            self._tickets = self._measure()
        return figure(query, self._tickets, self.at)
