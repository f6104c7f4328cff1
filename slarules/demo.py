"""A seeded day of a support centre, for ``slarules demo`` and for trying policies out.

The day has email tickets from three customer tiers that go through a two-stage workflow
(L1 triage, sometimes L2 review), wait on customers, get solved or not; and phone calls that are
answered or abandoned. A few events are delivered late, as webhooks are. Everything follows from
the seed, so a demo run can be repeated exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, computed_field

from slarules.actions import Action
from slarules.clocks import Clock, ClockState
from slarules.engine import Engine
from slarules.examples import example_policy_path

__all__ = [
    "CallSummary",
    "DemoDay",
    "DemoRun",
    "MetricSummary",
    "generate_day",
    "run_demo",
    "sample_tickets",
    "summarize",
    "summarize_calls",
]

BERLIN = ZoneInfo("Europe/Berlin")
L1_AGENTS = ("ana", "ben", "cleo", "dev")
L2_AGENTS = ("erik", "fatima")
TIERS = (("enterprise", 0.15), ("business", 0.35), ("standard", 0.5))
# Mean wait until the L1 agent first acts on a ticket, per customer tier.
FIRST_TOUCH_MINUTES = {"enterprise": 12, "business": 25, "standard": 45}
QUICK_ABANDON = timedelta(seconds=5)  # callers who hang up this fast mostly dialled wrong


@dataclass
class DemoDay:
    """The events of one day in arrival order, and when each one arrived."""

    day: date
    events: list[dict[str, Any]] = field(default_factory=list)
    arrivals: list[datetime] = field(default_factory=list)
    tickets: int = 0
    calls: int = 0
    late: int = 0

    @property
    def end(self) -> datetime:
        return datetime.combine(self.day, time(20, 0), BERLIN).astimezone(UTC)


def generate_day(seed: int, day: date, tickets: int = 160, calls: int = 140) -> DemoDay:
    """A day of ``tickets`` emails and ``calls`` phone calls, the same for the same seed."""
    rng = random.Random(seed)
    builder = _Builder(rng, day)
    for number in range(1, tickets + 1):
        builder.email_ticket(f"T-{number:04d}")
    for number in range(1, calls + 1):
        builder.call(f"C-{number:04d}")
    return builder.finish(tickets, calls)


class _Builder:
    def __init__(self, rng: random.Random, day: date) -> None:
        self.rng = rng
        self.day = day
        self.opening = datetime.combine(day, time(7, 30), BERLIN).astimezone(UTC)
        self.closing = datetime.combine(day, time(19, 30), BERLIN).astimezone(UTC)
        # Callers only get through while the phone line of support.sla is open.
        self.line_opens = datetime.combine(day, time(8, 0), BERLIN).astimezone(UTC)
        self.line_closes = datetime.combine(day, time(19, 55), BERLIN).astimezone(UTC)
        self.written: list[tuple[datetime, datetime, dict[str, Any]]] = []
        self.late = 0

    # -- emails ------------------------------------------------------------------------------

    def email_ticket(self, ticket: str) -> None:
        rng = self.rng
        created = self._arrival(self.opening, self.closing)
        tier = rng.choices([t for t, _ in TIERS], [w for _, w in TIERS])[0]
        priority = "urgent" if rng.random() < 0.15 else rng.choice(["normal", "normal", "low"])
        l1 = rng.choice(L1_AGENTS)
        tags = ["vip"] if tier == "enterprise" and rng.random() < 0.3 else []
        self._event(
            ticket,
            "ticket.created",
            created,
            fields={
                "status": "open",
                "priority": priority,
                "channel": "email",
                "group": "support",
                "customer": {"tier": tier},
                "tags": tags,
                "node": "L1 triage",
                "assignee": l1,
            },
            actor={"id": "customer-portal", "role": "system"},
        )
        # Agents pick up bigger customers and urgent tickets first, as a real queue is worked.
        first_touch = FIRST_TOUCH_MINUTES[tier] / (2 if priority == "urgent" else 1)
        at = self._later(created, minutes=first_touch)
        if at is None:
            return
        self._event(ticket, "ticket.replied", at, actor=_agent(l1), public=rng.random() < 0.9)
        if rng.random() < 0.35:
            at = self._later(at, minutes=20)
            if at is None:
                return
            l2 = rng.choice(L2_AGENTS)
            self._event(
                ticket,
                "ticket.updated",
                at,
                fields={"node": "L2 review", "assignee": l2},
                actor=_agent(l1),
            )
            at = self._later(at, minutes=50)
            if at is None:
                return
            self._event(ticket, "ticket.replied", at, actor=_agent(l2))
            l1 = l2
        self._finish_ticket(ticket, at, l1)

    def _finish_ticket(self, ticket: str, at: datetime, agent: str) -> None:
        rng = self.rng
        if rng.random() < 0.4:
            self._event(
                ticket, "ticket.updated", at, fields={"status": "pending"}, actor=_agent(agent)
            )
            waited = self._later(at, minutes=90)
            if waited is None:
                return
            at = waited
            self._event(
                ticket, "ticket.replied", at, actor={"id": "requester", "role": "requester"}
            )
            self._event(ticket, "ticket.updated", at, fields={"status": "open"})
            answered = self._later(at, minutes=60)
            if answered is None:
                return
            at = answered
            self._event(ticket, "ticket.replied", at, actor=_agent(agent))
        if rng.random() < 0.55:
            solved = self._later(at, minutes=30)
            if solved is not None:
                # A solved ticket leaves the workflow, which ends its node clocks.
                self._event(
                    ticket,
                    "ticket.updated",
                    solved,
                    fields={"status": "solved", "node": None},
                    actor=_agent(agent),
                )

    # -- calls -------------------------------------------------------------------------------

    def call(self, ticket: str) -> None:
        rng = self.rng
        at = self._arrival(self.line_opens, self.line_closes)
        self._event(
            ticket,
            "contact.offered",
            at,
            fields={"channel": "phone", "queue": rng.choice(["billing", "technical"])},
        )
        if rng.random() < 0.12:
            # Half the callers who give up do so within 5 s (often a wrong number), the others
            # after waiting well past the 20 s target.
            waited = rng.uniform(1, 5) if rng.random() < 0.5 else rng.uniform(40, 120)
            self._event(ticket, "contact.abandoned", at + timedelta(seconds=waited))
        else:
            waited = min(rng.lognormvariate(2.4, 0.6), 300)
            self._event(
                ticket,
                "contact.answered",
                at + timedelta(seconds=round(waited, 1)),
                actor=_agent(rng.choice(L1_AGENTS)),
            )

    # -- time ------------------------------------------------------------------------------

    def _arrival(self, first: datetime, last: datetime) -> datetime:
        """Busiest in the late morning and early afternoon, quiet at the edges of the day."""
        span = (last - first).total_seconds()
        fraction = min(max(self.rng.triangular(0, 1, 0.4), 0.0), 1.0)
        return (first + timedelta(seconds=round(fraction * span))).replace(microsecond=0)

    def _later(self, at: datetime, minutes: float) -> datetime | None:
        """An exponential delay with the given mean; ``None`` once the day is over."""
        after = at + timedelta(seconds=round(self.rng.expovariate(1 / (minutes * 60))) + 1)
        return after if after <= self.closing else None

    def _event(self, ticket: str, kind: str, at: datetime, **details: Any) -> None:
        event = {
            "id": f"{ticket}-{len(self.written) + 1}",
            "ticket": ticket,
            "type": kind,
            "at": at.isoformat(),
            **details,
        }
        delivered = at
        if self.rng.random() < 0.03 and kind != "ticket.created":
            delivered = at + timedelta(minutes=self.rng.uniform(5, 60))  # a webhook retried late
            self.late += 1
        self.written.append((delivered, at, event))

    def finish(self, tickets: int, calls: int) -> DemoDay:
        self.written.sort(key=lambda item: (item[0], item[1], item[2]["id"]))
        return DemoDay(
            day=self.day,
            events=[event for _, _, event in self.written],
            arrivals=[delivered for delivered, _, _ in self.written],
            tickets=tickets,
            calls=calls,
            late=self.late,
        )


def _agent(name: str) -> dict[str, str]:
    return {"id": name, "role": "agent"}


class MetricSummary(BaseModel):
    """How one metric did over the day: clocks finished within and past their targets.

    ``breached`` counts every clock that went past its target, so a clock still running after its
    breach is both ``breached`` and ``open``, and an abandoned call that waited too long is both
    ``breached`` and ``cancelled``.
    """

    metric: str
    clocks: int = 0
    met: int = 0
    breached: int = 0
    open: int = 0
    cancelled: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def compliance(self) -> float | None:
        """Share of the clocks with a verdict (met or breached) that met their target, in %."""
        judged = self.met + self.breached
        return None if judged == 0 else round(100 * self.met / judged, 1)


class CallSummary(BaseModel):
    """The phone line as a supervisor reads it, from the ``answer`` clocks."""

    offered: int = 0
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    abandoned_quickly: int = 0  # within QUICK_ABANDON
    waiting: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def answered_in_target_percent(self) -> float | None:
        """Share of answered calls that were answered within the target, in %."""
        return (
            None if self.answered == 0 else round(100 * self.answered_in_target / self.answered, 1)
        )


class DemoRun(BaseModel):
    day: date
    seed: int
    events: int
    late: int
    rejected: int
    clocks: list[Clock]
    actions: list[Action]
    summary: list[MetricSummary]
    calls: CallSummary


def run_demo(seed: int, day: date) -> DemoRun:
    """Run the day through the bundled policy file as a host would: advance the engine to each
    event's arrival, ingest it, and advance to the end of the day."""
    generated = generate_day(seed, day)
    engine = Engine.from_file(example_policy_path())
    actions: list[Action] = []
    for arrival, event in zip(generated.arrivals, generated.events, strict=True):
        actions += engine.advance(arrival)
        actions += engine.ingest_many([event])
    actions += engine.advance(generated.end)
    clocks = [
        clock for ticket in engine.tickets() for clock in engine.clocks(ticket, generated.end)
    ]
    return DemoRun(
        day=day,
        seed=seed,
        events=len(generated.events),
        late=generated.late,
        rejected=len(engine.rejected),
        clocks=clocks,
        actions=sorted(actions, key=lambda action: (action.at, action.key)),
        summary=summarize(clocks),
        calls=summarize_calls(clocks),
    )


def summarize(clocks: list[Clock]) -> list[MetricSummary]:
    """Per metric, in the order metrics first appear."""
    rows: dict[str, MetricSummary] = {}
    for clock in clocks:
        row = rows.setdefault(clock.metric, MetricSummary(metric=clock.metric))
        row.clocks += 1
        row.breached += clock.breached
        if clock.state is ClockState.MET:
            row.met += 1
        elif clock.state is ClockState.CANCELLED:
            row.cancelled += 1
        elif clock.state in (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED_RUNNING):
            row.open += 1
    return list(rows.values())


def summarize_calls(clocks: list[Clock]) -> CallSummary:
    calls = CallSummary()
    for clock in clocks:
        if clock.metric != "answer":
            continue
        calls.offered += 1
        if clock.state in (ClockState.MET, ClockState.BREACHED_MET):
            calls.answered += 1
            calls.answered_in_target += clock.state is ClockState.MET
        elif clock.state is ClockState.CANCELLED:
            calls.abandoned += 1
            # The caller's wait is wall time: `elapsed` counts phone-line hours only, and is zero
            # for a call made while the line is closed.
            waited = (clock.stopped_at or clock.started_at) - clock.started_at
            calls.abandoned_quickly += waited <= QUICK_ABANDON
        else:
            calls.waiting += 1
    return calls


def sample_tickets(clocks: list[Clock], count: int) -> list[str]:
    """The tickets a team lead looks at first: a share of those with a breached clock still
    running, then of those with clocks running, then of the finished ones; calls included."""
    by_ticket: dict[str, set[ClockState]] = {}
    for clock in clocks:
        by_ticket.setdefault(clock.ticket, set()).add(clock.state)

    def urgency(ticket: str) -> int:
        states = by_ticket[ticket]
        if ClockState.BREACHED_RUNNING in states:
            return 0
        if states & {ClockState.RUNNING, ClockState.PAUSED}:
            return 1
        return 2

    groups: dict[int, list[str]] = {}
    for ticket in sorted(by_ticket):
        groups.setdefault(urgency(ticket), []).append(ticket)
    share = max(count // 3, 1)
    chosen = [ticket for _, group in sorted(groups.items()) for ticket in group[:share]]
    return chosen[:count]
