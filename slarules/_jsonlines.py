"""Events files: JSON lines, one event per line, as ``slarules simulate`` and ``report`` read them.

A line is read as bytes, so that a line that is not UTF-8 text is one bad line, reported with
its number like any other, and the rest of the file still counts. A file can be cut in byte
ranges that end at line ends, for processes that each read one.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["BadLine", "json_object", "line_problem", "lines", "ranges"]

_JSON_KINDS: dict[type, str] = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


class BadLine(Exception):
    """A line of an events file that holds no JSON object."""


def json_object(line: bytes | str) -> dict[str, Any]:
    """The JSON object a line holds, or :class:`BadLine` saying what it holds instead."""
    try:
        payload = json.loads(line)
    except UnicodeDecodeError:
        raise BadLine("not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise BadLine(f"not JSON: {error.msg}") from None
    if not isinstance(payload, dict):
        # The engine would read a JSON string as the text of an event; a line of JSON lines is
        # the event itself.
        kind = _JSON_KINDS.get(type(payload), "value")
        raise BadLine(f"not an event: a JSON {kind}, not an object")
    return payload


def line_problem(line: bytes | str) -> str | None:
    """What is wrong with a line that holds no JSON object; ``None`` for one that does."""
    try:
        json_object(line)
    except BadLine as problem:
        return str(problem)
    return None


def ranges(path: Path, size: int) -> list[tuple[int, int]]:
    """Consecutive byte ranges of about ``size`` bytes covering the file, each ending at the end
    of a line (or of the file)."""
    total = os.path.getsize(path)
    bounds = [0]
    with path.open("rb") as file:
        while bounds[-1] + size < total:
            file.seek(bounds[-1] + size)
            file.readline()  # on to the end of the line the cut falls in
            bounds.append(min(file.tell(), total))
    if bounds[-1] < total:
        bounds.append(total)
    return list(itertools.pairwise(bounds))


def lines(path: Path, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """The lines of the byte range ``[start, stop)`` (to the end by default), each with its line
    end; ``start`` must be where a line starts."""
    with path.open("rb") as file:
        file.seek(start)
        remaining = (os.path.getsize(path) if stop is None else stop) - start
        while remaining > 0:
            line = file.readline()
            if not line:
                return  # the file got shorter
            remaining -= len(line)
            yield line
