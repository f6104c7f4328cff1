"""What the language knows before any file is read: value types, fields, actions, functions.

Ticket fields are open (helpdesks have custom fields), so only the well-known ones have a type;
clock and node attributes are a closed schema, so a misspelt one is an error.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from slarules.dsl import ast


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

BUILTIN_ACTIONS = frozenset(
    {"notify", "urge", "escalate", "assign", "set", "tag", "webhook", "log"}
)

BUILTIN_CALENDARS = frozenset({"always"})


@dataclass(frozen=True)
class Parameter:
    name: str
    type: Type
    named: bool = False  # written `window 1h` rather than by position
    required: bool = True


@dataclass(frozen=True)
class Function:
    """A function callable in conditions; the first parameter names a metric."""

    name: str
    parameters: tuple[Parameter, ...]
    returns: Type
    summary: str


_WINDOW = Parameter("window", Type.DURATION, named=True, required=False)

BUILTIN_FUNCTIONS: dict[str, Function] = {
    function.name: function
    for function in (
        Function(
            "service_level",
            (Parameter("metric", Type.ANY), Parameter("threshold", Type.DURATION), _WINDOW),
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
            (Parameter("metric", Type.ANY), _WINDOW),
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
