"""Properties of the durable runtime over random valid policy files and histories, on SQLite.

A service stopped after any event and started again from its store (the events, the keys of
what it gave, its outbox) delivers exactly what one that never stopped delivers, in the same
order, and measures the same clocks.
"""

from __future__ import annotations

import random
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from engine_helpers import FakeClock
from hypothesis import given, settings
from hypothesis import strategies as st
from random_policies import END, START, histories, policy_files

from slarules import Clock
from slarules.runtime import Runtime
from slarules.store import SqliteStore
from slarules.testing import RecordingPlugin


def serve(
    policy_file: Path, events: list[dict[str, Any]], restart_before: int | None
) -> tuple[list[str], dict[str, list[Clock]]]:
    """Run a service through the events, its clock at each event's instant, delivering as it
    goes; stopped and started again before event ``restart_before``. The keys of the actions
    the helpdesk carried out, and the clocks at the end."""
    database = policy_file.with_name(f"restart-{restart_before}.db")
    recorder, clock = RecordingPlugin(), FakeClock(START)

    def start() -> Runtime:
        store = SqliteStore(database)
        return Runtime.open(
            policy_file, store, plugins=[recorder], clock=clock, rng=random.Random(7)
        )

    runtime = start()
    for position, event in enumerate(events):
        if position == restart_before:
            runtime.close()
            runtime = start()
        clock.now = max(clock.now, datetime.fromisoformat(event["at"]))
        runtime.ingest(event, source="recorder")
        runtime.advance()
        runtime.deliver_due()
    clock.now = END
    runtime.advance()
    runtime.deliver_due()
    clocks = {ticket: runtime.engine.clocks(ticket, END) for ticket in runtime.engine.tickets()}
    runtime.close()
    return [action.key for action in recorder.executed], clocks


@settings(max_examples=25, deadline=None)
@given(policy_files(schedules=True), histories(), st.data())
def test_a_service_restarted_after_any_event_delivers_what_one_never_stopped_does(
    policies: str, events: list[dict[str, Any]], data: st.DataObject
) -> None:
    restart_before = data.draw(st.integers(0, len(events)), label="restart before event")
    with tempfile.TemporaryDirectory() as folder:
        policy_file = Path(folder) / "support.sla"
        policy_file.write_text(policies, encoding="utf-8")
        assert serve(policy_file, events, restart_before) == serve(policy_file, events, None)
