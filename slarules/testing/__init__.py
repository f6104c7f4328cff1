"""Helpers for testing slarules plugins and hosts.

* :class:`HelpdeskServer`: a real HTTP server on 127.0.0.1 that plays a helpdesk's API;
* :class:`RecordingPlugin`: an adapter that records the ticket actions it is asked to carry out,
  and every notification hook;
* :class:`EventBuilder`: normalized events in one line each.

The pytest plugin (:mod:`slarules.testing.pytest_plugin`, registered through ``pytest11``)
turns them into the fixtures ``helpdesk``, ``recorder``, ``make_engine`` and ``events``.
"""

from slarules.testing._events import EventBuilder
from slarules.testing._recording import Failure, RecordingPlugin
from slarules.testing._server import HelpdeskServer, RecordedRequest, Response

__all__ = [
    "EventBuilder",
    "Failure",
    "HelpdeskServer",
    "RecordedRequest",
    "RecordingPlugin",
    "Response",
]
