"""Semantic checks of parsed policy files: every problem found, not only the first.

:func:`validate` takes the declarations of the prelude and of the user's files, in load order,
and returns diagnostics; errors stop the policy set from loading, warnings do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from croniter import CroniterBadDateError, croniter

from slarules._suggest import did_you_mean
from slarules.calendar import Calendar
from slarules.dsl import ast
from slarules.dsl.diagnostics import Diagnostic
from slarules.dsl.hours import calendar_from_hours
from slarules.dsl.messages import Placeholder, message_parts, placeholder_path
from slarules.dsl.schema import (
    BUILTIN_FUNCTIONS,
    CLOCK_ATTRIBUTES,
    NODE_ATTRIBUTES,
    NODE_METRICS,
    OPEN_OBJECTS,
    ORDERED,
    PREDICATES,
    TICKET_FIELDS,
    Function,
    Type,
    Vocabulary,
    is_time_varying,
)
from slarules.durations import format_duration
from slarules.errors import CalendarError
from slarules.timezones import get_zone

PRELUDE = "<prelude>"  # the file name the loader gives the built-in metrics

__all__ = ["Validation", "validate"]


@dataclass
class Validation:
    """What validation found: diagnostics, and the calendars it could build on the way."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    calendars: dict[str, Calendar] = field(default_factory=dict)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def error(self, code: str, message: str, span: ast.Span, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, help))

    def warning(self, code: str, message: str, span: ast.Span, help: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, help, severity="warning"))


def validate(declarations: Sequence[ast.Declaration], vocabulary: Vocabulary) -> Validation:
    """Check declarations (prelude first, then the files in load order) against the language
    and the names that plugins add to it."""
    result = Validation()
    _check_duplicates(declarations, vocabulary, result)
    calendars = [d for d in declarations if isinstance(d, ast.CalendarDecl)]
    metrics = {d.name: d for d in declarations if isinstance(d, ast.MetricDecl)}
    for calendar in calendars:
        _check_calendar(calendar, result)
    context = _Context(metrics=metrics, vocabulary=vocabulary, result=result)
    for metric in metrics.values():
        _check_metric(metric, context)
    calendar_names = {c.name for c in calendars} | set(vocabulary.calendars)
    policies = [d for d in declarations if isinstance(d, ast.PolicyDecl)]
    for policy in policies:
        _check_policy(policy, calendar_names, context)
    _check_policy_order(policies, result)
    targeted = _targeted_metrics(policies)
    for declaration in declarations:
        if isinstance(declaration, ast.TriggerDecl):
            context.ticket_condition(declaration.when)
            _check_actions(declaration.actions, context)
            if policies:  # a file of triggers alone is checked with the policies including it
                _check_targets_read(declaration.when, targeted, context)
        elif isinstance(declaration, ast.ScheduleDecl):
            _check_schedule(declaration, context)
    result.diagnostics.sort(key=lambda d: (d.span.file, d.span.line, d.span.column))
    return result


def _targeted_metrics(policies: Iterable[ast.PolicyDecl]) -> frozenset[str]:
    """The metrics some policy gives a target, node targets included."""
    named: set[str] = set()
    for policy in policies:
        named.update(target.metric for target in policy.targets)
        for node in policy.nodes:
            named.update(NODE_METRICS.get(target.metric, "") for target in node.targets)
    return frozenset(named)


# What only a node has: alone, such a name would read a ticket field no ticket has.
_NODE_ONLY = frozenset({"unhandled", "entered_at"})

# What a clock knows with no target: the rest reads as missing, so a condition on it never holds.
_WITHOUT_TARGET = frozenset({"cycle", "started_at", "running", "paused"})


def _check_targets_read(
    condition: ast.Expression, targeted: frozenset[str], context: _Context
) -> None:
    for node in _walk(condition):
        if not isinstance(node, ast.Reference) or len(node.path) != 2:
            continue
        metric, attribute = node.path
        if (
            metric in context.metrics
            and metric not in targeted
            and attribute in CLOCK_ATTRIBUTES
            and attribute not in _WITHOUT_TARGET
        ):
            context.result.warning(
                "SLA312",
                f"no policy gives `{metric}` a target, so `{metric}.{attribute}` is never measured",
                node.span,
                help=f"give `{metric}` a target in a policy (`{metric} within 4h`), or name a "
                "clock that has one",
            )


# -- names -----------------------------------------------------------------------------------


def _check_duplicates(
    declarations: Iterable[ast.Declaration], vocabulary: Vocabulary, result: Validation
) -> None:
    seen: dict[tuple[str, str], ast.Declaration] = {}
    for declaration in declarations:
        key = (declaration.kind, declaration.name)
        if declaration.kind == "calendar" and declaration.name in vocabulary.calendars:
            result.error(
                "SLA101",
                f"calendar `{declaration.name}` comes with slarules or a plugin and cannot "
                "be redefined",
                declaration.span,
                help="give this calendar another name",
            )
        elif key in seen and seen[key].span.file == PRELUDE:
            result.error(
                "SLA101",
                f"{declaration.kind} `{declaration.name}` is built in and cannot be redefined",
                declaration.span,
                help=f"give yours another name, such as `my_{declaration.name}`",
            )
        elif key in seen:
            first = seen[key].span
            result.error(
                "SLA101",
                f"{declaration.kind} `{declaration.name}` is defined twice",
                declaration.span,
                help=f"the first definition is at {first.file}:{first.line}:{first.column}; "
                "rename one of them",
            )
        else:
            seen[key] = declaration


# -- calendars -------------------------------------------------------------------------------


def _check_calendar(declaration: ast.CalendarDecl, result: Validation) -> None:
    if declaration.timezone is None:
        result.error(
            "SLA208",
            f"calendar `{declaration.name}` has no `timezone`",
            declaration.span,
            help='add a line such as `timezone "Europe/Berlin"`',
        )
        return
    if not _check_timezone(declaration.timezone, result):
        return
    if not declaration.hours:
        result.error(
            "SLA208",
            f"calendar `{declaration.name}` has no `hours`: it would never be open",
            declaration.span,
            help="add a line such as `hours mon-fri 09:00-17:00`",
        )
        return
    on_close = declaration.on_close.path[0] if declaration.on_close else "next_open"
    if declaration.on_close and on_close not in ("next_open", "close"):
        hint = did_you_mean(on_close, ["next_open", "close"])
        result.error(
            "SLA207",
            f"unknown `on_close` setting `{on_close}`{hint}",
            declaration.on_close.span,
            help="use `on_close next_open` (the default) or `on_close close`",
        )
        return
    try:
        result.calendars[declaration.name] = calendar_from_hours(
            declaration.timezone.value,
            declaration.hours,
            [holiday.day for holiday in declaration.holidays],
            on_close,  # type: ignore[arg-type]
        )
    except CalendarError as error:
        result.error(
            "SLA201",
            str(error),
            _calendar_error_span(declaration, str(error)),
        )


def _calendar_error_span(declaration: ast.CalendarDecl, message: str) -> ast.Span:
    """The hours line the calendar error is about, found by the value the message quotes."""
    for line in reversed(declaration.hours):  # a value given twice: the second time is wrong
        words = [*getattr(line, "days", ()), *line.spans, str(getattr(line, "day", ""))]
        for word in words:
            for part in {word, *word.split("-")}:
                # The message names weekdays in lower case, as `Mon` is read.
                if part and f"`{part.lower()}`" in message:
                    return line.span
    return declaration.span


def _check_timezone(name: ast.StringLiteral, result: Validation) -> bool:
    try:
        get_zone(name.value)
    except CalendarError as error:
        result.error("SLA202", str(error), name.span, help="use an IANA name like `Europe/Berlin`")
        return False
    return True


# -- metrics ---------------------------------------------------------------------------------


def _check_metric(metric: ast.MetricDecl, context: _Context) -> None:
    result = context.result
    if metric.start is None:
        result.error(
            "SLA301",
            f"metric `{metric.name}` never starts: it has no `start`",
            metric.span,
            help="add a line such as `start on created`",
        )
    if metric.stop is None:
        result.error(
            "SLA208",
            f"metric `{metric.name}` has no `stop`",
            metric.span,
            help="add a line such as `stop on reply by agent public`",
        )
    for moment in (metric.start, metric.stop, metric.cancel):
        if isinstance(moment, ast.WhenCondition):
            context.ticket_condition(moment.condition)
        elif isinstance(moment, ast.OnEvents):
            for event in moment.events:
                _check_event(event, metric, context)
            if moment.condition is not None:
                context.ticket_condition(moment.condition)
    for pause in metric.pauses:
        context.ticket_condition(pause)
    if (
        not metric.repeat
        and isinstance(metric.start, ast.OnEvents)
        and isinstance(metric.stop, ast.OnEvents)
    ):
        for start in metric.start.events:
            stopping = next((s for s in metric.stop.events if _covers(s, start)), None)
            if stopping is not None:
                result.error(
                    "SLA301",
                    f"metric `{metric.name}` never starts: the event that starts it also stops it",
                    stopping.span,
                    help="make the stop event narrower, or add `repeat` for a clock that "
                    "restarts at every such event",
                )


def _covers(stop: ast.EventPattern, start: ast.EventPattern) -> bool:
    """Whether every event matching ``start`` also matches ``stop``."""
    return (
        stop.event == start.event
        and stop.change == start.change
        and stop.metric == start.metric
        and stop.role in (None, start.role)
        and stop.visibility in (None, start.visibility)
    )


def _check_event(event: ast.EventPattern, metric: ast.MetricDecl, context: _Context) -> None:
    if event.event != "metric" or event.metric is None:
        return
    if event.metric == metric.name:
        context.result.error(
            "SLA301",
            f"metric `{metric.name}` waits for its own {event.change}",
            event.span,
            help="start it on another metric, such as `start on stop of first_response`",
        )
    elif event.metric not in context.metrics:
        span = event.span
        start = {"column": span.end_column - len(event.metric), "line": span.end_line}
        context.unknown_metric(event.metric, span.model_copy(update=start))


# -- policies --------------------------------------------------------------------------------


def _check_policy(policy: ast.PolicyDecl, calendars: set[str], context: _Context) -> None:
    result = context.result
    if policy.applies is not None:
        context.ticket_condition(policy.applies)
    for pause in policy.pauses:
        context.ticket_condition(pause)
    if policy.calendar is not None and policy.calendar.path[0] not in calendars:
        name = policy.calendar.path[0]
        result.error(
            "SLA102",
            f"unknown calendar `{name}`{did_you_mean(name, calendars)}",
            policy.calendar.span,
            help=f"define it with `calendar {name} {{ ... }}` or use one of: "
            + ", ".join(f"`{known}`" for known in sorted(calendars)),
        )
    given: dict[str, ast.Target] = {}
    for target in policy.targets:
        _check_target(target, target.metric, context)
        _once(given, target.metric, target, result)
    for node in policy.nodes:
        per_node: dict[str, ast.Target] = {}
        for target in node.targets:
            if target.metric not in NODE_METRICS:
                hint = did_you_mean(target.metric, NODE_METRICS)
                result.error(
                    "SLA103",
                    f"unknown node target `{target.metric}`{hint}",
                    _name_span(target.span, target.metric),
                    help="a node has `response` and `handling` targets",
                )
            else:
                _check_target(target, NODE_METRICS[target.metric], context)
            _once(per_node, target.metric, target, result)
    if "service" in given and "first_response" not in given:
        result.error(
            "SLA302",
            f"policy `{policy.name}` sets `service` without `first_response`",
            given["service"].span,
            help="`service` starts when `first_response` stops; give `first_response` a target too",
        )


def _once(given: dict[str, ast.Target], name: str, target: ast.Target, result: Validation) -> None:
    if name in given:
        first = given[name].span
        result.error(
            "SLA305",
            f"`{name}` has two targets",
            target.span,
            help=f"the first is on line {first.line}; keep one",
        )
    else:
        given[name] = target


def _check_target(target: ast.Target, metric: str, context: _Context) -> None:
    if metric not in context.metrics:
        context.unknown_metric(metric, _name_span(target.span, target.metric))
    _positive(target.within, "a target", context.result)
    previous = 0.0
    for percent in target.warn_at:
        if not 0 < percent.value <= 100:
            context.result.error(
                "SLA204",
                f"a warning must be above 0% and at most 100%, got `{_percent(percent.value)}`",
                percent.span,
                help="warn at a share of the target above 0% and at most 100%, like `warn at 80%`",
            )
        elif percent.value <= previous:
            context.result.error(
                "SLA204",
                f"warnings must rise: `{_percent(percent.value)}` comes after "
                f"`{_percent(previous)}`",
                percent.span,
                help="list warnings from the earliest to the latest, like `warn at 50%, 80%`",
            )
        previous = max(previous, percent.value)


def _percent(value: float) -> str:
    return f"{value:g}%"


def _positive(duration: ast.DurationLiteral, what: str, result: Validation) -> None:
    if duration.value <= timedelta(0):
        result.error(
            "SLA203",
            f"{what} must be longer than zero, got `{format_duration(duration.value)}`",
            duration.span,
            help="write a positive duration such as `30m`, `4h` or `1h30m`",
        )


def _check_policy_order(policies: Sequence[ast.PolicyDecl], result: Validation) -> None:
    catch_all = next((p for p in policies if _always_applies(p)), None)
    if catch_all is None:
        return
    for policy in policies[policies.index(catch_all) + 1 :]:
        result.warning(
            "SLA303",
            f"policy `{policy.name}` can never apply: `{catch_all.name}` before it applies "
            "to every ticket",
            policy.span,
            help=f"move it above `{catch_all.name}`; the first matching policy wins",
        )


def _always_applies(policy: ast.PolicyDecl) -> bool:
    applies = policy.applies
    return applies is None or (isinstance(applies, ast.BooleanLiteral) and applies.value)


# -- triggers and schedules ------------------------------------------------------------------


def _check_actions(actions: Iterable[ast.ActionCall], context: _Context) -> None:
    known = context.vocabulary.actions
    for action in actions:
        if action.name not in known:
            context.result.error(
                "SLA104",
                f"unknown action `{action.name}`{did_you_mean(action.name, known)}",
                _name_span(action.span, action.name),
                help="slarules provides "
                + ", ".join(f"`{name}`" for name in sorted(context.vocabulary.builtin_actions))
                + "; plugins add more (`slarules plugins` lists them)",
            )
        for argument in action.arguments:
            if isinstance(argument, ast.Reference):
                context.reference_type(argument)
            elif isinstance(argument, ast.StringLiteral):
                _check_placeholders(argument, context)
        _check_field_named(action, context)
        if action.every is not None:
            _positive(action.every, "a repeat interval", context.result)


def _text_field(expression: ast.Expression) -> bool:
    """Whether ``expression`` is a ticket field the language knows holds text (`priority`)."""
    return (
        isinstance(expression, ast.Reference)
        and len(expression.path) == 1
        and TICKET_FIELDS.get(expression.path[0]) is Type.STRING
    )


def _check_field_named(action: ast.ActionCall, context: _Context) -> None:
    """``set`` names the field it sets; a bare name in an action is the ticket's value of that
    field, so ``set status "open"`` would pass the current status, then ``"open"``."""
    if action.name != "set" or not action.arguments:
        return
    first, *rest = action.arguments
    if isinstance(first, ast.Reference) and context.is_ticket_field(first):
        name = ".".join(first.path)
        value = rest[0].value if rest and isinstance(rest[0], ast.StringLiteral) else "…"
        context.result.warning(
            "SLA310",
            f"`set {name}` passes the ticket's current `{name}`, not the name of the field",
            first.span,
            help=f'write the field\'s name in quotes: `set "{name}" "{value}"`',
        )


def _check_placeholders(message: ast.StringLiteral, context: _Context) -> None:
    """Each ``{name}`` of a message must read a value as a condition would."""
    for part in message_parts(message.value):
        if isinstance(part, str):
            continue
        span = _placeholder_span(message, part)
        path = placeholder_path(part)
        if path is None:
            context.result.error(
                "SLA107",
                f"placeholder `{{{part.text}}}` is not a name",
                span,
                help="a placeholder names one value, as conditions do: `{id}`, "
                "`{resolution.due_at}`, `{customer.tier}`; a message cannot show other text "
                "in braces",
            )
        else:
            context.reference_type(ast.Reference(path=path, span=span))


def _placeholder_span(message: ast.StringLiteral, placeholder: Placeholder) -> ast.Span:
    """Where the text between the placeholder's braces is, when the message is written on one
    line with no escape; else the whole message."""
    span = message.span
    as_written = span.end_column - span.column - 2  # less the quotes
    if span.line != span.end_line or as_written != len(message.value):
        return span
    column = span.column + 1 + placeholder.offset
    return span.model_copy(update={"column": column, "end_column": column + len(placeholder.text)})


def _check_schedule(schedule: ast.ScheduleDecl, context: _Context) -> None:
    problem = _cron_problem(schedule.cron.value)
    if problem is not None:
        message, hint = problem
        context.result.error("SLA205", message, schedule.cron.span, help=hint)
    if schedule.timezone is not None:
        _check_timezone(schedule.timezone, context.result)
    if schedule.when is not None:
        context.condition(schedule.when)
    _check_actions(schedule.actions, context)


_FIVE_FIELDS = (
    'five fields: minute hour day-of-month month day-of-week, like `"*/15 8-18 * * mon-fri"`'
)
# Five cron fields repeat within 28 years: a search from any instant finds a run if there is one.
_CRON_SEARCH_FROM = datetime(2000, 1, 1)


def _cron_problem(cron: str) -> tuple[str, str] | None:
    """What is wrong with a schedule's cron expression, and how to fix it, if anything."""
    fields = cron.split()
    # croniter also reads a sixth field (seconds) and a seventh (years); a year can leave a
    # schedule with no run ahead, which the engine could not wait for.
    if not cron.startswith("@") and len(fields) in (6, 7):
        return f"cron expression `{cron}` has {len(fields)} fields, not five", _FIVE_FIELDS
    if not croniter.is_valid(cron):
        return f"invalid cron expression `{cron}`", _FIVE_FIELDS
    try:
        croniter(cron, _CRON_SEARCH_FROM).get_next(datetime)
    except CroniterBadDateError:
        return (
            f"cron expression `{cron}` never runs",
            "none of its months has its days of the month: February has 29 days at most; "
            "April, June, September and November have 30",
        )
    return None


# -- conditions ------------------------------------------------------------------------------


_LITERAL_TYPES: dict[type[ast.Node], Type] = {
    ast.StringLiteral: Type.STRING,
    ast.NumberLiteral: Type.NUMBER,
    ast.DurationLiteral: Type.DURATION,
    ast.PercentLiteral: Type.PERCENT,
    ast.BooleanLiteral: Type.BOOLEAN,
    ast.ListLiteral: Type.LIST,
}


@dataclass
class _Context:
    """Names a condition may use, and where its problems go."""

    metrics: dict[str, ast.MetricDecl]
    vocabulary: Vocabulary
    result: Validation

    def unknown_metric(self, name: str, span: ast.Span) -> None:
        self.result.error(
            "SLA103",
            f"unknown metric `{name}`{did_you_mean(name, self.metrics)}",
            span,
            help=f"define it with `metric {name} {{ ... }}` or use a built-in one such as "
            "`first_response` or `resolution`",
        )

    def condition(self, expression: ast.Expression) -> None:
        """A condition must be true or false."""
        found = self.type_of(expression)
        if found not in (Type.BOOLEAN, Type.ANY):
            self.result.error(
                "SLA304",
                f"a condition must be true or false, but this is {found.article}",
                expression.span,
                help='compare it with something, like `priority == "urgent"`',
            )

    def ticket_condition(self, expression: ast.Expression) -> None:
        """A condition about one ticket, which the engine evaluates at events and timers."""
        self.condition(expression)
        for node in _walk(expression):
            if isinstance(node, ast.Call) and node.function in BUILTIN_FUNCTIONS:
                self.result.error(
                    "SLA307",
                    f"`{node.function}(…)` is a report over many tickets, not about one ticket",
                    node.span,
                    help="use it in a `schedule`, which evaluates reports on a timetable",
                )
            elif isinstance(node, ast.Call) and self._reads_running_clock(node):
                self.result.error(
                    "SLA309",
                    f"`{node.function}(…)` of a running clock value cannot be timed exactly",
                    node.span,
                    help="give the function ticket fields, and compare clock values with a "
                    "duration or a percent outside it, like `resolution.remaining < 1h`",
                )
            elif isinstance(node, ast.Comparison) and all(
                is_time_varying(side, self.metrics) for side in (node.left, node.right)
            ):
                self.result.error(
                    "SLA308",
                    "two running clock values compared with each other cannot be timed exactly",
                    node.span,
                    help="compare each clock with a duration or a percent, like "
                    "`resolution.remaining < 1h`",
                )

    def type_of(self, expression: ast.Expression) -> Type:
        literal = _LITERAL_TYPES.get(type(expression))
        if literal is not None:
            return literal
        match expression:
            case ast.Reference():
                return self.reference_type(expression)
            case ast.Call():
                return self.call_type(expression)
            case ast.Comparison():
                self.comparison(expression)
                return Type.BOOLEAN
            case ast.Not():
                self.condition(expression.operand)
                return Type.BOOLEAN
            case ast.AllOf() | ast.AnyOf():
                for operand in expression.operands:
                    self.condition(operand)
                return Type.BOOLEAN
        return Type.ANY  # pragma: no cover - every expression kind is matched above

    def is_ticket_field(self, reference: ast.Reference) -> bool:
        """Whether ``reference`` reads a ticket field, not a clock, the node or a predicate."""
        head, *rest = reference.path
        return not (head in self.metrics or head == "node" or (not rest and head in PREDICATES))

    def reference_type(self, reference: ast.Reference) -> Type:
        head, *rest = reference.path
        if head in self.metrics:
            return self._attribute(reference, CLOCK_ATTRIBUTES, f"clock `{head}`", rest)
        if head == "node" and rest:
            return self._attribute(reference, NODE_ATTRIBUTES, "a node", rest)
        if not rest and head in _NODE_ONLY:
            self.result.error(
                "SLA106",
                f"`{head}` alone is no value: it is the node's",
                reference.span,
                help=f"write `node.{head}` (or `node {head}`)",
            )
            return NODE_ATTRIBUTES[head]
        if not rest:
            known = PREDICATES.get(head) or TICKET_FIELDS.get(head)
            if known is None and (suggestion := did_you_mean(head, TICKET_FIELDS)):
                self.unknown_field(reference, f"`{head}` is no field slarules knows{suggestion}")
            return known or Type.ANY
        if head in OPEN_OBJECTS:
            return Type.ANY
        if head == "ticket":
            self.unknown_field(
                reference,
                f"`{'.'.join(reference.path)}` reads a field named `ticket`; the ticket's own "
                f"fields are named alone: `{'.'.join(rest)}`",
            )
            return Type.ANY
        if len(rest) == 1 and rest[0] in CLOCK_ATTRIBUTES and did_you_mean(head, self.metrics):
            # `resolutoin.remaining` is a misspelt clock, not a custom field.
            self.unknown_metric(head, _name_span(reference.span, head))
            return CLOCK_ATTRIBUTES[rest[0]]
        if rest[-1] in PREDICATES:
            if head in TICKET_FIELDS or head in OPEN_OBJECTS:
                self.result.error(
                    "SLA106",
                    f"`{head}` has no state `{rest[-1]}`: a state belongs to the ticket, a node "
                    "or a clock",
                    reference.span,
                    help=f"write `{rest[-1]}` (any clock of the ticket), `node {rest[-1]}` or "
                    f"a clock's, such as `resolution {rest[-1]}`",
                )
            return Type.BOOLEAN  # a subject-state phrase about a name the policy knows later
        return Type.ANY

    def _attribute(
        self, reference: ast.Reference, schema: dict[str, Type], owner: str, rest: list[str]
    ) -> Type:
        if len(rest) != 1 or rest[0] not in schema:
            shown = ".".join(rest)
            message = (
                f"{owner} has no field `{shown}`{did_you_mean(shown, schema)}"
                if shown
                else f"{owner} is not a value itself: name one of its fields"
            )
            self.result.error(
                "SLA106",
                message,
                reference.span,
                help="fields: " + ", ".join(f"`{name}`" for name in sorted(schema)),
            )
            return Type.ANY
        return schema[rest[0]]

    def _reads_running_clock(self, call: ast.Call) -> bool:
        return any(
            is_time_varying(node, self.metrics)
            for argument in call.arguments
            for node in _walk(argument.value)
        )

    def call_type(self, call: ast.Call) -> Type:
        function = self.vocabulary.function(call.function)
        if function is None:
            known = self.vocabulary.function_names
            self.result.error(
                "SLA105",
                f"unknown function `{call.function}`{did_you_mean(call.function, known)}",
                _name_span(call.span, call.function),
                help="functions: " + ", ".join(f"`{name}`" for name in known),
            )
            return Type.ANY
        positional = [p for p in function.parameters if not p.named]
        named = {p.name: p for p in function.parameters if p.named}
        given = [argument for argument in call.arguments if argument.name is None]
        required = [p for p in positional if p.required]
        if not len(required) <= len(given) <= len(positional):
            self.result.error(
                "SLA306",
                f"`{call.function}` takes {_count(len(positional), 'argument')}, got {len(given)}",
                call.span,
                help=f"write it like `{_signature(function)}`",
            )
        for parameter, argument in zip(positional, given, strict=False):
            self._argument(call, function, parameter.name, parameter.type, argument)
        for argument in call.arguments:
            if argument.name is None:
                continue
            if argument.name not in named:
                self.result.error(
                    "SLA306",
                    f"`{call.function}` has no option `{argument.name}`"
                    f"{did_you_mean(argument.name, named)}",
                    argument.span,
                    help=f"write it like `{_signature(function)}`",
                )
            else:
                self._argument(call, function, argument.name, named[argument.name].type, argument)
        return function.returns

    def _argument(
        self, call: ast.Call, function: Function, name: str, expected: Type, argument: ast.Argument
    ) -> None:
        if function.is_report and name == "metric":
            value = argument.value
            if not (isinstance(value, ast.Reference) and len(value.path) == 1):
                self.result.error(
                    "SLA306",
                    f"the first argument of `{call.function}` names a metric",
                    argument.span,
                    help=f"write it like `{_signature(function)}`",
                )
            elif value.path[0] not in self.metrics:
                self.unknown_metric(value.path[0], value.span)
            return
        if function.is_report and not isinstance(argument.value, tuple(_LITERAL_TYPES)):
            # A report's options are fixed when the file loads: a ticket has nothing to give.
            value = argument.value
            hint = f"write it like `{_signature(function)}`"
            if isinstance(value, ast.Reference) and len(value.path) == 1:
                hint = f'write the text in quotes: `"{value.path[0]}"`'
            self.result.error(
                "SLA306",
                f"`{name}` of `{call.function}` is a value written out, not one read from a ticket",
                value.span,
                help=hint,
            )
            return
        found = self.type_of(argument.value)
        if found not in (expected, Type.ANY):
            self.result.error(
                "SLA304",
                f"`{name}` of `{call.function}` must be {expected.article}, got {found.article}",
                argument.span,
                help=f"write it like `{_signature(function)}`",
            )
            return
        choices = next(p.choices for p in function.parameters if p.name == name)
        value = argument.value
        if choices and isinstance(value, ast.StringLiteral) and value.value not in choices:
            self.result.error(
                "SLA306",
                f"`{name}` of `{call.function}` is one of {_listing(choices)}, not "
                f"`{value.value}`{did_you_mean(value.value, choices)}",
                argument.span,
                help="docs/reports.md shows each with a worked example",
            )

    def unknown_field(self, reference: ast.Reference, message: str) -> None:
        """A warning: fields are open, so an unknown one may be the helpdesk's own, but this one
        looks like a mistake, and a condition on a field no ticket has never holds."""
        self.result.warning(
            "SLA311",
            message,
            reference.span,
            help="a field of your helpdesk's by that name is fine (a custom field can also go "
            "under `custom.`); else the condition reads a field no ticket has",
        )

    def comparison(self, comparison: ast.Comparison) -> None:
        left, right = self.type_of(comparison.left), self.type_of(comparison.right)
        operator = comparison.operator
        sides = (comparison.left, comparison.right)
        for word, other in (sides, sides[::-1]):
            if _text_field(other) and self._unknown_bare_name(word):
                assert isinstance(word, ast.Reference)
                self.unknown_field(
                    word,
                    f"`{word.path[0]}` reads a ticket field of that name; the text is "
                    f'written in quotes: `"{word.path[0]}"`',
                )
        if operator in ("in", "not-in"):
            if right not in (Type.LIST, Type.ANY):
                self._type_error(comparison, f"`{operator}` needs a list on its right", right)
            elif isinstance(comparison.right, ast.ListLiteral) and left != Type.ANY:
                for item in comparison.right.items:
                    if self.type_of(item) != left:
                        self._mismatch(comparison, left, self.type_of(item), item.span)
                        break
            return
        if operator == "contains":
            if left not in (Type.LIST, Type.STRING, Type.ANY):
                self._type_error(
                    comparison, "`contains` needs a list or a string on its left", left
                )
            return
        if Type.ANY in (left, right):
            return
        if left != right:
            self._mismatch(comparison, left, right, comparison.span)
        elif operator not in ("==", "!=") and left not in ORDERED:
            self._type_error(comparison, f"`{operator}` cannot order", left)

    def _unknown_bare_name(self, expression: ast.Expression) -> bool:
        """Whether ``expression`` is a name alone that nothing defines: `urgent` in
        `priority == urgent`, where the text `"urgent"` was meant."""
        if not isinstance(expression, ast.Reference) or len(expression.path) != 1:
            return False
        name = expression.path[0]
        return not (
            name in TICKET_FIELDS
            or name in PREDICATES
            or name in OPEN_OBJECTS
            or name in self.metrics
            or did_you_mean(name, TICKET_FIELDS)  # warned about already
        )

    def _mismatch(
        self, comparison: ast.Comparison, left: Type, right: Type, span: ast.Span
    ) -> None:
        self.result.error(
            "SLA304",
            f"cannot compare {_describe(comparison.left)} ({left.article}) with "
            f"{_describe(comparison.right)} ({right.article})",
            span,
            help="both sides of a comparison need the same type",
        )

    def _type_error(self, comparison: ast.Comparison, message: str, found: Type) -> None:
        self.result.error("SLA304", f"{message}, got {found.article}", comparison.span, help=None)


def _walk(expression: ast.Expression) -> Iterable[ast.Expression]:
    yield expression
    match expression:
        case ast.Comparison():
            yield from _walk(expression.left)
            yield from _walk(expression.right)
        case ast.Not():
            yield from _walk(expression.operand)
        case ast.AllOf() | ast.AnyOf():
            for operand in expression.operands:
                yield from _walk(operand)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _name_span(span: ast.Span, name: str) -> ast.Span:
    """The part of ``span`` that is the name it starts with."""
    return span.model_copy(update={"end_line": span.line, "end_column": span.column + len(name)})


def _describe(expression: ast.Expression) -> str:
    match expression:
        case ast.Reference():
            return f"`{'.'.join(expression.path)}`"
        case ast.StringLiteral():
            return f'`"{expression.value}"`'
        case ast.DurationLiteral():
            return f"`{format_duration(expression.value)}`"
        case ast.NumberLiteral():
            return f"`{expression.value:g}`"
        case ast.PercentLiteral():
            return f"`{_percent(expression.value)}`"
        case ast.Call():
            return f"`{expression.function}(…)`"
    return "this value"


def _signature(function: Function) -> str:
    parts = [f"{p.name} <{p.type.value}>" if p.named else p.name for p in function.parameters]
    return f"{function.name}({', '.join(parts)})"


def _listing(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)
