"""The field mapping: how a custom helpdesk's JSON becomes normalized events.

A mapping gives, for each part of an event, a *rule*: a JSON pointer (RFC 6901) into the
payload, written as a plain string (``"/ticket/number"``), or an object::

    {"pointer": "/ticket/state", "values": {"2": "open", "3": "pending"}, "default": "new"}
    {"value": "email"}                               a constant
    {"template": "{/ticket/id}:{/change/seq}"}       pointers inside braces, joined as text
    {"pointer": "/labels", "each": "/name"}          a list, each element's `/name`

``values`` translates what the pointer finds (compared as text, so ``2`` and ``"2"`` are the
same key; a list is translated element by element); a value the map does not know is an error,
never passed on. ``default`` stands in when the pointer finds nothing (a missing key), not for a
``null`` that is there. ``id``, ``ticket``, ``type`` and ``at`` are required, the rest optional;
``"required": true`` makes a field required too.

``events`` (a pointer to a list) makes one event of each element: rules then point into the
element, and a pointer written ``$/…`` points into the whole payload (a delivery id, a ticket
shared by all). A ``type`` that maps to ``null`` marks a kind that does not concern SLAs: that
payload (or element) gives no event, deliberately.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)

from slarules.errors import PayloadError, PluginError
from slarules.events import Event
from slarules_webhook.normalized import EVENT_TYPES, TimeFormat, build_event, parse_instant
from slarules_webhook.pointers import Missing, Pointer
from slarules_webhook.settings import setting_name

__all__ = ["FieldMapping", "Rule", "load_mapping"]

_ROOT = "$"
_TEMPLATE_PART = re.compile(r"\{([^{}]*)\}")
_FIELD_NAME = r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$"
_REQUIRED = ("id", "ticket", "type", "at")


def _check_pointer(text: str) -> str:
    Pointer.parse(text.removeprefix(_ROOT))
    return text


PointerText = Annotated[str, AfterValidator(_check_pointer)]


def _check_template(text: str) -> str:
    parts = _TEMPLATE_PART.findall(text)
    if not parts:
        raise ValueError(f"`{text}` has no `{{/pointer}}` in it")
    for part in parts:
        _check_pointer(part)
    return text


class Rule(BaseModel):
    """Where one part of an event comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pointer: PointerText | None = None
    value: JsonValue = None
    template: Annotated[str, AfterValidator(_check_template)] | None = None
    values: dict[str, JsonValue] | None = None
    default: JsonValue = None
    required: bool | None = None
    each: PointerText | None = None
    # Only for `type`: kinds that do not concern SLAs, and give no event (as `null` in `values`
    # does; TOML has no null).
    ignore: list[str] = []
    # Only for `at`: how the helpdesk writes instants.
    format: TimeFormat = "iso8601"

    @model_validator(mode="before")
    @classmethod
    def _pointer_alone(cls, given: Any) -> Any:
        return {"pointer": given} if isinstance(given, str) else given

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        sources = [key for key in ("pointer", "value", "template") if key in self.model_fields_set]
        if len(sources) != 1:
            raise ValueError("give exactly one of `pointer`, `value` and `template`")
        if self.each is not None and self.pointer is None:
            raise ValueError("`each` needs a `pointer` to a list")
        return self

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set


class ActorRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Rule | None = None
    role: Rule | None = None


def _event_type_pattern() -> str:
    return "^(" + "|".join(re.escape(kind) for kind in EVENT_TYPES) + ")$"


class CloudEventRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # A CloudEvent `type` (such as `com.acme.ticket.changed`) to an event type, or to `null`
    # for a type that does not concern SLAs.
    types: dict[str, Annotated[str, Field(pattern=_event_type_pattern())] | None] = {}
    # CloudEvent types that give no event, as `null` in `types` does (TOML has no null).
    ignore: list[str] = []

    @property
    def resolved(self) -> dict[str, str | None]:
        return {**self.types, **dict.fromkeys(self.ignore)}


class FieldMapping(BaseModel):
    """A custom helpdesk's payloads as events, and its CloudEvent types as event types."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    events: PointerText | None = None
    id: Rule | None = None
    ticket: Rule | None = None
    type: Rule | None = None
    at: Rule | None = None
    actor: ActorRules = ActorRules()
    public: Rule | None = None
    fields: dict[Annotated[str, Field(pattern=_FIELD_NAME)], Rule] = {}
    cloudevents: CloudEventRules = CloudEventRules()

    @model_validator(mode="after")
    def _ignore_only_kinds(self) -> Self:
        rules = {"id": self.id, "ticket": self.ticket, "at": self.at, "public": self.public}
        rules.update({"actor.id": self.actor.id, "actor.role": self.actor.role})
        rules.update({f"fields.{name}": rule for name, rule in self.fields.items()})
        for name, rule in rules.items():
            if rule is not None and rule.ignore:
                raise ValueError(f"`{name}.ignore`: only `type` ignores values")
        return self

    @model_validator(mode="after")
    def _complete(self) -> Self:
        given = self.model_fields_set - {"cloudevents"}
        missing = [key for key in _REQUIRED if getattr(self, key) is None]
        if given and missing:
            names = ", ".join(f"`{key}`" for key in missing)
            raise ValueError(f"a payload mapping needs {names} (each event's id, ticket, type, at)")
        return self

    @property
    def maps_payloads(self) -> bool:
        return self.id is not None

    def core_rules(self) -> tuple[Rule, Rule, Rule, Rule]:
        """The rules of ``id``, ``ticket``, ``type`` and ``at``, which a mapping of payloads has
        (see ``_complete``)."""
        id_rule, ticket, kind, at = self.id, self.ticket, self.type, self.at
        if id_rule is None or ticket is None or kind is None or at is None:
            raise PayloadError("body", "the mapping translates CloudEvent types only")
        return id_rule, ticket, kind, at

    def to_events(self, payload: Any) -> list[Event]:
        """The events in one payload, or :class:`PayloadError` naming the pointer at fault."""
        if self.events is None:
            event = _Reader(self, payload, Pointer(()), payload).event()
            return [] if event is None else [event]
        where = _pointer(self.events)
        try:
            items = where.resolve(payload)
        except Missing as missing:
            raise PayloadError(str(where), f"no list of events here: {missing.reason}") from None
        if not isinstance(items, list):
            raise PayloadError(str(where), f"expected a list of events, got {_kind(items)}")
        events = [
            _Reader(self, item, where.child(i), payload).event() for i, item in enumerate(items)
        ]
        return [event for event in events if event is not None]


class _Reader:
    """Reads one event out of one item (the payload, or an element of ``events``)."""

    def __init__(self, mapping: FieldMapping, item: Any, base: Pointer, root: Any) -> None:
        self._mapping = mapping
        self._item = item
        self._base = base
        self._root = root
        self.origins: dict[str, str] = {"event": str(base) or "body"}

    def event(self) -> Event | None:
        mapping = self._mapping
        id_rule, ticket_rule, type_rule, at_rule = mapping.core_rules()
        kind = self._read("type", type_rule, required=True)
        if kind is None:
            return None  # a kind mapped to null: not about SLAs
        self._check_type(kind)
        payload: dict[str, Any] = {
            "type": kind,
            "id": self._identifier("id", id_rule),
            "ticket": self._identifier("ticket", ticket_rule),
            "at": self._instant(at_rule),
            "fields": self._fields(),
        }
        actor = self._optional({"id": mapping.actor.id, "role": mapping.actor.role}, "actor.")
        if actor:
            payload["actor"] = actor
        payload.update(self._optional({"public": mapping.public}, ""))
        return build_event(payload, self.origins)

    # -- parts -----------------------------------------------------------------------------

    def _check_type(self, kind: Any) -> None:
        if kind not in EVENT_TYPES:
            where = self.origins["type"]
            raise PayloadError(
                where,
                f"unknown kind `{kind}`: not an event type ({', '.join(EVENT_TYPES)}); "
                "translate it in the mapping's `type.values` (or map it to null to ignore it)",
            )

    def _identifier(self, name: str, rule: Rule) -> Any:
        value = self._read(name, rule, required=True)
        # Helpdesks number their tickets; events name them by text.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def _instant(self, rule: Rule) -> Any:
        value = self._read("at", rule, required=True)
        return parse_instant(value, self.origins["at"], rule.format)

    def _fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name, rule in self._mapping.fields.items():
            key = f"fields.{name}"
            value = self._read(key, rule, required=bool(rule.required))
            if value is _ABSENT:
                continue
            *parents, leaf = name.split(".")
            target = fields
            for parent in parents:
                target = target.setdefault(parent, {})
                if not isinstance(target, dict):
                    raise PayloadError(self.origins[key], f"`{parent}` is mapped as a value too")
                self.origins.setdefault(f"fields.{parent}", self.origins[key])
            target[leaf] = value
        return fields

    def _optional(self, rules: Mapping[str, Rule | None], prefix: str) -> dict[str, Any]:
        found = {}
        for name, rule in rules.items():
            if rule is not None:
                value = self._read(prefix + name, rule, required=bool(rule.required))
                if value is not _ABSENT:
                    found[name] = value
        return found

    # -- one rule --------------------------------------------------------------------------

    def _read(self, name: str, rule: Rule, required: bool) -> Any:
        """The value of one rule; ``_ABSENT`` for an optional one that finds nothing."""
        if rule.template is not None:
            self.origins[name] = rule.template
            return self._fill(name, rule.template)
        if rule.pointer is None:
            self.origins[name] = f"mapping `{name}`"
            return rule.value
        where = self._locate(rule.pointer)
        self.origins[name] = str(where)
        try:
            raw = self._resolve(rule.pointer)
        except Missing as missing:
            if rule.has_default:
                return rule.default
            if required:
                raise PayloadError(str(where), f"required for `{name}`: {missing.reason}") from None
            return _ABSENT
        if rule.ignore and _as_key(raw) in rule.ignore:
            return None
        if rule.each is not None:
            raw = self._each(where, raw, rule.each)
        return self._translate(name, where, raw, rule.values)

    def _each(self, where: Pointer, raw: Any, each: str) -> list[Any]:
        if not isinstance(raw, list):
            raise PayloadError(str(where), f"`each` needs a list here, got {_kind(raw)}")
        inner = _pointer(each)
        values = []
        for index, element in enumerate(raw):
            try:
                values.append(inner.resolve(element, where.child(index)))
            except Missing as missing:
                place = where.child(index)
                raise PayloadError(f"{place}{inner}", f"`each`: {missing.reason}") from None
        return values

    def _translate(
        self, name: str, where: Pointer, raw: Any, values: Mapping[str, Any] | None
    ) -> Any:
        if values is None:
            return raw
        if isinstance(raw, list):
            return [self._translate(name, where.child(i), one, values) for i, one in enumerate(raw)]
        key = _as_key(raw)
        if key not in values:
            known = ", ".join(f"`{known}`" for known in values) or "nothing"
            raise PayloadError(
                str(where),
                f"`{key}` is not in the value map of `{name}` (it knows {known}); "
                "add it to the mapping",
            )
        return values[key]

    def _fill(self, name: str, template: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            pointer = match[1]
            try:
                value = self._resolve(pointer)
            except Missing as missing:
                place = self._locate(pointer)
                raise PayloadError(str(place), f"required for `{name}`: {missing.reason}") from None
            if isinstance(value, dict | list) or value is None:
                place = self._locate(pointer)
                raise PayloadError(
                    str(place), f"`{name}` takes text or a number, not {_kind(value)}"
                )
            return value if isinstance(value, str) else json.dumps(value)

        return _TEMPLATE_PART.sub(substitute, template)

    def _resolve(self, text: str) -> Any:
        if text.startswith(_ROOT):
            return _pointer(text).resolve(self._root)
        return _pointer(text).resolve(self._item, self._base)

    def _locate(self, text: str) -> Pointer:
        """Where a pointer points in the whole payload, for messages."""
        if text.startswith(_ROOT):
            return _pointer(text)
        return Pointer((*self._base.tokens, *_pointer(text).tokens))


_ABSENT: Any = object()


def _as_key(value: Any) -> str:
    """Value maps compare as text: JSON object keys are text, and helpdesks send a status code
    as `2` one day and `"2"` the next."""
    return value if isinstance(value, str) else json.dumps(value)


def _pointer(text: str) -> Pointer:
    return Pointer.parse(text.removeprefix(_ROOT))


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else f"`{value!r}`"


# -- loading -----------------------------------------------------------------------------------


def load_mapping(setting: str) -> FieldMapping:
    """The mapping of the ``mapping`` setting: inline JSON (it starts with ``{`` or ``[``), or
    the path of a ``.json`` or ``.toml`` file. :class:`PluginError` names the setting, the file
    and the key at fault."""
    text = setting.strip()
    if text.startswith(("{", "[")):
        return _validated(_json(text, "inline JSON"), "inline JSON")
    path = Path(text).expanduser()
    where = f"file `{path}`"
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _mapping_error(f"cannot read {where}: {error}") from None
    if path.suffix.lower() == ".toml":
        try:
            return _validated(tomllib.loads(content), where)
        except tomllib.TOMLDecodeError as error:
            raise _mapping_error(f"{where} is not TOML: {error}") from None
    if path.suffix.lower() == ".json":
        return _validated(_json(content, where), where)
    raise _mapping_error(f"{where}: give a `.json` or `.toml` file, or inline JSON")


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _mapping_error(
            f"{where} is not JSON: line {error.lineno} column {error.colno}: {error.msg}"
        ) from None


def _validated(document: Any, where: str) -> FieldMapping:
    try:
        return FieldMapping.model_validate(document)
    except ValidationError as error:
        problems = [_problem(detail) for detail in error.errors(include_url=False)]
        raise _mapping_error(f"{where}: " + "; ".join(dict.fromkeys(problems))) from None


def _problem(detail: Any) -> str:
    # Unions and JSON values add type names to the location (`function-after[…]`); cut them.
    keys = [str(part) for part in detail["loc"] if not _is_type_name(part)]
    reason = _REASONS.get(detail["type"], detail["msg"].removeprefix("Value error, "))
    if detail["type"] == "string_pattern_mismatch":
        if keys[:1] == ["cloudevents"]:
            reason = f"`{detail.get('input')}` is not an event type ({', '.join(EVENT_TYPES)})"
        else:
            reason = f"`{detail.get('input')}` is not a field name (letters, digits, `_-.`)"
    return f"key `{'.'.join(keys) or '(top)'}`: {reason}"


def _is_type_name(part: object) -> bool:
    return isinstance(part, str) and ("[" in part or part in ("str", "int", "float", "bool"))


_REASONS = {"missing": "required", "extra_forbidden": "not a key of a mapping here"}


def _mapping_error(message: str) -> PluginError:
    return PluginError(f"webhook: {setting_name('mapping')}: {message}")
