"""A loaded, validated set of policies: what the engine runs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from slarules.calendar import Calendar
from slarules.dsl import ast
from slarules.dsl.diagnostics import Diagnostic
from slarules.dsl.schema import Function

__all__ = ["PolicyDocument", "PolicySet"]

Declared = TypeVar("Declared", bound=ast.Node)


class PolicyDocument(BaseModel):
    """The declarations of a policy set (prelude included) as one serialisable model.

    Its JSON Schema, :meth:`PolicySet.json_schema`, describes what :meth:`PolicySet.to_json`
    writes, for tools that want structured input rather than ``.sla`` text.
    """

    model_config = ConfigDict(frozen=True)

    calendars: tuple[ast.CalendarDecl, ...]
    metrics: tuple[ast.MetricDecl, ...]
    policies: tuple[ast.PolicyDecl, ...]
    triggers: tuple[ast.TriggerDecl, ...]
    schedules: tuple[ast.ScheduleDecl, ...]


class PolicySet:
    """Calendars, metrics, policies, triggers and schedules by name, in file order.

    Build one with :func:`slarules.load_policies` or :func:`slarules.parse_policies`.
    """

    def __init__(
        self,
        declarations: Sequence[ast.Declaration],
        calendars: Mapping[str, Calendar],
        warnings: Sequence[Diagnostic] = (),
        sources: Mapping[str, str] | None = None,
        functions: Mapping[str, Function] | None = None,
    ) -> None:
        self.document = PolicyDocument(
            calendars=_of(declarations, ast.CalendarDecl),
            metrics=_of(declarations, ast.MetricDecl),
            policies=_of(declarations, ast.PolicyDecl),
            triggers=_of(declarations, ast.TriggerDecl),
            schedules=_of(declarations, ast.ScheduleDecl),
        )
        self.calendars: Mapping[str, Calendar] = MappingProxyType(dict(calendars))
        # The plugin functions the conditions were checked against, for compiling them.
        self.functions: Mapping[str, Function] = MappingProxyType(dict(functions or {}))
        self.metrics = _by_name(self.document.metrics)
        self.policies = _by_name(self.document.policies)
        self.triggers = _by_name(self.document.triggers)
        self.schedules = _by_name(self.document.schedules)
        self.warnings = tuple(warnings)
        # The text of each file read, so that warnings can show their source line.
        self.sources: Mapping[str, str] = MappingProxyType(dict(sources or {}))

    def to_json(self, indent: int | None = 2) -> str:
        """Every declaration as JSON, with source spans; see :meth:`json_schema`."""
        return self.document.model_dump_json(indent=indent)

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_json`'s output."""
        schema: dict[str, Any] = json.loads(json.dumps(PolicyDocument.model_json_schema()))
        return schema

    def __repr__(self) -> str:
        return (
            f"<PolicySet {len(self.policies)} policies, {len(self.metrics)} metrics, "
            f"{len(self.calendars)} calendars, {len(self.triggers)} triggers, "
            f"{len(self.schedules)} schedules>"
        )


def _of(declarations: Sequence[ast.Declaration], kind: type[Declared]) -> tuple[Declared, ...]:
    return tuple(d for d in declarations if isinstance(d, kind))


def _by_name(declarations: Sequence[Declared]) -> Mapping[str, Declared]:
    return MappingProxyType({d.name: d for d in declarations})  # type: ignore[attr-defined]
