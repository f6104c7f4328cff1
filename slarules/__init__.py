"""slarules: an SLA rules engine for helpdesks and contact centers.

The public API is what ``__all__`` lists; everything else may change without notice.
"""

from slarules.calendar import Calendar
from slarules.dsl.loader import load_policies, parse_policies
from slarules.errors import (
    CalendarError,
    PolicyError,
    PolicySyntaxError,
    PolicyValidationError,
    SlaRulesError,
)
from slarules.policyset import PolicySet

__version__ = "0.1.0"

__all__ = [
    "Calendar",
    "CalendarError",
    "PolicyError",
    "PolicySet",
    "PolicySyntaxError",
    "PolicyValidationError",
    "SlaRulesError",
    "__version__",
    "load_policies",
    "parse_policies",
]
