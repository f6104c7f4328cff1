"""The hooks that register the LiveAgent adapter with slarules."""

from __future__ import annotations

from slarules import AdapterSpec, ImporterSpec, hookimpl
from slarules_liveagent.actions import ACTIONS
from slarules_liveagent.adapter import LiveAgentAdapter
from slarules_liveagent.importer import slas_to_policies


@hookimpl
def slarules_adapters() -> list[AdapterSpec]:
    return [
        AdapterSpec(
            name="liveagent",
            summary="LiveAgent: Rules' HTTP requests, API v3 reconciliation and ticket actions",
            create=LiveAgentAdapter.from_settings,
            actions=ACTIONS,
            importer=ImporterSpec(
                inputs=("slas",),
                convert=slas_to_policies,
                summary="Turn LiveAgent's SLA levels (GET /api/v3/slas) into a policy file.",
            ),
        )
    ]
