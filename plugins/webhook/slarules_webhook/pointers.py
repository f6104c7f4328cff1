"""JSON pointers (RFC 6901): ``/ticket/tags/0``, with ``~1`` for ``/`` and ``~0`` for ``~``.

Resolution distinguishes *nothing there* (a missing key, an index past the end: the mapping
may have a default) from a value that is there, even ``null``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Missing", "Pointer"]

_BAD_ESCAPE = re.compile(r"~(?![01])")
_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")


class Missing(LookupError):
    """A pointer resolves to nothing; ``reason`` says where it stopped."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Pointer:
    tokens: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Pointer:
        """A pointer, or :class:`ValueError` saying why ``text`` is not one."""
        if text and not text.startswith("/"):
            raise ValueError(f"`{text}` is not a JSON pointer: it must start with `/`")
        if _BAD_ESCAPE.search(text):
            raise ValueError(f"`{text}`: `~` must be followed by 0 or 1 (`~0` is `~`, `~1` is `/`)")
        parts = text.split("/")[1:]
        return cls(tuple(part.replace("~1", "/").replace("~0", "~") for part in parts))

    def __str__(self) -> str:
        return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in self.tokens)

    def child(self, *tokens: str | int) -> Pointer:
        return Pointer((*self.tokens, *(str(token) for token in tokens)))

    def resolve(self, document: Any, base: Pointer | None = None) -> Any:
        """The value at this pointer, or :class:`Missing`; ``base`` is where ``document`` is
        in the whole payload, for the message."""
        value = document
        for depth, token in enumerate(self.tokens):
            here = str(Pointer((*(base.tokens if base else ()), *self.tokens[:depth])))
            place = f"`{here}`" if here else "the payload"
            if isinstance(value, dict):
                if token not in value:
                    raise Missing(f"{place} has no key `{token}`")
                value = value[token]
            elif isinstance(value, list):
                if not _INDEX.match(token) or int(token) >= len(value):
                    raise Missing(f"{place} is a list of {len(value)}, without `{token}`")
                value = value[int(token)]
            else:
                raise Missing(f"{place} is {_kind(value)}, not an object or a list")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
