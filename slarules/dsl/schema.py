"""What the language knows before any file is read: value types, fields, actions, functions.

Ticket fields are open (helpdesks have custom fields), so only the well-known ones have a type;
clock and node attributes are a closed schema, so a misspelt one is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from slarules.dsl import ast
from slarules.metrics import SERVICE_LEVEL_FORMULAS

if TYPE_CHECKING:
    from slarules.calendar import Calendar


class Type(StrEnum):
    """The type of a value in a condition; ``ANY`` for fields the language cannot know."""

    STRING = "string"
    NUMBER = "number"
    DURATION = "duration"
    PERCENT = "percent"
    BOOLEAN = "boolean"
    INSTANT = "instant"
    LIST = "list"
    ANY = "any"

    @property
    def article(self) -> str:
        return {"instant": "an instant", "any": "a value"}.get(self.value, f"a {self.value}")


ORDERED = frozenset({Type.NUMBER, Type.DURATION, Type.PERCENT, Type.INSTANT, Type.STRING})

TICKET_FIELDS: dict[str, Type] = {
    "id": Type.STRING,
    "status": Type.STRING,
    "priority": Type.STRING,
    "group": Type.STRING,
    "assignee": Type.STRING,
    "requester": Type.STRING,
    "channel": Type.STRING,
    "subject": Type.STRING,
    "type": Type.STRING,
    "node": Type.STRING,
    "tags": Type.LIST,
    "created_at": Type.INSTANT,
}

# `overdue`, `breached`, …: about the ticket's clocks as a whole, or one clock (`resolution.met`).
PREDICATES: dict[str, Type] = {
    "overdue": Type.BOOLEAN,
    "breached": Type.BOOLEAN,
    "paused": Type.BOOLEAN,
    "met": Type.BOOLEAN,
}

CLOCK_ATTRIBUTES: dict[str, Type] = {
    **PREDICATES,
    "running": Type.BOOLEAN,
    "state": Type.STRING,
    "elapsed": Type.DURATION,
    "remaining": Type.DURATION,
    "target": Type.DURATION,
    "percent": Type.PERCENT,
    "started_at": Type.INSTANT,
    "due_at": Type.INSTANT,
    "breached_at": Type.INSTANT,
    "cycle": Type.NUMBER,
}

# Clock attributes that change as time passes, with no event: the engine times them exactly.
TIME_VARYING = frozenset({"elapsed", "remaining", "percent"})


def is_time_varying(expression: ast.Expression, metrics: Collection[str]) -> bool:
    """Whether ``expression`` is a clock's ``elapsed``, ``remaining`` or ``percent``."""
    return (
        isinstance(expression, ast.Reference)
        and len(expression.path) == 2
        and expression.path[0] in metrics
        and expression.path[1] in TIME_VARYING
    )


NODE_ATTRIBUTES: dict[str, Type] = {
    **PREDICATES,
    "name": Type.STRING,
    "assignee": Type.STRING,
    "unhandled": Type.BOOLEAN,
    "entered_at": Type.INSTANT,
}

# Objects whose fields are open: `customer.tier`, `custom.region`.
OPEN_OBJECTS = frozenset({"customer", "custom", "requester", "organization", "fields"})

# Node targets name these metrics: `node "L2" response within 1h, handling within 4h`.
NODE_METRICS = {"response": "node_response", "handling": "node_handling"}


@dataclass(frozen=True)
class Parameter:
    name: str
    type: Type
    named: bool = False  # written `window 1h` rather than by position
    required: bool = True
    choices: tuple[str, ...] = ()  # the strings a string parameter admits; empty: any


@dataclass(frozen=True)
class Function:
    """A function callable in conditions.

    Report functions (built in, no ``implementation``) summarise many tickets and take a metric
    first; plugin functions compute a value about one ticket from their arguments.
    """

    name: str
    parameters: tuple[Parameter, ...]
    returns: Type
    summary: str
    implementation: Callable[..., Any] | None = field(default=None, compare=False)

    @property
    def is_report(self) -> bool:
        return self.implementation is None


_WINDOW = Parameter("window", Type.DURATION, named=True, required=False)
_SHORT_ABANDON = Parameter("short_abandon", Type.DURATION, named=True, required=False)
_FORMULA = Parameter(
    "formula", Type.STRING, named=True, required=False, choices=SERVICE_LEVEL_FORMULAS
)

BUILTIN_FUNCTIONS: dict[str, Function] = {
    function.name: function
    for function in (
        Function(
            "service_level",
            (
                Parameter("metric", Type.ANY),
                Parameter("threshold", Type.DURATION),
                _WINDOW,
                _FORMULA,
                _SHORT_ABANDON,
            ),
            Type.PERCENT,
            "share of contacts answered within the threshold",
        ),
        Function(
            "average_speed_of_answer",
            (Parameter("metric", Type.ANY), _WINDOW),
            Type.DURATION,
            "mean time to answer",
        ),
        Function(
            "abandonment_rate",
            (Parameter("metric", Type.ANY), _WINDOW, _SHORT_ABANDON),
            Type.PERCENT,
            "share of contacts abandoned before an answer",
        ),
        Function(
            "compliance",
            (Parameter("metric", Type.ANY), _WINDOW),
            Type.PERCENT,
            "share of clocks met within target",
        ),
        Function(
            "breaches",
            (Parameter("metric", Type.ANY), _WINDOW),
            Type.NUMBER,
            "clocks breached",
        ),
    )
}


@dataclass(frozen=True)
class Vocabulary:
    """The names that installed plugins add to the language: actions, functions, calendars.

    :meth:`slarules.plugins.Plugins.vocabulary` builds it; validation checks names against it.
    """

    actions: frozenset[str]
    functions: Mapping[str, Function]
    calendars: Mapping[str, Calendar]
    # The actions slarules itself provides: what an error's help lists, the same everywhere.
    builtin_actions: frozenset[str] = frozenset()

    def function(self, name: str) -> Function | None:
        return BUILTIN_FUNCTIONS.get(name) or self.functions.get(name)

    @property
    def function_names(self) -> list[str]:
        return sorted({*BUILTIN_FUNCTIONS, *self.functions})
