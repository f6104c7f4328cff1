"""Random valid policy files and random ticket histories to run through them (Hypothesis).

The policies use every part of the language a ticket's clocks and triggers depend on: metrics of
their own (started and stopped on events, conditions or other metrics), policies chosen by fields
with targets, warnings, node targets and pauses, and triggers whose conditions read fields (also
as durations and instants), clock and node attributes and predicates, with repeated actions and
messages. A drawn file that the language refuses (a metric that would stop at its own start,
say) is left out with ``assume``; most are kept.

The histories give each ticket events of every kind, fields of every JSON type included.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from slarules import PolicyError, parse_policies
from slarules.testing import EventBuilder

START = datetime(2026, 3, 27, 7, 0, tzinfo=UTC)  # the Friday before Berlin's clocks go forward
END = START + timedelta(days=6)
AGENTS = ["al", "bo", "cy"]
NODES = ["L1", "L2"]
STATUSES = ["open", "pending", "hold", "solved", "closed"]
BUILTIN_METRICS = [
    "first_response",
    "next_response",
    "periodic_update",
    "resolution",
    "service",
    "answer",
]
CUSTOM_METRICS = ["triage", "waiting"]
CLOCK_STATES = ["running", "paused", "met", "breached_running", "breached_met", "cancelled"]

durations = st.sampled_from(["0m", "1m", "10m", "30m", "45m", "1h", "1h30m", "2h", "8h", "1d"])
signed_durations = durations | st.sampled_from(["-1h", "-10m"])
percents = st.sampled_from(["1%", "25%", "50%", "80%", "99.5%", "100%", "150%"])
orderings = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])


# -- conditions ----------------------------------------------------------------------------------


def _field_atoms() -> st.SearchStrategy[str]:
    words = st.sampled_from
    return st.one_of(
        st.builds(lambda p: f'priority == "{p}"', words(["normal", "urgent"])),
        st.builds(lambda s: f'status == "{s}"', words(STATUSES)),
        st.builds(
            lambda ss: f"status in [{', '.join(f'{s!r}' for s in ss)}]".replace("'", '"'),
            st.lists(words(STATUSES), min_size=1, max_size=3),
        ),
        st.builds(lambda s: f'status not-in ["{s}"]', words(STATUSES)),
        st.just('"vip" in tags'),
        st.just('tags contains "vip"'),
        st.just('subject contains "refund"'),
        st.builds(lambda o: f"custom.seats {o} 500", orderings),
        st.builds(lambda t: f'customer.tier == "{t}"', words(["gold", "silver"])),
        st.builds(lambda n: f'node == "{n}"', words(NODES)),
        st.just("true"),
    )


def _clock_atoms(metrics: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Conditions on one clock, of every attribute, each compared with a value of its type."""
    metric = st.sampled_from(metrics)
    return st.one_of(
        st.builds(
            lambda m, a, o, d: f"{m}.{a} {o} {d}",
            metric,
            st.sampled_from(["elapsed", "remaining", "target"]),
            orderings,
            signed_durations,
        ),
        st.builds(lambda d, o, m: f"{d} {o} {m}.remaining", durations, orderings, metric),
        st.builds(lambda m, o, p: f"{m}.percent {o} {p}", metric, orderings, percents),
        st.builds(
            lambda m, a: f"{m}.{a}",
            metric,
            st.sampled_from(["overdue", "breached", "paused", "met", "running"]),
        ),
        st.builds(lambda m, s: f"{m} {s}", metric, st.sampled_from(["overdue", "breached", "met"])),
        st.builds(lambda m, s: f'{m}.state == "{s}"', metric, st.sampled_from(CLOCK_STATES)),
        st.builds(lambda m, o: f"{m}.cycle {o} 2", metric, orderings),
        # Fields of unknown type read as durations and instants where compared with them.
        st.builds(lambda m, o: f"{m}.elapsed {o} custom.wait", metric, orderings),
        st.builds(lambda m, o: f"custom.deadline {o} {m}.started_at", metric, orderings),
        st.builds(lambda m: f"{m}.started_at >= created_at", metric),
    )


def _node_atoms() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda n: f'node.name == "{n}"', st.sampled_from(NODES)),
        st.builds(lambda a: f'node.assignee == "{a}"', st.sampled_from(AGENTS)),
        st.sampled_from(
            ["node.unhandled", "node unhandled", "node overdue", "node.breached", "node.met"]
        ),
        st.just("node.entered_at <= created_at"),
    )


_PREDICATES = st.sampled_from(["overdue", "breached", "paused", "met", "ticket overdue"])


def _combined(atoms: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Atoms joined with `and`, `or`, `not` and parentheses."""
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.builds(lambda a, b: f"{a} and {b}", inner, inner),
            st.builds(lambda a, b: f"({a} or {b})", inner, inner),
            st.builds(lambda a: f"not ({a})", inner),
        ),
        max_leaves=4,
    )


# Strategies are built once: Hypothesis validates each one it is given anew, which is slow.
field_conditions = _combined(_field_atoms())
"""Conditions on ticket fields alone: what policies, pauses and metric moments read."""


@functools.cache
def trigger_conditions(metrics: tuple[str, ...]) -> st.SearchStrategy[str]:
    return _combined(st.one_of(_field_atoms(), _clock_atoms(metrics), _node_atoms(), _PREDICATES))


# -- declarations --------------------------------------------------------------------------------

EVENTS = [
    "created",
    "reply",
    "reply by agent",
    "reply by agent public",
    "reply by requester",
    "reply by system private",
    "update",
    "update by agent",
    "node entered",
    "node left",
    "node handled",
    "contact offered",
    "contact answered",
    "contact abandoned",
]


# A metric may also start or stop on another clock's state: then steps without events move it.
_maybe_moment_condition = (
    st.none() | field_conditions | _combined(_clock_atoms(("first_response", "resolution")))
)


@st.composite
def moments(draw: st.DrawFn, others: list[str]) -> str:
    """`on` events, `when` a condition, or both."""
    events = EVENTS + [f"{kind} of {metric}" for kind in ("start", "stop") for metric in others]
    on = draw(st.lists(st.sampled_from(events), min_size=1, max_size=2, unique=True))
    when = draw(_maybe_moment_condition)
    form = draw(st.sampled_from(["on", "when", "both"]))
    if form == "when" and when is not None:
        return f"when {when}"
    if form == "both" and when is not None:
        return f"on {' or '.join(on)} or when {when}"
    return f"on {' or '.join(on)}"


@st.composite
def metric_declaration(draw: st.DrawFn, name: str, others: list[str]) -> str:
    lines = [f"    start {draw(moments(others))}", f"    stop {draw(moments(others))}"]
    if draw(st.booleans()):
        lines.append(f"    cancel {draw(moments(others))}")
    if draw(st.booleans()):
        lines.append(f"    pause while {draw(field_conditions)}")
    if draw(st.booleans()):
        lines.append("    repeat")
    return f"metric {name} {{\n" + "\n".join(lines) + "\n}\n"


@st.composite
def target(draw: st.DrawFn, metric: str) -> str:
    line = f"{metric} within {draw(durations.filter(lambda d: d != '0m'))}"
    warnings = draw(st.lists(st.sampled_from([25, 50, 80, 90, 100]), max_size=2, unique=True))
    if warnings:
        line += " warn at " + ", ".join(f"{w}%" for w in sorted(warnings))
    return line


@st.composite
def policy_declaration(draw: st.DrawFn, name: str, metrics: list[str], last: bool) -> str:
    lines = []
    if not last:
        lines.append(f"    applies when {draw(field_conditions)}")
    lines.append(f"    calendar {draw(st.sampled_from(['always', 'office']))}")
    chosen = draw(st.lists(st.sampled_from(metrics), min_size=1, unique=True))
    if "service" in chosen and "first_response" not in chosen:
        chosen.append("first_response")
    lines += [f"    {draw(target(metric))}" for metric in chosen]
    for node in draw(st.lists(st.sampled_from(NODES), max_size=2, unique=True)):
        kinds = draw(st.lists(st.sampled_from(["response", "handling"]), min_size=1, unique=True))
        lines.append(f'    node "{node}" ' + ", ".join(draw(target(kind)) for kind in kinds))
    if draw(st.booleans()):
        lines.append(f"    pause while {draw(field_conditions)}")
    return f'policy "{name}" {{\n' + "\n".join(lines) + "\n}\n"


@st.composite
def action(draw: st.DrawFn, metrics: list[str]) -> str:
    metric = draw(st.sampled_from(metrics))
    text = draw(
        st.sampled_from(
            [
                "notify",
                "notify node.assignee",
                'notify group "leads" "ticket {id}: {METRIC.remaining} left, due {METRIC.due_at}"',
                'tag "late"',
                'escalate group "managers"',
                "urge node.assignee",
                'log "{METRIC.state} at {METRIC.percent}, {custom.wait} {created_at}"',
                'set "status" "open"',
            ]
        )
    ).replace("METRIC", metric)
    if draw(st.booleans()):  # not too often: six days of repeats are stepped through
        text += f" every {draw(st.sampled_from(['30m', '45m', '1h30m', '8h']))}"
    return text


@st.composite
def trigger_declaration(draw: st.DrawFn, name: str, metrics: list[str]) -> str:
    actions = draw(st.lists(action(metrics), min_size=1, max_size=2))
    return (
        f'trigger "{name}" {{\n    when {draw(trigger_conditions(tuple(metrics)))}\n'
        f"    then {', '.join(actions)}\n}}\n"
    )


OFFICE = """calendar office {
    timezone "Europe/Berlin"
    hours mon-fri 08:00-12:00, 13:00-18:00
    hours sat 10:00-14:00
    holiday 2026-03-31
}
"""
# The first parse imports modules that draw from `random` (rich seeds its ids): outside any
# strategy, where Hypothesis rightly objects to it.
parse_policies(OFFICE)


FIGURES = [
    "service_level(answer, 20s, window 1h) < 80%",
    'service_level(answer, 20s, window 2h, formula "abandoned_excluded", short_abandon 5s) >= 50%',
    'service_level(answer, 30s, formula "abandoned_within_met") < 90%',
    "compliance(resolution, window 1d) < 95%",
    "compliance(first_response) >= 50%",
    "breaches(first_response, window 2h) > 0",
    "average_speed_of_answer(answer, window 1h) > 30s",
    "abandonment_rate(answer, window 1h, short_abandon 5s) > 5%",
]


@st.composite
def schedule_declaration(draw: st.DrawFn, name: str) -> str:
    cron = draw(
        st.sampled_from(["*/30 * * * *", "0 8-18 * * mon-fri", "30 2 * * *", "0 */6 * * *"])
    )
    zone = draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]))
    figures = draw(st.lists(st.sampled_from(FIGURES), max_size=2, unique=True))
    when = f"    when {' or '.join(figures)}\n" if figures else ""
    action = draw(st.sampled_from(['log "check {id}"', 'notify group "supervisors" "{id}"']))
    return f'schedule "{name}" every "{cron}" in "{zone}" {{\n{when}    then {action}\n}}\n'


@st.composite
def policy_files(draw: st.DrawFn, schedules: bool = False) -> str:
    """A valid policy file; with ``schedules``, with schedules of figures over the tickets too
    (whose runs depend on what the engine knows when they come, not only on the events)."""
    own = draw(st.lists(st.sampled_from(CUSTOM_METRICS), max_size=2, unique=True))
    metrics = BUILTIN_METRICS + own
    parts = [OFFICE]
    parts += [draw(metric_declaration(name, BUILTIN_METRICS)) for name in own]
    count = draw(st.integers(1, 3))
    parts += [draw(policy_declaration(f"P{n}", metrics, last=n == count - 1)) for n in range(count)]
    every_clock = [*metrics, "node_response", "node_handling"]
    parts += [
        draw(trigger_declaration(f"t{n}", every_clock)) for n in range(draw(st.integers(1, 4)))
    ]
    if schedules:
        parts += [draw(schedule_declaration(f"s{n}")) for n in range(draw(st.integers(0, 2)))]
    text = "\n".join(parts)
    try:
        parse_policies(text)
    except PolicyError:
        assume(False)
    return text


# -- histories -----------------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=5,
)
# Custom fields as helpdesks send them: mostly well formed, sometimes not.
waits = st.sampled_from([0, 600, 7200, "1h30m", "45m", "soon", None]) | json_values
deadlines = (
    st.sampled_from(["2026-03-28T09:00:00+01:00", "2026-03-30T12:00:00Z", "tomorrow", None])
    | st.integers(1_774_000_000, 1_775_500_000)
    | json_values
)


@st.composite
def field_changes(draw: st.DrawFn) -> dict[str, Any]:
    choices = {
        "status": st.sampled_from(STATUSES),
        "priority": st.sampled_from(["normal", "urgent"]),
        "node": st.sampled_from([*NODES, None]),
        "assignee": st.sampled_from(AGENTS),
        "tags": st.lists(st.sampled_from(["vip", "beta"]), max_size=2),
        "subject": st.sampled_from(["refund please", "hello"]),
        "custom": st.fixed_dictionaries(
            {},
            optional={
                "seats": st.integers(0, 1000) | json_values,
                "wait": waits,
                "deadline": deadlines,
            },
        ),
        "customer": st.fixed_dictionaries({"tier": st.sampled_from(["gold", "silver"])}),
    }
    names = draw(st.lists(st.sampled_from(sorted(choices)), min_size=1, max_size=3, unique=True))
    return {name: draw(choices[name]) for name in names}


@st.composite
def ticket_events(draw: st.DrawFn, ticket: str, make: EventBuilder) -> list[dict[str, Any]]:
    """One ticket's events, created first, over up to five days."""
    created = START + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    fields = {"status": "open", "node": draw(st.sampled_from(NODES))}
    fields |= draw(field_changes())
    events = [make.created(ticket, created, **fields)]
    for minutes in sorted(draw(st.lists(st.integers(0, 2 * 24 * 60), max_size=8))):
        at = created + timedelta(minutes=minutes)
        kind = draw(st.sampled_from(["update", "agent", "requester", "contact"]))
        if kind == "update":
            by = draw(st.sampled_from([*AGENTS, None]))
            events.append(make.updated(ticket, at, by=by, **draw(field_changes())))
        elif kind == "agent":
            by, public = draw(st.sampled_from(AGENTS)), draw(st.booleans())
            events.append(make.agent_reply(ticket, at, by=by, public=public))
        elif kind == "requester":
            events.append(make.requester_reply(ticket, at))
        else:
            change = draw(st.sampled_from(["offered", "answered", "abandoned"]))
            events.append(make.contact(ticket, change, at))
    return events


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """The events of one to three tickets, in time order."""
    make = EventBuilder()
    tickets = draw(st.integers(1, 3))
    events = [event for n in range(tickets) for event in draw(ticket_events(f"T-{n}", make))]
    return sorted(events, key=lambda event: (event["at"], event["type"] != "ticket.created"))
