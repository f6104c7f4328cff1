"""Plugin settings: strings from ``Engine(settings={plugin: {…}})`` or the environment's
``SLARULES_<PLUGIN>_<KEY>``, validated by the plugin's own pydantic model.

A plugin that reads its settings with :func:`load_settings` reports every bad or missing one
at once, each named by the variable an operator sets::

    class AcmeSettings(BaseModel):
        model_config = ConfigDict(extra="forbid")
        base_url: str
        token: str

    settings = load_settings(AcmeSettings, "acme", raw)
    # PluginError: acme: `SLARULES_ACME_TOKEN` (token): required
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from slarules.errors import PluginError

__all__ = ["environment_prefix", "load_settings", "setting_name"]

Settings = TypeVar("Settings", bound=BaseModel)

_REASONS = {"missing": "required", "extra_forbidden": "not a setting of this plugin"}


def setting_name(plugin: str, key: str) -> str:
    """How a setting is named in messages: its variable, then its key."""
    return f"`{environment_prefix(plugin)}{key.upper()}` ({key})"


def environment_prefix(plugin: str) -> str:
    return f"SLARULES_{plugin.upper()}_"


def load_settings(model: type[Settings], plugin: str, settings: Mapping[str, str]) -> Settings:
    """The plugin's settings, or :class:`PluginError` naming each bad one. A rule about several
    settings together (a model validator) should name them in its message itself, with
    :func:`setting_name`."""
    try:
        return model.model_validate(dict(settings))
    except ValidationError as error:
        problems = [_problem(plugin, detail) for detail in error.errors(include_url=False)]
        raise PluginError(f"{plugin}: " + "; ".join(problems)) from None


def _problem(plugin: str, detail: Mapping[str, object]) -> str:
    message = str(detail["msg"]).removeprefix("Value error, ")
    reason = _REASONS.get(str(detail["type"]), message)
    location = detail["loc"]
    if isinstance(location, tuple) and location:
        return f"{setting_name(plugin, str(location[0]))}: {reason}"
    return reason
