"""Fixtures for plugin authors, loaded by pytest through the ``pytest11`` entry point.

* ``recorder``: a :class:`~slarules.testing.RecordingPlugin`;
* ``make_engine``: ``make_engine(policy_text, plugins=[...])``, an engine with the installed
  plugins, the recorder, and the given ones;
* ``events``: an :class:`~slarules.testing.EventBuilder`;
* ``helpdesk``: a running :class:`~slarules.testing.HelpdeskServer` on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import pytest

from slarules.engine import Engine
from slarules.testing import EventBuilder, HelpdeskServer, RecordingPlugin

MakeEngine = Callable[..., Engine]


@pytest.fixture
def recorder() -> RecordingPlugin:
    return RecordingPlugin()


@pytest.fixture
def make_engine(recorder: RecordingPlugin) -> MakeEngine:
    def make(
        policies: str,
        plugins: Iterable[object] = (),
        settings: Mapping[str, Mapping[str, str]] | None = None,
        entry_points: bool = True,
    ) -> Engine:
        return Engine.from_text(
            policies,
            "test.sla",
            plugins=[recorder, *plugins],
            settings=settings,
            entry_points=entry_points,
        )

    return make


@pytest.fixture
def events() -> EventBuilder:
    return EventBuilder()


@pytest.fixture
def helpdesk() -> Iterator[HelpdeskServer]:
    with HelpdeskServer() as server:
        yield server
