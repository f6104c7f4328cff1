"""The field mapping: a custom helpdesk's payloads as events, bad payloads and bad mappings
named by pointer and key."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from mutations import mutated, read_as_events
from slarules_webhook import FieldMapping, load_mapping

from slarules import PayloadError, PluginError

PAYLOADS = Path(__file__).parent / "payloads"
JSON_MAPPING = PAYLOADS / "acme_mapping.json"
TOML_MAPPING = PAYLOADS / "acme_mapping.toml"


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text("utf-8"))


@pytest.fixture(scope="module")
def mapping() -> FieldMapping:
    return load_mapping(str(JSON_MAPPING))


@pytest.fixture
def delivery() -> Any:
    return load("acme_delivery.json")


def test_a_delivery_of_several_kinds_becomes_events(mapping: FieldMapping, delivery: Any) -> None:
    events = mapping.to_events(delivery)

    assert [(e.id, e.type.value) for e in events] == [
        ("acme-9001", "ticket.created"),
        # 9002 is `ticket_viewed`, mapped to null: no event, on purpose.
        ("acme-9003", "ticket.replied"),
        ("acme-9004", "ticket.replied"),
        ("acme-9005", "ticket.updated"),
    ]
    created, internal, public, pending = events
    assert created.ticket == "1042"  # the helpdesk's number, as text
    assert created.at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert created.fields == {
        "status": "new",  # state 1, a number in the payload, through the value map
        "priority": "urgent",
        "group": "billing",
        "assignee": None,  # a null that is there stays null
        "node": "L1 triage",
        "tags": ["vip", "invoice"],
        "custom": {"region": "EMEA"},
        "channel": "email",
    }
    assert (created.actor.id, created.actor.role) == ("c-77", "requester")
    assert (internal.actor.role, internal.public) == ("agent", False)
    assert public.public is True
    assert pending.fields == {"status": "pending", "assignee": "u-7", "channel": "email"}


def test_the_toml_mapping_reads_the_same(mapping: FieldMapping, delivery: Any) -> None:
    assert load_mapping(str(TOML_MAPPING)).to_events(delivery) == mapping.to_events(delivery)


def test_inline_json_is_a_mapping_too() -> None:
    inline = json.dumps(
        {
            "id": "/uuid",
            "ticket": "/case",
            "type": {"value": "ticket.updated"},
            "at": {"pointer": "/ts", "format": "unix_ms"},
            "fields": {"status": {"pointer": "/status", "default": "open"}},
        }
    )
    [event] = load_mapping(inline).to_events({"uuid": "u1", "case": "C-1", "ts": 1772442000000})
    assert event.at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert event.fields == {"status": "open"}  # the default, for a key that is not there
    assert (event.actor.role, event.public) == ("system", True)


def test_a_single_payload_without_an_events_pointer_is_one_event() -> None:
    mapping = FieldMapping.model_validate(
        {
            "id": "/delivery/~1id",  # a key with a slash in it, escaped
            "ticket": "/t",
            "type": {"value": "ticket.created"},
            "at": {"pointer": "/at", "format": "unix"},
        }
    )
    [event] = mapping.to_events({"delivery": {"/id": "d-1"}, "t": 7, "at": "1772442000"})
    assert (event.id, event.ticket) == ("d-1", "7")


def test_a_list_element_pointer_and_a_list_of_values(mapping: FieldMapping) -> None:
    rules = {"id": "/i", "ticket": "/t", "type": {"value": "ticket.updated"}, "at": "/at"}
    rules["fields"] = {
        "assignee": "/owners/0",
        "tags": {"pointer": "/labels", "values": {"a": "alpha", "b": "beta"}},
    }
    payload = {"i": "1", "t": "T", "at": "2026-03-02T09:00:00Z"}
    [event] = FieldMapping.model_validate(rules).to_events(
        {**payload, "owners": ["u1", "u2"], "labels": ["b", "a"]}
    )
    assert event.fields == {"assignee": "u1", "tags": ["beta", "alpha"]}


# -- bad payloads ------------------------------------------------------------------------------


def broken(delivery: Any, index: int, path: list[str], value: Any = ...) -> Any:
    """The delivery with one key of one element changed (or removed, for ``...``)."""
    changed = copy.deepcopy(delivery)
    target = changed["events"][index]
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("index", "path", "value", "pointer", "reason"),
    [
        (
            0,
            ["ticket", "number"],
            ...,
            "/events/0/ticket/number",
            "required for `ticket`: `/events/0/ticket` has no key `number`",
        ),
        (0, ["event_id"], ..., "/events/0/event_id", "required for `id`"),
        (0, ["occurred_at"], ..., "/events/0/occurred_at", "required for `at`"),
        (0, ["kind"], "ticket_merged", "/events/0/kind", "`ticket_merged` is not in the value map"),
        (0, ["ticket", "state"], 7, "/events/0/ticket/state", "`7` is not in the value map"),
        (3, ["author", "kind"], "robot", "/events/3/author/kind", "`robot` is not in"),
        (0, ["occurred_at"], "2026-03-02T10:00:00", "/events/0/occurred_at", "naive timestamp"),
        (0, ["occurred_at"], "next tuesday", "/events/0/occurred_at", "not an ISO 8601"),
        (0, ["ticket", "labels"], "vip", "/events/0/ticket/labels", "`each` needs a list"),
        (0, ["ticket", "labels"], [{"id": 1}], "/events/0/ticket/labels/0/name", "`each`"),
        (4, ["ticket", "number"], True, "/events/4/ticket/number", "valid string"),
        (3, ["comment", "internal"], "no", "/events/3/comment/internal", "`no` is not in"),
    ],
)
def test_a_bad_payload_names_the_pointer(
    mapping: FieldMapping,
    delivery: Any,
    index: int,
    path: list[str],
    value: Any,
    pointer: str,
    reason: str,
) -> None:
    payload = broken(delivery, index, path, value)
    with pytest.raises(PayloadError) as raised:
        mapping.to_events(payload)
    assert raised.value.field == pointer
    assert reason in raised.value.reason


def test_a_kind_that_maps_to_no_event_type_is_an_error() -> None:
    mapping = FieldMapping.model_validate(
        {"id": "/i", "ticket": "/t", "type": "/kind", "at": "/at"}
    )
    with pytest.raises(PayloadError, match=r"unknown kind `ticket\.deleted`") as raised:
        mapping.to_events({"i": "1", "t": "T", "kind": "ticket.deleted", "at": "2026-03-02T09:00Z"})
    assert raised.value.field == "/kind"


def test_the_events_pointer_must_find_a_list(mapping: FieldMapping) -> None:
    with pytest.raises(PayloadError, match="no list of events here: the payload has no key"):
        mapping.to_events({"account": "acme"})
    with pytest.raises(PayloadError) as raised:
        mapping.to_events({"account": "acme"})
    assert raised.value.field == "/events"
    with pytest.raises(PayloadError, match="expected a list of events"):
        mapping.to_events({"account": "acme", "events": {"0": {}}})


def test_a_template_names_the_pointer_that_finds_nothing(
    mapping: FieldMapping, delivery: Any
) -> None:
    del delivery["account"]
    with pytest.raises(PayloadError) as raised:
        mapping.to_events(delivery)
    assert raised.value.field == "/account"  # `$/account`: the whole payload
    assert "required for `id`" in raised.value.reason


def test_the_first_bad_element_stops_the_whole_payload(
    mapping: FieldMapping, delivery: Any
) -> None:
    """No partial delivery: the request is kept whole (engine.rejected) and retried whole."""
    payload = broken(delivery, 4, ["ticket", "state"], "9")
    with pytest.raises(PayloadError) as raised:
        mapping.to_events(payload)
    assert raised.value.field == "/events/4/ticket/state"


# -- bad mappings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"id": "/i", "ticket": "/t", "type": "/k"}, "needs `at`"),
        (
            {"id": "i", "ticket": "/t", "type": "/k", "at": "/a"},
            "key `id.pointer`: `i` is not a JSON",
        ),
        ({"id": "/i", "ticket": "/t", "type": "/k", "at": "/a~2"}, "key `at.pointer`: `/a~2`"),
        ({"id": "/i", "ticket": "/t", "type": "/k", "at": "/a", "colour": "/c"}, "key `colour`"),
        (
            {"id": "/i", "ticket": "/t", "type": "/k", "at": {"pointer": "/a", "format": "rfc"}},
            "key `at.format`",
        ),
        (
            {"id": "/i", "ticket": "/t", "type": "/k", "at": {"pointer": "/a", "value": "x"}},
            "key `at`: give exactly one of `pointer`, `value` and `template`",
        ),
        (
            {"id": "/i", "ticket": "/t", "type": "/k", "at": "/a", "fields": {"st atus": "/s"}},
            "key `fields.st atus`",
        ),
        (
            {"id": "/i", "ticket": "/t", "type": "/k", "at": "/a", "fields": {"s": {"each": "/x"}}},
            "key `fields.s`",
        ),
        (
            {"id": {"template": "no braces"}, "ticket": "/t", "type": "/k", "at": "/a"},
            "`id.template`",
        ),
        (
            {"cloudevents": {"types": {"a.b": "ticket.closed"}}},
            "`ticket.closed` is not an event type",
        ),
        (
            {"id": "/i", "ticket": "/t", "type": "/k", "at": {"pointer": "/a", "ignore": ["x"]}},
            "`at.ignore`: only `type` ignores values",
        ),
        ([1, 2], "key `(top)`"),
    ],
)
def test_a_bad_mapping_names_the_setting_and_the_key(
    tmp_path: Path, mapping: Any, message: str
) -> None:
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping))
    with pytest.raises(PluginError) as raised:
        load_mapping(str(path))
    text = str(raised.value)
    assert "`SLARULES_WEBHOOK_MAPPING` (mapping)" in text
    assert f"file `{path}`" in text
    assert message in text


def test_a_mapping_file_that_does_not_parse_says_where(tmp_path: Path) -> None:
    bad_json = tmp_path / "m.json"
    bad_json.write_text('{"id": "/i",\n "ticket": }')
    with pytest.raises(PluginError, match="is not JSON: line 2 column 12"):
        load_mapping(str(bad_json))
    bad_toml = tmp_path / "m.toml"
    bad_toml.write_text("id = \n")
    with pytest.raises(PluginError, match="is not TOML"):
        load_mapping(str(bad_toml))
    with pytest.raises(PluginError, match="inline JSON is not JSON"):
        load_mapping("{'id': 1}")
    with pytest.raises(PluginError, match="cannot read file"):
        load_mapping(str(tmp_path / "missing.json"))
    other = tmp_path / "m.yaml"
    other.write_text("id: /i")
    with pytest.raises(PluginError, match=r"give a `\.json` or `\.toml` file"):
        load_mapping(str(other))


def test_a_mapping_may_translate_cloud_event_types_only() -> None:
    mapping = load_mapping('{"cloudevents": {"types": {"com.acme.opened": "ticket.created"}}}')
    assert not mapping.maps_payloads
    assert mapping.cloudevents.resolved == {"com.acme.opened": "ticket.created"}


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_changed_delivery_gives_events_or_names_the_pointer(data: st.DataObject) -> None:
    mapping = load_mapping(str(JSON_MAPPING))
    changed = data.draw(mutated(load("acme_delivery.json")))
    read = read_as_events(lambda: mapping.to_events(changed))
    event(f"{'events' if read else 'payload error'}")
