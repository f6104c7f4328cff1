"""Compiled conditions: what they read, how missing values compare, and that the fast paths for
literals mean exactly what the general operators mean."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slarules import parse_policies
from slarules.conditions import _OPERATORS, _against_literal, compile_condition
from slarules.dsl import ast


class FieldsOnly:
    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields

    def clock(self, metric: str, attribute: str) -> Any:
        raise AssertionError("a field condition read a clock")

    def node(self, attribute: str) -> Any:
        raise AssertionError("a field condition read the node")

    def predicate(self, name: str) -> bool:
        raise AssertionError("a field condition read a predicate")


def condition_of(text: str) -> ast.Expression:
    policies = parse_policies(f'trigger "t" when {text} then notify')
    return policies.triggers["t"].when


@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        ('priority == "urgent"', {"priority": "urgent"}, True),
        ('priority == "urgent"', {}, False),
        ('priority != "urgent"', {}, True),  # a missing value differs from every literal
        ("custom.seats > 100", {"custom": {"seats": 500}}, True),
        ("custom.seats > 100", {"custom": {"seats": "500"}}, False),  # no order across types
        ("custom.seats > 100", {"custom": None}, False),
        ("fields.region == 'x'".replace("'", '"'), {"region": "x"}, True),
        ('"vip" in tags', {"tags": ["vip", "b"]}, True),
        ('"vip" in tags', {"tags": None}, False),
        ('status not-in ["solved", "closed"]', {}, True),
        ('subject contains "refund"', {"subject": "Refund please"}, False),
        ('subject contains "refund"', {"subject": "a refund please"}, True),
        ('priority == "urgent" and not ("spam" in tags)', {"priority": "urgent", "tags": []}, True),
        ('priority == "low" or channel == "phone" or group == "x"', {"channel": "phone"}, True),
    ],
)
def test_field_conditions(text: str, fields: dict[str, Any], expected: bool) -> None:
    condition = compile_condition(condition_of(text), frozenset())
    assert condition.fields_only
    assert condition(FieldsOnly(fields)) is expected


@pytest.mark.parametrize(
    ("text", "fields", "expected"),
    [
        # A field read against a duration: a number of seconds, or a duration as written.
        ("custom.limit > 59m", {"custom": {"limit": 3600}}, True),
        ("custom.limit > 1h", {"custom": {"limit": 3600}}, False),
        ("custom.limit == 1h30m", {"custom": {"limit": "1h30m"}}, True),
        ("custom.limit == 1h30m", {"custom": {"limit": 5400.0}}, True),
        ("custom.limit < 1h", {"custom": {"limit": "soon"}}, False),  # no duration: no order
        ("custom.limit < 1h", {"custom": {"limit": True}}, False),
        ("custom.limit < 1h", {}, False),
        ("custom.limit < 1h", {"custom": {"limit": -1e308}}, False),  # beyond any timedelta
        ("1h < custom.limit", {"custom": {"limit": "2h"}}, True),  # either side
        # `created_at` is an instant: ISO 8601 with an offset, or Unix seconds; naive is none.
        ("created_at == custom.at", {"created_at": "2026-03-02T09:00:00Z",
                                     "custom": {"at": "2026-03-02T10:00:00+01:00"}}, True),
        ("created_at == custom.at", {"created_at": 1772442000,
                                     "custom": {"at": "2026-03-02T09:00:00Z"}}, True),
        ("fields.created_at == custom.at", {"created_at": 1772442000,
                                            "custom": {"at": "2026-03-02T09:00:00Z"}}, True),
        ("created_at < custom.at", {"created_at": "2026-03-02T09:00:00",
                                    "custom": {"at": "2026-03-02T10:00:00Z"}}, False),
        ("created_at < custom.at", {"created_at": -1e300,
                                    "custom": {"at": "2026-03-02T10:00:00Z"}}, False),
        # Other fields keep their JSON: compared with each other as they are.
        ("custom.a == custom.b", {"custom": {"a": "1h", "b": 3600}}, False),
    ],
)  # fmt: skip
def test_a_field_is_read_as_the_duration_or_instant_it_is_compared_with(
    text: str, fields: dict[str, Any], expected: bool
) -> None:
    condition = compile_condition(condition_of(text), frozenset())
    assert condition(FieldsOnly(fields)) is expected


def test_what_a_condition_reads() -> None:
    policies = parse_policies('trigger "t" when overdue and node.unhandled then notify')
    read = compile_condition(policies.triggers["t"].when, frozenset(policies.metrics))
    assert (read.metrics, read.node, read.fields_only) == (frozenset({"*"}), True, False)
    timed = compile_condition(
        condition_of("resolution.remaining < 1h"), frozenset(policies.metrics)
    )
    assert [(t.metric, t.attribute, t.value(None)) for t in timed.thresholds] == [  # type: ignore[arg-type]
        ("resolution", "remaining", 3_600_000_000)
    ]


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ('customer.tier == "enterprise" and priority == "urgent"', {"customer", "priority"}),
        ('fields.region == "x" or "vip" in tags', {"region", "tags"}),
        ("fields == 1", {"*"}),  # the fields as a whole: any change of them
        ("overdue and node.unhandled", set()),  # the node's fields are the engine's to know
    ],
)
def test_the_fields_a_condition_reads(text: str, fields: set[str]) -> None:
    policies = parse_policies("")
    read = compile_condition(condition_of(text), frozenset(policies.metrics))
    assert read.fields == fields


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-3, 3, allow_nan=False),
    st.sampled_from(["a", "b", ""]),
    st.lists(st.sampled_from(["a", "b", 1]), max_size=3),
)
literals = st.one_of(
    st.integers(-3, 3),
    st.floats(-3, 3, allow_nan=False),
    st.sampled_from(["a", "b", ""]),
    st.lists(st.one_of(st.sampled_from(["a", "b"]), st.integers(-1, 1)), max_size=3),
)


@given(st.sampled_from(sorted(_OPERATORS)), values, literals)
def test_fast_paths_mean_what_the_operators_mean(operator: str, value: Any, literal: Any) -> None:
    fast = _against_literal(operator, lambda view: value, literal)
    if fast is not None:
        assert fast(None) == _OPERATORS[operator](value, literal)  # type: ignore[arg-type]
