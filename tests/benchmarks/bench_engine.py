"""Benchmark of the engine with the bundled example policy file (slarules/examples/support.sla).

Workload (seeded): ``--tickets`` email tickets (default 100,000) of ten events each: created,
then replies from agents and requesters, pending and back, transfers from L1 triage to L2 review,
some solved; tickets interleaved in time over three weeks. Measured on one core, in memory:

* ingest throughput: events per second through ``Engine.ingest_many`` (dicts as a host passes
  them, validation included), target 50,000 events/s; then apart, the validation alone and the
  engine on validated events, and the same events passed as JSON text;
* memory per ticket held and per open ticket (tracemalloc, on up to ``--memory-tickets``
  tickets), target 4 KB;
* ``advance`` with 100,000 pending timers: a call that fires nothing, and one that fires 1 %;
* condition evaluation side by side with the ``rule-engine`` library on the same conditions and
  the same ticket fields (both must agree on every ticket).

Figures are printed, not asserted. Run with ``tox -e bench`` or
``python tests/benchmarks/bench_engine.py [--tickets N]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import rule_engine

from slarules import Engine, Event, parse_policies
from slarules.conditions import compile_condition
from slarules.examples import example_policy_path

TARGET_EVENTS_PER_SECOND = 50_000
TARGET_BYTES_PER_TICKET = 4096
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
TIERS = ("enterprise", "business", "standard")
L1, L2 = ("ana", "ben", "cleo"), ("erik", "fatima")

# The same conditions in both languages.
CONDITIONS = [
    ('priority == "urgent" and "vip" in tags', 'priority == "urgent" and "vip" in tags'),
    (
        'customer.tier in ["enterprise", "business"] and channel == "email"',
        'customer["tier"] in ["enterprise", "business"] and channel == "email"',
    ),
    ('status not-in ["solved", "closed"]', 'not status in ["solved", "closed"]'),
    (
        'priority in ["urgent", "high"] or custom.seats >= 500',
        'priority in ["urgent", "high"] or custom["seats"] >= 500',
    ),
    (
        'group == "billing" and not ("spam" in tags)',
        'group == "billing" and not "spam" in tags',
    ),
]


def generate(tickets: int, seed: int) -> list[dict[str, Any]]:
    """Ten events per ticket, all tickets sorted together by time (as a host receives them)."""
    events = list(generate_unsorted(tickets, seed))
    events.sort(key=lambda event: event["at"])  # stable: a ticket's events keep their order
    return events


def generate_unsorted(tickets: int, seed: int) -> Iterator[dict[str, Any]]:
    """The events of :func:`generate`, ticket after ticket."""
    rng = random.Random(seed)
    for number in range(tickets):
        ticket = f"T-{number}"
        at = START + timedelta(seconds=rng.randrange(21 * 86_400))
        handler = rng.choice(L1)
        yield _created(ticket, at, handler, rng)
        for step in range(1, 10):
            at += timedelta(seconds=rng.randrange(60, 3 * 3600))
            event = _follow_up(ticket, step, rng, handler)
            if event.get("fields", {}).get("node") == "L2 review":
                handler = event["fields"]["assignee"]
            yield {**event, "at": at}


def _created(ticket: str, at: datetime, handler: str, rng: random.Random) -> dict[str, Any]:
    tier = rng.choice(TIERS)
    return {
        "id": f"{ticket}/0",
        "ticket": ticket,
        "type": "ticket.created",
        "at": at,
        "fields": {
            "status": "open",
            "priority": rng.choice(("low", "normal", "normal", "high", "urgent")),
            "channel": "email",
            "group": rng.choice(("support", "billing")),
            "customer": {"tier": tier},
            "tags": ["vip"] if tier == "enterprise" and rng.random() < 0.3 else [],
            "node": "L1 triage",
            "assignee": handler,
        },
    }


def _follow_up(ticket: str, step: int, rng: random.Random, handler: str) -> dict[str, Any]:
    event: dict[str, Any] = {"id": f"{ticket}/{step}", "ticket": ticket}
    roll = rng.random()
    if roll < 0.35:
        event.update(type="ticket.replied", actor={"id": handler, "role": "agent"})
    elif roll < 0.6:
        event.update(type="ticket.replied", actor={"id": "requester", "role": "requester"})
    elif roll < 0.8:
        status = rng.choice(("pending", "open", "open", "solved"))
        event.update(type="ticket.updated", fields={"status": status})
        event["actor"] = {"id": handler, "role": "agent"}
    elif roll < 0.9:
        event.update(
            type="ticket.updated",
            fields={"node": "L2 review", "assignee": rng.choice(L2)},
            actor={"id": handler, "role": "agent"},
        )
    else:
        event.update(type="ticket.updated", fields={"priority": rng.choice(("normal", "urgent"))})
    return event


def ingest_throughput(events: list[dict[str, Any]] | list[Event]) -> tuple[Engine, float]:
    engine = Engine.from_file(example_policy_path())
    gc.collect()
    started = time.perf_counter()
    for offset in range(0, len(events), 10_000):
        engine.ingest_many(events[offset : offset + 10_000])
    return engine, time.perf_counter() - started


def memory_per_ticket(events: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    """Bytes the engine holds, tickets held, tickets still open (a clock not stopped), and
    tickets kept frozen (at rest, no timer pending, longer than the latest to come to rest)."""
    engine = Engine.from_file(example_policy_path())
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for offset in range(0, len(events), 10_000):
        engine.ingest_many(events[offset : offset + 10_000])
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    end = max(event["at"] for event in events)
    open_tickets = sum(
        1
        for ticket in engine.tickets()
        if any(clock.stopped_at is None for clock in engine.clocks(ticket, end))
    )
    at_rest = sum(isinstance(ticket.state, bytes) for ticket in engine._tickets.values())
    return used, len(engine.tickets()), open_tickets, at_rest


def advance_costs(tickets: int) -> tuple[int, float, float, int]:
    """µs per advance() that fires nothing, and per ticket woken when 1 % of the timers come
    due (a woken ticket takes every step due up to the advance's instant)."""
    engine = Engine.from_file(example_policy_path())
    rng = random.Random(5)
    engine.ingest_many(
        _created(f"W-{n}", START + timedelta(seconds=rng.randrange(86_400)), "ana", rng)
        for n in range(tickets)
    )
    pending = len(engine._timers)
    first = engine.next_wakeup()
    assert first is not None
    idle = first - timedelta(microseconds=1)
    calls = 2_000
    started = time.perf_counter()
    for _ in range(calls):
        engine.advance(idle)
    idle_micros = (time.perf_counter() - started) / calls * 1e6
    wakeups = sorted(when for when, _ in engine._timers)
    percentile = wakeups[len(wakeups) // 100]
    gc.collect()  # one call, timed once: a collection of the whole heap inside it would swamp it
    started = time.perf_counter()
    fired = engine.advance(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=percentile))
    elapsed = time.perf_counter() - started
    timers_run = sum(1 for when in wakeups if when <= percentile)
    return pending, idle_micros, elapsed / max(timers_run, 1) * 1e6, len(fired)


class _Fields:
    """The view a compiled condition reads, holding nothing but ticket fields."""

    __slots__ = ("fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields


def conditions(tickets: int, seed: int) -> list[tuple[str, float, float]]:
    rng = random.Random(seed)
    rows = [
        {
            "priority": rng.choice(("low", "normal", "high", "urgent")),
            "tags": rng.sample(["vip", "spam", "refund", "beta"], rng.randint(0, 2)),
            "customer": {"tier": rng.choice(TIERS)},
            "channel": rng.choice(("email", "phone", "chat")),
            "status": rng.choice(("open", "pending", "solved", "closed")),
            "custom": {"seats": rng.randrange(1000)},
            "group": rng.choice(("support", "billing")),
        }
        for _ in range(tickets)
    ]
    views = [_Fields(row) for row in rows]
    results = []
    for ours, theirs in CONDITIONS:
        expression = parse_policies(f'trigger "t" when {ours} then notify').triggers["t"].when
        compiled = compile_condition(expression, frozenset()).evaluate
        rule = rule_engine.Rule(theirs)
        ours_seconds, ours_true = _timed(compiled, views)
        theirs_seconds, theirs_true = _timed(rule.matches, rows)
        if ours_true != theirs_true:
            sys.exit(f"disagreement on `{ours}`: slarules {ours_true}, rule-engine {theirs_true}")
        results.append((ours, tickets / ours_seconds, tickets / theirs_seconds))
    return results


def _timed(test: Callable[[Any], Any], items: list[Any]) -> tuple[float, int]:
    """Seconds to test every item, and how many passed."""
    started = time.perf_counter()
    passed = sum(1 for item in items if test(item))
    return time.perf_counter() - started, passed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--memory-tickets", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    events = generate(args.tickets, args.seed)
    print(f"engine: {args.tickets:,} tickets x 10 events, bundled example policy file")
    engine, seconds = ingest_throughput(events)
    rate = len(events) / seconds
    print(
        f"  ingest: {rate:,.0f} events/s ({seconds:.1f} s, {engine.stats.replays} replays) "
        f"ratio to target {rate / TARGET_EVENTS_PER_SECOND:.2f} "
        f"(target >= {TARGET_EVENTS_PER_SECOND:,}/s) "
        f"{'met' if rate >= TARGET_EVENTS_PER_SECOND else 'NOT met'}"
    )
    del engine
    # Where the time goes: validating the dicts into events, and the engine itself.
    started = time.perf_counter()
    parsed = [Event.parse(event) for event in events]
    validating = time.perf_counter() - started
    engine, stepping = ingest_throughput(parsed)
    print(
        f"  of which: validation {len(events) / validating:,.0f} events/s, "
        f"the engine on validated events {len(events) / stepping:,.0f} events/s"
    )
    del engine, parsed
    # A host that receives events as JSON (webhook bodies, a queue) may pass the text as it
    # came: it is validated in one pass, and no dicts wait their turn for the collector to walk.
    texts = [json.dumps(event, default=datetime.isoformat) for event in events]
    del events
    engine, seconds = ingest_throughput(texts)
    print(
        f"  ingest of the same events as JSON text, as webhooks and queues deliver them: "
        f"{len(texts) / seconds:,.0f} events/s"
    )
    del engine, texts
    sample = generate(min(args.tickets, args.memory_tickets), args.seed)
    used, held, open_tickets, at_rest = memory_per_ticket(sample)
    # The engine keeps solved tickets too (late events may still come), so the memory is shown
    # per ticket held and, stricter, per ticket still open.
    for label, count in (("ticket held", held), ("open ticket", open_tickets)):
        per_ticket = used / max(count, 1)
        print(
            f"  memory: {per_ticket:,.0f} bytes per {label} ({count:,}) "
            f"ratio to target {per_ticket / TARGET_BYTES_PER_TICKET:.2f} "
            f"(target < {TARGET_BYTES_PER_TICKET:,} B) "
            f"{'met' if per_ticket < TARGET_BYTES_PER_TICKET else 'NOT met'}"
        )
    print(
        f"  of the tickets held, {at_rest:,} are kept frozen: at rest (no timer pending), and "
        "not among the latest to come to rest"
    )
    pending, idle, per_fired, fired = advance_costs(args.tickets)
    print(
        f"  advance with {pending:,} pending timers: {idle:.1f} µs when nothing is due; "
        f"{per_fired:.1f} µs per ticket woken when 1% of the timers come due (each runs "
        f"every step it has due: warnings, breaches, urges; {fired:,} actions in all)"
    )
    print(f"conditions over {args.tickets:,} tickets (evaluations/s):")
    for text, ours, theirs in conditions(args.tickets, args.seed):
        print(f"  {text:<68} slarules {ours:>12,.0f}  rule-engine {theirs:>10,.0f}  "
              f"ratio {ours / theirs:,.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
