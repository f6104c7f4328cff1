"""The storage contract, for the memory and the SQLite store alike; SQLite's own guarantees."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from engine_helpers import MINUTE, Events, utc

from slarules import Action, Event, Rejected
from slarules.store import (
    Change,
    MemoryStore,
    SqliteStore,
    Store,
    StoreError,
    TicketRecord,
    open_store,
)
from slarules.store.sqlite import MIGRATIONS

NOW = utc("2026-03-02T09:00:00Z")


def action(key: str, at_minutes: int = 0) -> Action:
    return Action(
        name="tag", args=("late",), ticket="T-1", trigger="late", clock="first_response",
        cycle=1, at=NOW + at_minutes * MINUTE, reason="breached", key=key,
    )  # fmt: skip


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.db")
    yield opened
    opened.close()


def test_a_change_is_loaded_back_as_engine_state(store: Store) -> None:
    events = Events()
    created = Event.parse(events.created("T-1", NOW, status="open"))
    reply = Event.parse(events.agent_reply("T-1", NOW + MINUTE))
    rejected = Rejected(
        payload={"id": "bad"}, reason="`at`: required", problems=(("at", "required"),)
    )
    store.commit(
        Change(
            events=[(created, "zendesk"), (reply, "zendesk")],
            tickets={"T-1": TicketRecord([3, 1, 2], "zendesk", NOW + 60 * MINUTE)},
            rejected=[rejected],
            now=NOW + MINUTE,
        )
    )
    state = store.load()
    assert state.now == NOW + MINUTE
    [ticket] = state.tickets
    assert (ticket.ticket, ticket.source, ticket.fired) == ("T-1", "zendesk", [3, 1, 2])
    assert [Event.parse(e) for e in ticket.events] == [created, reply]
    assert state.rejected == [rejected]
    assert store.pending_timers() == 1
    assert [Event.parse(e) for e in store.events()] == [created, reply]


def test_a_ticket_whose_timers_wait_for_a_fix_is_loaded_back_as_such(store: Store) -> None:
    created = Event.parse(Events().created("T-1", NOW))
    held = TicketRecord([], None, None, timers_held_since=NOW)
    store.commit(Change(events=[(created, None)], tickets={"T-1": held}))
    assert store.load().tickets[0].timers_held_since == NOW
    store.commit(Change(tickets={"T-1": TicketRecord([7], None, None)}))  # given after the fix
    assert store.load().tickets[0].timers_held_since is None


def test_events_are_read_one_at_a_time_in_the_order_taken(store: Store) -> None:
    make = Events()
    taken = [
        Event.parse(make.created(f"T-{number % 7}", NOW + number * MINUTE, status="open"))
        for number in range(25_000)  # more than the SQLite store reads at once
    ]
    store.commit(Change(events=[(event, None) for event in taken]))
    assert [Event.parse(event) for event in store.events()] == taken


def test_spans_of_the_events_cover_them_once_in_order_also_read_from_a_forked_process(
    store: Store,
) -> None:
    assert [list(store.events_in(span)) for span in store.event_spans(1_000)] == [[]]
    make = Events()
    taken = [
        Event.parse(make.created(f"T-{number % 7}", NOW + number * MINUTE, status="open"))
        for number in range(2_500)
    ]
    store.commit(Change(events=[(event, None) for event in taken]))
    spans = store.event_spans(1_000)
    assert len(spans) == 3
    assert [Event.parse(e) for span in spans for e in store.events_in(span)] == taken
    # A forked process reads through a connection of its own, whatever the threads of this one
    # held when it forked (here the store's lock, as a committing thread would).
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    lock = getattr(store, "_lock", threading.Lock())
    with lock:
        child = multiprocessing.get_context("fork").Process(
            target=lambda: sender.send([str(Event.parse(e).id) for e in store.events_in(spans[1])])
        )
        child.start()
        assert receiver.poll(30), "the forked process did not read its span"
        assert receiver.recv() == [event.id for event in taken[1_000:2_000]]
    child.join(30)
    assert child.exitcode == 0


def test_the_outbox_gives_due_actions_in_order_and_keeps_each_key_once(store: Store) -> None:
    store.commit(Change(actions=[action("b", 5), action("a", 1), action("c", 30)]))
    store.commit(Change(actions=[action("a", 1)]))  # the same key again: ignored
    assert [e.action.key for e in store.due(NOW + 10 * MINUTE)] == ["a", "b"]
    assert store.next_attempt() == NOW + MINUTE
    store.settle("a", "done", 1, NOW + 10 * MINUTE)
    store.settle("b", "pending", 1, NOW + 20 * MINUTE, "HTTP 500")
    assert store.due(NOW + 10 * MINUTE) == []
    assert store.next_attempt() == NOW + 20 * MINUTE
    store.settle("c", "dead", 8, NOW + 40 * MINUTE, "HTTP 404")
    [dead] = store.outbox("dead")
    assert (dead.action, dead.attempts, dead.last_error) == (action("c", 30), 8, "HTTP 404")
    assert [entry.status for entry in store.outbox()] == ["pending", "done", "dead"]


def test_rejected_input_is_kept_by_id_until_dropped(store: Store) -> None:
    one, two = (
        Rejected(payload=f"body {n}", reason="bad", problems=(), stage="payload", adapter="x")
        for n in (1, 2)
    )
    store.commit(Change(rejected=[one, two]))
    ids = [id_ for id_, _ in store.rejected()]
    store.drop_rejected(ids[:1])
    assert [item for _, item in store.rejected()] == [two]


def test_open_store_reads_urls(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    assert isinstance(open_store(f"sqlite:///{tmp_path}/x.db"), SqliteStore)
    with pytest.raises(StoreError, match="unknown store URL `postgres://x`"):
        open_store("postgres://x")


# -- SQLite ------------------------------------------------------------------------------------


def test_sqlite_keeps_everything_across_reopening_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "slarules.db"
    first = SqliteStore(path)
    first.commit(Change(actions=[action("a")], now=NOW))
    first.close()
    again = SqliteStore(path)
    assert [e.action.key for e in again.outbox()] == ["a"]
    again.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)


def test_a_store_of_the_first_schema_is_migrated_and_keeps_its_tickets(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0])
        db.execute("PRAGMA user_version = 1")
        created = Event.parse(Events().created("T-1", NOW))
        db.execute(
            "INSERT INTO events (ticket, id, body) VALUES (?, ?, ?)",
            ("T-1", created.id, created.model_dump_json()),
        )
        db.execute("INSERT INTO tickets (ticket, fired) VALUES ('T-1', ?)", (b"\1" * 8,))
    store = SqliteStore(path)
    [ticket] = store.load().tickets
    assert (ticket.fired, ticket.timers_held_since) == ([0x0101010101010101], None)
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)


def test_a_store_from_a_newer_slarules_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer than this slarules knows"):
        SqliteStore(path)


def test_a_file_locked_by_another_process_is_a_clear_error_and_stays_intact(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    store = SqliteStore(path, busy_timeout=0.2)
    store.commit(Change(actions=[action("a")]))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time\n"
         f"db = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
         "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(StoreError, match="another process holds it"):
            store.commit(Change(actions=[action("b")]))
    finally:
        holder.kill()
        holder.wait()
    store.commit(Change(actions=[action("b")]))
    assert [e.action.key for e in store.outbox()] == ["a", "b"]
    assert store.due(NOW + timedelta(hours=1))[0].action.key == "a"
