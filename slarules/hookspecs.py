"""The hooks a slarules plugin can implement.

A plugin is a module (or any object) with functions named after these hooks and marked with
:data:`hookimpl`; it is found through the ``slarules`` entry-point group of its distribution, or
given to ``Engine(plugins=[...])``. Registration hooks return specs (:mod:`slarules.specs`);
notification hooks are called after the fact and their return values are ignored. An exception
raised in a notification hook is logged and counted, never passed on to the engine's caller.

Example, a plugin module that adds a condition function::

    from slarules import FunctionSpec, hookimpl

    @hookimpl
    def slarules_functions():
        return [FunctionSpec(name="word_count", summary="words in a text",
                             parameters={"text": "string"}, returns="number",
                             implementation=lambda text: len((text or "").split()))]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from slarules.actions import Action
    from slarules.clocks import Clock
    from slarules.engine import Rejected
    from slarules.specs import ActionSpec, AdapterSpec, CalendarSpec, FunctionSpec

__all__ = ["hookimpl", "hookspec"]

PROJECT = "slarules"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- registration ------------------------------------------------------------------------------


@hookspec
def slarules_adapters() -> Sequence[AdapterSpec]:
    """The helpdesk adapters this plugin provides.

    Called once when the engine starts. Each adapter's name is its webhook path
    (``POST /hooks/<name>``); its settings are those of the plugin that registers it
    (``SLARULES_<PLUGIN>_…``, the plugin's entry-point name)::

        @hookimpl
        def slarules_adapters():
            return [AdapterSpec(name="acme", summary="Acme Desk webhooks",
                                create=AcmeAdapter.from_settings, actions=frozenset({"tag"}))]
    """
    raise NotImplementedError


@hookspec
def slarules_actions() -> Sequence[ActionSpec]:
    """The actions this plugin provides to policy files (``then page "on-call"``).

    Called once when the engine starts; the names join the language, so a policy that uses an
    action no installed plugin provides is an error at load time::

        @hookimpl
        def slarules_actions():
            return [ActionSpec(name="page", summary="page the on-call engineer",
                               execute=lambda action, context: pager.trigger(action.key))]
    """
    raise NotImplementedError


@hookspec
def slarules_functions() -> Sequence[FunctionSpec]:
    """The functions this plugin provides to conditions (``when word_count(subject) > 50``).

    Called once when the engine starts; functions must be pure (see :class:`FunctionSpec`)."""
    raise NotImplementedError


@hookspec
def slarules_calendars() -> Sequence[CalendarSpec]:
    """The named business calendars this plugin provides (``calendar us_federal`` in a policy).

    Called once when the engine starts, for instance to build calendars from a holiday feed::

        @hookimpl
        def slarules_calendars():
            return [CalendarSpec(name="us_federal", summary="US office, federal holidays",
                                 calendar=Calendar("America/New_York", {"mon-fri": "9:00-17:00"},
                                                   holidays=federal_holidays()))]
    """
    raise NotImplementedError


# -- notification ------------------------------------------------------------------------------


@hookspec
def slarules_on_breach(clock: Clock) -> None:
    """A clock went over its target: ``clock.breached_at`` is the first instant over it.

    Called once per clock cycle, by :meth:`Engine.ingest` or :meth:`Engine.advance`, with the
    clock measured at that instant; never again for the same cycle, even after a replay."""


@hookspec
def slarules_on_warning(action: Action, clock: Clock) -> None:
    """A target's warning threshold was passed (``warn at 80%``): ``action`` is the ``warn``
    action the engine returns, ``clock`` the clock measured at that instant."""


@hookspec
def slarules_on_action_delivered(action: Action) -> None:
    """An action was executed by the plugin that owns it (:meth:`Engine.execute`)."""


@hookspec
def slarules_on_action_failed(action: Action, error: str, attempt: int) -> None:
    """An action's executor raised; the action is kept in :attr:`Engine.failed` for a retry.

    ``attempt`` counts from 1; ``error`` is the exception's message::

        @hookimpl
        def slarules_on_action_failed(action, error, attempt):
            if attempt >= 3:
                alert_ops(f"{action.name} for {action.ticket} keeps failing: {error}")
    """


@hookspec
def slarules_on_event_rejected(rejected: Rejected) -> None:
    """An event or an adapter payload was rejected; it is kept in :attr:`Engine.rejected`."""
