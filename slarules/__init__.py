"""slarules: an SLA rules engine for helpdesks and contact centers.

The public API is what ``__all__`` lists; everything else may change without notice.
"""

from slarules._version import __version__
from slarules.actions import Action
from slarules.calendar import Calendar
from slarules.clocks import Clock, ClockState, Progress
from slarules.dsl.loader import load_policies, parse_policies
from slarules.engine import Delivery, Engine, EngineState, Explanation, Rejected
from slarules.errors import (
    ActionError,
    AuthenticationError,
    CalendarError,
    EventError,
    PayloadError,
    PluginError,
    PolicyError,
    PolicySyntaxError,
    PolicyValidationError,
    SlaRulesError,
)
from slarules.events import Event
from slarules.hookspecs import hookimpl
from slarules.plugins import Plugins
from slarules.policyset import PolicySet
from slarules.settings import load_settings, setting_name
from slarules.specs import (
    ActionContext,
    ActionSpec,
    Adapter,
    AdapterSpec,
    CalendarSpec,
    FunctionSpec,
    ImporterSpec,
    InboundRequest,
)

__all__ = [
    "Action",
    "ActionContext",
    "ActionError",
    "ActionSpec",
    "Adapter",
    "AdapterSpec",
    "AuthenticationError",
    "Calendar",
    "CalendarError",
    "CalendarSpec",
    "Clock",
    "ClockState",
    "Delivery",
    "Engine",
    "EngineState",
    "Event",
    "EventError",
    "Explanation",
    "FunctionSpec",
    "ImporterSpec",
    "InboundRequest",
    "PayloadError",
    "PluginError",
    "Plugins",
    "PolicyError",
    "PolicySet",
    "PolicySyntaxError",
    "PolicyValidationError",
    "Progress",
    "Rejected",
    "SlaRulesError",
    "__version__",
    "hookimpl",
    "load_policies",
    "load_settings",
    "parse_policies",
    "setting_name",
]
