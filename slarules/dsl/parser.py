"""Text to syntax tree: one LALR parser for the whole language, and the transformer to the AST.

Lark types stop here: syntax errors become :class:`~slarules.dsl.diagnostics.Diagnostic` objects
with friendly wording, and trees become the pydantic models of :mod:`slarules.dsl.ast`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any, NamedTuple

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from slarules._resources import grammar_file
from slarules._suggest import did_you_mean
from slarules.dsl import ast
from slarules.dsl.diagnostics import Diagnostic
from slarules.durations import parse_duration
from slarules.errors import PolicySyntaxError, SlaRulesError

__all__ = ["MAX_NESTING", "MAX_SOURCE_BYTES", "parse_hours_spec", "parse_module"]

# Limits that turn pathological input into a clear error instead of a crash or a long wait.
MAX_SOURCE_BYTES = 8 * 1024 * 1024
MAX_NESTING = 100

_START_RULES = ["file", "hours_spec"]


# What each regex terminal means to someone writing the language; keywords and punctuation are
# shown as written. Lark's names never reach the user.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "WEEKDAY": "a weekday like `mon`",
    "STRING": 'a string in double quotes like `"text"`',
    "DATE": "a date like `2026-12-24`",
    "TIME": "a time like `09:00`",
    "DURATION": "a duration like `30m` or `4h`",
    "PERCENT": "a percentage like `80%`",
    "NUMBER": "a number",
    "COMPARE": "a comparison like `==` or `<`",
    "STATE": "a state like `overdue`",
    "ROLE": "`agent`, `requester` or `system`",
    "VISIBILITY": "`public` or `private`",
    "CONTACT_EVENT": "`offered`, `answered` or `abandoned`",
    "NODE_EVENT": "`entered`, `left` or `handled`",
    "METRIC_EDGE": "`start of` a metric, `stop of` a metric",
    "NOT_IN": "`not-in`",
}

# Common mistakes, recognised by the parser state they leave it in (lark's match_examples).
_MISTAKES: dict[str, list[str]] = {
    "names of policies, triggers and schedules are strings in double quotes": [
        "policy VIP {",
        "trigger urge when",
        "schedule daily every",
    ],
    "a block starts with `{` after its name": [
        "calendar office timezone",
        'policy "p" applies',
        "metric m start",
    ],
    "a duration needs a unit: `45s`, `30m`, `4h` or `2d`": [
        'policy "p" { resolution within 8 }',
        'policy "p" { resolution within 8 warn',
    ],
    "a trigger needs `then` and at least one action after its condition": [
        'trigger "t" when overdue notify',
        'trigger "t" { when overdue notify',
        'trigger "t" when overdue }',
    ],
    "hours are written like `mon-fri 09:00-17:00`": [
        "calendar c { hours mon 9",
        "calendar c { hours mon-fri 9-17 }",
        "calendar c { hours 9",
        "calendar c { hours mon-fri }",
    ],
    "compare with `==`, not `=`": [
        'policy "p" { applies when priority = ',
        'trigger "t" when priority = ',
    ],
}


@functools.cache
def _parser() -> Lark:
    grammar = grammar_file("slarules.lark").read_text(encoding="utf-8")
    # All tokens are kept so that spans can cover keywords and braces; the builder drops them.
    return Lark(grammar, parser="lalr", start=_START_RULES, keep_all_tokens=True)


@functools.cache
def _punctuation_terminals() -> frozenset[str]:
    """Keywords and punctuation written as literals in rules: structure, not values."""
    return frozenset(t.name for t in _parser().terminals if t.pattern.type == "str")


# Stands for a dropped keyword or punctuation token while the builder works.
_PUNCTUATION = object()


def parse_module(text: str, file: str = "<text>") -> ast.Module:
    """Parse one policy file; raises :class:`~slarules.errors.PolicySyntaxError`."""
    module, problems = parse_module_and_problems(text, file)
    if problems:
        raise PolicySyntaxError(problems, {file: text})
    return module


def parse_module_and_problems(
    text: str, file: str = "<text>"
) -> tuple[ast.Module, list[Diagnostic]]:
    """Parse one policy file, and list the values the grammar accepts but that cannot be (a
    date `2026-13-01`, a statement given twice): the tree leaves their statements out, so that
    validation goes on and reports everything else with them. A syntax error still raises
    :class:`~slarules.errors.PolicySyntaxError`, as nothing after it can be read."""
    text = text.removeprefix("\ufeff")  # a byte-order mark from Windows editors
    _check_limits(text, file)
    with _collector_paused():
        try:
            tree = _parser().parse(text, start="file")
        except UnexpectedInput as error:
            diagnostic = _syntax_diagnostic(error, text, file)
            raise PolicySyntaxError([diagnostic], {file: text}) from None
        _check_depth(tree, text, file)
        builder = _AstBuilder(file)
        module: ast.Module = builder.build(tree)
    return module, builder.problems


def parse_hours_spec(text: str, file: str = "<hours>") -> ast.WeeklyHours | ast.DateHours:
    """Parse one ``hours`` value such as ``mon-fri 09:00-17:00``."""
    try:
        tree = _parser().parse(text, start="hours_spec")
    except UnexpectedInput as error:
        diagnostic = _syntax_diagnostic(error, text, file, whole="text")
        raise PolicySyntaxError([diagnostic], {file: text}) from None
    builder = _AstBuilder(file)
    line: ast.WeeklyHours | ast.DateHours | None = builder.build(tree)
    if line is None or builder.problems:
        raise PolicySyntaxError(builder.problems, {file: text})
    return line


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is parsed and its tree built.

    Parsing makes objects per token and none of them are garbage yet, but the collector scans
    them again and again as they pile up: on a large file that doubled the time of parsing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_limits(text: str, file: str) -> None:
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_SOURCE_BYTES:
        raise PolicySyntaxError(
            [
                Diagnostic(
                    "SLA004",
                    f"the file is {size / 1_048_576:.1f} MB; policy files may be at most "
                    f"{MAX_SOURCE_BYTES // 1_048_576} MB",
                    ast.Span(file=file, line=1, column=1, end_line=1, end_column=1),
                    help="split it into several files joined with `include`",
                )
            ],
        )
    depth = 0
    # Brackets inside strings and comments do not count.
    for match in _NESTING.finditer(text):
        token = match.group()
        if token in ")]":
            depth = max(depth - 1, 0)
        elif token in "([":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - text.rfind("\n", 0, match.start())
                raise PolicySyntaxError([_too_deep(file, line, column)], {file: text})


def _too_deep(file: str, line: int, column: int) -> Diagnostic:
    return Diagnostic(
        "SLA005",
        f"this is nested more than {MAX_NESTING} levels deep",
        _point(file, line, column),
        help="split the condition, for example into several `and` parts",
    )


def _check_depth(tree: Tree[Token], text: str, file: str) -> None:
    """Refuse trees deeper than :data:`MAX_NESTING`, before anything walks them recursively."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            place = _Place.of(next(node.scan_values(lambda value: isinstance(value, Token))))
            raise PolicySyntaxError([_too_deep(file, place.line, place.column)], {file: text})
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


# -- syntax errors ---------------------------------------------------------------------------


def _syntax_diagnostic(
    error: UnexpectedInput, text: str, file: str, whole: str = "file"
) -> Diagnostic:
    if isinstance(error, UnexpectedEOF) or (
        isinstance(error, UnexpectedToken) and error.token.type == "$END"
    ):
        # Point just after the last thing written, where something is missing.
        end = len(text.rstrip())
        line = text.count("\n", 0, end) + 1
        column = end - (text.rfind("\n", 0, end) + 1) + 1
        return Diagnostic(
            "SLA003",
            f"the {whole} ends early; expected {_expected(error)}",
            _point(file, line, column),
            help=_label(error, text) or _unclosed(text),
        )
    line, column = error.line, error.column
    if isinstance(error, UnexpectedCharacters):
        found = text[error.pos_in_stream] if error.pos_in_stream is not None else ""
        if found == '"':
            return Diagnostic(
                "SLA002",
                'this string has no closing `"`',
                _point(file, line, column),
                help='strings end on the line they start; write `\\"` for a quote inside one',
            )
        word = re.match(r"[^\s{}()\[\],]+", text[error.pos_in_stream :])
        shown = word.group() if word else found
        return Diagnostic(
            "SLA001",
            f"unexpected `{shown}`; expected {_expected(error)}",
            _point(file, line, column, len(shown)),
            help=_unit_hint(shown) or _label(error, text) or _keyword_hint(shown, error),
        )
    assert isinstance(error, UnexpectedToken)
    token = error.token
    return Diagnostic(
        "SLA001",
        f"unexpected `{token}`; expected {_expected(error)}",
        _point(file, line, column, len(str(token))),
        help=_context_hint(token, text, error)
        or _label(error, text)
        or _keyword_hint(str(token), error),
    )


def _unit_hint(found: str) -> str | None:
    """For a number with a unit the language does not have: `4H`, `1w`, `2days`."""
    written = re.fullmatch(r"-?\d+([A-Za-z]+)", found)
    if written is None:
        return None
    unit = written.group(1)
    if unit.lower() in ("d", "h", "m", "s"):
        return f"units are lower case: `{found.lower()}`"
    return f"`{unit}` is no unit: durations count in `d`, `h`, `m` and `s`, as in `7d` or `1h30m`"


def _context_hint(token: Token, text: str, error: UnexpectedInput) -> str | None:
    """Hints from the word before the unexpected token."""
    previous = re.search(r"([A-Za-z_][\w-]*)\s+$", text[: token.start_pos or 0])
    word = previous.group(1) if previous else ""
    if token == "in" and word == "not":  # `x not in [...]` reads well, but the operator differs
        return "write `not-in` with a hyphen, or `not (x in [...])`"
    if word in _DECLARATION_KEYWORDS and token.type == "STRING":  # read as a name, not a keyword
        return f"`{word}` starts a new block here: the block before it may be missing its `}}`"
    if word and _accepted(error) == {"WITHIN"}:  # the word was read as a target's metric
        if word.lower() in _keywords() and word != word.lower():
            return f"keywords are lower case: write `{word.lower()}`, not `{word}`"
        suggestion = did_you_mean(word, _keywords())
        if suggestion:
            return (
                f"`{word}` reads as the metric of a target (`{word} within 4h`); is it a "
                f"misspelt keyword?{suggestion}"
            )
    return None


@functools.cache
def _keywords() -> frozenset[str]:
    """The language's keywords: `policy`, `calendar`, `applies`, `and`…"""
    return frozenset(
        terminal.pattern.value
        for terminal in _parser().terminals
        if terminal.pattern.type == "str" and terminal.pattern.value.isidentifier()
    )


def _label(error: UnexpectedInput, text: str) -> str | None:
    """The label of the known mistake this error looks like, if any.

    lark's ``match_examples`` comes first; it also compares how deep the parser's stack is, so an
    example written at the top of a block misses the same mistake after a few statements. The
    fallback matches on the parser state and the accepted tokens alone.
    """
    label = error.match_examples(_parse_example, _MISTAKES, use_accepts=True)
    if label:
        return str(label)
    return _mistakes_by_state().get(_signature(error))


def _parse_example(example: str) -> Any:
    return _parser().parse(example, start="file")


@functools.cache
def _mistakes_by_state() -> dict[tuple[int, frozenset[str]] | None, str]:
    table: dict[tuple[int, frozenset[str]] | None, str] = {}
    for label, examples in _MISTAKES.items():
        for example in examples:
            try:
                _parse_example(example)
            except UnexpectedInput as error:
                table.setdefault(_signature(error), label)
    table.pop(None, None)
    return table


def _signature(error: UnexpectedInput) -> tuple[int, frozenset[str]] | None:
    state = getattr(error, "state", None)
    position = getattr(state, "position", None)
    return None if position is None else (position, frozenset(_accepted(error)))


def _unclosed(text: str) -> str:
    """Which bracket a file that ends early left open."""
    closing = {"{": "}", "(": ")", "[": "]"}
    open_brackets: list[tuple[str, int]] = []
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in closing:
            open_brackets.append((token, match.start()))
        elif token in closing.values() and open_brackets:
            open_brackets.pop()
    if not open_brackets:
        return "the last statement is not finished"
    bracket, at = open_brackets[-1]
    line = text.count("\n", 0, at) + 1
    return f"the `{bracket}` on line {line} is never closed with `{closing[bracket]}`"


# Brackets and parentheses outside strings and comments.
_NESTING = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[(\[]|[)\]]')
# The same, with braces.
_BRACKETS = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}()\[\]]')

# Words that start a declaration: finding one inside a block means the block was not closed.
_DECLARATION_KEYWORDS = frozenset(
    {"include", "calendar", "metric", "policy", "trigger", "schedule"}
)


def _keyword_hint(found: str, error: UnexpectedInput) -> str | None:
    if found in _DECLARATION_KEYWORDS:
        return "the block before it may be missing its closing `}`"
    keywords = [
        terminal.pattern.value
        for terminal in _parser().terminals
        if terminal.name in _accepted(error) and terminal.pattern.type == "str"
    ]
    suggestion = did_you_mean(found, [word for word in keywords if word.isidentifier()])
    return f"is it a misspelt keyword?{suggestion}" if suggestion else None


def _accepted(error: UnexpectedInput) -> set[str]:
    if isinstance(error, UnexpectedToken):
        return set(error.accepts or error.expected)
    if isinstance(error, UnexpectedCharacters):
        return set(error.allowed)
    return set(getattr(error, "expected", ()) or ())


def _expected(error: UnexpectedInput) -> str:
    terminals = {terminal.name: terminal for terminal in _parser().terminals}
    words = set()
    for name in _accepted(error):
        if name in _TERMINAL_WORDS:
            words.add(_TERMINAL_WORDS[name])
        elif name in terminals and terminals[name].pattern.type == "str":
            words.add(f"`{terminals[name].pattern.value}`")
        elif name == "$END":
            words.add("the end of the file")
    if not words:
        return "something else"
    ordered = sorted(words)
    if len(ordered) > 8:
        return ", ".join(ordered[:8]) + " or another statement"
    return ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " or " + ordered[-1]


def _point(file: str, line: int, column: int, width: int = 1) -> ast.Span:
    return ast.Span(file=file, line=line, column=column, end_line=line, end_column=column + width)


# -- tree to AST -----------------------------------------------------------------------------


# What an impossible duration (`30m1h`) reads as once its error is reported: a value that every
# check of durations accepts, so that the rest of the file is checked without more noise.
_STAND_IN_DURATION = timedelta(seconds=1)


class _AstBuilder:
    """Builds :mod:`slarules.dsl.ast` nodes bottom up; tokens become literals with spans.

    A method per rule takes the rule's position and its built children; a method per terminal
    (upper case) takes the token. The walk keeps its own stack rather than recursing like lark's
    ``Transformer``: it is twice as fast on large files and cannot exhaust Python's stack.
    """

    def __init__(self, file: str) -> None:
        self.source = file
        # Values the grammar accepts but that cannot be, such as `2026-13-45`: their
        # statements are left out of the tree.
        self.problems: list[Diagnostic] = []

    def build(self, tree: Tree[Token]) -> Any:
        # Each built value sits on `built` with its source position on `places`. Keywords and
        # punctuation only count for positions (so that a block's span runs from its keyword to
        # its `}`), then are dropped; tracking positions here is faster than lark's own.
        built: list[Any] = []
        places: list[_Place | None] = []
        stack: list[Any] = [tree]
        while stack:
            item = stack.pop()
            if isinstance(item, _Finish):
                node = item.tree
                first = len(built) - len(node.children)
                children = [child for child in built[first:] if child is not _PUNCTUATION]
                place = _Place.enclosing(places[first:])
                del built[first:], places[first:]
                built.append(getattr(self, node.data)(place, children))
                places.append(place)
            elif isinstance(item, Tree):
                stack.append(_Finish(item))
                stack.extend(reversed(item.children))
            elif isinstance(item, Token):
                built.append(self._token(item))
                places.append(_Place.of(item))
            else:  # None stands for an absent optional part
                built.append(None)
                places.append(None)
        return built[0]

    def _token(self, token: Token) -> Any:
        if token.type in _punctuation_terminals():
            return _PUNCTUATION
        callback = getattr(self, token.type, None)
        return callback(token) if callback else token

    def _span(self, place: _Place | None) -> ast.Span:
        if place is None:
            return ast.Span(file=self.source, line=1, column=1, end_line=1, end_column=1)
        return ast.Span(
            file=self.source,
            line=place.line,
            column=place.column,
            end_line=place.end_line,
            end_column=place.end_column,
        )

    def _token_span(self, token: Token) -> ast.Span:
        return ast.Span(
            file=self.source,
            line=token.line,
            column=token.column,
            end_line=token.end_line,
            end_column=token.end_column,
        )

    def _single(self, statements: list[tuple[str, Any]], kind: str) -> Any:
        """The one statement of a kind in a block, or None; a second one is an error."""
        found = [item for statement_kind, item in statements if statement_kind == kind]
        for again in found[1:]:
            self.problems.append(
                Diagnostic(
                    "SLA305",
                    f"`{kind}` is given twice in this block",
                    again.span,
                    help=f"keep one `{kind}`; the first is on line {found[0].span.line}",
                )
            )
        return found[0] if found else None

    # -- file --

    def file(self, meta: _Place | None, children: list[Any]) -> ast.Module:
        includes = tuple(child for child in children if isinstance(child, ast.Include))
        declarations = tuple(child for child in children if not isinstance(child, ast.Include))
        return ast.Module(span=self._span(meta), includes=includes, declarations=declarations)

    def include(self, meta: _Place | None, children: list[Any]) -> ast.Include:
        return ast.Include(span=self._span(meta), path=children[0])

    # -- literals --

    def string(self, meta: _Place | None, children: list[Any]) -> ast.StringLiteral:
        literal: ast.StringLiteral = children[0]
        return literal

    def STRING(self, token: Token) -> ast.StringLiteral:
        value = re.sub(r"\\(.)", r"\1", token[1:-1])
        return ast.StringLiteral(span=self._token_span(token), value=value)

    def number(self, meta: _Place | None, children: list[Token]) -> ast.NumberLiteral:
        return ast.NumberLiteral(span=self._span(meta), value=float(children[0]))

    def duration(self, meta: _Place | None, children: list[Any]) -> ast.DurationLiteral:
        literal: ast.DurationLiteral = children[0]
        return literal

    def DURATION(self, token: Token) -> ast.DurationLiteral:
        try:
            value = parse_duration(token)
        except SlaRulesError as error:
            self.problems.append(Diagnostic("SLA203", str(error), self._token_span(token)))
            value = _STAND_IN_DURATION  # so that what reads it is checked too
        return ast.DurationLiteral(span=self._token_span(token), value=value)

    def percent(self, meta: _Place | None, children: list[Any]) -> ast.PercentLiteral:
        literal: ast.PercentLiteral = children[0]
        return literal

    def PERCENT(self, token: Token) -> ast.PercentLiteral:
        return ast.PercentLiteral(span=self._token_span(token), value=float(token[:-1]))

    def true(self, meta: _Place | None, children: list[Any]) -> ast.BooleanLiteral:
        return ast.BooleanLiteral(span=self._span(meta), value=True)

    def false(self, meta: _Place | None, children: list[Any]) -> ast.BooleanLiteral:
        return ast.BooleanLiteral(span=self._span(meta), value=False)

    def list_literal(self, meta: _Place | None, children: list[Any]) -> ast.ListLiteral:
        items = tuple(child for child in children if child is not None)
        return ast.ListLiteral(span=self._span(meta), items=items)

    def DATE(self, token: Token) -> tuple[date, ast.Span] | None:
        try:
            return date.fromisoformat(token), self._token_span(token)
        except ValueError:
            self.problems.append(
                Diagnostic(
                    "SLA206",
                    f"invalid date `{token}`",
                    self._token_span(token),
                    help="write dates as YYYY-MM-DD, like `2026-12-24`",
                )
            )
            return None  # its holiday or hours line is left out

    # -- conditions --

    def reference(self, meta: _Place | None, children: list[Token]) -> ast.Reference:
        return ast.Reference(span=self._span(meta), path=tuple(str(name) for name in children))

    def state(self, meta: _Place | None, children: list[Token]) -> ast.Reference:
        return ast.Reference(span=self._span(meta), path=(str(children[0]),))

    def subject_state(self, meta: _Place | None, children: list[Any]) -> ast.Reference:
        subject, state = children
        # `ticket overdue` is `overdue`; `node unhandled` is `node.unhandled`.
        path = subject.path if subject.path != ("ticket",) else ()
        return ast.Reference(span=self._span(meta), path=(*path, str(state)))

    def operand(self, meta: _Place | None, children: list[Any]) -> Any:
        return children[0]  # a condition in parentheses

    def call(self, meta: _Place | None, children: list[Any]) -> ast.Call:
        name, *arguments = children
        return ast.Call(
            span=self._span(meta),
            function=str(name),
            arguments=tuple(
                self._argument(argument) for argument in arguments if argument is not None
            ),
        )

    def _argument(self, value: Any) -> ast.Argument:
        if isinstance(value, ast.Argument):
            return value
        return ast.Argument(span=value.span, name=None, value=value)

    def named_argument(self, meta: _Place | None, children: list[Any]) -> ast.Argument:
        name, value = children
        return ast.Argument(span=self._span(meta), name=str(name), value=value)

    def compare(self, meta: _Place | None, children: list[Any]) -> ast.Comparison:
        left, operator, right = children
        return ast.Comparison(span=self._span(meta), operator=str(operator), left=left, right=right)

    def _comparison(
        self, meta: _Place | None, operator: str, children: list[Any]
    ) -> ast.Comparison:
        left, right = children
        return ast.Comparison(span=self._span(meta), operator=operator, left=left, right=right)

    def is_in(self, meta: _Place | None, children: list[Any]) -> ast.Comparison:
        return self._comparison(meta, "in", children)

    def not_in(self, meta: _Place | None, children: list[Any]) -> ast.Comparison:
        return self._comparison(meta, "not-in", children)

    def contains(self, meta: _Place | None, children: list[Any]) -> ast.Comparison:
        return self._comparison(meta, "contains", children)

    def negation(self, meta: _Place | None, children: list[Any]) -> ast.Not:
        return ast.Not(span=self._span(meta), operand=children[0])

    def all_of(self, meta: _Place | None, children: list[Any]) -> ast.AllOf:
        return ast.AllOf(span=self._span(meta), operands=tuple(children))

    def any_of(self, meta: _Place | None, children: list[Any]) -> ast.AnyOf:
        return ast.AnyOf(span=self._span(meta), operands=tuple(children))

    # -- calendars --

    def calendar(self, meta: _Place | None, children: list[Any]) -> ast.CalendarDecl:
        name, *given = children
        statements = [item for item in given if item is not None]  # None: an invalid date
        hours = tuple(item for item in statements if not isinstance(item, tuple))
        settings = [item for item in statements if isinstance(item, tuple)]
        return ast.CalendarDecl(
            span=self._span(meta),
            name=str(name),
            timezone=self._single(settings, "timezone"),
            hours=hours,
            holidays=tuple(item for kind, item in settings if kind == "holiday"),
            on_close=self._single(settings, "on_close"),
        )

    def calendar_stmt(self, meta: _Place | None, children: list[Any]) -> Any:
        return children[0]  # an hours line, after its `hours` keyword

    def timezone(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any]:
        return "timezone", children[0]

    def holiday(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any] | None:
        dated, *label = children
        if dated is None:
            return None
        return "holiday", ast.Holiday(
            span=self._span(meta), day=dated[0], label=label[0].value if label else None
        )

    def on_close(self, meta: _Place | None, children: list[Token]) -> tuple[str, Any]:
        setting = children[0]
        return "on_close", ast.Reference(span=self._token_span(setting), path=(str(setting),))

    def weekly_hours(self, meta: _Place | None, children: list[Any]) -> ast.WeeklyHours:
        days, spans = children
        return ast.WeeklyHours(span=self._span(meta), days=days, spans=spans)

    def date_hours(self, meta: _Place | None, children: list[Any]) -> ast.DateHours | None:
        dated, spans = children
        return (
            None
            if dated is None
            else ast.DateHours(span=self._span(meta), day=dated[0], spans=spans)
        )

    def date_closed(self, meta: _Place | None, children: list[Any]) -> ast.DateHours | None:
        dated, *_closed = children
        return (
            None if dated is None else ast.DateHours(span=self._span(meta), day=dated[0], spans=())
        )

    def days(self, meta: _Place | None, children: list[str]) -> tuple[str, ...]:
        return tuple(children)

    def day_range(self, meta: _Place | None, children: list[Token]) -> str:
        return "-".join(children)

    def spans(self, meta: _Place | None, children: list[str]) -> tuple[str, ...]:
        return tuple(children)

    def span(self, meta: _Place | None, children: list[Token]) -> str:
        start, end = children
        return f"{start}-{end}"

    # -- metrics --

    def metric(self, meta: _Place | None, children: list[Any]) -> ast.MetricDecl:
        name, *statements = children
        return ast.MetricDecl(
            span=self._span(meta),
            name=str(name),
            start=self._single(statements, "start"),
            stop=self._single(statements, "stop"),
            cancel=self._single(statements, "cancel"),
            pauses=tuple(item for kind, item in statements if kind == "pause"),
            repeat=any(kind == "repeat" for kind, _ in statements),
        )

    def start(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any]:
        return "start", children[0]

    def stop(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any]:
        return "stop", children[0]

    def cancel(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any]:
        return "cancel", children[0]

    def pause(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any]:
        return "pause", children[0]

    def repeat(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any]:
        return "repeat", True

    def on_events(self, meta: _Place | None, children: list[Any]) -> ast.OnEvents:
        events = tuple(child for child in children if isinstance(child, ast.EventPattern))
        conditions = [child for child in children if not isinstance(child, ast.EventPattern)]
        return ast.OnEvents(
            span=self._span(meta), events=events, condition=conditions[0] if conditions else None
        )

    def when_condition(self, meta: _Place | None, children: list[Any]) -> ast.WhenCondition:
        return ast.WhenCondition(span=self._span(meta), condition=children[0])

    def created(self, meta: _Place | None, children: list[Any]) -> ast.EventPattern:
        return ast.EventPattern(span=self._span(meta), event="created")

    def reply(self, meta: _Place | None, children: list[Any]) -> ast.EventPattern:
        role = next((child for child in children if isinstance(child, _Role)), None)
        visibility = next((str(c) for c in children if isinstance(c, Token)), None)
        return ast.EventPattern(
            span=self._span(meta),
            event="reply",
            role=role.value if role else None,
            visibility=visibility,
        )

    def update(self, meta: _Place | None, children: list[Any]) -> ast.EventPattern:
        role = children[0].value if children else None
        return ast.EventPattern(span=self._span(meta), event="update", role=role)

    def by(self, meta: _Place | None, children: list[Token]) -> _Role:
        return _Role(str(children[0]))

    def contact(self, meta: _Place | None, children: list[Token]) -> ast.EventPattern:
        return ast.EventPattern(span=self._span(meta), event="contact", change=str(children[0]))

    def node_event(self, meta: _Place | None, children: list[Token]) -> ast.EventPattern:
        return ast.EventPattern(span=self._span(meta), event="node", change=str(children[0]))

    def metric_edge(self, meta: _Place | None, children: list[Token]) -> ast.EventPattern:
        edge, metric = children
        return ast.EventPattern(
            span=self._span(meta),
            event="metric",
            change=str(edge),
            metric=str(metric),
        )

    # -- policies --

    def policy(self, meta: _Place | None, children: list[Any]) -> ast.PolicyDecl:
        name, *statements = children
        return ast.PolicyDecl(
            span=self._span(meta),
            name=name.value,
            applies=self._single(statements, "applies"),
            calendar=self._single(statements, "calendar"),
            targets=tuple(item for kind, item in statements if kind == "target"),
            nodes=tuple(item for kind, item in statements if kind == "node"),
            pauses=tuple(item for kind, item in statements if kind == "pause"),
        )

    def applies(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any]:
        return "applies", children[0]

    def uses_calendar(self, meta: _Place | None, children: list[Token]) -> tuple[str, Any]:
        name = children[0]
        return "calendar", ast.Reference(span=self._token_span(name), path=(str(name),))

    def policy_pause(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any]:
        return "pause", children[0]

    def node_targets(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any]:
        node, *items = children
        targets: list[ast.Target] = []
        for item in items:
            if isinstance(item, ast.PercentLiteral):  # one more warning for the target before
                last = targets.pop()
                end = {"end_line": item.span.end_line, "end_column": item.span.end_column}
                item = last.model_copy(
                    update={
                        "warn_at": (*last.warn_at, item),
                        "span": last.span.model_copy(update=end),
                    }
                )
            targets.append(item)
        return "node", ast.NodeTargets(span=self._span(meta), node=node, targets=tuple(targets))

    def node_target(self, meta: _Place | None, children: list[Any]) -> ast.Target:
        metric, within, *warning = children
        return ast.Target(
            span=self._span(meta), metric=str(metric), within=within, warn_at=tuple(warning)
        )

    def target(self, meta: _Place | None, children: list[Any]) -> tuple[str, Any]:
        metric, within, *warn = children
        return "target", ast.Target(
            span=self._span(meta),
            metric=str(metric),
            within=within,
            warn_at=warn[0] if warn else (),
        )

    def warn(self, meta: _Place | None, children: list[Any]) -> tuple[ast.PercentLiteral, ...]:
        return tuple(children)

    # -- triggers and schedules --

    def trigger(self, meta: _Place | None, children: list[Any]) -> ast.TriggerDecl:
        name, when, actions = children
        return ast.TriggerDecl(span=self._span(meta), name=name.value, when=when, actions=actions)

    short_trigger = trigger

    def schedule(self, meta: _Place | None, children: list[Any]) -> ast.ScheduleDecl:
        name, cron, *rest = children
        timezone = rest.pop(0) if rest and isinstance(rest[0], _ZoneIn) else None
        when = rest[0] if len(rest) == 2 else None
        return ast.ScheduleDecl(
            span=self._span(meta),
            name=name.value,
            cron=cron,
            timezone=timezone.literal if timezone else None,
            when=when,
            actions=rest[-1],
        )

    def timezone_in(self, meta: _Place | None, children: list[Any]) -> _ZoneIn:
        return _ZoneIn(children[0])

    def actions(self, meta: _Place | None, children: list[Any]) -> tuple[ast.ActionCall, ...]:
        return tuple(children)

    def action(self, meta: _Place | None, children: list[Any]) -> ast.ActionCall:
        name, *arguments = children
        every = arguments.pop() if arguments and isinstance(arguments[-1], _Every) else None
        return ast.ActionCall(
            span=self._span(meta),
            name=str(name),
            arguments=tuple(arguments),
            every=every.literal if every else None,
        )

    def text(self, meta: _Place | None, children: list[Any]) -> ast.StringLiteral:
        literal: ast.StringLiteral = children[0]
        return literal

    def repeat_every(self, meta: _Place | None, children: list[Any]) -> _Every:
        return _Every(children[0])


class _Place(NamedTuple):
    """Where a token or rule is: 1-based, the end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def of(token: Token) -> _Place:
        line, column = token.line or 1, token.column or 1
        return _Place(line, column, token.end_line or line, token.end_column or column)

    @staticmethod
    def enclosing(places: list[_Place | None]) -> _Place | None:
        present = [place for place in places if place is not None]
        if not present:
            return None
        first, last = present[0], present[-1]
        return _Place(first.line, first.column, last.end_line, last.end_column)


class _Finish:
    """On the builder's stack: build ``tree`` now, its children are done."""

    __slots__ = ("tree",)

    def __init__(self, tree: Tree[Token]) -> None:
        self.tree = tree


class _Role(str):
    """``by agent`` inside an event, told apart from a visibility token."""

    @property
    def value(self) -> str:
        return str(self)


class _ZoneIn:
    def __init__(self, literal: ast.StringLiteral) -> None:
        self.literal = literal


class _Every:
    def __init__(self, literal: ast.DurationLiteral) -> None:
        self.literal = literal
