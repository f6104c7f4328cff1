"""A policy set compiled for the engine: metrics, policies and triggers as closures and tables.

Compiled once per engine; the per-ticket evaluation in :mod:`slarules._ticket` only reads it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property

from slarules.calendar import Calendar
from slarules.conditions import (
    Condition,
    Evaluate,
    Threshold,
    TicketView,
    compile_condition,
    compile_text,
    compile_value,
)
from slarules.dsl import ast
from slarules.dsl.formatter import format_condition
from slarules.dsl.messages import Placeholder, message_parts, placeholder_path
from slarules.dsl.schema import NODE_METRICS, Function
from slarules.policyset import PolicySet

_MICROSECOND = timedelta(microseconds=1)

# What happened at a step, as metric patterns match it: ("created",), ("update",),
# ("reply", role, public), ("contact", change), ("node", change), ("metric", change, metric).
Signal = tuple[str, ...]


@dataclass(frozen=True)
class Pattern:
    event: str
    role: str | None
    visibility: str | None
    change: str | None
    metric: str | None

    def matches(self, signal: Signal) -> bool:
        kind = signal[0]
        if kind != self.event:
            return False
        if kind == "reply":
            _, role, visibility = signal
            return self.role in (None, role) and self.visibility in (None, visibility)
        if kind == "metric":
            return self.change == signal[1] and self.metric == signal[2]
        return self.change in (None, signal[1]) if len(signal) > 1 else True


@dataclass(frozen=True)
class Moment:
    """When a metric starts, stops or is cancelled: on events, or when a condition holds."""

    patterns: tuple[Pattern, ...]
    condition: Condition | None

    def on(self, signal: Signal) -> bool:
        return any(pattern.matches(signal) for pattern in self.patterns)


@dataclass(frozen=True)
class MetricProgram:
    name: str
    start: Moment
    stop: Moment
    cancel: Moment | None
    pauses: tuple[Condition, ...]
    repeat: bool


@dataclass(frozen=True)
class TargetProgram:
    target: int  # business microseconds
    warn_at: tuple[float, ...]  # percents


@dataclass(frozen=True)
class PolicyProgram:
    name: str
    applies: Condition | None
    calendar: Calendar
    targets: dict[str, TargetProgram]
    node_targets: dict[tuple[str, str], TargetProgram]  # (node, metric)
    pauses: tuple[Condition, ...]

    def target(self, metric: str, node: str | None) -> TargetProgram | None:
        if node is not None:
            found = self.node_targets.get((node, metric))
            if found is not None:
                return found
        return self.targets.get(metric)


@dataclass(frozen=True)
class Template:
    """Message text with placeholders, ``"due at {resolution.due_at}"``: literal text, and for
    each placeholder what reads its value as text (:func:`~slarules.conditions.compile_text`),
    compiled once with the policy set."""

    parts: tuple[str | Evaluate, ...]

    def render(self, view: TicketView) -> str:
        return "".join(part if isinstance(part, str) else part(view) for part in self.parts)


@dataclass(frozen=True)
class ActionProgram:
    name: str
    arguments: tuple[Evaluate | Template, ...]  # values to read, or text with {placeholders}
    every: int | None


@dataclass(frozen=True)
class TriggerProgram:
    name: str
    condition: Condition
    text: str  # the condition as written, for reasons
    actions: tuple[ActionProgram, ...]

    @cached_property
    def clocks(self) -> tuple[str, ...]:
        """The metrics its condition reads, sorted ("*" for the ticket's clocks as a whole)."""
        return tuple(sorted(self.condition.metrics))


@dataclass(frozen=True)
class ScheduleProgram:
    name: str
    cron: str
    timezone: str
    condition: Condition | None
    text: str | None  # the condition as written, for reasons
    actions: tuple[ActionProgram, ...]

    @cached_property
    def lookback(self) -> int | None:
        """How far back its figures look: the widest ``window`` (microseconds), or ``None``
        when one of them counts every clock ever started."""
        queries = self.condition.reports if self.condition else ()
        widest = 0
        for query in queries:
            window = query.options.get("window")
            if window is None:
                return None
            widest = max(widest, int(window))
        return widest


@dataclass(frozen=True)
class Reaction:
    """What one signal does to one metric, worked out once per kind of signal."""

    metric: MetricProgram
    cancels: bool
    stops: bool
    starts: bool


@dataclass(frozen=True)
class Program:
    metrics: tuple[MetricProgram, ...]
    policies: tuple[PolicyProgram, ...]
    triggers: tuple[TriggerProgram, ...]
    schedules: tuple[ScheduleProgram, ...]
    # The elapsed-time thresholds of every condition, by metric, for the timers.
    thresholds: dict[str, tuple[Threshold, ...]]
    metric_names: frozenset[str]
    # False for an engine that keeps clocks only (reports): no triggers, warnings or schedules.
    acts: bool = True
    _reactions: dict[Signal, tuple[Reaction, ...]] = field(default_factory=dict)

    def without_actions(self) -> Program:
        return replace(self, triggers=(), schedules=(), acts=False, _reactions={})

    @cached_property
    def needs_timers(self) -> bool:
        """Whether steps without events matter: for actions, or for clocks that move on
        elapsed times (a stop on `first_response.breached`)."""
        return self.acts or not self.settled_without_events

    @cached_property
    def timed_metrics(self) -> tuple[tuple[int, MetricProgram], ...]:
        """Metrics that start, stop or are cancelled by a condition, with their positions."""
        return tuple(
            (index, metric)
            for index, metric in enumerate(self.metrics)
            if metric.start.condition
            or metric.stop.condition
            or (metric.cancel is not None and metric.cancel.condition)
        )

    @cached_property
    def settled_without_events(self) -> bool:
        """Whether policy selection, pauses and condition moments read fields only, so that a
        step with no event cannot change them."""
        conditions = [p.applies for p in self.policies if p.applies is not None]
        conditions += [pause for p in self.policies for pause in p.pauses]
        for metric in self.metrics:
            conditions += metric.pauses
            for moment in (metric.start, metric.stop, metric.cancel):
                if moment is not None and moment.condition is not None:
                    conditions.append(moment.condition)
        return all(condition.fields_only for condition in conditions)

    @cached_property
    def pause_fields(self) -> frozenset[str]:
        """The ticket fields that pause conditions read (``*``: any), policies' and metrics'."""
        pauses = [pause for p in self.policies for pause in p.pauses]
        pauses += [pause for metric in self.metrics for pause in metric.pauses]
        return frozenset().union(*(pause.fields for pause in pauses))

    @cached_property
    def thresholds_read_fields(self) -> bool:
        """Whether some elapsed-time threshold is a value read from the ticket (`elapsed >
        custom.limit`), so that a change of fields can move the timers."""
        return any(not t.constant for found in self.thresholds.values() for t in found)

    def reactions(self, signal: Signal) -> tuple[Reaction, ...]:
        found = self._reactions.get(signal)
        if found is None:
            found = self._reactions[signal] = tuple(
                reaction
                for metric in self.metrics
                if (reaction := _reaction(metric, signal)).cancels
                or reaction.stops
                or reaction.starts
            )
        return found


def _reaction(metric: MetricProgram, signal: Signal) -> Reaction:
    return Reaction(
        metric,
        cancels=metric.cancel is not None and metric.cancel.on(signal),
        stops=metric.stop.on(signal),
        starts=metric.start.on(signal),
    )


def compile_program(policies: PolicySet) -> Program:
    names = frozenset(policies.metrics)
    compile_ = _Compiler(names, policies.functions)
    compiled_policies = tuple(
        compile_.policy(declaration, policies.calendars)
        for declaration in policies.policies.values()
    )
    triggers = tuple(compile_.trigger(declaration) for declaration in policies.triggers.values())
    schedules = tuple(compile_.schedule(declaration) for declaration in policies.schedules.values())
    needed = _needed_metrics(policies.metrics, compiled_policies, compile_.seen)
    metrics = tuple(
        compile_.metric(declaration)
        for declaration in _dependency_order(policies.metrics)
        if declaration.name in needed
    )
    thresholds: dict[str, list[Threshold]] = {}
    for condition in compile_.seen:
        for threshold in condition.thresholds:
            thresholds.setdefault(threshold.metric, []).append(threshold)
    return Program(
        metrics,
        compiled_policies,
        triggers,
        schedules,
        {metric: tuple(found) for metric, found in thresholds.items()},
        names,
    )


class _Compiler:
    def __init__(self, metrics: frozenset[str], functions: Mapping[str, Function]) -> None:
        self.metrics = metrics
        self.functions = functions
        self.seen: list[Condition] = []

    def condition(self, expression: ast.Expression) -> Condition:
        compiled = compile_condition(expression, self.metrics, self.functions)
        self.seen.append(compiled)
        return compiled

    def moment(self, moment: ast.Moment | None) -> Moment | None:
        if moment is None:
            return None
        if isinstance(moment, ast.WhenCondition):
            return Moment((), self.condition(moment.condition))
        patterns = tuple(
            Pattern(e.event, e.role, e.visibility, e.change, e.metric) for e in moment.events
        )
        condition = None if moment.condition is None else self.condition(moment.condition)
        return Moment(patterns, condition)

    def metric(self, metric: ast.MetricDecl) -> MetricProgram:
        start, stop = self.moment(metric.start), self.moment(metric.stop)
        assert start is not None
        assert stop is not None
        return MetricProgram(
            name=metric.name,
            start=start,
            stop=stop,
            cancel=self.moment(metric.cancel),
            pauses=tuple(self.condition(pause) for pause in metric.pauses),
            repeat=metric.repeat,
        )

    def policy(self, policy: ast.PolicyDecl, calendars: Mapping[str, Calendar]) -> PolicyProgram:
        calendar_name = policy.calendar.path[0] if policy.calendar else "always"
        node_targets = {
            (node.node.value, NODE_METRICS[target.metric]): _target(target)
            for node in policy.nodes
            for target in node.targets
        }
        return PolicyProgram(
            name=policy.name,
            applies=None if policy.applies is None else self.condition(policy.applies),
            calendar=calendars[calendar_name],
            targets={target.metric: _target(target) for target in policy.targets},
            node_targets=node_targets,
            pauses=tuple(self.condition(pause) for pause in policy.pauses),
        )

    def trigger(self, trigger: ast.TriggerDecl) -> TriggerProgram:
        return TriggerProgram(
            name=trigger.name,
            condition=self.condition(trigger.when),
            text=format_condition(trigger.when),
            actions=tuple(self.action(action) for action in trigger.actions),
        )

    def schedule(self, schedule: ast.ScheduleDecl) -> ScheduleProgram:
        # Report figures are not clock thresholds: compiled apart from `seen`, they add no timers.
        when = schedule.when
        return ScheduleProgram(
            name=schedule.name,
            cron=schedule.cron.value,
            timezone=schedule.timezone.value if schedule.timezone else "UTC",
            condition=None
            if when is None
            else compile_condition(when, self.metrics, self.functions),
            text=None if when is None else format_condition(when),
            actions=tuple(self.action(action) for action in schedule.actions),
        )

    def template(self, text: str) -> Template:
        return Template(tuple(self._message_part(part) for part in message_parts(text)))

    def _message_part(self, part: str | Placeholder) -> str | Evaluate:
        if isinstance(part, str):
            return part
        path = placeholder_path(part)
        assert path is not None, f"placeholder `{{{part.text}}}` passed validation"  # SLA107
        return compile_text(_reference(path), self.metrics, self.functions)

    def action(self, action: ast.ActionCall) -> ActionProgram:
        arguments: list[Evaluate | Template] = [
            self.template(argument.value)
            if isinstance(argument, ast.StringLiteral)
            else compile_value(argument, self.metrics, self.functions)
            for argument in action.arguments
        ]
        every = None if action.every is None else action.every.value // _MICROSECOND
        return ActionProgram(action.name, tuple(arguments), every)


def _target(target: ast.Target) -> TargetProgram:
    return TargetProgram(
        target.within.value // _MICROSECOND, tuple(sorted(warn.value for warn in target.warn_at))
    )


def warn_amount(target: int, percent: float) -> int:
    """The elapsed time after which ``percent`` of ``target`` has been used: a warning fires once
    the elapsed time is greater than this."""
    return math.ceil(target * percent / 100) - 1


def _needed_metrics(
    metrics: Mapping[str, ast.MetricDecl],
    policies: tuple[PolicyProgram, ...],
    conditions: list[Condition],
) -> set[str]:
    """The metrics worth running: those with a target or read by a condition, and those they
    wait for (``start on stop of first_response``). The rest would only cost time and memory."""
    wanted = {metric for policy in policies for metric in policy.targets}
    wanted |= {metric for policy in policies for _, metric in policy.node_targets}
    wanted |= {metric for condition in conditions for metric in condition.metrics} - {"*"}
    needed: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in needed or name not in metrics:
            continue
        needed.add(name)
        for moment in (metrics[name].start, metrics[name].stop, metrics[name].cancel):
            if isinstance(moment, ast.OnEvents):
                wanted |= {event.metric for event in moment.events if event.metric}
    return needed


def _dependency_order(metrics: Mapping[str, ast.MetricDecl]) -> list[ast.MetricDecl]:
    """Metrics that wait for another's start or stop come after it, so one step settles them."""
    ordered: list[ast.MetricDecl] = []
    placed: set[str] = set()

    def place(metric: ast.MetricDecl, visiting: frozenset[str]) -> None:
        if metric.name in placed or metric.name in visiting:
            return
        for moment in (metric.start, metric.stop, metric.cancel):
            if isinstance(moment, ast.OnEvents):
                for event in moment.events:
                    if event.metric is not None and event.metric in metrics:
                        place(metrics[event.metric], visiting | {metric.name})
        placed.add(metric.name)
        ordered.append(metric)

    for metric in metrics.values():
        place(metric, frozenset())
    return ordered


def _reference(path: tuple[str, ...]) -> ast.Reference:
    span = ast.Span(file="<placeholder>", line=1, column=1, end_line=1, end_column=1)
    return ast.Reference(path=path, span=span)
