"""A ticket's events, packed, in time order, in one buffer per ticket.

The engine keeps every event of every open ticket so that a late event can replay the ticket.
Kept as objects (a tuple, an id string, an integer, a dict of fields) an event costs a few
hundred bytes; packed it costs its content, and a ticket's events share one ``bytes`` object (not
one per event), each followed by its length so that the last is found from the end. The bytes are
made anew for each event: a ticket takes tens of events, so the copy is cheap, and unlike a
``bytearray``, which keeps an eighth or more spare for growth, ``bytes`` hold no more than they
need.
Packed events also sort by ``(at, rank, id)`` as plain bytes: the instant comes first, big-endian
and offset to be unsigned, then the rank of the event type, then the id up to a NUL byte (ids
cannot contain NUL).

Layout: ``at`` (8 bytes) ``rank`` (1) ``id`` NUL ``who`` (1: role, public, has actor)
``actor id`` NUL ``fields`` (empty when there are none). Fields are JSON values, which
:mod:`marshal` writes four times faster than :mod:`json` and a little smaller; the packed form
never leaves the process (snapshots store events as JSON).
"""

from __future__ import annotations

import marshal
import struct
from typing import Any, NamedTuple

from slarules._instants import MICROSECOND, from_micros
from slarules.events import Event

__all__ = [
    "Record",
    "add",
    "follows",
    "has_id",
    "instant_and_id",
    "last",
    "pack",
    "records",
    "unpack",
]

# Events at the same instant apply in lifecycle order, then by id, whatever order they arrived in.
TYPES = (
    "ticket.created",
    "contact.offered",
    "ticket.updated",
    "ticket.replied",
    "contact.answered",
    "contact.abandoned",
)
_RANK = {kind: rank for rank, kind in enumerate(TYPES)}
_ROLES = ("agent", "requester", "system")
_ROLE_CODES = {role: code for code, role in enumerate(_ROLES)}
# The id's terminating NUL and the ``who`` byte, for each ``who``.
_WHO = [bytes((0, who)) for who in range(len(_ROLES) << 2)]
_HEAD = struct.Struct(">QB")
_LENGTH = struct.Struct(">I")
_OFFSET = 1 << 63
_EPOCH = from_micros(0)


class Record(NamedTuple):
    """An event as a ticket step reads it."""

    at: int  # microseconds since the epoch
    rank: int
    id: str
    type: str
    fields: dict[str, Any] | None
    actor: str | None
    role: str
    public: bool

    @classmethod
    def of(cls, event: Event) -> Record:
        rank = _RANK[event.type]
        actor = event.actor
        return cls(
            (event.at - _EPOCH) // MICROSECOND,
            rank,
            event.id,
            TYPES[rank],  # the type's value, without the enum's descriptor
            event.fields or None,
            actor.id,
            actor.role,
            event.public,
        )

    def to_event(self, ticket: str) -> dict[str, Any]:
        event: dict[str, Any] = {
            "id": self.id,
            "ticket": ticket,
            "type": self.type,
            "at": from_micros(self.at).isoformat(),
            "actor": {"id": self.actor, "role": self.role},
        }
        if self.fields:
            event["fields"] = self.fields
        if self.type == "ticket.replied":
            event["public"] = self.public
        return event


def pack(record: Record) -> bytes:
    at, rank, event_id, _, fields, actor, role, public = record
    who = _WHO[_ROLE_CODES[role] << 2 | public << 1 | (actor is not None)]
    return b"".join(
        (
            _HEAD.pack(at + _OFFSET, rank),
            event_id.encode(),
            who,
            (actor or "").encode(),
            b"\0",
            marshal.dumps(fields) if fields else b"",
        )
    )


def unpack(packed: bytes) -> Record:
    at, rank = _HEAD.unpack_from(packed)
    id_end = packed.index(0, _HEAD.size)
    who = packed[id_end + 1]
    actor_end = packed.index(0, id_end + 2)
    fields = marshal.loads(packed[actor_end + 1 :]) if len(packed) > actor_end + 1 else None
    return Record(
        at - _OFFSET,
        rank,
        packed[_HEAD.size : id_end].decode(),
        TYPES[rank],
        fields,
        packed[id_end + 2 : actor_end].decode() if who & 1 else None,
        _ROLES[who >> 2],
        bool(who & 2),
    )


def instant_and_id(packed: bytes) -> tuple[int, bytes]:
    """A packed event's instant and id, read in place."""
    at, _ = _HEAD.unpack_from(packed)
    return at - _OFFSET, packed[_HEAD.size : packed.index(0, _HEAD.size)]


# -- a ticket's history: packed events, each followed by its length ------------------------------


def records(history: bytes) -> list[bytes]:
    """The packed events, in time order."""
    return [history[start:end] for start, end in _bounds(history)]


def last(history: bytes) -> bytes:
    (length,) = _LENGTH.unpack_from(history, len(history) - _LENGTH.size)
    end = len(history) - _LENGTH.size
    return history[end - length : end]


def add(history: bytes, packed: bytes) -> bytes:
    """The history with a packed event put in its place: at the end, unless it sorts before
    events already there (a late event)."""
    entry = packed + _LENGTH.pack(len(packed))
    if not history or packed > last(history):
        return history + entry
    for start, end in _bounds(history):
        if history[start:end] > packed:
            return history[:start] + entry + history[start:]
    raise AssertionError("an event sorts before the last one but after all")  # pragma: no cover


def follows(history: bytes, later: bytes) -> bool:
    """Whether the packed events of the history ``later`` all sort after those of ``history``
    and repeat none of its ids: then ``history + later`` is the history of them all."""
    (length,) = _LENGTH.unpack_from(later, len(later) - _LENGTH.size)
    # Most tickets of a chunk of events have one there: that one needs no splitting.
    taken = [later[:length]] if length + _LENGTH.size == len(later) else records(later)
    if taken[0] <= last(history):
        return False
    for packed in taken:
        wanted = packed[_HEAD.size : packed.index(0, _HEAD.size) + 1]  # the id and its NUL
        if wanted in history and has_id(history, wanted[:-1]):
            return False
    return True


def has_id(history: bytes, event_id: bytes) -> bool:
    # Asked for every event, and nearly always false: an id found nowhere in the history is
    # none of its ids; else the ids are compared in place, the latest event first.
    wanted = event_id + b"\0"
    if wanted not in history:
        return False
    end = len(history)
    while end:
        end -= _LENGTH.size
        (length,) = _LENGTH.unpack_from(history, end)
        end -= length
        if history.startswith(wanted, end + _HEAD.size):
            return True
    return False


def _bounds(history: bytes) -> list[tuple[int, int]]:
    """Where each packed event starts and ends, in time order."""
    bounds = []
    end = len(history)
    while end:
        end -= _LENGTH.size
        (length,) = _LENGTH.unpack_from(history, end)
        bounds.append((end - length, end))
        end -= length
    bounds.reverse()
    return bounds
