"""The canonical layout of policy files: fixed cases, comments in every position, parentheses."""

from __future__ import annotations

from pathlib import Path

import pytest
from trees import tree

from slarules.dsl.formatter import format_module, format_source
from slarules.dsl.parser import parse_module
from slarules.errors import PolicySyntaxError

PRELUDE_FILE = Path(__file__).parent.parent / "grammar" / "prelude.sla"


def check(source: str, expected: str) -> None:
    """``source`` formats to ``expected``, which is stable and parses to the same tree."""
    formatted = format_source(source)
    assert formatted == expected
    assert format_source(formatted) == formatted
    assert tree(formatted) == tree(source)


DESIGN_SAMPLE = """\
# support.sla
calendar office {
    timezone "Europe/Berlin"
    hours mon-fri 09:00-12:00, 13:00-18:00
    hours sat 10:00-14:00
    holiday 2026-12-25 "Christmas Day"
    hours 2026-12-24 09:00-12:00          # date override
}

metric triage {                          # the prelude already defines the common ones
    start on created
    stop on reply by agent public
    pause while status in ["pending", "hold"]
}

policy "VIP urgent" {
    applies when priority == "urgent" and "vip" in tags
    calendar office
    triage within 15m
    first_response within 30m warn at 50%, 80%
    resolution within 8h
    node "L2 review" response within 1h, handling within 4h
}

policy "Standard" {                       # first matching policy in file order wins
    applies when true
    calendar office
    first_response within 24h
    service within 48h                    # starts when first_response stops: 24h + 48h = 72h
}

trigger "urge the handler" {
    when overdue and node.unhandled
    then notify node.assignee, urge node.assignee every 30m
}

trigger "as the mission says it" when ticket overdue and node unhandled then notify

trigger "warn before breach" {
    when resolution.remaining < 1h
    then notify assignee "resolution due at {resolution.due_at}"
}

schedule "phone service level" every "*/15 8-18 * * mon-fri" in "Europe/Berlin" {
    when service_level(answer, 20s, window 1h) < 80%
    then notify group "supervisors"
}
"""

DESIGN_SAMPLE_FORMATTED = """\
# support.sla
calendar office {
    timezone "Europe/Berlin"
    hours mon-fri 09:00-12:00, 13:00-18:00
    hours sat 10:00-14:00
    hours 2026-12-24 09:00-12:00  # date override
    holiday 2026-12-25 "Christmas Day"
}

metric triage {  # the prelude already defines the common ones
    start on created
    stop on reply by agent public
    pause while status in ["pending", "hold"]
}

policy "VIP urgent" {
    applies when priority == "urgent" and "vip" in tags
    calendar office
    triage within 15m
    first_response within 30m warn at 50%, 80%
    resolution within 8h
    node "L2 review" response within 1h, handling within 4h
}

policy "Standard" {  # first matching policy in file order wins
    applies when true
    calendar office
    first_response within 24h
    service within 48h  # starts when first_response stops: 24h + 48h = 72h
}

trigger "urge the handler" {
    when overdue and node.unhandled
    then notify node.assignee, urge node.assignee every 30m
}

trigger "as the mission says it" {
    when overdue and node.unhandled
    then notify
}

trigger "warn before breach" {
    when resolution.remaining < 1h
    then notify assignee "resolution due at {resolution.due_at}"
}

schedule "phone service level" every "*/15 8-18 * * mon-fri" in "Europe/Berlin" {
    when service_level(answer, 20s, window 1h) < 80%
    then notify group "supervisors"
}
"""


def test_the_design_sample() -> None:
    check(DESIGN_SAMPLE, DESIGN_SAMPLE_FORMATTED)


def test_a_squashed_layout_is_spread_out() -> None:
    source = (
        'include "prelude.sla" calendar c{timezone "UTC" hours mon-fri 9:00-17:00}'
        'policy "p"{applies when a==1 calendar c resolution within 2d warn at 80.0%}'
        'trigger "t" when overdue then notify,urge node.assignee every 90m '
        'include "more.sla"'
    )
    expected = """\
include "prelude.sla"
include "more.sla"

calendar c {
    timezone "UTC"
    hours mon-fri 9:00-17:00
}

policy "p" {
    applies when a == 1
    calendar c
    resolution within 48h warn at 80%
}

trigger "t" {
    when overdue
    then notify, urge node.assignee every 1h30m
}
"""
    check(source, expected)


def test_statements_take_their_canonical_places() -> None:
    source = """
calendar c {
    on_close escalate
    holiday 2026-01-01
    hours 2026-12-24 closed
    timezone "UTC"
    hours sat, sun 10:00 - 14:00
}
metric m {
    repeat
    pause while waiting
    cancel when closed_early
    stop on stop of first_response or contact abandoned
    start on reply by requester public or update by system or node entered
}
policy "p" {
    pause while on_hold
    node "L2" response within 1h warn at 50%
    resolution within 8h
    calendar c
    applies when true
}
schedule "s" every "0 9 * * *" { then report }
"""
    expected = """\
calendar c {
    timezone "UTC"
    hours 2026-12-24 closed
    hours sat, sun 10:00-14:00
    holiday 2026-01-01
    on_close escalate
}

metric m {
    start on reply by requester public or update by system or node entered
    stop on stop of first_response or contact abandoned
    cancel when closed_early
    pause while waiting
    repeat
}

policy "p" {
    applies when true
    calendar c
    resolution within 8h
    node "L2" response within 1h warn at 50%
    pause while on_hold
}

schedule "s" every "0 9 * * *" {
    then report
}
"""
    check(source, expected)


def test_empty_blocks_and_empty_files() -> None:
    check("calendar c {}\nmetric m {   }", "calendar c {\n}\n\nmetric m {\n}\n")
    check("", "")
    check("  \n\n", "")


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("a == 1.0", "a == 1"),
        ("a == 007", "a == 7"),
        ("a == -2.50", "a == -2.5"),
        ("a == 0.00001", "a == 0.00001"),
        ("a == 12345678901234567890", "a == 12345678901234567000"),
        ("a < 80.0%", "a < 80%"),
        ("a < 99.5%", "a < 99.5%"),
        ("a < 2d", "a < 48h"),
        ("a < 90m", "a < 1h30m"),
        ("a < 0d", "a < 0s"),
        ("a > -1h0m5s", "a > -1h5s"),
        ('a == "x\\"y\\\\z\\q"', 'a == "x\\"y\\\\zq"'),
        ('a == "# not a comment"', 'a == "# not a comment"'),
        ('a in [ "x" ,1,2h, 5%,true , false ]', 'a in ["x", 1, 2h, 5%, true, false]'),
        ("a in []", "a in []"),
        ("tags contains  'x'".replace("'", '"'), 'tags contains "x"'),
        ("customer . tier >= 2", "customer.tier >= 2"),
        ("ticket overdue", "overdue"),
        ("node unhandled", "node.unhandled"),
        ("resolution  breached", "resolution.breached"),
        ("f()", "f()"),
    ],
)
def test_literals_and_references(written: str, canonical: str) -> None:
    check(
        f'trigger "t" when {written} then x',
        f'trigger "t" {{\n    when {canonical}\n    then x\n}}\n',
    )


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("not (a or b)", "not (a or b)"),
        ("(a or b) and c", "(a or b) and c"),
        ("(a and b) or c", "a and b or c"),
        ("a or (b and c)", "a or b and c"),
        ("((a)) and ((b))", "a and b"),
        ("a or (b or c)", "a or (b or c)"),
        ("(a or b) or c", "(a or b) or c"),
        ("a and (b and c)", "a and (b and c)"),
        ("not a and b", "not a and b"),
        ("not (a and b)", "not (a and b)"),
        ("not (not a)", "not not a"),
        ("not (a == b)", "not a == b"),
        ("(not a) == b", "(not a) == b"),
        ("(a == b) == c", "(a == b) == c"),
        ("a == (b in c)", "a == (b in c)"),
        ("(a) in ([1])", "a in [1]"),
        ("(a or b) contains c", "(a or b) contains c"),
        ("a not-in [1] and not b not-in c", "a not-in [1] and not b not-in c"),
        (
            "service_level(answer,20s,window 1h) < 80%",
            "service_level(answer, 20s, window 1h) < 80%",
        ),
        ("f((a or b), w 1h, v x)", "f(a or b, w 1h, v x)"),
        ("f(not (a or b))", "f(not (a or b))"),
        # A named argument's value is a literal or a name, so a call in a call needs nothing.
        ("f((g(x)))", "f(g(x))"),
        ("f((g(x)) == 1, 1 == g(x))", "f(g(x) == 1, 1 == g(x))"),
        ("f(g(x))", "f(g(x))"),
        ("f((g(x)) and y)", "f(g(x) and y)"),
        ("f((g(x) or y) and z)", "f((g(x) or y) and z)"),
        ("f(g(), g(x, y), g(w x))", "f(g(), g(x, y), g(w x))"),
        ("f(node unhandled)", "f(node.unhandled)"),
    ],
)
def test_minimal_parentheses(written: str, canonical: str) -> None:
    check(
        f'trigger "t" when {written} then x',
        f'trigger "t" {{\n    when {canonical}\n    then x\n}}\n',
    )


def test_comments_in_every_position() -> None:
    source = """\
# file header

# about the calendar
calendar c { # on the header
    # before timezone
    timezone "UTC"   # after timezone
    hours mon-fri 09:00-17:00 # after hours
    # before the closing brace
}  # after the closing brace
# about the metric, right after a block
metric m {
    start on created
    repeat # after repeat
}


# about the trigger

trigger "t" # after the name
    # before when
    when a and # inside the condition
        # alone inside the condition
        b # at its end
    then notify "#1" # after then
policy "p" {
    pause while x # after pause
    applies when y # after applies, before pause in the output
    # the last line in the block
}
# end of file

# really the end
"""
    expected = """\
# file header

# about the calendar
calendar c {  # on the header
    # before timezone
    timezone "UTC"  # after timezone
    hours mon-fri 09:00-17:00  # after hours
    # before the closing brace
}  # after the closing brace

# about the metric, right after a block
metric m {
    start on created
    repeat  # after repeat
}

# about the trigger

trigger "t" {  # after the name
    # before when
    # inside the condition
    # alone inside the condition
    when a and b  # at its end
    then notify "#1"  # after then
}

policy "p" {
    applies when y  # after applies, before pause in the output
    pause while x  # after pause
    # the last line in the block
}

# end of file

# really the end
"""
    check(source, expected)


def test_comments_between_includes_and_in_a_file_of_comments() -> None:
    check(
        '# a\ninclude "a.sla" # b\n  # c\ninclude "b.sla"',
        '# a\ninclude "a.sla"  # b\n# c\ninclude "b.sla"\n',
    )
    check("# only\n\n\n#  comments  \n", "# only\n\n#  comments\n")


def test_comments_with_quotes_and_hashes() -> None:
    source = 'trigger "t #1" { # say "hi\n when a == "b # c" # "quoted"\n then x }\n'
    expected = 'trigger "t #1" {  # say "hi\n    when a == "b # c"  # "quoted"\n    then x\n}\n'
    check(source, expected)


def test_node_lines_with_warnings() -> None:
    source = 'policy "p" { node "L2" a within 1h warn at 50% , 80.0%, b within 2h warn at 90% }'
    expected = """\
policy "p" {
    node "L2" a within 1h warn at 50%, 80%, b within 2h warn at 90%
}
"""
    check(source, expected)


def test_crlf_line_ends() -> None:
    source = 'calendar c {\r\n    timezone "UTC"  # zone\r\n}\r\n'
    check(source, 'calendar c {\n    timezone "UTC"  # zone\n}\n')


def test_a_byte_order_mark_is_dropped() -> None:
    source = '\ufeffpolicy "p" { pause while (a) # on the first line\n applies when b }'
    expected = 'policy "p" {\n    applies when b\n    pause while a  # on the first line\n}\n'
    check(source, expected)
    check("\ufeffcalendar c { }  # after the brace", "calendar c {\n}  # after the brace\n")


def test_a_tree_without_its_source_is_formatted_without_comments() -> None:
    module = parse_module('policy "p" { # gone\n applies when true }')
    assert format_module(module) == 'policy "p" {\n    applies when true\n}\n'


def test_syntax_errors_are_raised() -> None:
    with pytest.raises(PolicySyntaxError):
        format_source("policy p {", "bad.sla")


def test_blank_lines_inside_blocks_are_dropped() -> None:
    source = 'calendar c {\n\n    # one\n\n    # two\n\n    timezone "UTC"\n\n}\n'
    check(source, 'calendar c {\n    # one\n    # two\n    timezone "UTC"\n}\n')


@pytest.mark.parametrize(
    "case",
    [*sorted((Path(__file__).parent / "language" / "valid").rglob("*.sla")), PRELUDE_FILE],
    ids=lambda path: path.name,
)
def test_every_valid_file_formats_to_the_same_tree(case: Path) -> None:
    text = case.read_text(encoding="utf-8")
    formatted = format_source(text)
    assert tree(formatted) == tree(text)
    assert format_source(formatted) == formatted
