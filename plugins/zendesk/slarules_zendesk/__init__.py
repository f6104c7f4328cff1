"""slarules-zendesk: the Zendesk adapter for slarules (docs/plugins/zendesk.md)."""

from slarules_zendesk.adapter import ExportBatch, ZendeskAdapter
from slarules_zendesk.backfill import events_from_audits, events_from_export_page
from slarules_zendesk.client import ZendeskClient
from slarules_zendesk.importer import export_to_policies
from slarules_zendesk.rails_zones import RAILS_ZONES, iana_zone
from slarules_zendesk.settings import ZendeskSettings
from slarules_zendesk.signature import sign, verify
from slarules_zendesk.webhooks import events_from_subscription, events_from_trigger

__all__ = [
    "RAILS_ZONES",
    "ExportBatch",
    "ZendeskAdapter",
    "ZendeskClient",
    "ZendeskSettings",
    "events_from_audits",
    "events_from_export_page",
    "events_from_subscription",
    "events_from_trigger",
    "export_to_policies",
    "iana_zone",
    "sign",
    "verify",
]
