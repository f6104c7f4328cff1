"""Zendesk's SLA policies and business-hours schedules as a policy file.

* each schedule (``GET /api/v2/business_hours/schedules``, with its holidays from
  ``GET …/schedules/{id}/holidays`` under ``holidays``) becomes a calendar: its Rails time-zone
  name mapped to IANA, its intervals (minutes from Sunday 00:00, local time) as ``hours``
  lines, each holiday's days (``start_date`` to ``end_date``) as ``holiday`` lines;
* each SLA policy (``GET /api/v2/slas/policies``), in ``position`` order, becomes one policy
  per priority it sets targets for: slarules gives a policy one target per metric, Zendesk one
  per metric and priority. Its ``filter`` (``all`` and ``any``) and the priority make the
  ``applies when`` line; ``business_hours: true`` targets count in the account's default
  schedule (the first one), ``false`` ones in ``calendar always``.

Zendesk policies name no schedule: a business-hours target counts in "the ticket's schedule".
The import takes the first schedule of the export as the account's default; a ticket that a
Zendesk trigger gives another schedule needs a policy of its own.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from slarules.errors import PayloadError, PolicyError
from slarules_zendesk.codes import PRIORITIES, STATUSES
from slarules_zendesk.events import TICKET_ATTRIBUTES
from slarules_zendesk.rails_zones import iana_zone

__all__ = [
    "CONDITION_FIELDS",
    "EXTRA_METRICS",
    "IMPORT_INPUTS",
    "METRICS",
    "export_to_policies",
]

IMPORT_INPUTS = ("policies", "schedules")
# Zendesk metric -> slarules metric (the prelude's, or one this file defines).
METRICS = {
    "first_reply_time": "first_reply",
    "next_reply_time": "next_reply",
    "periodic_update_time": "periodic_update",
    "pausable_update_time": "pausable_update",
    "requester_wait_time": "requester_wait",
    "agent_work_time": "agent_work",
}
# The Zendesk metrics no prelude metric measures, defined the way Zendesk counts them.
EXTRA_METRICS = {
    "first_reply": """\
# Zendesk's first reply time: until the first public agent comment. Zendesk stops every metric
# when the ticket is solved, so a ticket solved with no public reply stops it there too.
metric first_reply {
    start on created
    stop on reply by agent public or when status in ["solved", "closed"]
}
""",
    "next_reply": """\
# Zendesk's next reply time: from the oldest unanswered public requester comment to the next
# public agent comment, or to the ticket's solving.
metric next_reply {
    start on reply by requester public
    stop on reply by agent public or when status in ["solved", "closed"]
    repeat
}
""",
    "pausable_update": """\
# Zendesk's pausable update time: like periodic_update, but paused while pending or on hold.
metric pausable_update {
    start on created or reply by agent public
    stop on reply by agent public
    cancel when status in ["solved", "closed"]
    pause while status in ["pending", "hold"]
    repeat
}
""",
    "requester_wait": """\
# Zendesk's requester wait time: runs while new, open or on hold; paused while pending.
metric requester_wait {
    start on created
    stop when status in ["solved", "closed"]
    pause while status == "pending"
}
""",
    "agent_work": """\
# Zendesk's agent work time: runs while new or open only.
metric agent_work {
    start on created
    stop when status in ["solved", "closed"]
    pause while status in ["pending", "hold"]
}
""",
}
# Zendesk condition field -> ticket field of the events the adapter produces.
CONDITION_FIELDS = {
    **TICKET_ATTRIBUTES,
    "ticket_type_id": "type",
    "ticket_form_id": "form",
    "via_id": "channel",
    "current_tags": "tags",
}
# Zendesk's via ids (the `via_id` condition) and the `via.channel` names tickets carry.
VIA_CHANNELS = {
    0: "web",
    4: "email",
    5: "api",
    29: "chat",
    30: "twitter",
    33: "voice",
    34: "voice",
    35: "voice",
    38: "facebook",
}
_ORDERED = {"status": STATUSES[:6], "priority": PRIORITIES}
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEK_ORDER = (1, 2, 3, 4, 5, 6, 0)  # lines read Monday first, as people write them
_MINUTES_A_DAY = 24 * 60
_MAX_HOLIDAY_DAYS = 366

HEADER = """\
# Imported from Zendesk by slarules-zendesk: SLA policies (GET /api/v2/slas/policies) and
# business-hours schedules (GET /api/v2/business_hours/schedules).
# Zendesk sets a target per priority; each policy below is one Zendesk policy and one priority,
# in Zendesk's order (the first policy that applies wins). Business-hours targets count in the
# account's default schedule, the first one exported.
"""


@dataclass(frozen=True)
class _Calendar:
    name: str
    text: str


def export_to_policies(exports: Mapping[str, Any]) -> str:
    """The policy file of the ``policies`` and ``schedules`` exports (their JSON)."""
    names: set[str] = set()
    calendars = [
        _calendar(schedule, where, index, names)
        for index, (schedule, where) in enumerate(_items(exports["schedules"], "schedules"))
    ]
    policies = _ordered_policies(exports["policies"])
    default = calendars[0].name if calendars else None
    blocks: list[str] = [HEADER]
    policy_blocks: list[str] = []
    used_metrics: set[str] = set()
    taken: set[str] = set()
    problems: list[tuple[str, str]] = []
    for policy, where in policies:
        for block, metrics in _policy_blocks(policy, where, default, taken, problems):
            policy_blocks.append(block)
            used_metrics |= metrics
    if problems:
        _raise_all(problems)
    for index, calendar in enumerate(calendars):
        unused = (
            f"# Not used by the policies below (they use `{default}`): give it to the\n"
            "# tickets Zendesk puts on this schedule with policies of their own.\n"
        )
        blocks.append(unused + calendar.text if index else calendar.text)
    blocks += [EXTRA_METRICS[name] for name in EXTRA_METRICS if name in used_metrics]
    text = "\n".join(blocks + policy_blocks)
    _check(text)
    return text


# -- exports --------------------------------------------------------------------------------


def _items(export: object, name: str) -> list[tuple[Mapping[str, Any], str]]:
    """The objects of a list export (``{"schedules": [...]}``, a bare list, or one object as
    ``GET …/{id}`` returns it), each with its path for messages."""
    plural = {"schedules": "schedules", "policies": "sla_policies"}[name]
    singular = {"schedules": "schedule", "policies": "sla_policy"}[name]
    if isinstance(export, Mapping) and plural in export:
        rows, prefix = export[plural], f"{name}.{plural}"
    elif isinstance(export, Mapping) and singular in export:
        rows, prefix = [export[singular]], f"{name}.{singular}"
    else:
        rows, prefix = export, name
    if not isinstance(rows, list):
        raise PayloadError(name, f'expected `{{"{plural}": [...]}}` as Zendesk exports it')
    if isinstance(export, Mapping) and export.get("next_page") not in (None, ""):
        raise PayloadError(
            f"{name}.next_page",
            "this is one page of several: give the rows of every page in one "
            f'`{{"{plural}": [...]}}` (follow `next_page` until it is null)',
        )
    items = []
    for index, row in enumerate(rows):
        where = f"{prefix}[{index}]" if prefix != f"{name}.{singular}" else prefix
        if not isinstance(row, Mapping):
            raise PayloadError(where, "expected an object")
        items.append((row, where))
    return items


def _ordered_policies(export: object) -> list[tuple[Mapping[str, Any], str]]:
    items = _items(export, "policies")
    positions = []
    for index, (policy, where) in enumerate(items):
        position = policy.get("position", index + 1)
        if isinstance(position, bool) or not isinstance(position, int):
            raise PayloadError(f"{where}.position", f"expected a whole number, got `{position!r}`")
        positions.append((position, index))
    order = sorted(range(len(items)), key=lambda index: positions[index])
    return [items[index] for index in order]


# -- schedules ------------------------------------------------------------------------------


def _calendar(schedule: Mapping[str, Any], where: str, index: int, taken: set[str]) -> _Calendar:
    title = schedule.get("name")
    if not isinstance(title, str) or not title.strip():
        raise PayloadError(f"{where}.name", "required: the schedule's name")
    zone_name = schedule.get("time_zone")
    zone = iana_zone(zone_name, f"{where}.time_zone")
    spans = _weekly_spans(schedule.get("intervals"), f"{where}.intervals")
    holidays = _holidays(schedule.get("holidays") or [], f"{where}.holidays")
    name = _calendar_name(title, index, taken)
    lines = [f'    timezone "{zone}"  # Zendesk: {zone_name}']
    lines += [f"    hours {days} {hours}" for hours, days in _days_by_spans(spans)]
    lines += [f"    holiday {day.isoformat()} {_quoted(label)}" for day, label in holidays]
    body = "\n".join(lines)
    comment = f"# Zendesk schedule {_quoted(title)} (id {schedule.get('id', '?')})"
    return _Calendar(name, f"{comment}\ncalendar {name} {{\n{body}\n}}\n")


def _weekly_spans(intervals: object, where: str) -> dict[int, list[tuple[int, int]]]:
    if not isinstance(intervals, list) or not intervals:
        raise PayloadError(where, "required: the schedule's weekly intervals")
    spans: dict[int, list[tuple[int, int]]] = {}
    for position, interval in enumerate(intervals):
        here = f"{where}[{position}]"
        if not isinstance(interval, Mapping):
            raise PayloadError(here, 'expected `{"start_time": minutes, "end_time": minutes}`')
        start = _minute(interval.get("start_time"), f"{here}.start_time")
        end = _minute(interval.get("end_time"), f"{here}.end_time")
        if end <= start:
            raise PayloadError(here, f"ends ({end}) before it starts ({start})")
        day = start // _MINUTES_A_DAY
        if (end - 1) // _MINUTES_A_DAY != day:
            raise PayloadError(here, f"spans two days ({start}-{end}); Zendesk's never do")
        spans.setdefault(day, []).append((start - day * _MINUTES_A_DAY, end - day * _MINUTES_A_DAY))
    return {day: sorted(day_spans) for day, day_spans in spans.items()}


def _minute(value: object, where: str) -> int:
    week = 7 * _MINUTES_A_DAY
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= week:
        raise PayloadError(
            where, f"expected minutes since Sunday 00:00 (0-{week}), got `{value!r}`"
        )
    return value


def _days_by_spans(spans: Mapping[int, list[tuple[int, int]]]) -> Iterable[tuple[str, str]]:
    """``("09:00-17:00", "mon-fri")``: days with the same hours on one line, runs as ranges."""
    days_of: dict[str, list[int]] = {}
    for order, day in enumerate(_WEEK_ORDER):
        if day in spans:
            text = ", ".join(f"{_clock(start)}-{_clock(end)}" for start, end in spans[day])
            days_of.setdefault(text, []).append(order)
    for text, orders in days_of.items():
        yield text, ", ".join(_runs(orders))


def _runs(orders: list[int]) -> list[str]:
    runs: list[list[int]] = []
    for order in orders:
        if runs and runs[-1][-1] == order - 1:
            runs[-1].append(order)
        else:
            runs.append([order])
    names = [_DAYS[day] for day in _WEEK_ORDER]
    return [names[run[0]] if len(run) == 1 else f"{names[run[0]]}-{names[run[-1]]}" for run in runs]


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _holidays(holidays: object, where: str) -> list[tuple[date, str]]:
    if isinstance(holidays, Mapping) and "holidays" in holidays:
        holidays = holidays["holidays"]  # the body of GET …/holidays, pasted as it is
    if not isinstance(holidays, list):
        raise PayloadError(where, "expected the list GET …/schedules/{id}/holidays returns")
    days: dict[date, str] = {}
    for position, holiday in enumerate(holidays):
        here = f"{where}[{position}]"
        if not isinstance(holiday, Mapping):
            raise PayloadError(here, "expected a holiday object")
        first = _date(holiday.get("start_date"), f"{here}.start_date")
        last = _date(holiday.get("end_date", holiday.get("start_date")), f"{here}.end_date")
        if last < first:
            raise PayloadError(f"{here}.end_date", f"{last} is before the start date {first}")
        if (last - first).days >= _MAX_HOLIDAY_DAYS:
            raise PayloadError(f"{here}.end_date", "a holiday longer than a year")
        name = holiday.get("name")
        label = name if isinstance(name, str) else ""
        for offset in range((last - first).days + 1):
            days.setdefault(first + timedelta(days=offset), label)
    return sorted(days.items())


def _date(value: object, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise PayloadError(where, f"expected a date `YYYY-MM-DD`, got `{value!r}`") from None


def _calendar_name(title: str, index: int, taken: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
    base = slug if slug and not slug[0].isdigit() else f"schedule_{index + 1}"
    if base == "always":  # the built-in calendar's name is taken
        base = "always_hours"
    name, suffix = base, 2
    while name in taken:  # two schedules may share a slug
        name, suffix = f"{base}_{suffix}", suffix + 1
    taken.add(name)
    return name


# -- policies -------------------------------------------------------------------------------


def _policy_blocks(
    policy: Mapping[str, Any],
    where: str,
    default: str | None,
    taken: set[str],
    problems: list[tuple[str, str]],
) -> Iterable[tuple[str, set[str]]]:
    title = policy.get("title")
    if not isinstance(title, str) or not title.strip():
        raise PayloadError(f"{where}.title", "required: the policy's title")
    condition = _filter(policy.get("filter"), f"{where}.filter", problems)
    targets = _targets_by_priority(policy.get("policy_metrics"), f"{where}.policy_metrics")
    for priority in reversed(PRIORITIES):  # most urgent first, as Zendesk's editor lists them
        if priority not in targets:
            continue
        yield _policy(
            _policy_name(title, priority, where, taken),
            priority,
            condition,
            targets[priority],
            default,
            where,
        )
    if set(targets) != set(PRIORITIES):
        # In Zendesk the first policy whose filter holds is the ticket's, targets for its
        # priority or not: such a ticket gets no SLA, not the next policy's.
        name = _policy_name(title, "other priorities", where, taken)
        applies = f"    applies when {condition}\n" if condition else ""
        note = f"    # Zendesk's `{title}` sets no target for these priorities: no SLA\n"
        yield f"policy {_quoted(name)} {{\n{applies}{note}}}\n", set()


def _policy_name(title: str, priority: str, where: str, taken: set[str]) -> str:
    name = f"{title} ({priority})"
    if name in taken:
        raise PayloadError(f"{where}.title", f"two policies are titled `{title}`")
    taken.add(name)
    return name


@dataclass(frozen=True)
class _Target:
    metric: str
    minutes: int
    business_hours: bool
    where: str


def _targets_by_priority(metrics: object, where: str) -> dict[str, list[_Target]]:
    if not isinstance(metrics, list):
        raise PayloadError(where, "required: the policy's targets")
    targets: dict[str, list[_Target]] = {}
    for position, metric in enumerate(metrics):
        here = f"{where}[{position}]"
        if not isinstance(metric, Mapping):
            raise PayloadError(here, "expected a policy metric object")
        priority = metric.get("priority")
        if priority not in PRIORITIES:
            raise PayloadError(
                f"{here}.priority",
                f"unknown priority `{priority}`; expected {', '.join(PRIORITIES)}",
            )
        name = metric.get("metric")
        if not isinstance(name, str) or not name:
            raise PayloadError(f"{here}.metric", "required: the metric's name")
        business = metric.get("business_hours", False)
        if not isinstance(business, bool):
            raise PayloadError(f"{here}.business_hours", "expected true or false")
        targets.setdefault(str(priority), []).append(
            _Target(name, _target_minutes(metric, here), business, here)
        )
    return targets


def _target_minutes(metric: Mapping[str, Any], where: str) -> int:
    minutes = metric.get("target")
    if minutes is None and isinstance(metric.get("target_in_seconds"), int):
        minutes = -(-metric["target_in_seconds"] // 60)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise PayloadError(f"{where}.target", f"expected whole minutes above 0, got `{minutes!r}`")
    return minutes


def _policy(
    name: str,
    priority: str,
    condition: str | None,
    targets: Sequence[_Target],
    default: str | None,
    where: str,
) -> tuple[str, set[str]]:
    business = any(target.business_hours for target in targets)
    if business and default is None:
        raise PayloadError(
            targets[0].where + ".business_hours",
            "counts business hours, but the schedules export holds no schedule",
        )
    calendar = default if business and default else "always"
    applies = f'priority == "{priority}"' + (f" and ({condition})" if condition else "")
    lines = [f"    applies when {applies}", f"    calendar {calendar}"]
    used: set[str] = set()
    seen: set[str] = set()
    for target in targets:
        metric = METRICS.get(target.metric)
        duration = _duration(target.minutes)
        if metric is None:
            if close := difflib.get_close_matches(target.metric, METRICS, n=1):
                raise PayloadError(
                    f"{target.where}.metric",
                    f"unknown metric `{target.metric}` (did you mean `{close[0]}`?)",
                )
            lines.append(  # a metric Zendesk added since: the rest still imports
                f"    # not imported: {target.metric} {duration}: no slarules metric measures it"
            )
            continue
        if metric in seen:
            raise PayloadError(target.where, f"a second `{target.metric}` target for {priority}")
        seen.add(metric)
        used.add(metric)
        if target.business_hours != business:
            hours = "business" if target.business_hours else "calendar"
            lines.append(
                f"    # Zendesk counts {target.metric} in {hours} hours; a policy has one\n"
                f"    # calendar, so here it counts in `{calendar}`"
            )
        lines.append(f"    {metric} within {duration}")
    body = "\n".join(lines)
    return f"policy {_quoted(name)} {{\n{body}\n}}\n", used


def _duration(minutes: int) -> str:
    """``1h30m``: hours and minutes, as ``slarules fmt`` writes durations."""
    hours, rest = divmod(minutes, 60)
    return "".join(f"{amount}{unit}" for amount, unit in ((hours, "h"), (rest, "m")) if amount)


# -- conditions -----------------------------------------------------------------------------


def _filter(given: object, where: str, problems: list[tuple[str, str]]) -> str | None:
    """The ``applies when`` condition of a policy's filter, or ``None`` for every ticket.
    Conditions that cannot be translated are added to ``problems``, all of them."""
    if given is None:
        return None
    if not isinstance(given, Mapping):
        raise PayloadError(where, 'expected `{"all": [...], "any": [...]}`')
    for group in given:
        if group not in ("all", "any"):
            # Leaving it out would make the policy apply to tickets Zendesk leaves out.
            raise PayloadError(
                f"{where}.{group}", "unknown condition group: Zendesk filters have `all` and `any`"
            )
    parts: list[str] = []
    for group, joiner in (("all", " and "), ("any", " or ")):
        conditions = given.get(group) or []
        if not isinstance(conditions, list):
            raise PayloadError(f"{where}.{group}", "expected a list of conditions")
        texts = [
            text
            for position, condition in enumerate(conditions)
            if (text := _condition(condition, f"{where}.{group}[{position}]", problems))
        ]
        if texts:
            joined = joiner.join(texts)
            parts.append(f"({joined})" if group == "any" and len(texts) > 1 else joined)
    return " and ".join(parts) or None


def _condition(condition: object, where: str, problems: list[tuple[str, str]]) -> str | None:
    if not isinstance(condition, Mapping):
        raise PayloadError(where, 'expected `{"field": ..., "operator": ..., "value": ...}`')
    field, operator, value = (condition.get(key) for key in ("field", "operator", "value"))
    name = CONDITION_FIELDS.get(str(field))
    if name is None:
        known = ", ".join(CONDITION_FIELDS)
        problems.append(
            (f"{where}.field", f"cannot import condition on `{field}`; the import reads {known}")
        )
        return None
    if value is None or value == "" or value == []:
        problems.append((f"{where}.value", f"cannot import a condition on an empty `{field}`"))
        return None
    if name == "tags" and not isinstance(value, str | list):
        raise PayloadError(
            f"{where}.value", f"expected tags as text or a list of tags, got `{value!r}`"
        )
    try:
        return _comparison(name, str(operator), value, field=str(field))
    except ValueError as error:
        problems.append((f"{where}.operator", str(error)))
        return None


def _comparison(name: str, operator: str, value: object, *, field: str) -> str:
    if name == "tags":
        assert isinstance(value, str | list)  # checked by _condition
        tags = value.split() if isinstance(value, str) else [str(tag) for tag in value]
        if operator == "includes":
            joined = " or ".join(f"{_quoted(tag)} in tags" for tag in tags)
            return f"({joined})" if len(tags) > 1 else joined
        if operator == "not_includes":
            return " and ".join(f"{_quoted(tag)} not-in tags" for tag in tags)
        raise ValueError(
            f"cannot import `{field}` `{operator}`; the import reads includes, not_includes"
        )
    text = _value_text(name, value, field)
    if operator == "is":
        return f"{name} == {_quoted(text)}"
    if operator == "is_not":
        return f"{name} != {_quoted(text)}"
    if operator in ("less_than", "greater_than") and name in _ORDERED:
        order = list(_ORDERED[name])
        if text not in order:
            raise ValueError(f"unknown {name} `{text}`")
        position = order.index(text)
        chosen = order[:position] if operator == "less_than" else order[position + 1 :]
        return f"{name} in [{', '.join(_quoted(item) for item in chosen)}]"
    raise ValueError(
        f"cannot import `{field}` `{operator}`; the import reads is, is_not"
        + (", less_than, greater_than" if name in _ORDERED else "")
    )


def _value_text(name: str, value: object, field: str) -> str:
    if name == "channel":
        if isinstance(value, int) and not isinstance(value, bool) and value in VIA_CHANNELS:
            return VIA_CHANNELS[value]
        if isinstance(value, str) and value.isdigit() and int(value) in VIA_CHANNELS:
            return VIA_CHANNELS[int(value)]
        if isinstance(value, str) and not value.isdigit():
            return value.lower()
        raise ValueError(
            f"unknown `{field}` {value!r}; the import knows via ids {sorted(VIA_CHANNELS)}"
        )
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"cannot import `{field}` value `{value!r}`")
    return str(value).lower() if name in ("status", "priority", "type") else str(value)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- the result -----------------------------------------------------------------------------


def _raise_all(problems: list[tuple[str, str]]) -> None:
    field, reason = problems[0]
    rest = "".join(f"; and `{other}`: {why}" for other, why in problems[1:])
    hint = " (edit these conditions into the policy file by hand, or change them in Zendesk)"
    raise PayloadError(field, reason + rest + hint)


def _check(text: str) -> None:
    """The file must load: a mistake here is a bug of the import, not of the export."""
    from slarules import parse_policies

    try:
        parse_policies(text, source="zendesk-import.sla")
    except PolicyError as error:
        raise PayloadError("policies", f"the imported file does not load:\n{error}") from None
