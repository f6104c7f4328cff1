"""Policy files in one canonical layout, their comments kept.

:func:`format_source` parses a file and prints its tree back: one statement a line, four spaces of
indentation, one blank line between declarations, triggers always in block form, conditions with
only the parentheses that precedence needs. Parsing the output gives the same tree as parsing the
input (spans aside), and formatting the output again changes nothing.

Comments are not in the tree. They are found by scanning the text and attached to the output line
whose statement they were written with: a comment alone on its line goes before the statement that
follows it (inside a block when a `}` follows it), a comment after code stays at the end of the
line of the statement that code belongs to.

Declarations keep their order (the first matching policy wins), includes come first. Inside a
block, statements of one kind keep their order and the kinds take fixed places: a calendar's
timezone, hours lines, holidays, ``on_close``; a metric's ``start``, ``stop``, ``cancel``, pauses,
``repeat``; a policy's ``applies``, ``calendar``, targets, node lines, pauses. Weekly and date
hours lines stay mixed as written: the tree keeps them in one list, so regrouping them would
change it.
"""

from __future__ import annotations

import bisect
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from slarules.dsl import ast
from slarules.dsl.parser import parse_module
from slarules.durations import format_duration

__all__ = ["format_condition", "format_module", "format_source"]

_INDENT = "    "

# (line, column) in the source, 1-based like ast.Span.
_Pos = tuple[int, int]
_NOWHERE: _Pos = (sys.maxsize, 0)

# Strings (skipped whole, so `#` inside them is no comment), comments, words, other characters.
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\w+|\S')

# Binding strength of each kind of condition, loosest first.
_OR, _AND, _NOT, _COMPARISON, _OPERAND = range(1, 6)


def format_source(text: str, file: str = "<text>") -> str:
    """The canonical text of a policy file; raises :class:`~slarules.errors.PolicySyntaxError`.

    The result ends with exactly one newline, unless the file holds nothing at all: then it is
    empty.
    """
    return format_module(parse_module(text, file), text)


def format_module(module: ast.Module, source: str | None = None) -> str:
    """The canonical text of a parsed file; pass its ``source`` text to keep its comments."""
    # Spans count from after a byte-order mark, which the parser drops.
    text = _Source((source or "").removeprefix("\ufeff"))
    units = _module_units(module, text)
    _attach_comments(units, text.comments)
    return _render(units, text)


# -- the source text -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Comment:
    text: str
    position: _Pos
    # A comment after code is anchored at the last token before it; one alone on its line is not.
    anchor: _Pos | None


class _Source:
    """The source text as tokens and comments, for placing comments and finding keywords."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self._line_starts = [0]
        self._line_starts.extend(match.end() for match in re.finditer("\n", text))
        self.tokens: list[tuple[_Pos, str]] = []
        self.comments: list[_Comment] = []
        for match in _TOKEN.finditer(text):
            position = self._position(match.start())
            if match.group().startswith("#"):
                self.comments.append(self._comment(match.group(), position))
            else:
                self.tokens.append((position, match.group()))
        self._positions = [position for position, _ in self.tokens]

    def _position(self, offset: int) -> _Pos:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def _comment(self, text: str, position: _Pos) -> _Comment:
        line, column = position
        alone = not self.lines[line - 1][: column - 1].strip()
        anchor = None if alone or not self.tokens else self.tokens[-1][0]
        return _Comment(text.rstrip(), position, anchor)

    def keyword_before(self, position: _Pos, keyword: str) -> _Pos:
        """Where ``keyword`` is, before ``position`` with at most opening parentheses between."""
        index = bisect.bisect_left(self._positions, position)
        while index > 0:
            index -= 1
            found, token = self.tokens[index]
            if token == keyword:
                return found
            if token != "(":
                break
        return position

    def word_between(
        self, word: str, start: _Pos, end: _Pos, taken: list[tuple[_Pos, _Pos]]
    ) -> _Pos | None:
        """The first ``word`` token after ``start`` and before ``end`` outside the ``taken``."""
        index = bisect.bisect_right(self._positions, start)
        for position, token in self.tokens[index:]:
            if position >= end:
                break
            if token == word and not any(low <= position <= high for low, high in taken):
                return position
        return None

    def char_at(self, position: _Pos) -> str:
        line, column = position
        if not 0 < line <= len(self.lines) or not 0 < column <= len(self.lines[line - 1]):
            return ""
        return self.lines[line - 1][column - 1]

    def blank_between(self, first: int, last: int) -> bool:
        """Whether an empty line lies strictly between lines ``first`` and ``last``."""
        return any(not self.lines[line - 1].strip() for line in range(first + 1, last))


# -- output lines ----------------------------------------------------------------------------

_Kind = Literal["include", "header", "statement", "close", "end"]


@dataclass
class _Unit:
    """One output line, with where its statement is in the source and its comments."""

    kind: _Kind
    text: str
    start: _Pos | None  # None: not in the source (the `}` of a one-line trigger)
    end: _Pos
    leading: list[_Comment] = field(default_factory=list)
    trailing: list[_Comment] = field(default_factory=list)

    @property
    def indent(self) -> int:
        return 1 if self.kind == "statement" else 0

    @property
    def top_level(self) -> bool:
        return self.kind in ("include", "header", "end")


def _start(span: ast.Span) -> _Pos:
    return span.line, span.column


def _end(span: ast.Span) -> _Pos:
    return span.end_line, span.end_column


def _statement(text: str, span: ast.Span, source: _Source, *keywords: str) -> _Unit:
    """A statement whose node starts at ``span``, after ``keywords`` that the node leaves out."""
    start = _start(span)
    for keyword in reversed(keywords):
        start = source.keyword_before(start, keyword)
    return _Unit("statement", text, start, _end(span))


def _block(header: str, node: ast.Node, body: list[_Unit], source: _Source) -> list[_Unit]:
    opening = _Unit("header", f"{header} {{", _start(node.span), _start(node.span))
    brace = (node.span.end_line, node.span.end_column - 1)
    closing = _Unit("close", "}", brace if source.char_at(brace) == "}" else None, brace)
    return [opening, *body, closing]


def _module_units(module: ast.Module, source: _Source) -> list[_Unit]:
    units = [
        _Unit("include", f"include {_string(item.path.value)}", _start(item.span), _end(item.span))
        for item in module.includes
    ]
    for declaration in module.declarations:
        units.extend(_declaration_units(declaration, source))
    units.append(_Unit("end", "", _NOWHERE, _NOWHERE))
    return units


def _declaration_units(declaration: ast.Declaration, source: _Source) -> list[_Unit]:
    if isinstance(declaration, ast.CalendarDecl):
        body = _calendar_body(declaration, source)
        return _block(f"calendar {declaration.name}", declaration, body, source)
    if isinstance(declaration, ast.MetricDecl):
        body = _metric_body(declaration, source)
        return _block(f"metric {declaration.name}", declaration, body, source)
    if isinstance(declaration, ast.PolicyDecl):
        body = _policy_body(declaration, source)
        return _block(f"policy {_string(declaration.name)}", declaration, body, source)
    if isinstance(declaration, ast.TriggerDecl):
        body = _trigger_body(declaration.when, declaration.actions, source)
        return _block(f"trigger {_string(declaration.name)}", declaration, body, source)
    header = f"schedule {_string(declaration.name)} every {_string(declaration.cron.value)}"
    if declaration.timezone is not None:
        header += f" in {_string(declaration.timezone.value)}"
    body = _trigger_body(declaration.when, declaration.actions, source)
    return _block(header, declaration, body, source)


def _calendar_body(calendar: ast.CalendarDecl, source: _Source) -> list[_Unit]:
    body = []
    if calendar.timezone is not None:
        zone = calendar.timezone
        body.append(_statement(f"timezone {_string(zone.value)}", zone.span, source, "timezone"))
    for line in calendar.hours:
        body.append(_statement(f"hours {_hours(line)}", line.span, source, "hours"))
    for holiday in calendar.holidays:
        body.append(_statement(_holiday(holiday), holiday.span, source))
    if calendar.on_close is not None:
        close = calendar.on_close
        body.append(_statement(f"on_close {_reference(close)}", close.span, source, "on_close"))
    return body


def _metric_body(metric: ast.MetricDecl, source: _Source) -> list[_Unit]:
    body = []
    moments = {"start": metric.start, "stop": metric.stop, "cancel": metric.cancel}
    for keyword, moment in moments.items():
        if moment is not None:
            body.append(_statement(f"{keyword} {_moment(moment)}", moment.span, source, keyword))
    for pause in metric.pauses:
        text = f"pause while {_condition(pause)}"
        body.append(_statement(text, pause.span, source, "pause", "while"))
    if metric.repeat:
        # `repeat` has no node: find its keyword among the statements.
        taken = [(unit.start or unit.end, unit.end) for unit in body]
        start = source.word_between("repeat", _start(metric.span), _end(metric.span), taken)
        body.append(_Unit("statement", "repeat", start, start or _NOWHERE))
    return body


def _policy_body(policy: ast.PolicyDecl, source: _Source) -> list[_Unit]:
    body = []
    if policy.applies is not None:
        text = f"applies when {_condition(policy.applies)}"
        body.append(_statement(text, policy.applies.span, source, "applies", "when"))
    if policy.calendar is not None:
        text = f"calendar {_reference(policy.calendar)}"
        body.append(_statement(text, policy.calendar.span, source, "calendar"))
    for target in policy.targets:
        body.append(_statement(_target(target), target.span, source))
    for node in policy.nodes:
        targets = ", ".join(_target(target) for target in node.targets)
        body.append(_statement(f"node {_string(node.node.value)} {targets}", node.span, source))
    for pause in policy.pauses:
        text = f"pause while {_condition(pause)}"
        body.append(_statement(text, pause.span, source, "pause", "while"))
    return body


def _trigger_body(
    when: ast.Expression | None, actions: tuple[ast.ActionCall, ...], source: _Source
) -> list[_Unit]:
    body = []
    if when is not None:
        body.append(_statement(f"when {_condition(when)}", when.span, source, "when"))
    text = f"then {', '.join(_action(action) for action in actions)}"
    then = _statement(text, actions[0].span, source, "then")
    then.end = _end(actions[-1].span)
    body.append(then)
    return body


# -- comments --------------------------------------------------------------------------------


def _attach_comments(units: list[_Unit], comments: list[_Comment]) -> None:
    placed = sorted((unit for unit in units if unit.start is not None), key=_unit_start)
    starts = [_unit_start(unit) for unit in placed]
    for comment in comments:
        if comment.anchor is None:
            # Alone on its line: before the statement it interrupts, else before the next one.
            inside = _spanning(placed, starts, comment.position[0])
            following = placed[bisect.bisect_right(starts, comment.position)]
            (inside or following).leading.append(comment)
        else:
            # After code: on the line of the statement that the code belongs to.
            index = bisect.bisect_right(starts, comment.anchor) - 1
            placed[max(index, 0)].trailing.append(comment)
    for unit in units:
        # A line keeps one comment at its end; others written along the statement go above it.
        if len(unit.trailing) > 1:
            unit.leading = sorted([*unit.leading, *unit.trailing[:-1]], key=_comment_position)
            del unit.trailing[:-1]


def _unit_start(unit: _Unit) -> _Pos:
    return unit.start or _NOWHERE


def _comment_position(comment: _Comment) -> _Pos:
    return comment.position


def _spanning(placed: list[_Unit], starts: list[_Pos], line: int) -> _Unit | None:
    """The statement written over several lines that ``line`` is inside of, if any."""
    # Statements do not overlap: only the last one to start before the line can run over it.
    index = bisect.bisect_left(starts, (line, 0)) - 1
    return placed[index] if index >= 0 and placed[index].end[0] >= line else None


# -- rendering -------------------------------------------------------------------------------


def _render(units: list[_Unit], source: _Source) -> str:
    lines: list[str] = []
    previous: _Unit | None = None
    for unit in units:
        if lines and _separated(previous, unit):
            lines.append("")
        lines.extend(_leading_lines(unit, source))
        if unit.kind != "end":
            text = _INDENT * unit.indent + unit.text
            lines.append(f"{text}  {unit.trailing[0].text}" if unit.trailing else text)
            previous = unit
    return "\n".join(lines) + "\n" if lines else ""


def _separated(previous: _Unit | None, unit: _Unit) -> bool:
    """Whether a blank line goes before ``unit``: between top-level items, includes grouped."""
    if unit.kind == "end":
        return bool(unit.leading)
    if unit.kind == "include":
        return previous is not None and previous.kind != "include"
    return unit.kind == "header"


def _leading_lines(unit: _Unit, source: _Source) -> list[str]:
    # Comments before a `}` stay inside the block.
    indent = _INDENT * (1 if unit.kind == "close" else unit.indent)
    lines: list[str] = []
    for index, comment in enumerate(unit.leading):
        lines.append(indent + comment.text)
        # At the top level, single blank lines between comments and declarations are kept.
        following = _line_after(unit, index)
        if unit.top_level and source.blank_between(comment.position[0], following):
            lines.append("")
    return lines


def _line_after(unit: _Unit, index: int) -> int:
    """The source line of what follows the ``index``-th comment before ``unit``."""
    if index + 1 < len(unit.leading):
        return unit.leading[index + 1].position[0]
    if unit.kind == "end" or unit.start is None:
        return 0
    return unit.start[0]


# -- statements ------------------------------------------------------------------------------


def _hours(line: ast.WeeklyHours | ast.DateHours) -> str:
    spans = ", ".join(line.spans)
    if isinstance(line, ast.WeeklyHours):
        return f"{', '.join(line.days)} {spans}"
    return f"{line.day.isoformat()} {spans or 'closed'}"


def _holiday(holiday: ast.Holiday) -> str:
    text = f"holiday {holiday.day.isoformat()}"
    return text if holiday.label is None else f"{text} {_string(holiday.label)}"


def _moment(moment: ast.OnEvents | ast.WhenCondition) -> str:
    if isinstance(moment, ast.WhenCondition):
        return f"when {_condition(moment.condition)}"
    events = "on " + " or ".join(_event(event) for event in moment.events)
    if moment.condition is None:
        return events
    return f"{events} or when {_condition(moment.condition)}"


def _event(event: ast.EventPattern) -> str:
    if event.event == "metric":
        return f"{event.change} of {event.metric}"
    words: list[str] = [event.event]
    if event.role is not None:
        words += ["by", event.role]
    if event.visibility is not None:
        words.append(event.visibility)
    if event.change is not None:
        words.append(event.change)
    return " ".join(words)


def _target(target: ast.Target) -> str:
    text = f"{target.metric} within {format_duration(target.within.value)}"
    if target.warn_at:
        text += " warn at " + ", ".join(_percent(percent.value) for percent in target.warn_at)
    return text


def _action(action: ast.ActionCall) -> str:
    words = [action.name]
    words.extend(
        _reference(argument) if isinstance(argument, ast.Reference) else _string(argument.value)
        for argument in action.arguments
    )
    if action.every is not None:
        words += ["every", format_duration(action.every.value)]
    return " ".join(words)


# -- conditions ------------------------------------------------------------------------------


def format_condition(expression: ast.Expression) -> str:
    """A condition in canonical text, as the action reasons and explanations quote it."""
    return _condition(expression)


def _precedence(expression: ast.Expression) -> int:
    if isinstance(expression, ast.AnyOf):
        return _OR
    if isinstance(expression, ast.AllOf):
        return _AND
    if isinstance(expression, ast.Not):
        return _NOT
    if isinstance(expression, ast.Comparison):
        return _COMPARISON
    return _OPERAND


def _operand(expression: ast.Expression, weakest: int) -> str:
    """``expression`` where the grammar takes nothing looser than ``weakest`` unparenthesised."""
    text = _condition(expression)
    return text if _precedence(expression) >= weakest else f"({text})"


def _condition(expression: ast.Expression) -> str:
    if isinstance(expression, ast.AnyOf):
        return " or ".join(_operand(operand, _AND) for operand in expression.operands)
    if isinstance(expression, ast.AllOf):
        return " and ".join(_operand(operand, _NOT) for operand in expression.operands)
    if isinstance(expression, ast.Not):
        return f"not {_operand(expression.operand, _NOT)}"
    if isinstance(expression, ast.Comparison):
        left = _operand(expression.left, _OPERAND)
        right = _operand(expression.right, _OPERAND)
        return f"{left} {expression.operator} {right}"
    if isinstance(expression, ast.Call):
        arguments = ", ".join(_argument(argument) for argument in expression.arguments)
        return f"{expression.function}({arguments})"
    if isinstance(expression, ast.Reference):
        return _reference(expression)
    return _literal(expression)


def _argument(argument: ast.Argument) -> str:
    text = _condition(argument.value)
    return text if argument.name is None else f"{argument.name} {text}"


def _reference(reference: ast.Reference) -> str:
    return ".".join(reference.path)


def _literal(literal: ast.Scalar | ast.ListLiteral) -> str:
    if isinstance(literal, ast.StringLiteral):
        return _string(literal.value)
    if isinstance(literal, ast.NumberLiteral):
        return _number(literal.value)
    if isinstance(literal, ast.DurationLiteral):
        return format_duration(literal.value)
    if isinstance(literal, ast.PercentLiteral):
        return _percent(literal.value)
    if isinstance(literal, ast.BooleanLiteral):
        return "true" if literal.value else "false"
    return "[" + ", ".join(_literal(item) for item in literal.items) + "]"


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(value: float) -> str:
    """Decimal digits without exponent; whole numbers without ``.0``."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent(value: float) -> str:
    return f"{_number(value)}%"
