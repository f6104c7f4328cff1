"""The typed, immutable syntax tree of a policy file.

Every node carries the :class:`Span` of source text it came from, so that validation and later
stages can point at it. Equivalent spellings parse to the same tree: ``ticket overdue`` and
``overdue`` are both ``Reference(path=("overdue",))``, ``node unhandled`` and ``node.unhandled``
are both ``Reference(path=("node", "unhandled"))``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class Span(BaseModel):
    """Where a node is in its file: 1-based lines and columns, the end exclusive."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    column: int
    end_line: int
    end_column: int


class Node(BaseModel):
    model_config = ConfigDict(frozen=True)

    span: Span


# -- conditions ------------------------------------------------------------------------------


class StringLiteral(Node):
    kind: Literal["string"] = "string"
    value: str


class NumberLiteral(Node):
    kind: Literal["number"] = "number"
    value: float


class DurationLiteral(Node):
    kind: Literal["duration"] = "duration"
    value: timedelta


class PercentLiteral(Node):
    kind: Literal["percent"] = "percent"
    value: float  # 80% is 80.0


class BooleanLiteral(Node):
    kind: Literal["boolean"] = "boolean"
    value: bool


class ListLiteral(Node):
    kind: Literal["list"] = "list"
    items: tuple[Scalar, ...]


class Reference(Node):
    """A ticket field, a clock attribute or a predicate: ``priority``, ``node.assignee``."""

    kind: Literal["reference"] = "reference"
    path: tuple[str, ...]


class Argument(Node):
    name: str | None  # `window 1h` is named, `20s` is not
    value: Expression


class Call(Node):
    kind: Literal["call"] = "call"
    function: str
    arguments: tuple[Argument, ...]


Operator = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not-in", "contains"]


class Comparison(Node):
    kind: Literal["comparison"] = "comparison"
    operator: Operator
    left: Expression
    right: Expression


class Not(Node):
    kind: Literal["not"] = "not"
    operand: Expression


class AllOf(Node):
    kind: Literal["all"] = "all"
    operands: tuple[Expression, ...]


class AnyOf(Node):
    kind: Literal["any"] = "any"
    operands: tuple[Expression, ...]


Scalar = Annotated[
    Union[StringLiteral, NumberLiteral, DurationLiteral, PercentLiteral, BooleanLiteral],  # noqa: UP007
    Field(discriminator="kind"),
]
Expression = Annotated[
    Union[  # noqa: UP007 - pydantic needs a real Union here to resolve the forward references
        StringLiteral,
        NumberLiteral,
        DurationLiteral,
        PercentLiteral,
        BooleanLiteral,
        ListLiteral,
        Reference,
        Call,
        Comparison,
        Not,
        AllOf,
        AnyOf,
    ],
    Field(discriminator="kind"),
]


# -- calendars -------------------------------------------------------------------------------


class WeeklyHours(Node):
    """``hours mon-fri 09:00-17:00``: days such as ``("mon-fri",)``, spans ``("09:00-17:00",)``."""

    kind: Literal["weekly"] = "weekly"
    days: tuple[str, ...]
    spans: tuple[str, ...]


class DateHours(Node):
    """``hours 2026-12-24 09:00-12:00``: one date's spans, replacing its weekly hours.

    No spans (``hours 2026-12-24 closed``) closes the day.
    """

    kind: Literal["date"] = "date"
    day: date
    spans: tuple[str, ...]


HoursLine = Annotated[Union[WeeklyHours, DateHours], Field(discriminator="kind")]  # noqa: UP007


class Holiday(Node):
    day: date
    label: str | None


class CalendarDecl(Node):
    kind: Literal["calendar"] = "calendar"
    name: str
    timezone: StringLiteral | None
    hours: tuple[HoursLine, ...]
    holidays: tuple[Holiday, ...]
    on_close: Reference | None


# -- metrics ---------------------------------------------------------------------------------


class EventPattern(Node):
    """One kind of event: ``created``, ``reply by agent public``, ``stop of first_response``."""

    event: Literal["created", "reply", "update", "contact", "node", "metric"]
    role: Literal["agent", "requester", "system"] | None = None
    visibility: Literal["public", "private"] | None = None
    # contact: offered | answered | abandoned; node: entered | left | handled; metric: start | stop
    change: str | None = None
    metric: str | None = None  # for `start of X` / `stop of X`


class OnEvents(Node):
    """``on node left or when status in ["solved"]``: events, and optionally a condition too."""

    kind: Literal["events"] = "events"
    events: tuple[EventPattern, ...]
    condition: Expression | None = None


class WhenCondition(Node):
    kind: Literal["condition"] = "condition"
    condition: Expression


Moment = Annotated[Union[OnEvents, WhenCondition], Field(discriminator="kind")]  # noqa: UP007


class MetricDecl(Node):
    kind: Literal["metric"] = "metric"
    name: str
    start: Moment | None
    stop: Moment | None
    cancel: Moment | None
    pauses: tuple[Expression, ...]
    repeat: bool


# -- policies --------------------------------------------------------------------------------


class Target(Node):
    """``first_response within 30m warn at 50%, 80%``."""

    metric: str
    within: DurationLiteral
    warn_at: tuple[PercentLiteral, ...]


class NodeTargets(Node):
    """``node "L2 review" response within 1h, handling within 4h``."""

    node: StringLiteral
    targets: tuple[Target, ...]


class PolicyDecl(Node):
    kind: Literal["policy"] = "policy"
    name: str
    applies: Expression | None
    calendar: Reference | None
    targets: tuple[Target, ...]
    nodes: tuple[NodeTargets, ...]
    pauses: tuple[Expression, ...]


# -- triggers and schedules ------------------------------------------------------------------


class ActionCall(Node):
    """``urge node.assignee every 30m``; no arguments sends it to the current handler."""

    name: str
    arguments: tuple[Annotated[Union[Reference, StringLiteral], Field(discriminator="kind")], ...]  # noqa: UP007
    every: DurationLiteral | None


class TriggerDecl(Node):
    kind: Literal["trigger"] = "trigger"
    name: str
    when: Expression
    actions: tuple[ActionCall, ...]


class ScheduleDecl(Node):
    kind: Literal["schedule"] = "schedule"
    name: str
    cron: StringLiteral
    timezone: StringLiteral | None
    when: Expression | None
    actions: tuple[ActionCall, ...]


class Include(Node):
    path: StringLiteral


Declaration = Annotated[
    Union[CalendarDecl, MetricDecl, PolicyDecl, TriggerDecl, ScheduleDecl],  # noqa: UP007
    Field(discriminator="kind"),
]


class Module(Node):
    """One parsed file, its declarations in file order."""

    includes: tuple[Include, ...]
    declarations: tuple[Declaration, ...]


for _model in (ListLiteral, Argument, Call, Comparison, Not, AllOf, AnyOf, OnEvents):
    _model.model_rebuild()
