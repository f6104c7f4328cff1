"""The embedded default store: one SQLite file in WAL mode, its schema versioned by migrations.

Every :class:`~slarules.store.Change` is one transaction with ``synchronous=FULL``: when
:meth:`SqliteStore.commit` returns, the change survives a crash of the process or the machine.
A file locked by another process is waited on for ``busy_timeout`` seconds, then reported as a
:class:`~slarules.store.StoreError`; it is never written half.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from slarules._instants import from_micros, to_micros
from slarules.actions import Action
from slarules.engine import EngineState, EngineStats, Rejected, TicketHistory
from slarules.store._base import Change, OutboxEntry, Status, Store, StoreError

__all__ = ["MIGRATIONS", "SqliteStore"]

# Each entry moves the schema one version up (`PRAGMA user_version`); never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket TEXT NOT NULL,
        id TEXT NOT NULL,
        source TEXT,
        body TEXT NOT NULL,          -- the event as JSON
        UNIQUE (ticket, id)
    );
    CREATE TABLE tickets (
        ticket TEXT PRIMARY KEY,
        source TEXT,
        fired BLOB NOT NULL,         -- 64-bit fingerprints of the keys already given
        wakeup INTEGER               -- the pending timer, microseconds since the epoch
    );
    CREATE INDEX tickets_by_wakeup ON tickets (wakeup) WHERE wakeup IS NOT NULL;
    CREATE TABLE outbox (
        key TEXT PRIMARY KEY,        -- the action's idempotency key
        action TEXT NOT NULL,        -- the action as JSON
        status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'dead', 'dropped')),
        attempts INTEGER NOT NULL,
        next_attempt INTEGER NOT NULL,
        last_error TEXT,
        seq INTEGER NOT NULL         -- insertion order
    );
    CREATE INDEX outbox_due ON outbox (next_attempt) WHERE status = 'pending';
    CREATE TABLE rejected (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL           -- the Rejected record as JSON
    );
    CREATE TABLE engine (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    """
    -- Set while the ticket's timers wait for a fixed engine (Engine.timers_held_since).
    ALTER TABLE tickets ADD COLUMN timers_held_since INTEGER;
    """,
)


_EVENTS_READ_AT_ONCE = 10_000
_LAST_SEQ = (1 << 63) - 1


class SqliteStore(Store):
    def __init__(self, path: str | Path, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._pid = os.getpid()  # its connection is of this process
        try:
            self._db = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.Error as error:
            raise StoreError(f"cannot open `{self.path}`: {_reason(error)}") from None

    # -- state ---------------------------------------------------------------------------------

    def load(self) -> EngineState:
        with self._lock:
            db = self._db
            events: dict[str, list[dict[str, object]]] = {}
            for ticket, body in db.execute("SELECT ticket, body FROM events ORDER BY seq"):
                events.setdefault(ticket, []).append(json.loads(body))
            records = {
                ticket: (source, fired, held)
                for ticket, source, fired, held in db.execute(
                    "SELECT ticket, source, fired, timers_held_since FROM tickets"
                )
            }
            rejected = [
                Rejected.model_validate_json(body)
                for (body,) in db.execute("SELECT body FROM rejected ORDER BY id")
            ]
            now = db.execute("SELECT value FROM engine WHERE key = 'now'").fetchone()
        tickets = []
        for ticket, ticket_events in events.items():
            source, fired, held = records.get(ticket, (None, b"", None))
            tickets.append(
                TicketHistory(
                    ticket=ticket,
                    events=ticket_events,
                    fired=_unpack(fired),
                    source=source,
                    timers_held_since=None if held is None else from_micros(held),
                )
            )
        return EngineState(
            now=None if now is None else datetime.fromisoformat(now[0]),
            tickets=tickets,
            rejected=rejected,
            stats=EngineStats(),  # counters start from zero with the process
        )

    def events(self) -> Iterator[str]:
        return self._events_after(self._db, self._lock, 0, None)

    def event_spans(self, size: int) -> list[tuple[int, int]]:
        """Spans of sequence numbers, ``size`` numbers each: about ``size`` events, as events
        are never deleted."""
        with self._lock:
            (last,) = self._db.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        return [(start, min(start + size, last)) for start in range(0, last, size)] or [(0, 0)]

    def events_in(self, span: tuple[int, int]) -> Iterator[str]:
        """The events numbered after ``span[0]`` up to ``span[1]``. A connection does not
        survive a fork: a forked process reads through one of its own, read-only."""
        if os.getpid() == self._pid:
            yield from self._events_after(self._db, self._lock, *span)
            return
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            # Nor does a lock: another thread may have held it then, and this one is free.
            yield from self._events_after(connection, contextlib.nullcontext(), *span)

    @staticmethod
    def _events_after(
        db: sqlite3.Connection,
        lock: contextlib.AbstractContextManager[object],
        after: int,
        last: int | None,
    ) -> Iterator[str]:
        # In batches, each read under the lock and given out of it: the runtime may commit in
        # between, and a report never holds the store.
        while True:
            with lock:
                rows = db.execute(
                    "SELECT seq, body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                    (after, _LAST_SEQ if last is None else last, _EVENTS_READ_AT_ONCE),
                ).fetchall()
            if not rows:
                return
            for _, body in rows:
                yield body
            after = rows[-1][0]

    def commit(self, change: Change) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO events (ticket, id, source, body) VALUES (?, ?, ?, ?)",
                [
                    (event.ticket, event.id, source, event.model_dump_json())
                    for event, source in change.events
                ],
            )
            db.executemany(
                "INSERT OR REPLACE INTO tickets"
                " (ticket, source, fired, wakeup, timers_held_since) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        ticket,
                        record.source,
                        _pack(record.fired),
                        _micros(record.wakeup),
                        _micros(record.timers_held_since),
                    )
                    for ticket, record in change.tickets.items()
                ],
            )
            db.executemany(
                "INSERT OR IGNORE INTO outbox (key, action, status, attempts, next_attempt, seq)"
                " VALUES (?, ?, 'pending', 0, ?, (SELECT count(*) FROM outbox))",
                [
                    (action.key, action.model_dump_json(), to_micros(action.at))
                    for action in change.actions
                ],
            )
            db.executemany(
                "INSERT INTO rejected (body) VALUES (?)",
                [(rejected.model_dump_json(),) for rejected in change.rejected],
            )
            db.executemany("DELETE FROM rejected WHERE id = ?", [(id_,) for id_ in change.dropped])
            if change.now is not None:
                db.execute(
                    "INSERT OR REPLACE INTO engine (key, value) VALUES ('now', ?)",
                    (change.now.isoformat(),),
                )

    # -- the outbox ----------------------------------------------------------------------------

    def due(self, now: datetime, limit: int = 100) -> list[OutboxEntry]:
        return self._entries(
            "WHERE status = 'pending' AND next_attempt <= ? ORDER BY next_attempt, seq LIMIT ?",
            (to_micros(now), limit),
        )

    def next_attempt(self) -> datetime | None:
        with self._lock:
            row = self._db.execute(
                "SELECT min(next_attempt) FROM outbox WHERE status = 'pending'"
            ).fetchone()
        return None if row[0] is None else from_micros(row[0])

    def settle(
        self,
        key: str,
        status: Status,
        attempts: int,
        next_attempt: datetime,
        error: str | None = None,
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET status = ?, attempts = ?, next_attempt = ?, last_error = ?"
                " WHERE key = ?",
                (status, attempts, to_micros(next_attempt), error, key),
            )

    def outbox(self, status: Status | None = None) -> list[OutboxEntry]:
        if status is None:
            return self._entries("ORDER BY seq", ())
        return self._entries("WHERE status = ? ORDER BY seq", (status,))

    # -- rejected input and counts -------------------------------------------------------------

    def rejected(self) -> list[tuple[int, Rejected]]:
        with self._lock:
            rows = self._db.execute("SELECT id, body FROM rejected ORDER BY id").fetchall()
        return [(id_, Rejected.model_validate_json(body)) for id_, body in rows]

    def drop_rejected(self, ids: Sequence[int]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM rejected WHERE id = ?", [(id_,) for id_ in ids])

    def pending_timers(self) -> int:
        with self._lock:
            (count,) = self._db.execute(
                "SELECT count(*) FROM tickets WHERE wakeup IS NOT NULL"
            ).fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- inside --------------------------------------------------------------------------------

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version > len(MIGRATIONS):
            raise StoreError(
                f"`{self.path}` has schema version {version}, newer than this slarules knows "
                f"({len(MIGRATIONS)}): upgrade slarules"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits first; the version moves inside the migration's transaction.
            self._db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise StoreError(f"cannot write `{self.path}`: {_reason(error)}") from None
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            try:
                db.execute("COMMIT")
            except sqlite3.Error as error:
                db.execute("ROLLBACK")
                raise StoreError(f"cannot write `{self.path}`: {_reason(error)}") from None

    def _entries(self, where: str, parameters: tuple[object, ...]) -> list[OutboxEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT action, status, attempts, next_attempt, last_error FROM outbox " + where,
                parameters,
            ).fetchall()
        return [
            OutboxEntry(
                Action.model_validate_json(action), status, attempts, from_micros(due), error
            )
            for action, status, attempts, due, error in rows
        ]


def _reason(error: sqlite3.Error) -> str:
    if "locked" in str(error) or "busy" in str(error):
        return f"{error}: another process holds it; stop it or use another file"
    return str(error)


def _pack(fired: Sequence[int]) -> bytes:
    return array("Q", fired).tobytes()


def _unpack(blob: bytes) -> list[int]:
    packed: array[int] = array("Q")
    packed.frombytes(blob)
    return packed.tolist()


def _micros(instant: datetime | None) -> int | None:
    return None if instant is None else to_micros(instant)
