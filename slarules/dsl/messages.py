"""Messages: an action's text with ``{placeholders}``, read alike where a policy file is checked
and where it is compiled, so that what the check lets through is what runs."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Placeholder", "message_parts", "placeholder_path"]

# The dotted names of conditions: `id`, `resolution.due_at`, `customer.tier`.
_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


class Placeholder(NamedTuple):
    """A ``{name}`` in a message: what is written between the braces, and where it begins in
    the message's text."""

    text: str
    offset: int


def message_parts(message: str) -> list[str | Placeholder]:
    """The literal text and the placeholders of ``message``, in order. A brace with no closing
    one after it is text."""
    parts: list[str | Placeholder] = []
    position = 0
    while (opening := message.find("{", position)) != -1:
        closing = message.find("}", opening)
        if closing == -1:
            break
        name = Placeholder(message[opening + 1 : closing], opening + 1)
        parts += [message[position:opening], name]
        position = closing + 1
    parts.append(message[position:])
    return [part for part in parts if part != ""]


def placeholder_path(placeholder: Placeholder) -> tuple[str, ...] | None:
    """The dotted name a placeholder reads, or ``None`` when it is no such name."""
    name = placeholder.text.strip()
    return tuple(name.split(".")) if _DOTTED_NAME.fullmatch(name) else None
