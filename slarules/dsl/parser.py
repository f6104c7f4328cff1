"""One LALR parser for the whole language, built once per process from the shipped grammar."""

from __future__ import annotations

import functools

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from slarules._resources import grammar_file

# The start rules that can be parsed on their own.
START_RULES = ["hours_spec"]

# What each terminal means to someone writing the language; lark's names never reach the user.
_TERMINALS = {
    "WEEKDAY": "a weekday like `mon`",
    "TIME": "a time like `09:00`",
    "DATE": "a date like `2026-12-24`",
    "CLOSED": "`closed`",
    "COMMA": "`,`",
    "MINUS": "`-`",
}


@functools.cache
def _parser() -> Lark:
    grammar = grammar_file("slarules.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", start=START_RULES, propagate_positions=True)


class SyntaxProblem(Exception):
    """Where and why a text does not parse: a 1-based column and a message for the user."""

    def __init__(self, column: int, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def parse(text: str, start: str) -> Tree[Token]:
    """Parse ``text`` with the start rule ``start``; raises :class:`SyntaxProblem`."""
    try:
        return _parser().parse(text, start=start)
    except UnexpectedInput as error:
        raise _explain(error, text) from None


def _explain(error: UnexpectedInput, text: str) -> SyntaxProblem:
    if isinstance(error, UnexpectedToken) and error.token.type == "$END":
        return SyntaxProblem(len(text) + 1, f"the text ends early; expected {_expected(error)}")
    if isinstance(error, UnexpectedToken):
        return SyntaxProblem(
            error.column, f"unexpected `{error.token}`; expected {_expected(error)}"
        )
    if isinstance(error, UnexpectedCharacters):
        found = text[error.pos_in_stream] if error.pos_in_stream is not None else ""
        return SyntaxProblem(
            error.column, f"unexpected `{found}`; expected {_described(error.allowed)}"
        )
    return SyntaxProblem(getattr(error, "column", 1), "this text does not parse")


def _expected(error: UnexpectedToken) -> str:
    return _described(error.accepts or error.expected)


def _described(terminals: set[str] | frozenset[str] | None) -> str:
    names = sorted(_TERMINALS.get(name, f"`{name.lower()}`") for name in terminals or ())
    if not names:
        return "something else"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
