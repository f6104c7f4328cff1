"""Hostile input: arbitrary text, mutations of valid files, huge files, deep nesting.

Parsing may only ever raise :class:`~slarules.PolicyError` subclasses, quickly.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slarules import PolicyError, PolicySyntaxError, parse_policies
from slarules.dsl.parser import MAX_NESTING, MAX_SOURCE_BYTES

VALID_TEXTS = [
    path.read_text(encoding="utf-8")
    for path in sorted((Path(__file__).parent / "language" / "valid").glob("*.sla"))
]
# Characters that matter to the grammar, so that mutations reach deep into the parser.
INTERESTING = [*'{}()[]",#-:%.=<>!\n \t\\', "x", "9", "é", "\x00"]


def _load(text: str) -> None:
    with contextlib.suppress(PolicyError):
        parse_policies(text, source="fuzz.sla")


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    _load(text)


@settings(max_examples=300)
@given(
    st.sampled_from(VALID_TEXTS),
    st.data(),
    st.sampled_from(["delete", "insert", "replace"]),
)
def test_single_character_mutations_of_valid_files(
    text: str, data: st.DataObject, operation: str
) -> None:
    at = data.draw(st.integers(0, len(text) - 1))
    character = data.draw(st.sampled_from(INTERESTING) | st.characters())
    if operation == "delete":
        mutated = text[:at] + text[at + 1 :]
    elif operation == "insert":
        mutated = text[:at] + character + text[at:]
    else:
        mutated = text[:at] + character + text[at + 1 :]
    _load(mutated)


def test_a_20_mb_file_is_refused_with_a_clear_error() -> None:
    policy = 'policy "p{}" {{\n  applies when priority == "urgent"\n  resolution within 8h\n}}\n'
    text = "".join(policy.format(i) for i in range(20 * 1024 * 1024 // len(policy) + 1))
    assert len(text.encode()) > 20 * 1024 * 1024 > MAX_SOURCE_BYTES
    with pytest.raises(PolicySyntaxError) as error:
        parse_policies(text, source="huge.sla")
    assert str(error.value).startswith("huge.sla:1:1: error[SLA004]: the file is 20.4 MB; ")


@pytest.mark.parametrize(
    "condition",
    [
        "(" * 10_000 + "overdue" + ")" * 10_000,
        "not " * 10_000 + "overdue",
        "(overdue and " * 10_000 + "met" + ")" * 10_000,
        "tags in " + "[" * 10_000 + "]" * 10_000,
    ],
    ids=["parentheses", "not", "and", "lists"],
)
def test_nesting_10000_deep_is_refused_with_a_clear_error(condition: str) -> None:
    text = f'trigger "deep" when {condition} then notify\n'
    with pytest.raises(PolicyError) as error:
        parse_policies(text, source="deep.sla")
    assert f"error[SLA005]: this is nested more than {MAX_NESTING} levels deep" in str(error.value)


def test_an_include_of_a_device_is_refused(tmp_path: Path) -> None:
    policy = tmp_path / "main.sla"
    policy.write_text('include "/dev/zero"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"cannot include `/dev/zero`: no such file"):
        parse_policies(policy.read_text(), source=str(policy))


def test_an_include_path_with_a_nul_character_is_a_diagnostic() -> None:
    # Found by the mutation test above: os.path raises ValueError on such a path.
    with pytest.raises(PolicyError, match=r"SLA010.*NUL character"):
        parse_policies('include "shared\x00.sla"\n', source="main.sla")
