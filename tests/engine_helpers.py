"""Events written as briefly as a support lead would say them, for the engine tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from slarules import Engine, _ticket
from slarules import engine as engine_module
from slarules._ticket import TicketState
from slarules.testing import EventBuilder

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# The builder ships in slarules.testing, for plugin authors; the engine tests use it too.
Events = EventBuilder


class FakeClock:
    """A runtime's clock that the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def skip_where_the_core_is_compiled() -> None:
    """Skip a test that patches a method of the ticket state or its step: a core compiled with
    mypyc (`tox -e compiled`) calls its own methods directly, past the patch. `tox -e py` runs
    the test on the plain-Python core."""
    if not _ticket.__file__.endswith(".py"):
        pytest.skip("patches the engine's core, which the compiled core calls past the patch")


def break_steps(
    monkeypatch: pytest.MonkeyPatch,
    ticket: str,
    *,
    timers_only: bool = False,
    error: Exception | None = None,
) -> None:
    """Make every step of ``ticket`` (or only its steps without an event) raise: a bug in the
    engine, for the tests of what survives one. ``monkeypatch.undo()`` is the fix."""
    skip_where_the_core_is_compiled()
    step = TicketState.step

    def broken(state: TicketState, program: Any, at: int, record: Any, *rest: Any) -> None:
        if state.id == ticket and (record is None or not timers_only):
            raise error or ZeroDivisionError("a bug")
        step(state, program, at, record, *rest)

    monkeypatch.setattr(TicketState, "step", broken)


def step_through_wakeups(engine: Engine, end: datetime, most: int = 20_000) -> None:
    """Advance the engine from one ``next_wakeup()`` to the next until ``end``, asserting that
    nothing comes due a microsecond before a wake-up and that what comes due at one is for it."""
    for _ in range(most):
        wakeup = engine.next_wakeup()
        if wakeup is None or wakeup > end:
            assert engine.advance(end) == []
            return
        assert engine.advance(wakeup - MICROSECOND) == []
        for action in engine.advance(wakeup):
            assert action.at == wakeup
    raise AssertionError(f"more than {most:,} wake-ups before {end}")


@contextmanager
def freezing_tickets_at_rest() -> Iterator[None]:
    """Engines freeze each ticket as soon as it comes to rest, rather than once thousands of
    others did: the way of keeping tickets at rest that the tests' few tickets never reach."""
    with mock.patch.object(engine_module, "_THAWED_AT_REST", 0):
        yield
