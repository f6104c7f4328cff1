"""Properties of the formatter over generated policy files in untidy layouts.

Files are generated as token lists (every statement of the language, conditions with random
parentheses, one-line and block triggers, statements in any order) and then written out with
random spacing, line breaks and comments between tokens. Formatting must keep the tree and be
stable.
"""

from __future__ import annotations

import random
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from trees import tree

from slarules.dsl.formatter import format_source

Tokens = list[str]

NAMES = ["priority", "tags", "status", "tier", "region", "assignee", "group", "x1", "level_2"]
SUBJECTS = ["ticket", "node", "resolution", "customer"]
STATES = ["overdue", "breached", "unhandled", "paused", "met"]
METRICS = ["first_response", "resolution", "triage", "handling"]
FUNCTIONS = ["service_level", "count", "f"]
ACTIONS = ["notify", "urge", "escalate", "tag"]
OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "in", "not-in", "contains"]
COMMENTS = ["# note", "#", '# say "hi', "# } { ( [", "#### x #", "# ✓ été", "#trailing   "]
# Tokens that may touch their neighbours without a space.
TIGHT = {"(", ")", "[", "]", ",", ".", "{", "}"}


def joined(parts: list[Tokens], separator: str = ",") -> Tokens:
    tokens: Tokens = []
    for index, part in enumerate(parts):
        tokens += [separator, *part] if index else part
    return tokens


# -- literals and references -----------------------------------------------------------------

_CHARACTERS = st.sampled_from(list('ab Z9"\\#{}%é\t'))


@st.composite
def strings(draw: st.DrawFn) -> str:
    """A string literal, sometimes with needless escapes (`\\q` is `q`)."""
    text = ""
    for character in draw(st.lists(_CHARACTERS, max_size=6)):
        escaped = character in '"\\' or draw(st.integers(0, 5)) == 0
        text += "\\" + character if escaped else character
    return f'"{text}"'


numbers = st.builds(
    lambda sign, whole, fraction: f"{sign}{whole}{fraction}",
    st.sampled_from(["", "-"]),
    st.sampled_from(["0", "7", "007", "42", "12345678901234567890"]),
    st.sampled_from(["", ".0", ".5", ".250", ".00001"]),
)
percents = st.builds(
    lambda whole, fraction: f"{whole}{fraction}%",
    st.sampled_from(["0", "50", "80", "99", "100"]),
    st.sampled_from(["", ".0", ".5"]),
)


@st.composite
def durations(draw: st.DrawFn, signed: bool = True) -> str:
    amounts = draw(st.lists(st.sampled_from([None, 0, 1, 2, 30, 90, 1000]), min_size=4, max_size=4))
    parts = [
        f"{amount}{unit}"
        for amount, unit in zip(amounts, "dhms", strict=True)
        if amount is not None
    ]
    sign = draw(st.sampled_from(["", "-"])) if signed else ""
    return sign + ("".join(parts) or "0s")


scalars = st.one_of(
    strings(), numbers, durations(), percents, st.sampled_from(["true", "false"])
).map(lambda token: [token])
lists = st.lists(scalars, max_size=3).map(lambda items: ["[", *joined(items), "]"])
literals = st.one_of(scalars, lists)


@st.composite
def references(draw: st.DrawFn) -> Tokens:
    """`a.b`, `overdue`, `node unhandled`, `ticket overdue`, `resolution.breached`."""
    kind = draw(st.integers(0, 3))
    if kind == 1:
        return [draw(st.sampled_from(STATES))]
    subject = draw(st.lists(st.sampled_from(NAMES + SUBJECTS), min_size=1, max_size=2))
    path = joined([[name] for name in subject], ".")
    if kind == 0:
        return path
    state = draw(st.sampled_from(STATES))
    return [*path, state] if kind == 2 else [*path, ".", state]


# -- conditions ------------------------------------------------------------------------------

# A condition is a tree of tuples first, so that it can be written with the parentheses that
# precedence needs plus random extra ones.
atoms = st.one_of(
    references().map(lambda tokens: ("atom", tokens)), literals.map(lambda t: ("atom", t))
)


# A named argument's value (`window 1h`) is a literal or a dotted name, never a phrase or a call.
named_values = st.one_of(
    literals.map(lambda tokens: ("atom", tokens)),
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=2).map(
        lambda names: ("atom", joined([[name] for name in names], "."))
    ),
)


def _compound(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    unnamed = st.tuples(st.none(), children)
    named = st.tuples(st.sampled_from(NAMES), named_values)
    arguments = st.lists(unnamed | named, max_size=3)
    return st.one_of(
        st.tuples(st.just("not"), children),
        st.tuples(st.just("and"), st.lists(children, min_size=2, max_size=3)),
        st.tuples(st.just("or"), st.lists(children, min_size=2, max_size=3)),
        st.tuples(st.just("compare"), st.sampled_from(OPERATORS), children, children),
        st.tuples(st.just("call"), st.sampled_from(FUNCTIONS), arguments),
    )


condition_trees = st.recursive(atoms, _compound, max_leaves=8)
STRENGTH = {"or": 1, "and": 2, "not": 3, "compare": 4, "call": 5, "atom": 5}


def write_condition(node: Any, rng: random.Random) -> Tokens:
    kind = node[0]
    if kind == "atom":
        return list(node[1])
    if kind == "not":
        return ["not", *operand(node[1], 3, rng)]
    if kind in ("and", "or"):
        weakest = 3 if kind == "and" else 2
        return joined([operand(child, weakest, rng) for child in node[1]], kind)
    if kind == "compare":
        return [*operand(node[2], 5, rng), node[1], *operand(node[3], 5, rng)]
    name, arguments = node[1], node[2]
    written = [write_argument(label, value, rng) for label, value in arguments]
    return [name, "(", *joined(written), ")"]


def operand(node: Any, weakest: int, rng: random.Random) -> Tokens:
    tokens = write_condition(node, rng)
    if STRENGTH[node[0]] < weakest or rng.random() < 0.15:
        return ["(", *tokens, ")"]
    return tokens


def write_argument(name: str | None, node: Any, rng: random.Random) -> Tokens:
    if name is None:
        return operand(node, 1, rng)
    return [name, *write_condition(node, rng)]


@st.composite
def conditions(draw: st.DrawFn) -> Tokens:
    return write_condition(draw(condition_trees), random.Random(draw(st.integers(0, 2**16))))


# -- declarations ----------------------------------------------------------------------------

names = st.sampled_from(NAMES)
dates = st.sampled_from(["2026-12-24", "2026-12-25", "2027-01-01"])
times = st.sampled_from(["9:00", "09:00", "12:00", "13:30", "18:00:00"])
spans = st.lists(
    st.tuples(times, times).map(lambda pair: [pair[0], "-", pair[1]]), min_size=1, max_size=2
)
weekdays = st.sampled_from(["mon", "tue", "FRI", "sat", "sun"])
day_ranges = st.one_of(
    weekdays.map(lambda d: [d]), st.tuples(weekdays, weekdays).map(lambda p: [p[0], "-", p[1]])
)


def block(header: Tokens, statements: list[Tokens]) -> Tokens:
    return [*header, "{", *[token for statement in statements for token in statement], "}"]


calendar_statements = st.one_of(
    st.builds(
        lambda days, spans: ["hours", *joined(days), *joined(spans)],
        st.lists(day_ranges, min_size=1, max_size=2),
        spans,
    ),
    st.builds(lambda day, spans: ["hours", day, *joined(spans)], dates, spans),
    dates.map(lambda day: ["hours", day, "closed"]),
    st.builds(lambda day, label: ["holiday", day, *label], dates, st.lists(strings(), max_size=1)),
)


@st.composite
def calendars(draw: st.DrawFn) -> Tokens:
    statements = draw(st.lists(calendar_statements, max_size=4))
    if draw(st.booleans()):
        statements.append(["timezone", draw(st.sampled_from(['"Europe/Berlin"', '"UTC"']))])
    if draw(st.booleans()):
        statements.append(["on_close", draw(names)])
    return block(["calendar", draw(names)], draw(st.permutations(statements)))


events = st.one_of(
    st.just(["created"]),
    st.builds(
        lambda by, visibility: ["reply", *by, *visibility],
        st.sampled_from([[], ["by", "agent"], ["by", "requester"], ["by", "system"]]),
        st.sampled_from([[], ["public"], ["private"]]),
    ),
    st.sampled_from([["update"], ["update", "by", "agent"]]),
    st.sampled_from(["offered", "answered", "abandoned"]).map(lambda c: ["contact", c]),
    st.sampled_from(["entered", "left", "handled"]).map(lambda c: ["node", c]),
    st.tuples(st.sampled_from(["start", "stop"]), st.sampled_from(METRICS)).map(
        lambda e: [e[0], "of", e[1]]
    ),
)
moments = st.one_of(
    st.lists(events, min_size=1, max_size=3).map(lambda items: ["on", *joined(items, "or")]),
    conditions().map(lambda tokens: ["when", *tokens]),
)


@st.composite
def metrics(draw: st.DrawFn) -> Tokens:
    statements = [["pause", "while", *pause] for pause in draw(st.lists(conditions(), max_size=2))]
    for keyword in ("start", "stop", "cancel"):
        if draw(st.booleans()):
            statements.append([keyword, *draw(moments)])
    if draw(st.booleans()):
        statements.append(["repeat"])
    return block(["metric", draw(st.sampled_from(METRICS))], draw(st.permutations(statements)))


@st.composite
def targets(draw: st.DrawFn) -> Tokens:
    tokens = [draw(st.sampled_from(METRICS)), "within", draw(durations(signed=False))]
    warnings = draw(st.lists(percents.map(lambda p: [p]), max_size=2))
    return [*tokens, "warn", "at", *joined(warnings)] if warnings else tokens


@st.composite
def policies(draw: st.DrawFn) -> Tokens:
    statements = [["pause", "while", *pause] for pause in draw(st.lists(conditions(), max_size=2))]
    statements += draw(st.lists(targets(), max_size=3))
    for _ in range(draw(st.integers(0, 2))):
        node_targets = draw(st.lists(targets(), min_size=1, max_size=3))
        statements.append(["node", draw(strings()), *joined(node_targets)])
    if draw(st.booleans()):
        statements.append(["applies", "when", *draw(conditions())])
    if draw(st.booleans()):
        statements.append(["calendar", draw(names)])
    return block(["policy", draw(strings())], draw(st.permutations(statements)))


@st.composite
def actions(draw: st.DrawFn) -> Tokens:
    argument = st.one_of(
        strings().map(lambda s: [s]),
        st.lists(names, min_size=1, max_size=2).map(lambda p: joined([[n] for n in p], ".")),
    )
    tokens = [
        draw(st.sampled_from(ACTIONS)),
        *[t for arg in draw(st.lists(argument, max_size=2)) for t in arg],
    ]
    if draw(st.booleans()):
        tokens += ["every", draw(durations(signed=False))]
    return tokens


@st.composite
def triggers(draw: st.DrawFn) -> Tokens:
    body = [
        "when",
        *draw(conditions()),
        "then",
        *joined(draw(st.lists(actions(), min_size=1, max_size=3))),
    ]
    header = ["trigger", draw(strings())]
    return [*header, *body] if draw(st.booleans()) else block(header, [body])


@st.composite
def schedules(draw: st.DrawFn) -> Tokens:
    header = [
        "schedule",
        draw(strings()),
        "every",
        draw(st.sampled_from(['"*/15 8-18 * * mon-fri"', '"0 9 * * *"'])),
    ]
    if draw(st.booleans()):
        header += ["in", draw(st.sampled_from(['"Europe/Berlin"', '"UTC"']))]
    when = ["when", *draw(conditions())] if draw(st.booleans()) else []
    return block(
        header, [[*when, "then", *joined(draw(st.lists(actions(), min_size=1, max_size=2)))]]
    )


includes = st.sampled_from(['"prelude.sla"', '"more/other.sla"']).map(
    lambda path: ["include", path]
)
items = st.one_of(includes, calendars(), metrics(), policies(), triggers(), schedules())


# -- untidy layout ---------------------------------------------------------------------------


def separator(rng: random.Random, tight: bool) -> str:
    """What goes between two tokens: spaces, line breaks, comments; nothing if they may touch."""
    roll = rng.randrange(20)
    if roll < 3 and tight:
        return ""
    if roll < 12:
        return " "
    layouts = [
        "  ",
        "\t",
        "\n",
        "\n\n    ",
        "\n  ",
        "{c}\n",
        " {c}\n",
        "\n{c}\n  ",
        "\n\n{c}\n\n",
        "\r\n",
        " {c}\r\n",
    ]
    return rng.choice(layouts).format(c=rng.choice(COMMENTS))


def untidy(tokens: Tokens, rng: random.Random) -> str:
    text = separator(rng, tight=False).lstrip(" ") if rng.random() < 0.3 else ""
    for index, token in enumerate(tokens):
        if index:
            text += separator(rng, tight=tokens[index - 1] in TIGHT or token in TIGHT)
        text += token
    ending = separator(rng, tight=True)
    return text + (ending.rstrip("\n") if rng.random() < 0.5 else ending)


@st.composite
def policy_files(draw: st.DrawFn) -> str:
    tokens = [token for item in draw(st.lists(items, max_size=4)) for token in item]
    mark = draw(st.sampled_from(["", "", "", "\ufeff"]))  # a byte-order mark, now and then
    return mark + untidy(tokens, random.Random(draw(st.integers(0, 2**32))))


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=200)
@given(policy_files())
def test_formatting_keeps_the_tree(source: str) -> None:
    assert tree(format_source(source)) == tree(source)


def comments(text: str) -> list[str]:
    """The comments of a file, skipping strings, in order, without trailing whitespace."""
    found = re.findall(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*', text)
    return [token.rstrip() for token in found if token.startswith("#")]


@settings(max_examples=200)
@given(policy_files())
def test_formatting_is_stable_and_tidy(source: str) -> None:
    formatted = format_source(source)
    assert format_source(formatted) == formatted
    assert sorted(comments(formatted)) == sorted(comments(source))
    if formatted:
        assert formatted.endswith("\n")
        assert not formatted.startswith("\n")
        assert "\n\n\n" not in formatted
        for line in formatted[:-1].split("\n"):
            assert line == line.rstrip()
            assert (len(line) - len(line.lstrip(" "))) % 4 == 0
