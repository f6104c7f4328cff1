"""The hooks that register the Zendesk adapter with slarules."""

from __future__ import annotations

from slarules import AdapterSpec, ImporterSpec, hookimpl
from slarules_zendesk.actions import ACTIONS
from slarules_zendesk.adapter import ZendeskAdapter
from slarules_zendesk.importer import IMPORT_INPUTS, export_to_policies


@hookimpl
def slarules_adapters() -> list[AdapterSpec]:
    return [
        AdapterSpec(
            name="zendesk",
            summary="Zendesk: signed webhooks, audit and export backfill, REST ticket actions",
            create=ZendeskAdapter.from_settings,
            actions=ACTIONS,
            importer=ImporterSpec(
                inputs=IMPORT_INPUTS,
                convert=export_to_policies,
                summary=(
                    "Turn Zendesk's SLA policies (GET /api/v2/slas/policies) and business-hours "
                    "schedules (GET /api/v2/business_hours/schedules, with holidays) into a "
                    "policy file."
                ),
            ),
        )
    ]
