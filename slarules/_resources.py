"""Files that ship inside the package: the grammar and, later, the prelude.

In a wheel they live in ``slarules/grammar/``; in a source checkout they live in ``grammar/`` at
the top of the repository (design section 7), one level above the package.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

_CHECKOUT_GRAMMAR = Path(__file__).resolve().parent.parent / "grammar"


def grammar_file(name: str) -> Traversable:
    """The shipped language file ``name``, such as ``slarules.lark``."""
    installed = files("slarules").joinpath("grammar", name)
    if installed.is_file():
        return installed
    checkout = _CHECKOUT_GRAMMAR / name
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(
        f"slarules cannot find its language file `{name}`; the installation is incomplete, "
        "reinstall the package"
    )
