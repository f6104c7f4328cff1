"""Policy files to a :class:`~slarules.PolicySet`: the prelude, includes, validation."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from slarules._resources import grammar_file
from slarules.dsl import ast
from slarules.dsl.diagnostics import Diagnostic
from slarules.dsl.parser import parse_module, parse_module_and_problems
from slarules.dsl.schema import Vocabulary
from slarules.dsl.validate import PRELUDE, validate
from slarules.errors import PolicyValidationError
from slarules.policyset import PolicySet

__all__ = ["load_policies", "parse_policies"]


def load_policies(path: str | Path, vocabulary: Vocabulary | None = None) -> PolicySet:
    """Load a policy file, the files it includes, and the prelude; validate them all.

    Names of actions, functions and calendars are checked against ``vocabulary``, by default
    what the installed plugins provide (:class:`slarules.plugins.Plugins`). Raises
    :class:`~slarules.errors.PolicySyntaxError` or :class:`~slarules.errors.PolicyValidationError`
    with every problem found.
    """
    path = Path(path)
    loading = _Loading()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyValidationError(
            [Diagnostic("SLA010", f"cannot read `{path}`: {_reason(error)}", _file_span(str(path)))]
        ) from None
    resolved = path.resolve()
    declarations = list(loading.declarations(text, str(path), resolved.parent, (resolved,)))
    return _policy_set(declarations, loading, vocabulary)


def parse_policies(
    text: str, source: str = "<text>", vocabulary: Vocabulary | None = None
) -> PolicySet:
    """Like :func:`load_policies`, for text in memory; includes are relative to the current
    directory, or to ``source``'s directory when it names a file."""
    path = Path(source).resolve()
    base, including = (path.parent, (path,)) if path.is_file() else (Path.cwd(), ())
    loading = _Loading()
    declarations = list(loading.declarations(text, source, base, including))
    return _policy_set(declarations, loading, vocabulary)


@functools.cache
def _prelude() -> tuple[ast.Declaration, ...]:
    text = grammar_file("prelude.sla").read_text(encoding="utf-8")
    return parse_module(text, PRELUDE).declarations


def _policy_set(
    declarations: list[ast.Declaration], loading: _Loading, vocabulary: Vocabulary | None
) -> PolicySet:
    if vocabulary is None:
        from slarules.plugins import Plugins  # plugins build on the language, not the reverse

        vocabulary = Plugins().vocabulary()
    everything = [*_prelude(), *declarations]
    validation = validate(everything, vocabulary)
    diagnostics = sorted(
        [*loading.problems, *validation.diagnostics],
        key=lambda d: (d.span.file, d.span.line, d.span.column),
    )
    if any(d.severity == "error" for d in diagnostics):
        raise PolicyValidationError(diagnostics, loading.sources)
    warnings = [d for d in diagnostics if d.severity == "warning"]
    return PolicySet(
        everything,
        {**vocabulary.calendars, **validation.calendars},
        warnings,
        loading.sources,
        functions=vocabulary.functions,
    )


@dataclass
class _Loading:
    """Files read so far, for rendering diagnostics, and problems with includes."""

    sources: dict[str, str] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)

    def declarations(
        self, text: str, name: str, base: Path, including: tuple[Path, ...]
    ) -> Iterator[ast.Declaration]:
        """The declarations of a file, each include replaced by the included declarations."""
        self.sources[name] = text
        module, problems = parse_module_and_problems(text, name)
        self.problems += problems
        items: list[ast.Include | ast.Declaration] = [*module.includes, *module.declarations]
        items.sort(key=lambda item: (item.span.line, item.span.column))
        for item in items:
            if isinstance(item, ast.Include):
                yield from self._included(item, name, base, including)
            else:
                yield item

    def _included(
        self, include: ast.Include, parent: str, base: Path, including: tuple[Path, ...]
    ) -> Iterator[ast.Declaration]:
        if "\x00" in include.path.value:  # no file system takes it; os.path would raise
            self.problems.append(
                Diagnostic(
                    "SLA010",
                    "cannot include a path with a NUL character in it",
                    include.span,
                    help="paths are relative to the folder of the file that includes them",
                )
            )
            return
        path = (base / include.path.value).resolve()
        # Named as the user would write it from where they ran: relative stays relative.
        shown = os.path.normpath(os.path.join(os.path.dirname(parent), include.path.value))
        if path in including:
            chain = " -> ".join(p.name for p in (*including, path))
            self.problems.append(
                Diagnostic(
                    "SLA011",
                    f"include cycle: {chain}",
                    include.span,
                    help="remove one of the includes in the cycle",
                )
            )
            return
        try:
            if path.is_dir():
                raise IsADirectoryError(path)
            if not path.is_file():  # devices are not policy files
                raise FileNotFoundError(path)
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.problems.append(
                Diagnostic(
                    "SLA010",
                    f"cannot include `{include.path.value}`: {_reason(error)}",
                    include.span,
                    help="paths are relative to the folder of the file that includes them",
                )
            )
            return
        yield from self.declarations(text, shown, path.parent, (*including, path))


def _reason(error: Exception) -> str:
    if isinstance(error, FileNotFoundError):
        return "no such file"
    if isinstance(error, IsADirectoryError):
        return "it is a folder"
    if isinstance(error, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return getattr(error, "strerror", None) or str(error)


def _file_span(file: str) -> ast.Span:
    return ast.Span(file=file, line=1, column=1, end_line=1, end_column=1)
