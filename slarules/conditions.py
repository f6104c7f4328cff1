"""Conditions compiled once into closures, then evaluated many times against a ticket's view.

Values inside: strings, numbers, booleans and lists as in JSON; durations, instants and clock
times as integer microseconds; percents as floats (``80%`` is ``80.0``). A missing value is
``None``: every ordering against it is false, ``==`` false and ``!=`` true.

Besides the closure, compilation records what the condition reads, so that the engine knows
which clocks a trigger is about (its cycle) and at which elapsed times the condition can change
without an event (its timers).
"""

from __future__ import annotations

import functools
import logging
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slarules._fields import read_path
from slarules._instants import MICROS_PER_SECOND, from_micros, to_micros
from slarules.dsl import ast
from slarules.dsl.schema import (
    BUILTIN_FUNCTIONS,
    CLOCK_ATTRIBUTES,
    NODE_ATTRIBUTES,
    PREDICATES,
    TICKET_FIELDS,
    Function,
    Type,
    is_time_varying,
)
from slarules.durations import format_duration, parse_duration
from slarules.errors import CalendarError, SlaRulesError

__all__ = [
    "Condition",
    "ReportQuery",
    "Threshold",
    "TicketView",
    "compile_condition",
]

_MICROSECOND = timedelta(microseconds=1)
_logger = logging.getLogger("slarules.plugins")


class TicketView(Protocol):
    """What a condition reads: the engine's view of one ticket at one instant."""

    @property
    def fields(self) -> Mapping[str, Any]: ...

    @property
    def ticket_id(self) -> str | None:
        """The ticket's id, as its events name it (``id`` in conditions and messages)."""

    def clock(self, metric: str, attribute: str) -> Any: ...

    def node(self, attribute: str) -> Any: ...

    def predicate(self, name: str) -> bool: ...

    def report(self, query: ReportQuery) -> Any:
        """A figure over many tickets (``service_level(answer, 20s)``): only schedules read
        these; a ticket's view never gets asked (SLA307)."""
        ...


@dataclass(frozen=True)
class ReportQuery:
    """A report function call with its arguments, which validation made literals: durations in
    microseconds, strings as written, keyed by parameter name (``threshold``, ``window``…)."""

    function: str
    metric: str
    options: Mapping[str, Any]


Evaluate = Callable[[TicketView], Any]


@dataclass(frozen=True)
class Threshold:
    """``metric.attribute`` compared with a value fixed between events: a possible timer."""

    metric: str
    attribute: str  # elapsed | remaining | percent
    # How the elapsed time compares with the crossing, whichever side the clock was written on:
    # `15m > first_response.remaining` is `elapsed > target - 15m`, so its operator is `>`.
    operator: str
    value: Evaluate
    constant: bool  # a literal, rather than a value read from the ticket


@dataclass
class Condition:
    evaluate: Evaluate
    metrics: frozenset[str]  # the clocks it reads; "*" for the ticket's clocks as a whole
    node: bool  # whether it reads the current node
    thresholds: tuple[Threshold, ...]
    # The top-level ticket fields it reads (`customer` for `customer.tier`; "*" for all of them),
    # besides the node's.
    fields: frozenset[str] = frozenset()
    source: ast.Expression | None = field(default=None, repr=False)
    reports: tuple[ReportQuery, ...] = ()  # the report figures it reads (schedules)

    def __call__(self, view: TicketView) -> bool:
        return bool(self.evaluate(view))

    @property
    def fields_only(self) -> bool:
        """Whether it reads ticket fields only, so it cannot change without an event."""
        return not self.metrics and not self.node


def compile_condition(
    expression: ast.Expression,
    metrics: frozenset[str],
    functions: Mapping[str, Function] | None = None,
) -> Condition:
    """Compile a validated condition; ``metrics`` are the names of the policy set's metrics,
    ``functions`` the plugin functions it may call."""
    compiler = _Compiler(metrics, functions or {})
    evaluate = compiler.compile(expression)
    return Condition(
        evaluate=evaluate,
        metrics=frozenset(compiler.read_metrics),
        node=compiler.reads_node,
        thresholds=tuple(compiler.thresholds),
        fields=frozenset(compiler.read_fields),
        source=expression,
        reports=tuple(compiler.reports),
    )


def compile_value(
    expression: ast.Expression,
    metrics: frozenset[str],
    functions: Mapping[str, Function] | None = None,
) -> Evaluate:
    """A value (not a condition), such as an action's argument ``node.assignee``."""
    return _Compiler(metrics, functions or {}).compile(expression)


def compile_text(
    expression: ast.Expression,
    metrics: frozenset[str],
    functions: Mapping[str, Function] | None = None,
) -> Evaluate:
    """A value as a message shows it, for a placeholder such as ``{resolution.due_at}``: an
    instant in ISO 8601, a duration as the language writes it (``1h30m``), a percent with its
    sign, anything else as text, and ``-`` for a value the ticket does not have."""
    compiler = _Compiler(metrics, functions or {})
    kind = compiler._type_of(expression)
    value, show = compiler._read_as(expression, kind), _SHOWN.get(kind, str)

    def text(view: TicketView) -> str:
        found = value(view)
        return "-" if found is None else show(found)

    return text


class _Compiler:
    def __init__(self, metrics: frozenset[str], functions: Mapping[str, Function]) -> None:
        self.metrics = metrics
        self.functions = functions
        self.read_metrics: set[str] = set()
        self.reads_node = False
        self.read_fields: set[str] = set()
        self.thresholds: list[Threshold] = []
        self.reports: list[ReportQuery] = []

    def compile(self, expression: ast.Expression) -> Evaluate:
        match expression:
            case ast.DurationLiteral():
                return _constant(expression.value // _MICROSECOND)
            case ast.ListLiteral():
                return _constant([self._literal(item) for item in expression.items])
            case (
                ast.StringLiteral()
                | ast.NumberLiteral()
                | ast.PercentLiteral()
                | ast.BooleanLiteral()
            ):
                return _constant(self._literal(expression))
            case ast.Reference():
                return self._reference(expression.path)
            case ast.Comparison():
                return self._comparison(expression)
            case ast.Not():
                operand = self.compile(expression.operand)
                return lambda view: not operand(view)
            case ast.AllOf():
                return functools.reduce(_both, self._cheapest_first(expression.operands))
            case ast.AnyOf():
                return functools.reduce(_either, self._cheapest_first(expression.operands))
            case ast.Call():
                return self._call(expression)
        raise AssertionError(f"unexpected expression {expression!r}")  # pragma: no cover

    def _cheapest_first(self, operands: tuple[ast.Expression, ...]) -> list[Evaluate]:
        """Operands compiled in the order that settles ``and`` / ``or`` soonest on average:
        a field read before a clock measurement (``breached and priority == "urgent"`` asks
        the priority first). Conditions have no side effects, so the order changes only the
        work done, never the value."""
        return [self.compile(operand) for operand in sorted(operands, key=self._cost)]

    def _cost(self, expression: ast.Expression) -> int:
        """A rough count of the work of evaluating ``expression``: measuring clocks costs
        more than reading fields, and a predicate over every clock most."""
        match expression:
            case ast.Reference(path=path):
                if path[0] in self.metrics and len(path) == 2:
                    return _CLOCK_COST
                if path[0] == "node" and len(path) == 2:
                    return _PREDICATE_COST if path[1] in PREDICATES else 1
                return _PREDICATE_COST if len(path) == 1 and path[0] in PREDICATES else 1
            case ast.Comparison():
                return self._cost(expression.left) + self._cost(expression.right)
            case ast.Not():
                return self._cost(expression.operand)
            case ast.AllOf() | ast.AnyOf():
                return sum(self._cost(operand) for operand in expression.operands)
            case ast.Call():
                return _CALL_COST + sum(self._cost(a.value) for a in expression.arguments)
        return 0  # literals

    @staticmethod
    def _literal(literal: ast.Scalar) -> Any:
        if isinstance(literal, ast.DurationLiteral):
            return literal.value // _MICROSECOND
        if isinstance(literal, ast.NumberLiteral) and literal.value.is_integer():
            return int(literal.value)
        return literal.value

    def _reference(self, path: tuple[str, ...]) -> Evaluate:
        head, *rest = path
        if head in self.metrics and len(rest) == 1:
            self.read_metrics.add(head)
            metric, attribute = head, rest[0]
            return lambda view: view.clock(metric, attribute)
        if head == "node" and len(rest) == 1 and rest[0] in NODE_ATTRIBUTES:
            self.reads_node = True
            attribute = rest[0]
            return lambda view: view.node(attribute)
        if not rest and head in PREDICATES:
            self.read_metrics.add("*")
            return lambda view: view.predicate(head)
        if path == ("id",):
            return lambda view: view.ticket_id
        keys = tuple(rest) if head == "fields" else (head, *rest)
        self.read_fields.add(keys[0] if keys else "*")  # bare `fields`: all of them
        if len(keys) == 1:
            key = keys[0]
            return lambda view: view.fields.get(key)
        return lambda view: read_path(view.fields, keys)

    def _call(self, call: ast.Call) -> Evaluate:
        report = BUILTIN_FUNCTIONS.get(call.function)
        if report is not None:
            query = _report_query(call, report, self.compile)
            self.reports.append(query)
            return lambda view: view.report(query)
        # Validation admits only plugin functions in ticket conditions (SLA307), with arguments
        # by position and none of them a running clock value (SLA309).
        function = self.functions[call.function]
        implementation = function.implementation
        assert implementation is not None
        arguments = [
            (self._read_as(argument.value, parameter.type), parameter.type)
            for parameter, argument in zip(function.parameters, call.arguments, strict=False)
        ]
        returns = function.returns

        def evaluate(view: TicketView) -> Any:
            values = [to_python(value(view), kind) for value, kind in arguments]
            try:
                return from_python(implementation(*values), returns)
            except Exception:
                # A plugin's bug must not stop the engine: the value is missing, as for a field
                # the ticket does not have, and the log says why.
                _logger.exception("function `%s` failed on %r", call.function, values)
                return None

        return evaluate

    def _comparison(self, comparison: ast.Comparison) -> Evaluate:
        left, right = comparison.left, comparison.right
        left_value = self._read_as(left, self._type_of(right))
        right_value = self._read_as(right, self._type_of(left))
        self._note_threshold(left, comparison.operator, right, right_value)
        mirrored = _MIRRORED.get(comparison.operator, comparison.operator)
        self._note_threshold(right, mirrored, left, left_value)
        if isinstance(right, _LITERALS):
            fast = _against_literal(comparison.operator, left_value, right_value(None))  # type: ignore[arg-type]
            if fast is not None:
                return fast
        compare = _OPERATORS[comparison.operator]
        return lambda view: compare(left_value(view), right_value(view))

    def _read_as(self, expression: ast.Expression, kind: Type | None) -> Evaluate:
        """``expression`` compiled; a ticket field, which holds JSON, is read as the duration or
        instant it is compared with or passed as (or as its declared type, ``created_at``), so
        that ``first_response.elapsed > custom.limit`` with a limit of ``3600`` means an hour."""
        compiled = self.compile(expression)
        if not self._is_field(expression):
            return compiled
        assert isinstance(expression, ast.Reference)
        read = _FIELD_READERS.get(_declared_type(expression.path) or kind)
        if read is None:
            return compiled
        return lambda view: read(compiled(view))

    def _is_field(self, expression: ast.Expression) -> bool:
        if not isinstance(expression, ast.Reference):
            return False
        head, *rest = expression.path
        clock = head in self.metrics and len(rest) == 1
        node = head == "node" and len(rest) == 1 and rest[0] in NODE_ATTRIBUTES
        return not (clock or node or (not rest and head in PREDICATES))

    def _type_of(self, expression: ast.Expression) -> Type | None:
        """The type of a value that has one the language knows (not a custom field's)."""
        match expression:
            case ast.DurationLiteral():
                return Type.DURATION
            case ast.PercentLiteral():
                return Type.PERCENT
            case ast.Reference(path=path) if self._is_field(expression):
                return _declared_type(path)
            case ast.Reference(path=(head, attribute)) if head == "node":
                return NODE_ATTRIBUTES[attribute]
            case ast.Reference(path=(_, attribute)):
                return CLOCK_ATTRIBUTES[attribute]
            case ast.Call(function=name):
                known = BUILTIN_FUNCTIONS.get(name) or self.functions.get(name)
                return known.returns if known else None
        return None

    def _note_threshold(
        self, varying: ast.Expression, operator_: str, fixed: ast.Expression, value: Evaluate
    ) -> None:
        if not is_time_varying(varying, self.metrics):
            return
        # Validation (SLA308) guarantees that the other side does not run with time.
        assert isinstance(varying, ast.Reference)
        metric, attribute = varying.path
        if attribute == "remaining":  # it falls as the elapsed time grows
            operator_ = _MIRRORED.get(operator_, operator_)
        constant = isinstance(fixed, _LITERALS)
        self.thresholds.append(Threshold(metric, attribute, operator_, value, constant))


def _declared_type(path: tuple[str, ...]) -> Type | None:
    """The type the language gives a well-known ticket field (``created_at``, ``tags``…)."""
    keys = path[1:] if path[0] == "fields" else path
    return TICKET_FIELDS.get(keys[0]) if len(keys) == 1 else None


def _report_query(
    call: ast.Call, function: Function, compile_: Callable[[ast.Expression], Evaluate]
) -> ReportQuery:
    metric, *rest = call.arguments
    assert isinstance(metric.value, ast.Reference)
    positional = [parameter.name for parameter in function.parameters if not parameter.named][1:]
    options: dict[str, Any] = {}
    by_position = iter(positional)
    for argument in rest:
        name = argument.name or next(by_position)
        options[name] = compile_(argument.value)(None)  # type: ignore[arg-type]
    return ReportQuery(call.function, metric.value.path[0], options)


# `a < b` is `b > a`: a threshold's operator is read with the clock on the left.
_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_CLOCK_COST = 4
_PREDICATE_COST = 10
_CALL_COST = 10


def _constant(value: Any) -> Evaluate:
    return lambda view: value


# Conditions run at every step of every ticket, so the common shapes get closures of their own
# rather than the general ones: two operands joined directly, a value against a literal.


def _both(first: Evaluate, second: Evaluate) -> Evaluate:
    return lambda view: first(view) and second(view)


def _either(first: Evaluate, second: Evaluate) -> Evaluate:
    return lambda view: first(view) or second(view)


_LITERALS = (
    ast.StringLiteral,
    ast.NumberLiteral,
    ast.DurationLiteral,
    ast.PercentLiteral,
    ast.ListLiteral,
)


def _against_literal(operator_: str, value: Evaluate, literal: Any) -> Evaluate | None:
    """``value <op> literal`` with the same meaning as :data:`_OPERATORS`, or ``None``."""
    if operator_ == "==":
        return lambda view: value(view) == literal
    if operator_ == "!=":
        return lambda view: value(view) != literal
    if operator_ in ("in", "not-in") and isinstance(literal, list):
        items = tuple(literal)
        if operator_ == "in":
            return lambda view: value(view) in items
        return lambda view: value(view) not in items
    return None


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def ordered(left: Any, right: Any) -> bool:
        if left is None or right is None or isinstance(left, bool) != isinstance(right, bool):
            return False
        try:
            return compare(left, right)
        except TypeError:  # a string against a number: neither before nor after
            return False

    return ordered


def _member(item: Any, container: Any) -> bool:
    if isinstance(container, list):
        return item in container
    if isinstance(container, str) and isinstance(item, str):
        return item in container
    return False


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda left, right: left is not None and left == right,
    "!=": lambda left, right: left is None or left != right,
    "<": _ordered(operator.lt),
    "<=": _ordered(operator.le),
    ">": _ordered(operator.gt),
    ">=": _ordered(operator.ge),
    "in": _member,
    "not-in": lambda item, container: not _member(item, container),
    "contains": lambda container, item: _member(item, container),
}


def _field_duration(value: Any) -> int | None:
    """A field's JSON as a duration in microseconds: a number of seconds, or a duration
    written as in the language (``"1h30m"``); anything else is no duration."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _micros(value, _LONGEST)
    if isinstance(value, str):
        try:
            return parse_duration(value) // _MICROSECOND
        except SlaRulesError:
            return None
    return None


def _field_instant(value: Any) -> int | None:
    """A field's JSON as an instant in microseconds since the epoch: ISO 8601 text with a UTC
    offset, or a number of seconds since the epoch (a Unix timestamp); anything else, a naive
    timestamp among them, is no instant."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        micros = _micros(value, _LATEST)
        return None if micros is None or micros < _EARLIEST else micros
    if isinstance(value, str):
        try:
            return to_micros(datetime.fromisoformat(value))
        except (ValueError, CalendarError):
            return None
    return None


def _micros(seconds: float, limit: int) -> int | None:
    """Seconds in microseconds, or ``None`` beyond ``limit`` either way (datetimes and
    timedeltas end somewhere; JSON numbers do not)."""
    micros = seconds * MICROS_PER_SECOND
    return round(micros) if -limit <= micros <= limit else None


_LONGEST = timedelta.max // _MICROSECOND
_EARLIEST = to_micros(datetime.min.replace(tzinfo=UTC))
_LATEST = to_micros(datetime.max.replace(tzinfo=UTC))

# How a field is read where the language expects a duration or an instant of it.
_FIELD_READERS: dict[Type | None, Callable[[Any], int | None]] = {
    Type.DURATION: _field_duration,
    Type.INSTANT: _field_instant,
}


_SHOWN: dict[Type | None, Callable[[Any], str]] = {
    Type.INSTANT: lambda micros: from_micros(micros).isoformat(),
    Type.DURATION: lambda micros: format_duration(micros * _MICROSECOND),
    Type.PERCENT: lambda value: f"{value:g}%",
}


def to_python(value: Any, kind: Type) -> Any:
    """A condition value as plugin code expects it: durations as timedeltas, instants as aware
    datetimes."""
    if isinstance(value, int) and not isinstance(value, bool):
        if kind == Type.DURATION:
            return timedelta(microseconds=value)
        if kind == Type.INSTANT:
            return from_micros(value)
    return value


def from_python(value: Any, kind: Type) -> Any:
    """A plugin function's result as conditions compare it. It must be of the type the function
    declares (``None`` is a missing value): a duration a timedelta and an instant an aware
    datetime, since a number would be read in the engine's own unit; a boolean a bool, since
    the text ``"false"`` would hold. Anything else raises, and the call reads as missing."""
    expected = _PYTHON_TYPES.get(kind)
    if expected is not None and value is not None:
        names, types = expected
        # A bool is an int to Python, not a number to the language.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise TypeError(f"returned {type(value).__name__} `{value!r}`, not {names}")
    if isinstance(value, timedelta):
        return value // _MICROSECOND
    if isinstance(value, datetime):
        return to_micros(value, "a function's result")
    return value


_PYTHON_TYPES: dict[Type, tuple[str, tuple[type, ...]]] = {
    Type.DURATION: ("a timedelta", (timedelta,)),
    Type.INSTANT: ("a datetime", (datetime,)),
    Type.BOOLEAN: ("a bool", (bool,)),
    Type.NUMBER: ("an int or a float", (int, float)),
    Type.PERCENT: ("an int or a float", (int, float)),
    Type.STRING: ("a str", (str,)),
    Type.LIST: ("a list", (list, tuple)),
}
