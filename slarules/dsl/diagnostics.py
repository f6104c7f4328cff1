"""Diagnostics: what is wrong in a policy file, where, and how to fix it.

Rendered like a compiler's::

    support.sla:12:14: error[SLA102]: unknown calendar `ofice` (did you mean `office`?)
       |
    12 |     calendar ofice
       |              ^^^^^
    help: define it with `calendar ofice { ... }` or use one of: `always`, `office`

Every code is listed in :data:`CODES` and documented, with an example, in ``docs/errors.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from slarules.dsl.ast import Span

Severity = Literal["error", "warning"]

CODES: dict[str, str] = {
    # syntax
    "SLA001": "unexpected input",
    "SLA002": "unterminated string",
    "SLA003": "unexpected end of file",
    "SLA004": "file too large",
    "SLA005": "nesting too deep",
    # files
    "SLA010": "included file not found",
    "SLA011": "include cycle",
    # names
    "SLA101": "duplicate name",
    "SLA102": "unknown calendar",
    "SLA103": "unknown metric",
    "SLA104": "unknown action",
    "SLA105": "unknown function",
    "SLA106": "unknown field",
    "SLA107": "invalid placeholder",
    # values
    "SLA201": "invalid calendar",
    "SLA202": "unknown time zone",
    "SLA203": "invalid duration",
    "SLA204": "invalid percent",
    "SLA205": "invalid cron expression",
    "SLA206": "invalid date",
    "SLA207": "invalid setting",
    "SLA208": "missing setting",
    # meaning
    "SLA301": "metric never starts",
    "SLA302": "`service` without `first_response`",
    "SLA303": "policy can never apply",
    "SLA304": "type error in condition",
    "SLA305": "given twice",
    "SLA306": "invalid arguments",
    "SLA307": "report function in a ticket condition",
    "SLA308": "clock values compared with each other",
    "SLA309": "a function of a running clock value",
    "SLA310": "a field's value where its name is meant",
    "SLA311": "unknown ticket field",
    "SLA312": "a clock without a target",
}


@dataclass(frozen=True)
class Diagnostic:
    """One problem: a code from :data:`CODES`, a lowercase message, where, and a hint."""

    code: str
    message: str
    span: Span
    help: str | None = None
    severity: Severity = "error"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"undocumented diagnostic code {self.code}")

    def render(self, source: str | None) -> str:
        """The diagnostic with the offending line and a caret under its span."""
        span = self.span
        head = (
            f"{span.file}:{span.line}:{span.column}: {self.severity}[{self.code}]: {self.message}"
        )
        lines = [head]
        source_line = _line(source, span.line)
        if source_line is not None:
            gutter = " " * len(str(span.line))
            width = (
                span.end_column - span.column
                if span.end_line == span.line and span.end_column > span.column
                else max(1, len(source_line.rstrip()) - span.column + 1)
            )
            lines += [
                f"{gutter} |",
                f"{span.line} | {source_line.rstrip()}",
                f"{gutter} | {' ' * (span.column - 1)}{'^' * max(width, 1)}",
            ]
        if self.help:
            lines.append(f"help: {self.help}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "help": self.help,
            **self.span.model_dump(),
        }


def _line(source: str | None, number: int) -> str | None:
    if source is None:
        return None
    lines = source.splitlines()
    if 1 <= number <= len(lines):
        return lines[number - 1]
    return None
