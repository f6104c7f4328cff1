"""The examples in the documentation and in docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

import slarules
from slarules import PolicyError, parse_policies
from slarules.cli import main
from slarules.dsl.diagnostics import CODES

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# A `$ slarules …` line in a console block, and the output lines up to the next blank line or fence.
CONSOLE_EXAMPLE = re.compile(r"^\$ slarules (?P<args>.+)\n(?P<output>(?:(?!```|\$ ).+\n)*)", re.M)
# A ```sla block is a whole policy file and must load; ```sla-invalid shows a mistake and must not.
SLA_BLOCK = re.compile(r"^```(?P<kind>sla|sla-invalid)\n(?P<text>.*?)^```", re.M | re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_python_examples_in_docs(page: Path) -> None:
    result = doctest.testfile(str(page), module_relative=False, optionflags=FLAGS)
    assert result.failed == 0


def console_examples() -> list[tuple[str, str, str]]:
    # The adapter pages' commands read exports that only a helpdesk gives (slas.json…); the
    # adapters' own tests run them on fixtures.
    return [
        (page.name, match["args"], match["output"])
        for page in PAGES
        if page.parent == DOCS
        for match in CONSOLE_EXAMPLE.finditer(page.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize(("page", "args", "output"), console_examples())
def test_command_line_examples_in_docs(page: str, args: str, output: str) -> None:
    result = CliRunner().invoke(main, shlex.split(args))
    assert result.output == output, f"{page}: slarules {args}"


def sla_blocks() -> list[tuple[str, int, str, str]]:
    return [
        (page.name, page.read_text(encoding="utf-8").count("\n", 0, match.start()) + 1,
         match["kind"], match["text"])
        for page in PAGES
        for match in SLA_BLOCK.finditer(page.read_text(encoding="utf-8"))
    ]  # fmt: skip


@pytest.mark.parametrize(("page", "line", "kind", "text"), sla_blocks())
def test_policy_examples_in_docs(page: str, line: int, kind: str, text: str) -> None:
    where = f"{page}:{line}"
    if kind == "sla":
        parse_policies(text, source=where)
    else:
        with pytest.raises(PolicyError):
            parse_policies(text, source=where)


# An invalid example followed (after some prose) by what `slarules check` prints for it.
DIAGNOSED_EXAMPLE = re.compile(
    r"^```sla-invalid\n(?P<text>(?:(?!```).*\n)*)```\n(?:(?!```).*\n)*"
    r"```\n(?P<output>(?P<file>[^\s:]+\.sla):\d+:\d+: (?:(?!```).*\n)*)```",
    re.M,
)


def diagnosed_examples() -> list[tuple[str, str, str, str]]:
    return [
        (page.name, match["file"], match["text"], match["output"])
        for page in PAGES
        for match in DIAGNOSED_EXAMPLE.finditer(page.read_text(encoding="utf-8"))
        if "[SLA004]" not in match["output"]  # it takes an 8 MB file: see test_language_limits
    ]


@pytest.mark.parametrize(("page", "file", "text", "output"), diagnosed_examples())
def test_documented_diagnostics_are_what_slarules_prints(
    page: str, file: str, text: str, output: str
) -> None:
    printed = re.sub(r"\n\S+\.sla: .*\n$", "\n", output).rstrip("\n")
    if "include" in text:  # the other files are in the corpus, with the expected output
        corpus = Path(__file__).parent / "language" / file
        assert corpus.read_text(encoding="utf-8") == text
        assert corpus.with_suffix(".err").read_text(encoding="utf-8").rstrip("\n") == printed
        return
    with pytest.raises(PolicyError) as error:
        parse_policies(text, source=file)
    rendered = "\n\n".join(
        d.render(error.value.sources.get(d.span.file)) for d in error.value.diagnostics
    )
    assert rendered == printed, f"{page}: the example for {file} is out of date"


def test_docs_have_examples() -> None:
    assert PAGES, "docs/ has no pages"
    assert console_examples(), "no command-line examples found in docs/"


def test_docstring_examples() -> None:
    attempted = 0
    for module_info in pkgutil.walk_packages(slarules.__path__, "slarules."):
        module = importlib.import_module(module_info.name)
        result = doctest.testmod(module, optionflags=FLAGS)
        assert result.failed == 0, module_info.name
        attempted += result.attempted
    assert attempted > 0


def test_every_diagnostic_code_is_documented() -> None:
    page = (DOCS / "errors.md").read_text(encoding="utf-8")
    documented = re.findall(r"^## (SLA\d{3}): ", page, re.M)
    assert documented == sorted(CODES), "docs/errors.md must list every code once, in order"
