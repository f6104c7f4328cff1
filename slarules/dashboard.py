"""The live dashboard of ``slarules serve`` (``GET /``): what is about to breach, and how the day
is going.

:func:`build_dashboard` is a pure function of measured clocks (:meth:`Engine.measure`), the
outbox, the filters, ``now`` and a display time zone; the server renders its result with
``templates/dashboard.html``. Every figure comes from :mod:`slarules.metrics`, so the dashboard
and the reports never disagree.

* The figures of the day count the clocks that *started* on the local day of ``now`` (as the
  reports do): compliance overall and per metric, and for the ``answer`` metric the 80/20
  service level (short abandons under 5 s left out), the average speed of answer and the
  abandonment rate.
* The open clocks (running, paused, breached and still running) are sorted by time to breach:
  the least business time remaining first, so the most overdue lead. The table lists the most
  urgent ones (200 unless told otherwise) and says how many there are in all: a page of a
  hundred thousand rows would help nobody, and no browser would show it.
* Filters by policy, group (the ticket's ``group`` field) and node narrow the figures and the
  table alike; the recent actions are the whole service's.
* Only the tickets in play are measured (:data:`IN_VIEW`): those with a clock open or started
  within the last 25 hours, not every ticket the service keeps.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from slarules._html import render
from slarules.clocks import Clock, ClockState
from slarules.metrics import (
    DEFAULT_SHORT_ABANDON,
    ContactFigures,
    TicketClocks,
    compliance_of,
    contact_figures,
    summarize,
)
from slarules.policyset import PolicySet
from slarules.store import OutboxEntry, Status
from slarules.timezones import local_to_utc, to_local

__all__ = [
    "RECENT_ACTIONS",
    "SERVICE_LEVEL_GOAL",
    "SERVICE_LEVEL_THRESHOLD",
    "Choices",
    "Dashboard",
    "Filters",
    "MetricCompliance",
    "OpenClock",
    "RecentAction",
    "build_dashboard",
    "dashboard_page",
    "refresh_seconds",
    "rows_shown",
]

OPEN_STATES = frozenset({ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED_RUNNING})
RECENT_ACTIONS = 20
# The contact-center convention "80/20": 80 % of the calls answered within 20 seconds.
SERVICE_LEVEL_THRESHOLD = timedelta(seconds=20)
SERVICE_LEVEL_GOAL = 80.0
CONTACT_METRIC = "answer"
DEFAULT_REFRESH = 30  # seconds
DEFAULT_ROWS = 200  # open clocks in the table
# A local day is 25 hours long at most: the day's clocks started within this of now, and the
# tickets with none open and none started since then show nothing (Engine.measure's `since`).
IN_VIEW = timedelta(hours=25)


@dataclass(frozen=True)
class Filters:
    """What the dashboard is narrowed to; ``None`` keeps everything."""

    policy: str | None = None
    group: str | None = None
    node: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filters:
        """From the query string: an empty value (the form's "all") is no filter."""
        return cls(
            policy=query.get("policy") or None,
            group=query.get("group") or None,
            node=query.get("node") or None,
        )

    @property
    def active(self) -> bool:
        return any(value is not None for value in (self.policy, self.group, self.node))

    def keeps(self, ticket: TicketClocks, clock: Clock) -> bool:
        return (
            (self.policy is None or clock.policy == self.policy)
            and (self.group is None or _field(ticket, "group") == self.group)
            and (self.node is None or clock.node == self.node)
        )


@dataclass(frozen=True)
class Choices:
    """The values the filter boxes offer: those the policy file names, those in the data, and
    the chosen one in any case (a shared link must show what it filters on, even when nothing
    matches any more)."""

    policies: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()

    @classmethod
    def named_in(cls, policies: PolicySet) -> Choices:
        """The policies and the workflow stages (``node "L2 review" …``) of a policy file: a
        lead checks a queue that is quiet this morning too. Groups are the helpdesk's own."""
        return cls(
            policies=tuple(policies.policies),
            nodes=tuple(
                dict.fromkeys(
                    targets.node.value
                    for policy in policies.policies.values()
                    for targets in policy.nodes
                )
            ),
        )


@dataclass(frozen=True)
class MetricCompliance:
    metric: str
    compliance: float | None  # percent; None: nothing met or breached yet
    met: int
    breached: int


@dataclass(frozen=True)
class OpenClock:
    """One row of the table: an open clock and the ticket fields shown beside it."""

    ticket: str
    group: str | None
    assignee: str | None
    clock: Clock

    @property
    def overdue(self) -> bool:
        return self.clock.remaining < timedelta(0)


@dataclass(frozen=True)
class RecentAction:
    at: datetime
    name: str
    args: str
    ticket: str
    trigger: str
    status: Status
    error: str | None


@dataclass(frozen=True)
class Dashboard:
    """Everything the page shows, as of ``now``."""

    now: datetime
    timezone: str
    day: date  # the local day the figures are of
    filters: Filters
    choices: Choices
    compliance: float | None  # every metric together
    compliance_by_metric: tuple[MetricCompliance, ...]
    contacts: ContactFigures
    open_clocks: tuple[OpenClock, ...]  # the most urgent first, up to the rows asked for
    open_count: int  # all the open clocks
    recent_actions: tuple[RecentAction, ...]

    @property
    def service_level_met(self) -> bool | None:
        """Whether the day's service level reaches the 80 % goal; ``None`` without calls."""
        level = self.contacts.service_level
        return None if level is None else level >= SERVICE_LEVEL_GOAL


def build_dashboard(
    tickets: Iterable[TicketClocks],
    outbox: Iterable[OutboxEntry],
    filters: Filters,
    now: datetime,
    timezone: str = "UTC",
    rows: int = DEFAULT_ROWS,
    named: Choices = Choices(),
) -> Dashboard:
    """The dashboard at ``now``, its day taken in ``timezone`` (an IANA name; an unknown one
    raises :class:`CalendarError`), with the ``rows`` most urgent open clocks; the filters
    offer the values in the tickets and those ``named`` (:meth:`Choices.named_in`)."""
    everything = list(tickets)
    chosen = _filtered(everything, filters)
    day = to_local(now, timezone).date()
    today = _day_range(day, timezone)
    by_metric = summarize(chosen, by=("metric",), started=today)
    open_rows = [
        OpenClock(ticket.ticket, _field(ticket, "group"), _field(ticket, "assignee"), clock)
        for ticket in chosen
        for clock in ticket.clocks
        if clock.state in OPEN_STATES
    ]
    return Dashboard(
        now=now,
        timezone=timezone,
        day=day,
        filters=filters,
        choices=_choices(everything, filters, named),
        compliance=compliance_of(by_metric),
        compliance_by_metric=tuple(
            MetricCompliance(row.group["metric"], row.compliance, row.met, row.breached)
            for row in sorted(by_metric, key=lambda row: row.group["metric"])
        ),
        contacts=contact_figures(
            chosen,
            SERVICE_LEVEL_THRESHOLD,
            metric=CONTACT_METRIC,
            short_abandon=DEFAULT_SHORT_ABANDON,
            started=today,
        ),
        open_clocks=tuple(heapq.nsmallest(rows, open_rows, key=_urgency)),
        open_count=len(open_rows),
        recent_actions=_recent_actions(outbox),
    )


def _filtered(tickets: list[TicketClocks], filters: Filters) -> list[TicketClocks]:
    """The tickets with only the clocks the filters keep (so metrics count just those)."""
    if not filters.active:
        return tickets
    kept = []
    for ticket in tickets:
        clocks = tuple(clock for clock in ticket.clocks if filters.keeps(ticket, clock))
        if clocks:
            kept.append(TicketClocks(ticket.ticket, ticket.fields, clocks))
    return kept


def _day_range(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The instants of a local day: midnight to midnight, 23 or 25 hours across a DST change."""
    start = local_to_utc(datetime.combine(day, time()), timezone)
    end = local_to_utc(datetime.combine(day + timedelta(days=1), time()), timezone)
    return start, end


def _choices(tickets: list[TicketClocks], filters: Filters, named: Choices) -> Choices:
    policies, groups, nodes = set(named.policies), set(named.groups), set(named.nodes)
    for ticket in tickets:
        group = _field(ticket, "group")
        if group is not None:
            groups.add(group)
        for clock in ticket.clocks:
            if clock.policy is not None:
                policies.add(clock.policy)
            if clock.node is not None:
                nodes.add(clock.node)
    return Choices(
        policies=_with_chosen(policies, filters.policy),
        groups=_with_chosen(groups, filters.group),
        nodes=_with_chosen(nodes, filters.node),
    )


def _with_chosen(values: set[str], chosen: str | None) -> tuple[str, ...]:
    return tuple(sorted(values if chosen is None else values | {chosen}))


def _urgency(row: OpenClock) -> tuple[timedelta, str, str, int]:
    # Negative remaining time is overdue: ascending puts the most overdue first, then the
    # clocks closest to their breach. Ties in a stable order, so the page does not shuffle.
    return (row.clock.remaining, row.ticket, row.clock.metric, row.clock.cycle)


def _recent_actions(outbox: Iterable[OutboxEntry]) -> tuple[RecentAction, ...]:
    entries = sorted(outbox, key=lambda entry: (entry.action.at, entry.action.key), reverse=True)
    return tuple(
        RecentAction(
            at=entry.action.at,
            name=entry.action.name,
            args=", ".join(arg for arg in entry.action.args if arg is not None),
            ticket=entry.action.ticket,
            trigger=entry.action.trigger,
            status=entry.status,
            error=entry.last_error,
        )
        for entry in entries[:RECENT_ACTIONS]
    )


def _field(ticket: TicketClocks, name: str) -> str | None:
    value: Any = ticket.fields.get(name)
    return None if value is None else str(value)


def refresh_seconds(text: str | None) -> int:
    """The ``refresh`` query parameter: seconds between reloads, ``0`` for none."""
    if text is None or text == "":
        return DEFAULT_REFRESH
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"`refresh` must be a whole number of seconds (0: off), not `{text}`")
    return int(text)


def rows_shown(text: str | None) -> int:
    """The ``rows`` query parameter: how many open clocks the table lists."""
    if text is None or text == "":
        return DEFAULT_ROWS
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise ValueError(f"`rows` must be a whole number of rows above 0, not `{text}`")
    return int(text)


def dashboard_page(view: Dashboard, *, refresh: int, keep: Mapping[str, str]) -> str:
    """The HTML page; ``keep`` are the query parameters that a filter change and a reload carry
    on (the zone, the refresh, the token)."""
    return render("dashboard.html", view=view, refresh=refresh, keep=dict(keep))
