"""The plugin framework: registration, conflicts, discovery, vocabulary, execution, hooks."""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from distributions import install_distribution
from engine_helpers import HOUR, MINUTE, Events, utc

import slarules
from slarules import Engine, load_policies, parse_policies
from slarules.actions import Action
from slarules.calendar import Calendar
from slarules.cli import main
from slarules.errors import (
    AuthenticationError,
    PayloadError,
    PluginError,
    PolicyValidationError,
)
from slarules.hookspecs import hookimpl
from slarules.plugins import Plugins
from slarules.specs import ActionContext, ActionSpec, CalendarSpec, FunctionSpec, InboundRequest
from slarules.testing import RecordingPlugin

START = "2026-03-02T09:00:00Z"  # a Monday
POLICY = """
policy "All" {
    applies when true
    calendar always
    first_response within 1h warn at 50%
}
trigger "late" when first_response.breached then tag "late", notify assignee
"""


def plugin(name: str, **hooks: object) -> types.SimpleNamespace:
    """A plugin object registered in code, with the given hook implementations."""
    for function in hooks.values():
        hookimpl(function)  # type: ignore[call-overload]
    return types.SimpleNamespace(plugin_name=name, **hooks)


def action_plugin(name: str, action: str, executed: list[str] | None = None) -> object:
    def execute(action_: object, context: object) -> None:
        if executed is not None:
            executed.append(action)

    return plugin(
        name,
        slarules_actions=lambda: [ActionSpec(name=action, summary="test", execute=execute)],
    )


# -- registration ------------------------------------------------------------------------------


def test_the_built_in_plugin_registers_ticket_actions_log_and_the_always_calendar() -> None:
    plugins = Plugins(entry_points=False)
    builtin = next(info for info in plugins.describe() if info.name == "builtin")
    assert builtin.actions == [
        "assign", "escalate", "log", "notify", "set", "tag", "urge", "warn"
    ]  # fmt: skip
    assert builtin.calendars == ["always"]
    assert (builtin.distribution, builtin.version) == ("slarules", slarules.__version__)


def test_two_plugins_registering_one_action_name_both() -> None:
    with pytest.raises(PluginError) as error:
        Plugins([action_plugin("one", "page"), action_plugin("two", "page")], entry_points=False)
    assert str(error.value) == (
        "action `page` is registered by both plugin `one` of a plugin registered in code and "
        "plugin `two` of a plugin registered in code; uninstall one, or block one plugin by name"
    )


def test_one_plugin_registering_a_name_twice() -> None:
    twice = plugin(
        "twice",
        slarules_actions=lambda: [ActionSpec(name="page", summary="", execute=print)] * 2,
    )
    with pytest.raises(PluginError, match="action `page` is registered twice by plugin `twice`"):
        Plugins([twice], entry_points=False)


def test_a_function_cannot_take_the_name_of_a_report_function() -> None:
    shadow = plugin(
        "shadow",
        slarules_functions=lambda: [
            FunctionSpec(name="breaches", summary="", returns="number", implementation=lambda: 0)
        ],
    )
    with pytest.raises(PluginError, match=r"function `breaches` of plugin `shadow` .* report"):
        Plugins([shadow], entry_points=False)


def test_a_plugin_cannot_take_a_built_in_name() -> None:
    with pytest.raises(
        PluginError, match="`tag` is registered by both plugin `builtin` of slarules"
    ):
        Plugins([action_plugin("mine", "tag")], entry_points=False)


def test_blocking_the_built_in_plugin_frees_its_names() -> None:
    executed: list[str] = []
    plugins = Plugins(
        [action_plugin("mine", "tag", executed)], block=["builtin"], entry_points=False
    )
    assert set(plugins.actions) == {"tag"}


class Unmarked:
    def slarules_on_breach(self, clock: object) -> None:
        """Forgot @hookimpl: pluggy would skip it, and breaches would go unheard."""


class Wrapping:
    @hookimpl(hookwrapper=True)
    def slarules_on_breach(self, clock: object) -> Iterator[None]:
        yield


@pytest.mark.parametrize(
    ("plugged", "why"),
    [
        (Unmarked(), "has `slarules_on_breach` without `@slarules.hookimpl`"),
        (Wrapping(), "implements `slarules_on_breach` as a wrapper"),
    ],
)
def test_a_hook_that_would_never_be_called_is_an_error(plugged: object, why: str) -> None:
    with pytest.raises(PluginError, match=why):
        Plugins([plugged], entry_points=False)


def test_a_misspelt_hook_is_an_error_with_a_suggestion() -> None:
    bad = plugin("typo", slarules_action=lambda: [])
    with pytest.raises(PluginError, match=r"`slarules_action`.*did you mean `slarules_actions`"):
        Plugins([bad], entry_points=False)


@pytest.mark.parametrize(
    ("returned", "got"),
    [
        (["notify"], "got a list whose item 0 is str"),
        ("", "got str"),
        (None, "got NoneType"),
        (
            [CalendarSpec(name="x", summary="", calendar=Calendar.always())],
            "got a list whose item 0 is CalendarSpec",
        ),
    ],
)
def test_a_hook_returning_something_else_than_specs_is_an_error(returned: object, got: str) -> None:
    bad = plugin("bad", slarules_actions=lambda: returned)
    with pytest.raises(PluginError, match=f"must return a list of `ActionSpec`, {got}"):
        Plugins([bad], entry_points=False)


def test_a_spec_built_wrong_is_named_by_its_field_on_one_line() -> None:
    bad = plugin(
        "bad", slarules_actions=lambda: [ActionSpec(name="Page me", summary="", execute=print)]
    )
    with pytest.raises(PluginError) as error:
        Plugins([bad], entry_points=False)
    assert str(error.value) == (
        "plugin `bad` of a plugin registered in code failed in `slarules_actions`: "
        "`ActionSpec.name`: String should match pattern '^[a-z][a-z0-9_]*$' (got `'Page me'`)"
    )


def test_a_registration_hook_that_raises_names_the_plugin() -> None:
    def broken() -> list[ActionSpec]:
        raise RuntimeError("no config")

    with pytest.raises(PluginError, match=r"plugin `broken` .* failed in `slarules_actions`"):
        Plugins([plugin("broken", slarules_actions=broken)], entry_points=False)


# -- entry points ------------------------------------------------------------------------------


PAGER = """
    from slarules import ActionSpec, hookimpl

    @hookimpl
    def slarules_actions():
        return [ActionSpec(name="page", summary="page someone", execute=lambda a, c: None)]
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_an_installed_distribution_is_found_through_its_entry_point(site: Path) -> None:
    install_distribution(
        site, "acme-pager", "[slarules]\npager = acme_pager\n", "acme_pager", PAGER
    )
    plugins = Plugins()
    info = next(info for info in plugins.describe() if info.name == "pager")
    assert (info.distribution, info.version, info.actions) == ("acme-pager", "1.2.3", ["page"])
    engine = Engine.from_text('trigger "t" when breached then page "on-call"')
    assert "page" in engine.plugins.actions


def test_a_plugin_that_fails_to_import_names_its_distribution(site: Path) -> None:
    install_distribution(
        site, "acme-broken", "[slarules]\nbroken = acme_broken\n", "acme_broken", "import nothing_"
    )
    with pytest.raises(PluginError) as error:
        Plugins()
    assert "plugin `broken` of distribution `acme-broken 1.2.3` failed to import" in str(
        error.value
    )
    assert "ModuleNotFoundError" in str(error.value)
    Plugins(block=["broken"])  # blocked, it is not imported at all


def test_conflicting_distributions_are_both_named(site: Path) -> None:
    install_distribution(
        site, "acme-pager", "[slarules]\npager = acme_pager\n", "acme_pager", PAGER
    )
    install_distribution(
        site, "other-pager", "[slarules]\nother = other_pager\n", "other_pager", PAGER
    )
    with pytest.raises(PluginError) as error:
        Plugins()
    assert "action `page` is registered by both" in str(error.value)
    assert "`acme-pager 1.2.3`" in str(error.value)
    assert "`other-pager 1.2.3`" in str(error.value)


# -- the language learns the plugins' names ------------------------------------------------------


def test_an_action_no_plugin_provides_is_a_policy_error() -> None:
    with pytest.raises(PolicyValidationError, match="unknown action `page`"):
        Engine.from_text('trigger "t" when breached then page "x"', entry_points=False)
    engine = Engine.from_text(
        'trigger "t" when breached then page "x"',
        plugins=[action_plugin("pager", "page")],
        entry_points=False,
    )
    assert "page" in engine.plugins.actions


def test_policies_loaded_elsewhere_are_checked_against_the_engines_plugins() -> None:
    policies = Engine.from_text(
        'trigger "t" when breached then page "x"', plugins=[action_plugin("pager", "page")]
    ).policies
    with pytest.raises(PluginError, match="no loaded plugin provides: `page`"):
        Engine(policies, entry_points=False)


def test_a_plugin_function_is_called_in_conditions_with_python_values() -> None:
    calls: list[tuple[object, ...]] = []

    def longer(text: str | None, limit: timedelta) -> bool:
        calls.append((text, limit))
        return len(text or "") > limit.total_seconds()

    functions = plugin(
        "words",
        slarules_functions=lambda: [
            FunctionSpec(
                name="longer_than",
                summary="text longer than a duration in seconds (a test)",
                parameters={"text": "string", "limit": "duration"},
                returns="boolean",
                implementation=longer,
            )
        ],
    )
    engine = Engine.from_text(
        'policy "All" { applies when true  first_response within 1h }\n'
        'trigger "long" when longer_than(subject, 10s) then log "long subject"\n'
        'trigger "longer" when longer_than(subject, custom.limit) then log "over the limit"',
        plugins=[functions],
        entry_points=False,
    )
    events = Events()
    created = events.created("T-1", START, subject="printer on fire again", custom={"limit": 30})
    fired = engine.ingest(created)
    assert [action.trigger for action in fired] == ["long"]
    # A field passed as a duration is read as one: a JSON number is seconds.
    assert sorted(calls) == [("printer on fire again", timedelta(seconds=s)) for s in (10, 30)]


def test_a_failing_plugin_function_reads_as_a_missing_value_and_the_engine_goes_on() -> None:
    def broken(text: object) -> bool:
        raise ZeroDivisionError

    functions = plugin(
        "broken",
        slarules_functions=lambda: [
            FunctionSpec(
                name="broken",
                summary="always fails",
                parameters={"text": "string"},
                returns="boolean",
                implementation=broken,
            )
        ],
    )
    engine = Engine.from_text(
        'trigger "t" when broken(subject) then log "x"', plugins=[functions], entry_points=False
    )
    assert engine.ingest(Events().created("T-1", START, subject="s")) == []


def test_a_function_giving_a_bare_number_for_a_duration_reads_as_missing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 3600 of what? Seconds to its author, microseconds to the engine: neither is guessed.
    functions = plugin(
        "contract",
        slarules_functions=lambda: [
            FunctionSpec(
                name=name,
                summary="the contract's wait",
                parameters={"tier": "any"},
                returns="duration",
                implementation=implementation,
            )
            for name, implementation in [
                ("contract_wait", lambda tier: timedelta(hours=1)),
                ("contract_wait_in_seconds", lambda tier: 3600),
            ]
        ],
    )
    engine = Engine.from_text(
        'trigger "an hour" when contract_wait(customer.tier) == 1h then log "x"\n'
        'trigger "bare" when contract_wait_in_seconds(customer.tier) < 2h then log "y"',
        plugins=[functions],
        entry_points=False,
    )
    fired = engine.ingest(Events().created("T-1", START, customer={"tier": "gold"}))
    assert [action.trigger for action in fired] == ["an hour"]
    assert "returned int `3600`, not a timedelta" in caplog.text


@pytest.mark.parametrize(
    ("returns", "given", "why"),
    [
        ("boolean", "false", "returned str `'false'`, not a bool"),
        ("number", "12", "returned str `'12'`, not an int or a float"),
        ("number", True, "returned bool `True`, not an int or a float"),
        ("string", 7, "returned int `7`, not a str"),
    ],
)
def test_a_function_giving_another_type_than_it_declares_reads_as_missing(
    returns: str, given: object, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    functions = plugin(
        "wrong",
        slarules_functions=lambda: [
            FunctionSpec(name="value", summary="", returns=returns, implementation=lambda: given)
        ],
    )
    condition = "value()" if returns == "boolean" else "value() == value()"
    engine = Engine.from_text(
        f'trigger "t" when {condition} then log "x"', plugins=[functions], entry_points=False
    )
    # Missing, it is no value: true neither by itself (`"false"` was), nor equal to itself.
    assert engine.ingest(Events().created("T-1", START)) == []
    assert why in caplog.text


def test_a_function_of_a_running_clock_cannot_be_timed() -> None:
    functions = plugin(
        "f",
        slarules_functions=lambda: [
            FunctionSpec(
                name="halved",
                summary="half a duration",
                parameters={"value": "duration"},
                returns="duration",
                implementation=lambda value: value / 2,
            )
        ],
    )
    with pytest.raises(PolicyValidationError, match=r"SLA309.*`halved\(…\)` of a running clock"):
        Engine.from_text(
            'trigger "t" when halved(resolution.remaining) < 1h then log "x"',
            plugins=[functions],
            entry_points=False,
        )


def test_a_plugin_calendar_is_usable_by_name() -> None:
    office = Calendar("Europe/Berlin", {"mon-fri": "09:00-17:00"})
    calendars = plugin(
        "hours",
        slarules_calendars=lambda: [CalendarSpec(name="berlin", summary="", calendar=office)],
    )
    engine = Engine.from_text(
        'policy "All" { applies when true  calendar berlin  first_response within 2h }',
        plugins=[calendars],
        entry_points=False,
    )
    engine.ingest(Events().created("T-1", "2026-03-02T15:00:00Z"))  # 16:00 in Berlin
    [clock] = engine.clocks("T-1", utc("2026-03-02T15:00:00Z"))
    assert clock.due_at == utc("2026-03-03T09:00:00Z")  # 1 h on Monday, 1 h on Tuesday


# -- execution ---------------------------------------------------------------------------------


def recorded_engine(recorder: RecordingPlugin) -> Engine:
    return Engine.from_text(POLICY, plugins=[recorder], entry_points=False)


def test_ticket_actions_go_to_the_adapter_that_feeds_the_ticket() -> None:
    recorder = RecordingPlugin()
    engine = recorded_engine(recorder)
    events = Events()
    engine.ingest(events.created("T-1", START, assignee="ana"), source="recorder")
    actions = engine.advance(utc(START) + 2 * HOUR)
    deliveries = engine.execute(actions)
    assert [d.action.name for d in deliveries] == ["warn", "tag", "notify"]
    assert all(delivery.ok for delivery in deliveries)
    assert recorder.executed == [d.action for d in deliveries] == recorder.delivered
    assert engine.stats.delivered == 3


def test_a_ticket_with_no_adapter_fails_its_ticket_actions_permanently_and_keeps_them() -> None:
    recorder = RecordingPlugin()
    engine = recorded_engine(recorder)
    engine.ingest(Events().created("T-1", START))
    [delivery, *_] = engine.execute(engine.advance(utc(START) + 2 * HOUR))
    assert not delivery.ok
    assert delivery.permanent
    assert "no adapter feeds that ticket" in (delivery.error or "")
    assert len(engine.failed) == 3
    assert [failure.attempt for failure in recorder.failures] == [1, 1, 1]
    # Retrying cannot help until the host is fixed: a retry leaves them, unless asked.
    assert engine.retry_failed() == []
    assert len(engine.failed) == 3
    engine.ingest(Events().created("T-2", START), source="recorder")  # a ticket it can act on
    assert [d.attempt for d in engine.retry_failed(permanent=True)] == [2, 2, 2]
    assert len(engine.failed) == 3  # T-1 still has no adapter


def test_failed_actions_are_kept_and_retried_with_the_attempt_counted() -> None:
    recorder = RecordingPlugin(failing={"tag": 2})
    engine = recorded_engine(recorder)
    engine.ingest(Events().created("T-1", START), source="recorder")
    engine.execute(engine.advance(utc(START) + 2 * HOUR))
    assert [(d.action.name, d.retry_after) for d in engine.failed] == [("tag", 1.0)]
    [again] = engine.retry_failed()
    assert (again.ok, again.attempt) == (False, 2)
    [last] = engine.retry_failed()
    assert (last.ok, last.attempt, engine.failed) == (True, 3, [])
    assert [action.name for action in recorder.executed] == ["warn", "notify", "tag"]
    assert [failure.attempt for failure in recorder.failures] == [1, 2]


def test_an_executor_that_raises_anything_is_a_failure_not_a_crash() -> None:
    def explode(action: object, context: object) -> None:
        raise KeyError("boom")

    exploding = plugin(
        "explode",
        slarules_actions=lambda: [ActionSpec(name="page", summary="", execute=explode)],
    )
    engine = Engine.from_text(
        'policy "All" { applies when true  first_response within 1h }\n'
        'trigger "t" when first_response.breached then page "x"',
        plugins=[exploding],
        entry_points=False,
    )
    engine.ingest(Events().created("T-1", START))
    [delivery] = engine.execute(engine.advance(utc(START) + 2 * HOUR))
    assert delivery.error == "KeyError: 'boom'"
    assert not delivery.permanent


def test_action_executors_get_their_plugins_settings_from_code_and_environment() -> None:
    seen: list[dict[str, str]] = []

    def execute(action: object, context: object) -> None:
        seen.append(dict(context.settings))  # type: ignore[attr-defined]

    pager = plugin(
        "pager", slarules_actions=lambda: [ActionSpec(name="page", summary="", execute=execute)]
    )
    plugins = Plugins(
        [pager],
        entry_points=False,
        settings={"pager": {"url": "http://127.0.0.1:9"}},
        environ={"SLARULES_PAGER_TOKEN": "t0k", "SLARULES_PAGER_URL": "ignored", "OTHER": "x"},
    )
    text = (
        'policy "All" { applies when true  first_response within 1h }\n'
        'trigger "t" when first_response.breached then page "x"'
    )
    engine = Engine(parse_policies(text, vocabulary=plugins.vocabulary()), plugins=plugins)
    engine.ingest(Events().created("T-1", START))
    engine.execute(engine.advance(utc(START) + 2 * HOUR))
    assert seen == [{"url": "http://127.0.0.1:9", "token": "t0k"}]


def test_a_plugin_whose_name_extends_another_s_keeps_its_settings_to_itself() -> None:
    nothing = {"slarules_actions": lambda: []}
    plugins = Plugins(
        [plugin("acme", **nothing), plugin("acme_desk", **nothing)],
        entry_points=False,
        environ={"SLARULES_ACME_TOKEN": "a", "SLARULES_ACME_DESK_TOKEN": "d"},
    )
    assert plugins.settings_of("acme") == {"token": "a"}
    assert plugins.settings_of("acme_desk") == {"token": "d"}


# -- notification hooks ------------------------------------------------------------------------


def test_on_breach_is_called_once_per_cycle_with_the_clock_at_the_breach() -> None:
    recorder = RecordingPlugin()
    engine = recorded_engine(recorder)
    events = Events()
    engine.ingest(events.created("T-1", START))
    engine.advance(utc(START) + 3 * HOUR)
    [clock] = recorder.breaches
    assert clock.metric == "first_response"
    assert clock.breached_at == utc(START) + HOUR
    # A late event replays the ticket: the breach is not told twice.
    engine.ingest(events.updated("T-1", utc(START) + 30 * MINUTE, priority="high"))
    engine.advance(utc(START) + 4 * HOUR)
    assert len(recorder.breaches) == 1


def test_on_warning_gets_the_warn_action_and_its_clock() -> None:
    recorder = RecordingPlugin()
    engine = recorded_engine(recorder)
    engine.ingest(Events().created("T-1", START))
    engine.advance(utc(START) + 45 * MINUTE)
    [(action, clock)] = recorder.warnings
    assert (action.name, action.trigger) == ("warn", "warn at 50%")
    assert (clock.metric, clock.percent) == ("first_response", 50.0)


def test_listeners_hear_of_warnings_and_breaches_in_the_order_they_came_due() -> None:
    heard: list[tuple[str, str]] = []
    listener = plugin(
        "listener",
        slarules_on_breach=lambda clock: heard.append(("breach", clock.metric)),
        slarules_on_warning=lambda action, clock: heard.append(("warning", clock.metric)),
    )
    engine = Engine.from_text(POLICY, plugins=[listener], entry_points=False)
    engine.ingest(Events().created("T-1", START))
    engine.advance(utc(START) + 2 * HOUR)  # the warning at 30 minutes, the breach at 1 hour
    assert heard == [("warning", "first_response"), ("breach", "first_response")]


def test_a_notification_hook_that_raises_is_kept_and_the_engine_goes_on() -> None:
    def broken(clock: object) -> None:
        raise RuntimeError("pager down")

    recorder = RecordingPlugin()
    engine = Engine.from_text(
        POLICY, plugins=[plugin("noisy", slarules_on_breach=broken), recorder], entry_points=False
    )
    engine.ingest(Events().created("T-1", START))
    actions = engine.advance(utc(START) + 2 * HOUR)
    assert [action.name for action in actions] == ["warn", "tag", "notify"]
    assert len(recorder.breaches) == 1  # the other listener still ran
    [failure] = engine.plugins.failures
    assert (failure.plugin, failure.hook, failure.error) == (
        "noisy", "slarules_on_breach", "RuntimeError: pager down"
    )  # fmt: skip


# -- adapters: requests in ---------------------------------------------------------------------


def request(body: bytes, token: str | None = "s3cret") -> InboundRequest:
    headers = {"X-Token": token} if token else {}
    return InboundRequest(body=body, headers=headers, received_at=utc(START))


def test_a_request_to_an_adapter_is_authenticated_parsed_and_ingested() -> None:
    recorder = RecordingPlugin(token="s3cret")
    engine = recorded_engine(recorder)
    body = b'{"id": "e1", "ticket": "T-1", "type": "ticket.created", "at": "%s"}' % START.encode()
    assert engine.receive("recorder", request(body)) == []
    assert (engine.tickets(), engine.source_of("T-1")) == (["T-1"], "recorder")


def test_requests_that_fail_authentication_are_kept_but_never_retried() -> None:
    recorder = RecordingPlugin(token="s3cret")
    engine = recorded_engine(recorder)
    with pytest.raises(AuthenticationError, match="`X-Token`"):
        engine.receive("recorder", request(b"{}", token="wrong"))
    [kept] = engine.rejected
    assert (kept.stage, kept.adapter, kept.payload) == ("authentication", "recorder", "{}")
    assert recorder.rejected == [kept]
    engine.retry_rejected()
    assert engine.rejected == [kept]


def test_bad_payloads_are_kept_with_the_field_and_can_be_retried() -> None:
    recorder = RecordingPlugin(token="s3cret")
    engine = recorded_engine(recorder)
    with pytest.raises(PayloadError, match="malformed JSON at line 1 column 2"):
        engine.receive("recorder", request(b"{oops"))
    body = b'[{"id": "e1", "ticket": "T-1", "type": "ticket.opened", "at": "%s"}]' % START.encode()
    with pytest.raises(PayloadError) as error:
        engine.receive("recorder", request(body))
    assert error.value.field == "[0].type"
    assert [item.stage for item in engine.rejected] == ["payload", "payload"]
    assert engine.rejected[1].problems[0][0] == "[0].type"
    # Nothing is ingested until the payload is fixed; a retry after the fix takes it.
    assert engine.tickets() == []
    engine.retry_rejected()
    assert len(engine.rejected) == 2  # still bad: kept again


CREATED = b'{"id": "e1", "ticket": "T-1", "type": "ticket.created", "at": "%s"}' % START.encode()


@pytest.mark.parametrize(("step", "stage"), [("authenticate", "adapter"), ("parse", "payload")])
def test_an_adapter_that_raises_anything_is_a_plugin_error_and_its_request_is_kept(
    step: str, stage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RecordingPlugin(token="s3cret")
    engine = recorded_engine(recorder)

    def bug(request: InboundRequest) -> None:
        raise KeyError("ticket_id")

    monkeypatch.setattr(recorder, step, bug)
    with pytest.raises(PluginError, match=r"^adapter `recorder` failed: KeyError: 'ticket_id'$"):
        engine.receive("recorder", request(CREATED, token="s3cret"))
    [kept] = engine.rejected
    assert (kept.stage, kept.adapter, kept.payload) == (stage, "recorder", CREATED.decode())
    assert kept.reason == "recorder: KeyError: 'ticket_id'"
    # The engine goes on; once the adapter is fixed, a retry takes the request.
    engine.ingest(Events().created("T-2", START))
    monkeypatch.undo()
    engine.retry_rejected()
    assert (engine.tickets(), engine.rejected) == (["T-2", "T-1"], [])


@dataclasses.dataclass
class UnstartedRecorder(RecordingPlugin):
    """A recorder whose adapter cannot start while a setting is missing."""

    configured: bool = False

    def _create(self, settings: Mapping[str, str]) -> RecordingPlugin:
        if not self.configured:
            raise PluginError("`SLARULES_RECORDER_TOKEN`: required")
        return self


def test_a_request_to_an_adapter_that_cannot_start_waits_and_is_authenticated_later() -> None:
    recorder = UnstartedRecorder(token="s3cret")
    engine = recorded_engine(recorder)
    forged, signed = request(CREATED, token="forged"), request(CREATED, token="s3cret")
    for sent in (forged, signed):
        with pytest.raises(PluginError, match="SLARULES_RECORDER_TOKEN"):
            engine.receive("recorder", sent)
    assert [item.stage for item in engine.rejected] == ["adapter", "adapter"]
    assert [item.request() for item in engine.rejected] == [forged, signed]
    engine.retry_rejected()  # still unconfigured: both wait on
    assert [item.stage for item in engine.rejected] == ["adapter", "adapter"]
    recorder.configured = True
    engine.retry_rejected()
    assert engine.tickets() == ["T-1"]
    [refused] = engine.rejected  # taken through the adapter from the start: not authentic
    assert (refused.stage, refused.request()) == ("authentication", forged)


class Pager:
    """A plugin with an action of its own, which needs no helpdesk."""

    def __init__(self) -> None:
        self.paged: list[str] = []

    @hookimpl
    def slarules_actions(self) -> list[ActionSpec]:
        return [ActionSpec(name="page", summary="page someone", execute=self._page)]

    def _page(self, action: Action, context: ActionContext) -> None:
        self.paged.append(action.ticket)


def test_an_adapter_that_cannot_start_fails_its_own_actions_only() -> None:
    recorder, pager = UnstartedRecorder(), Pager()
    policy = POLICY.replace('tag "late"', 'tag "late", page "duty"')
    engine = Engine.from_text(policy, plugins=[recorder, pager], entry_points=False)
    engine.ingest(Events().created("T-1", START), source="recorder")
    deliveries = engine.execute(engine.advance(utc(START) + 2 * HOUR))
    outcome = {d.action.name: (d.ok, d.permanent, d.error) for d in deliveries}
    assert outcome["page"] == (True, False, None)
    assert outcome["tag"] == (False, True, "`SLARULES_RECORDER_TOKEN`: required")
    assert pager.paged == ["T-1"]


def test_a_request_that_fails_authentication_is_kept_only_in_part() -> None:
    # Anyone may send one, and it is never retried: enough of it is kept to see what it was.
    engine = recorded_engine(RecordingPlugin(token="s3cret"))
    body = b'{"junk": "' + b"x" * 100_000 + b'"}'
    with pytest.raises(AuthenticationError):
        engine.receive("recorder", request(body, token="forged"))
    [kept] = engine.rejected
    assert (kept.stage, kept.payload) == ("authentication", body[:4096].decode())
    assert kept.reason.endswith(f"(the first 4096 bytes of {len(body)} kept)")


def test_rejected_requests_wait_for_an_adapter_that_is_gone() -> None:
    recorder = RecordingPlugin(token="s3cret")
    engine = recorded_engine(recorder)
    with pytest.raises(PayloadError):
        engine.receive("recorder", request(b"{oops"))
    [kept] = engine.rejected
    without = Engine.restore(engine.policies, engine.snapshot())
    without.retry_rejected()
    assert without.rejected == [kept]
    again = Engine.restore(engine.policies, without.snapshot(), plugins=[recorder])
    assert again.rejected == [kept]


def test_an_unknown_adapter_is_a_plugin_error() -> None:
    engine = Engine.from_text(POLICY, entry_points=False)
    with pytest.raises(PluginError, match="no adapter `zendesk` is installed"):
        engine.receive("zendesk", request(b"{}"))


def test_sources_and_failed_actions_survive_a_snapshot() -> None:
    recorder = RecordingPlugin(failing={"tag": 1})
    engine = recorded_engine(recorder)
    engine.ingest(Events().created("T-1", START), source="recorder")
    engine.execute(engine.advance(utc(START) + 2 * HOUR))
    state = engine.snapshot()
    restored = Engine.restore(engine.policies, state, plugins=[recorder])
    assert restored.source_of("T-1") == "recorder"
    [delivery] = restored.retry_failed()
    assert (delivery.ok, delivery.action.name) == (True, "tag")
    assert len(recorder.breaches) == 1  # restoring does not tell the breach again


# -- the command line --------------------------------------------------------------------------

IMPORTER = """
    from slarules import AdapterSpec, ImporterSpec, hookimpl

    def convert(exports):
        levels = exports["levels"]["levels"]
        return "".join(
            f'policy "{name}" {{\\n    applies when custom.level == "{name}"\\n'
            f'    first_response within {minutes}m\\n}}\\n'
            for name, minutes in levels.items()
        )

    @hookimpl
    def slarules_adapters():
        return [AdapterSpec(name="acme", summary="Acme Desk", create=lambda settings: None,
                            importer=ImporterSpec(inputs=("levels",), convert=convert,
                                                  summary="Acme SLA levels to a policy file"))]
"""


def test_slarules_plugins_lists_distributions_versions_and_names(site: Path) -> None:
    install_distribution(
        site, "acme-pager", "[slarules]\npager = acme_pager\n", "acme_pager", PAGER
    )
    result = CliRunner().invoke(main, ["plugins", "--format", "json"])
    assert result.exit_code == 0, result.output
    pager = next(info for info in json.loads(result.output) if info["name"] == "pager")
    assert pager == {
        "name": "pager", "distribution": "acme-pager", "version": "1.2.3", "adapters": [],
        "actions": ["page"], "functions": [], "calendars": [],
    }  # fmt: skip
    table = CliRunner().invoke(main, ["plugins"])
    assert "acme-pager 1.2.3" in table.output


def test_slarules_plugins_reports_a_broken_plugin(site: Path) -> None:
    install_distribution(
        site, "acme-broken", "[slarules]\nbroken = acme_broken\n", "acme_broken", "1/0"
    )
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 1
    assert "distribution `acme-broken 1.2.3` failed to import" in result.output


def test_slarules_import_runs_an_adapters_importer(site: Path, tmp_path: Path) -> None:
    install_distribution(site, "acme-desk", "[slarules]\nacme = acme_desk\n", "acme_desk", IMPORTER)
    export = tmp_path / "levels.json"
    export.write_text(json.dumps({"levels": {"Gold": 30, "Silver": 120}}))
    output = tmp_path / "acme.sla"
    result = CliRunner().invoke(
        main, ["import", "acme", "--levels", str(export), "-o", str(output)]
    )
    assert result.exit_code == 0, result.output
    policies = load_policies(output)
    assert list(policies.policies) == ["Gold", "Silver"]
    missing = CliRunner().invoke(main, ["import", "acme"])
    assert missing.exit_code == 2
    assert "Missing option '--levels'" in missing.output
