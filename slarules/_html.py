"""HTML pages (Jinja2): the shared environment of the dashboard and the HTML report.

Templates live in ``slarules/templates``; ``_base.html`` holds the layout and the styles,
``_macros.html`` the progress bar (green response, blue handling, red overtime) and figures.
Autoescaping is on: ticket fields and reasons come from helpdesks and policy files.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

import jinja2

from slarules.clocks import Clock
from slarules.durations import format_duration
from slarules.timezones import to_local

__all__ = ["bar_segments", "render"]


def render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def bar_segments(clock: Clock) -> list[tuple[str, float]]:
    """The bar's parts as ``(kind, percent of the bar)``: ``response``, ``handling``,
    ``overtime``; the target is the whole bar unless overtime stretches it."""
    progress = clock.progress
    scale = max(clock.target, clock.elapsed) or timedelta(seconds=1)
    parts = (
        ("response", progress.response),
        ("handling", progress.handling),
        ("overtime", progress.overtime),
    )
    return [(kind, round(100 * (part / scale), 2)) for kind, part in parts if part]


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{value:.1f}%"


def _duration(value: timedelta | float | None) -> str:
    if value is None:
        return "no data"
    if not isinstance(value, timedelta):
        value = timedelta(seconds=value)
    return format_duration(value)


def _local(instant: datetime | None, zone: str) -> str:
    return "-" if instant is None else to_local(instant, zone).strftime("%Y-%m-%d %H:%M:%S %Z")


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("slarules", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,  # a misspelt variable is a bug, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(percent=_percent, duration=_duration, local=_local)
    environment.globals.update(bar_segments=bar_segments)
    return environment
