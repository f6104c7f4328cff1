"""Packed ticket histories: lossless, and ordered as bytes exactly as events apply."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slarules import Event, EventError, _history
from slarules._history import TYPES, Record, pack, unpack

ids = st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), min_size=1)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
records = st.builds(
    lambda at, rank, event_id, fields, actor, role, public: Record(
        at, rank, event_id, TYPES[rank], fields or None, actor, role, public
    ),
    st.integers(-(2**62), 2**62),
    st.integers(0, len(TYPES) - 1),
    ids,
    st.dictionaries(st.text(), json_values, max_size=4),
    st.none() | ids,
    st.sampled_from(["agent", "requester", "system"]),
    st.booleans(),
)


@given(records)
def test_packing_loses_nothing(record: Record) -> None:
    packed = pack(record)
    assert unpack(packed) == record


@given(st.lists(records, min_size=2, max_size=6, unique_by=lambda r: r.id))
def test_packed_events_sort_as_events_apply(history: list[Record]) -> None:
    by_bytes = [unpack(packed) for packed in sorted(pack(record) for record in history)]
    assert [r[:3] for r in by_bytes] == sorted(r[:3] for r in history)


def test_ids_cannot_hold_nul() -> None:
    payload = {"id": "a\0b", "ticket": "T", "type": "ticket.created", "at": "2026-03-02T09:00:00Z"}
    with pytest.raises(EventError, match="`id`"):
        Event.parse(payload)


@given(st.lists(records, min_size=1, max_size=8, unique_by=lambda r: r.id))
def test_a_history_keeps_events_in_order_whatever_order_they_come_in(
    arrivals: list[Record],
) -> None:
    history = b""
    for record in arrivals:
        history = _history.add(history, pack(record))
    assert _history.records(history) == sorted(pack(record) for record in arrivals)
    assert _history.last(history) == max(pack(record) for record in arrivals)
    assert all(_history.has_id(history, record.id.encode()) for record in arrivals)
    assert not _history.has_id(history, b"never an id")


def test_an_id_is_not_found_by_its_prefix() -> None:
    history = _history.add(b"", pack(Record(0, 0, "evt-10", TYPES[0], None, None, "system", True)))
    assert _history.has_id(history, b"evt-10")
    assert not _history.has_id(history, b"evt-1")


def test_an_id_is_not_found_where_other_text_holds_it() -> None:
    # Its bytes and the NUL after it occur in the history, but not as an event's id.
    record = Record(0, 0, "x-evt-4", TYPES[2], {"note": "evt-3\0"}, "evt-2", "agent", True)
    history = _history.add(b"", pack(record))
    assert _history.has_id(history, b"x-evt-4")
    for elsewhere in (b"evt-4", b"evt-2", b"evt-3"):
        assert elsewhere + b"\0" in history
        assert not _history.has_id(history, elsewhere)


histories = st.lists(records, min_size=1, max_size=4, unique_by=lambda r: r.id)


@given(histories, histories, st.booleans())
def test_a_history_follows_another_when_joining_them_is_taking_its_events_after(
    first: list[Record], then: list[Record], repeat_an_id: bool
) -> None:
    if repeat_an_id:  # an event sent again, maybe later, under an id the first history has
        then = [then[0]._replace(id=first[-1].id), *then[1:]]
        then = list({record.id: record for record in reversed(then)}.values())
    history = later = b""
    for record in first:
        history = _history.add(history, pack(record))
    for record in then:
        later = _history.add(later, pack(record))
    earlier_ids = {record.id for record in first}
    expected = max(map(pack, first)) < min(map(pack, then)) and not any(
        record.id in earlier_ids for record in then
    )
    assert _history.follows(history, later) == expected
    if expected:
        assert _history.records(history + later) == sorted([*map(pack, first), *map(pack, then)])
