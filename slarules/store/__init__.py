"""Durable state for the runtime: the event log, each ticket's given actions and next timer, the
action outbox, and rejected input.

A :class:`Store` writes each :class:`Change` in one transaction, so that an event, the state it
moved and the actions it made due are kept together or not at all. Two implementations share
one contract (``tests/test_store.py``): :class:`MemoryStore` for tests and embedding, and
:class:`SqliteStore`, the embedded default (one file, WAL, versioned schema).
"""

from slarules.store._base import Change, OutboxEntry, Status, Store, StoreError, TicketRecord
from slarules.store.memory import MemoryStore
from slarules.store.sqlite import SqliteStore

__all__ = [
    "Change",
    "MemoryStore",
    "OutboxEntry",
    "SqliteStore",
    "Status",
    "Store",
    "StoreError",
    "TicketRecord",
    "open_store",
]


def open_store(url: str) -> Store:
    """A store from a URL: ``sqlite:///path/to/file.db`` (the default kind) or ``memory://``."""
    if url == "memory://":
        return MemoryStore()
    if url.startswith("sqlite:///"):
        return SqliteStore(url.removeprefix("sqlite:///"))
    raise StoreError(f"unknown store URL `{url}`: use sqlite:///path/to/file.db or memory://")
