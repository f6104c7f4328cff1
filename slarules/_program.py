"""A policy set compiled for the engine: metrics, policies and triggers as closures and tables.

Compiled once per engine; the per-ticket evaluation in :mod:`slarules._ticket` only reads it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from slarules.calendar import Calendar
from slarules.conditions import Condition, Evaluate, compile_condition, compile_value
from slarules.dsl import ast
from slarules.dsl.formatter import format_condition
from slarules.dsl.schema import NODE_METRICS
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
class ActionProgram:
    name: str
    arguments: tuple[Evaluate | str, ...]  # values to read, or text with {placeholders}
    every: int | None


@dataclass(frozen=True)
class TriggerProgram:
    name: str
    condition: Condition
    text: str  # the condition as written, for reasons
    actions: tuple[ActionProgram, ...]


@dataclass(frozen=True)
class Program:
    metrics: tuple[MetricProgram, ...]
    policies: tuple[PolicyProgram, ...]
    triggers: tuple[TriggerProgram, ...]
    # Every condition the engine evaluates, for the timers: thresholds by metric.
    conditions: tuple[Condition, ...]
    metric_names: frozenset[str]

    def placeholder_reader(self, path: str) -> Evaluate:
        return compile_value(_reference(path), self.metric_names)


def compile_program(policies: PolicySet) -> Program:
    names = frozenset(policies.metrics)
    compile_ = _Compiler(names)
    metrics = tuple(
        compile_.metric(declaration) for declaration in _dependency_order(policies.metrics)
    )
    compiled_policies = tuple(
        compile_.policy(declaration, policies.calendars)
        for declaration in policies.policies.values()
    )
    triggers = tuple(compile_.trigger(declaration) for declaration in policies.triggers.values())
    return Program(metrics, compiled_policies, triggers, tuple(compile_.seen), names)


class _Compiler:
    def __init__(self, metrics: frozenset[str]) -> None:
        self.metrics = metrics
        self.seen: list[Condition] = []

    def condition(self, expression: ast.Expression) -> Condition:
        compiled = compile_condition(expression, self.metrics)
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
        return Moment(patterns, None)

    def metric(self, metric: ast.MetricDecl) -> MetricProgram:
        start, stop = self.moment(metric.start), self.moment(metric.stop)
        assert start is not None and stop is not None  # validation requires both
        return MetricProgram(
            name=metric.name,
            start=start,
            stop=stop,
            cancel=self.moment(metric.cancel),
            pauses=tuple(self.condition(pause) for pause in metric.pauses),
            repeat=metric.repeat,
        )

    def policy(self, policy: ast.PolicyDecl, calendars: dict[str, Calendar]) -> PolicyProgram:
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

    def action(self, action: ast.ActionCall) -> ActionProgram:
        arguments: list[Evaluate | str] = [
            argument.value
            if isinstance(argument, ast.StringLiteral)
            else compile_value(argument, self.metrics)
            for argument in action.arguments
        ]
        every = None if action.every is None else action.every.value // _MICROSECOND
        return ActionProgram(action.name, tuple(arguments), every)


def _target(target: ast.Target) -> TargetProgram:
    return TargetProgram(
        target.within.value // _MICROSECOND, tuple(warn.value for warn in target.warn_at)
    )


def warn_amount(target: int, percent: float) -> int:
    """The elapsed time after which ``percent`` of ``target`` has been used: a warning fires once
    the elapsed time is greater than this."""
    return math.ceil(target * percent / 100) - 1


def _dependency_order(metrics: dict[str, ast.MetricDecl]) -> list[ast.MetricDecl]:
    """Metrics that wait for another's start or stop come after it, so one step settles them."""
    ordered: list[ast.MetricDecl] = []
    placed: set[str] = set()

    def place(metric: ast.MetricDecl, visiting: frozenset[str]) -> None:
        if metric.name in placed or metric.name in visiting:
            return
        for moment in (metric.start, metric.stop, metric.cancel):
            if isinstance(moment, ast.OnEvents):
                for event in moment.events:
                    if event.metric in metrics:
                        place(metrics[event.metric], visiting | {metric.name})
        placed.add(metric.name)
        ordered.append(metric)

    for metric in metrics.values():
        place(metric, frozenset())
    return ordered


def _reference(path: str) -> ast.Reference:
    span = ast.Span(file="<placeholder>", line=1, column=1, end_line=1, end_column=1)
    return ast.Reference(path=tuple(path.split(".")), span=span)
