"""slarules: an SLA rules engine for helpdesks and contact centers.

The public API is what ``__all__`` lists; everything else may change without notice.
"""

from slarules.actions import Action
from slarules.calendar import Calendar
from slarules.clocks import Clock, ClockState, Progress
from slarules.dsl.loader import load_policies, parse_policies
from slarules.engine import Engine, EngineState, Explanation, Rejected
from slarules.errors import (
    CalendarError,
    EventError,
    PolicyError,
    PolicySyntaxError,
    PolicyValidationError,
    SlaRulesError,
)
from slarules.events import Event
from slarules.policyset import PolicySet

__version__ = "0.1.0"

__all__ = [
    "Action",
    "Calendar",
    "CalendarError",
    "Clock",
    "ClockState",
    "Engine",
    "EngineState",
    "Event",
    "EventError",
    "Explanation",
    "PolicyError",
    "PolicySet",
    "PolicySyntaxError",
    "PolicyValidationError",
    "Progress",
    "Rejected",
    "SlaRulesError",
    "__version__",
    "load_policies",
    "parse_policies",
]
