"""slarules-liveagent: the LiveAgent adapter for slarules (docs/plugins/liveagent.md)."""

from slarules_liveagent.account_time import AccountTime
from slarules_liveagent.adapter import LiveAgentAdapter
from slarules_liveagent.client import LiveAgentClient
from slarules_liveagent.importer import slas_to_policies
from slarules_liveagent.settings import LiveAgentSettings
from slarules_liveagent.translate import (
    events_from_change,
    events_from_history,
    events_from_messages,
    events_from_ticket,
)

__all__ = [
    "AccountTime",
    "LiveAgentAdapter",
    "LiveAgentClient",
    "LiveAgentSettings",
    "events_from_change",
    "events_from_history",
    "events_from_messages",
    "events_from_ticket",
    "slas_to_policies",
]
