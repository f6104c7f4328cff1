"""Real payloads with one value changed: what a helpdesk sends after an upgrade, a custom field
gone wrong, or a proxy that rewrote a body. Adapters must turn every such payload into events or
a PayloadError naming where, never into a crash."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from slarules import Event, PayloadError, parse_policies

# JSON values, with the ones that break code written for the usual ones more often.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "2026-03-02T09:00:00Z", "2026-03-02 09:00:00", "T", "-1", 1e308]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=5,
)


def _places(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in ``document``, the document itself (``()``) first."""
    found = [path]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _places(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _places(value, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """``document`` with one value inside it replaced by another JSON value, or removed (a
    body that is no JSON object at all is each adapter's first check, tested on its own)."""
    changed = copy.deepcopy(document)
    *parents, last = draw(st.sampled_from(_places(changed)[1:]))
    parent = changed
    for key in parents:
        parent = parent[key]
    if draw(st.booleans()):
        parent[last] = draw(json_values)
    else:
        del parent[last]
    return changed


def read_as_events(parse: Callable[[], Sequence[Event]]) -> bool:
    """Whether ``parse`` gave events (``False``: a PayloadError naming a field); anything else
    it raises goes through, failing the test."""
    try:
        events = parse()
    except PayloadError as error:
        field = error.field
    else:
        assert all(isinstance(event, Event) for event in events)
        return True
    assert field, "a PayloadError names where"
    return False


def read_as_policy_file(convert: Callable[[], str], source: str) -> bool:
    """Whether ``convert`` (an importer) gave a policy file, which must then load without an
    error (``False``: a PayloadError naming a field); anything else it raises goes through."""
    try:
        text = convert()
    except PayloadError as error:
        field = error.field
    else:
        parse_policies(text, source)
        return True
    assert field, "a PayloadError names where"
    return False
