"""The plugin manager: one per :class:`~slarules.Engine`, never a module-level singleton.

It registers the built-in plugin, then every plugin of the ``slarules`` entry-point group, then
the plugins a host passes in code, and collects what their registration hooks return. Anything
that would make a deployment silently wrong is an error naming the distribution at fault: a
plugin that fails to import, a hook that raises or returns something other than specs, a
misspelt hook name, two plugins that register the same name.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pluggy
from pydantic import BaseModel

from slarules import _builtin, hookspecs
from slarules._suggest import did_you_mean
from slarules._version import __version__
from slarules.dsl.schema import BUILTIN_FUNCTIONS, Function, Parameter, Type, Vocabulary
from slarules.errors import PluginError, failure_text
from slarules.settings import environment_prefix
from slarules.specs import (
    ActionContext,
    ActionSpec,
    Adapter,
    AdapterSpec,
    CalendarSpec,
    FunctionSpec,
)

__all__ = ["PluginFailure", "PluginInfo", "Plugins"]

ENTRY_POINT_GROUP = "slarules"
BUILTIN = "builtin"

_logger = logging.getLogger("slarules.plugins")
Spec = TypeVar("Spec", ActionSpec, AdapterSpec, CalendarSpec, FunctionSpec)


class PluginInfo(BaseModel):
    """One registered plugin and what it provides, as ``slarules plugins`` lists it."""

    name: str
    distribution: str | None  # None for plugins registered in code
    version: str | None
    adapters: list[str]
    actions: list[str]
    functions: list[str]
    calendars: list[str]


@dataclass(frozen=True)
class _Owner:
    """Where a plugin comes from, for messages that must name it."""

    distribution: str | None = None
    version: str | None = None
    builtin: bool = False

    @property
    def label(self) -> str:
        if self.builtin:
            return "slarules itself"
        if self.distribution is not None:
            return f"distribution `{self.distribution} {self.version}`"
        return "a plugin registered in code"


@dataclass(frozen=True)
class PluginFailure:
    """A notification hook that raised: logged, kept here, and otherwise ignored."""

    plugin: str
    hook: str
    error: str


class Plugins:
    """The plugins of one engine and what they registered.

    ``settings`` maps a plugin's name (its entry-point name) to its settings; the environment
    fills in the rest (``SLARULES_ZENDESK_SUBDOMAIN`` is the ``subdomain`` setting of
    ``zendesk``).
    """

    def __init__(
        self,
        plugins: Iterable[object] = (),
        *,
        block: Iterable[str] = (),
        entry_points: bool = True,
        settings: Mapping[str, Mapping[str, str]] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._manager = pluggy.PluginManager(hookspecs.PROJECT)
        self._manager.add_hookspecs(hookspecs)
        self._owners: dict[str, _Owner] = {}
        # For each registration hook, which plugin registered each name.
        self._providers: dict[str, dict[str, str]] = {}
        for name in block:
            self._manager.set_blocked(name)
        self._register(_builtin, BUILTIN, _Owner("slarules", __version__, builtin=True))
        if entry_points:
            self._load_entry_points()
        for plugin in plugins:
            self._register(plugin, _name_of(plugin), _Owner())
        self._check_hook_names()
        self.adapters: dict[str, AdapterSpec] = self._collect("slarules_adapters", AdapterSpec)
        self.actions: dict[str, ActionSpec] = self._collect("slarules_actions", ActionSpec)
        self.functions: dict[str, FunctionSpec] = self._collect("slarules_functions", FunctionSpec)
        self.calendars: dict[str, CalendarSpec] = self._collect("slarules_calendars", CalendarSpec)
        self._settings = {name: dict(values) for name, values in (settings or {}).items()}
        self._environ = os.environ if environ is None else environ
        self._adapters: dict[str, Adapter] = {}
        self.failures: deque[PluginFailure] = deque(maxlen=1000)

    # -- what is installed -------------------------------------------------------------------

    def vocabulary(self) -> Vocabulary:
        """The names policy files may use: actions, condition functions and calendars."""
        return Vocabulary(
            actions=frozenset(self.actions),
            functions={name: _function(spec) for name, spec in self.functions.items()},
            calendars={name: spec.calendar for name, spec in self.calendars.items()},
            builtin_actions=frozenset(self._names_of(BUILTIN, "slarules_actions")),
        )

    def describe(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in self._manager.list_name_plugin():
            if plugin is None:
                continue  # blocked
            owner = self._owners[name]
            infos.append(
                PluginInfo(
                    name=name,
                    distribution=owner.distribution,
                    version=owner.version,
                    adapters=self._names_of(name, "slarules_adapters"),
                    actions=self._names_of(name, "slarules_actions"),
                    functions=self._names_of(name, "slarules_functions"),
                    calendars=self._names_of(name, "slarules_calendars"),
                )
            )
        return infos

    def adapter(self, name: str) -> Adapter:
        """The adapter ``name``, built from its settings the first time it is needed."""
        built = self._adapters.get(name)
        if built is not None:
            return built
        try:
            spec = self.adapters[name]
        except KeyError:
            known = ", ".join(f"`{known}`" for known in sorted(self.adapters)) or "none"
            raise PluginError(f"no adapter `{name}` is installed (installed: {known})") from None
        try:
            built = spec.create(self.settings_of(self._providers["slarules_adapters"][name]))
        except PluginError:
            raise
        except Exception as error:
            raise PluginError(
                f"adapter `{name}` of {self._provider('slarules_adapters', name).label} cannot "
                f"start: {type(error).__name__}: {error}"
            ) from error
        self._adapters[name] = built
        return built

    def context(self, action: str, source: str | None, attempt: int) -> ActionContext:
        """What the executor of ``action`` gets for a ticket fed by the adapter ``source``. An
        adapter that cannot start (a setting missing) fails the actions that go through it,
        and no other: a plugin's own action on that ticket still runs."""
        adapter, unavailable = None, None
        if source is not None:
            try:
                adapter = self.adapter(source)
            except PluginError as error:
                unavailable = str(error)
        spec = self.adapters.get(source) if source is not None else None
        return ActionContext(
            source=source,
            adapter=adapter,
            adapter_actions=spec.actions if spec is not None else frozenset(),
            attempt=attempt,
            settings=self.settings_of(self._providers["slarules_actions"][action]),
            adapter_error=unavailable,
        )

    def settings_of(self, plugin: str) -> dict[str, str]:
        """A plugin's settings: the ones given in code over ``SLARULES_<PLUGIN>_<KEY>``."""
        prefix = environment_prefix(plugin)
        # `SLARULES_ACME_DESK_TOKEN` is plugin `acme_desk`'s, not a `desk_token` of plugin `acme`.
        longer = tuple(
            environment_prefix(name)
            for name, _ in self._manager.list_name_plugin()
            if environment_prefix(name).startswith(prefix) and name != plugin
        )
        found = {
            key[len(prefix) :].lower(): value
            for key, value in self._environ.items()
            if key.startswith(prefix) and not (longer and key.startswith(longer))
        }
        found.update(self._settings.get(plugin, {}))
        return found

    # -- notification hooks ------------------------------------------------------------------

    def notify(self, hook: str, **arguments: Any) -> None:
        """Call every implementation of a notification hook; one that raises is logged and kept
        in :attr:`failures`, and the others still run."""
        for implementation in getattr(self._manager.hook, hook).get_hookimpls():
            try:
                implementation.function(*(arguments[name] for name in implementation.argnames))
            except Exception as error:
                failure = PluginFailure(
                    implementation.plugin_name, hook, f"{type(error).__name__}: {error}"
                )
                self.failures.append(failure)
                _logger.exception("plugin `%s` failed in %s", failure.plugin, hook)

    def has_listeners(self, hook: str) -> bool:
        return bool(getattr(self._manager.hook, hook).get_hookimpls())

    # -- registration ------------------------------------------------------------------------

    def _load_entry_points(self) -> None:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self._manager.is_blocked(entry_point.name):
                continue
            distribution = entry_point.dist
            owner = _Owner(distribution.name, distribution.version) if distribution else _Owner()
            try:
                plugin = entry_point.load()
            except Exception as error:
                raise PluginError(
                    f"plugin `{entry_point.name}` of {owner.label} failed to import "
                    f"`{entry_point.value}`: {type(error).__name__}: {error}"
                ) from error
            self._register(plugin, entry_point.name, owner)

    def _register(self, plugin: object, name: str, owner: _Owner) -> None:
        if self._manager.is_blocked(name):
            return
        if name in self._owners:
            raise PluginError(
                f"two plugins are named `{name}`: {self._owners[name].label} and {owner.label}; "
                "uninstall one, or block one"
            )
        try:
            self._manager.register(plugin, name=name)
        except pluggy.PluginValidationError as error:
            raise PluginError(f"plugin `{name}` of {owner.label}: {error}") from None
        self._owners[name] = owner

    def _check_hook_names(self) -> None:
        for name, plugin in self._manager.list_name_plugin():
            if plugin is None:
                continue
            label = self._owners[name].label
            for attribute in dir(plugin):
                if not attribute.startswith("slarules_"):
                    continue
                if not hasattr(hookspecs, attribute):
                    known = [h for h in vars(hookspecs) if h.startswith("slarules_")]
                    raise PluginError(
                        f"plugin `{name}` of {label} implements `{attribute}`, which is not a "
                        f"slarules hook{did_you_mean(attribute, known)}"
                    )
                options = self._manager.parse_hookimpl_opts(plugin, attribute)
                if options is None:
                    raise PluginError(
                        f"plugin `{name}` of {label} has `{attribute}` without "
                        "`@slarules.hookimpl`: it would never be called"
                    )
                if options.get("hookwrapper") or options.get("wrapper"):
                    raise PluginError(
                        f"plugin `{name}` of {label} implements `{attribute}` as a wrapper; "
                        "slarules calls its hooks directly: drop `hookwrapper`/`wrapper`"
                    )

    def _collect(self, hook: str, kind: type[Spec]) -> dict[str, Spec]:
        found: dict[str, Spec] = {}
        providers: dict[str, str] = {}
        for implementation in getattr(self._manager.hook, hook).get_hookimpls():
            plugin = implementation.plugin_name
            label = self._owners[plugin].label
            try:
                specs = implementation.function()
            except Exception as error:
                raise PluginError(
                    f"plugin `{plugin}` of {label} failed in `{hook}`: {failure_text(error)}"
                ) from error
            for spec in _sequence(specs, kind, hook, plugin, label):
                if spec.name in found:
                    first = providers[spec.name]
                    both = (
                        f"twice by plugin `{plugin}` of {label}"
                        if first == plugin
                        else f"by both plugin `{first}` of {self._owners[first].label} and "
                        f"plugin `{plugin}` of {label}"
                    )
                    raise PluginError(
                        f"{_KINDS[kind]} `{spec.name}` is registered {both}; "
                        "uninstall one, or block one plugin by name"
                    )
                if isinstance(spec, FunctionSpec) and spec.name in BUILTIN_FUNCTIONS:
                    raise PluginError(
                        f"function `{spec.name}` of plugin `{plugin}` of {label} has the name of "
                        "a report function of the language, which policy files would call "
                        "instead; name it otherwise"
                    )
                found[spec.name] = spec
                providers[spec.name] = plugin
        self._providers[hook] = providers
        return found

    def _provider(self, hook: str, name: str) -> _Owner:
        return self._owners[self._providers[hook][name]]

    def _names_of(self, plugin: str, hook: str) -> list[str]:
        return sorted(name for name, owner in self._providers[hook].items() if owner == plugin)


_KINDS: dict[type, str] = {
    AdapterSpec: "adapter",
    ActionSpec: "action",
    FunctionSpec: "function",
    CalendarSpec: "calendar",
}


def _sequence(specs: object, kind: type[Spec], hook: str, plugin: str, label: str) -> list[Spec]:
    if isinstance(specs, kind):
        return [specs]
    if not isinstance(specs, Sequence) or isinstance(specs, str | bytes):
        wrong = f"got {type(specs).__name__}"
    else:
        found: list[Spec] = []
        for index, spec in enumerate(specs):
            if not isinstance(spec, kind):
                wrong = f"got a {type(specs).__name__} whose item {index} is {type(spec).__name__}"
                break
            found.append(spec)
        else:
            return found
    raise PluginError(
        f"plugin `{plugin}` of {label}: `{hook}` must return a list of `{kind.__name__}`, {wrong}"
    )


def _name_of(plugin: object) -> str:
    """A plugin object's ``plugin_name``, a module's name, or its class and identity."""
    for attribute in ("plugin_name", "__name__"):
        name = getattr(plugin, attribute, None)
        if isinstance(name, str):
            return name
    return f"{type(plugin).__name__}@{id(plugin):x}"


def _function(spec: FunctionSpec) -> Function:
    return Function(
        spec.name,
        tuple(Parameter(name, Type(kind)) for name, kind in spec.parameters.items()),
        Type(spec.returns),
        spec.summary,
        implementation=spec.implementation,
    )
