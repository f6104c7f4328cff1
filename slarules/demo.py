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

from slarules.actions import Action
from slarules.clocks import Clock, ClockState
from slarules.examples import example_policy_path
from slarules.metrics import ContactFigures
from slarules.report import Report, ReportOptions, build_report
from slarules.runtime import Runtime
from slarules.store import open_store

__all__ = ["DemoDay", "DemoRun", "generate_day", "run_demo", "sample_tickets"]

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


@dataclass(frozen=True)
class DemoRun:
    """A day through the bundled policy file, kept in a store as ``slarules serve`` keeps it."""

    day: date
    seed: int
    events: int
    late: int
    rejected: int
    clocks: list[Clock]
    actions: list[Action]
    report: Report  # by metric; calls: the `answer` clocks, 80/20, short abandons left out
    store: str  # the store's URL
    outbox: int  # actions waiting there for delivery
    restart_equal: bool  # a runtime reopened on the store measures the same clocks

    @property
    def calls(self) -> ContactFigures:
        return self.report.contacts["abandoned_missed"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "seed": self.seed,
            "events": self.events,
            "late": self.late,
            "rejected": self.rejected,
            "clocks": [clock.model_dump(mode="json") for clock in self.clocks],
            "actions": [action.model_dump(mode="json") for action in self.actions],
            "summary": [row.as_dict() for row in self.report.rows],
            "calls": self.calls.as_dict(),
            "store": self.store,
            "outbox": self.outbox,
            "restart_equal": self.restart_equal,
        }


class _SimulatedClock:
    """The runtime's clock in a replay: the instant the demo has reached."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def run_demo(seed: int, day: date, store_url: str) -> DemoRun:
    """Run the day through the bundled policy file as a service would: durably, in the store at
    ``store_url``, the runtime's clock set to each event's arrival; then reopen the store, as
    after a restart, and compare the clocks."""
    generated = generate_day(seed, day)
    clock = _SimulatedClock(generated.arrivals[0] if generated.arrivals else generated.end)
    runtime = Runtime.open(example_policy_path(), open_store(store_url), clock=clock)
    actions: list[Action] = []
    for arrival, event in zip(generated.arrivals, generated.events, strict=True):
        clock.now = arrival
        actions += runtime.advance()
        actions += runtime.ingest_many([event]).actions
    clock.now = generated.end
    actions += runtime.advance()
    engine = runtime.engine
    measured = list(engine.measure(generated.end))
    outbox = len(runtime.store.outbox("pending"))
    runtime.close()
    reopened = Runtime.open(example_policy_path(), open_store(store_url), clock=clock)
    restart_equal = list(reopened.engine.measure(generated.end)) == measured
    reopened.close()
    options = ReportOptions(at=generated.end, timezone="Europe/Berlin", short_abandon=QUICK_ABANDON)
    return DemoRun(
        day=day,
        seed=seed,
        events=len(generated.events),
        late=generated.late,
        rejected=len(engine.rejected),
        clocks=[clock for ticket in measured for clock in ticket.clocks],
        actions=sorted(actions, key=lambda action: (action.at, action.key)),
        report=build_report(measured, options),
        store=store_url,
        outbox=outbox,
        restart_equal=restart_equal,
    )


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
