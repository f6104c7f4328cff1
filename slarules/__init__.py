"""slarules: an SLA rules engine for helpdesks and contact centers.

The public API is what ``__all__`` lists; everything else may change without notice.
"""

from slarules.calendar import Calendar
from slarules.errors import CalendarError, SlaRulesError

__version__ = "0.1.0"

__all__ = ["Calendar", "CalendarError", "SlaRulesError", "__version__"]
