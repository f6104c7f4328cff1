"""CloudEvents 1.0 over HTTP: structured, batch and binary mode, as normalized events.

* structured: ``Content-Type: application/cloudevents+json``, the body is one CloudEvent
  (``specversion, id, source, type, subject?, time?, datacontenttype?, data | data_base64``);
* batch: ``application/cloudevents-batch+json``, the body is a list of them;
* binary: the attributes are ``ce-*`` headers (``ce-specversion``, ``ce-id``, …), the body is
  the data and ``Content-Type`` its ``datacontenttype``.

The CloudEvent's ``type`` is an event type (``ticket.updated``), or one the mapping translates
(``cloudevents.types``); its ``data`` is a normalized event body without ``id`` and ``type``
(``fields``, ``actor``, ``public``, optionally ``ticket`` and ``at``). The event's id is
``{source}#{id}``: CloudEvents ids are unique per source only. Its ticket is ``subject`` (or
``data.ticket``), its instant ``time`` (or ``data.at``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slarules.errors import PayloadError
from slarules.events import Event
from slarules_webhook.normalized import EVENT_TYPES, build_event, parse_instant

__all__ = ["BATCH", "STRUCTURED", "from_batch", "from_binary", "from_structured"]

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
_SPECVERSION = "1.0"
# Keys of a structured CloudEvent that are not extension attributes.
_DATA_KEYS = ("data", "data_base64")
# `data` keys that the envelope gives: the event's id is the CloudEvent's, and so is its type.
_ENVELOPE_ONLY = ("id", "type")


@dataclass(frozen=True)
class _Place:
    """How to name an attribute and a data key in messages: pointers into a structured body,
    header names in binary mode."""

    attribute: Callable[[str], str]
    data: str  # the pointer of the data


def from_structured(document: Any, types: Mapping[str, str | None]) -> list[Event]:
    """One CloudEvent in a body: zero events (a type mapped to null) or one."""
    return _from_envelope(document, "", types)


def from_batch(document: Any, types: Mapping[str, str | None]) -> list[Event]:
    if not isinstance(document, list):
        raise PayloadError("body", f"a CloudEvents batch is a JSON list, got {_kind(document)}")
    events = []
    for index, item in enumerate(document):
        events += _from_envelope(item, f"/{index}", types)
    return events


def from_binary(
    headers: Mapping[str, str], data: Any, types: Mapping[str, str | None]
) -> list[Event]:
    """A binary-mode CloudEvent: attributes from ``ce-*`` headers, ``data`` the parsed body
    (``None`` for an empty one)."""
    attributes = {name[3:]: value for name, value in headers.items() if name.startswith("ce-")}
    place = _Place(attribute=lambda name: f"ce-{name}", data="")
    return _event(attributes, data, place, types)


def _from_envelope(document: Any, base: str, types: Mapping[str, str | None]) -> list[Event]:
    if not isinstance(document, dict):
        raise PayloadError(base or "body", f"a CloudEvent is a JSON object, got {_kind(document)}")
    place = _Place(attribute=lambda name: f"{base}/{name}", data=f"{base}/data")
    _check_content_type(document.get("datacontenttype"), place.attribute("datacontenttype"))
    return _event(document, _data_of(document, place), place, types)


def _event(
    attributes: Mapping[str, Any], data: Any, place: _Place, types: Mapping[str, str | None]
) -> list[Event]:
    version = _attribute(attributes, "specversion", place)
    if version != _SPECVERSION:
        raise PayloadError(
            place.attribute("specversion"), f"CloudEvents `{version}` is not supported; only 1.0"
        )
    kind = _event_type(_attribute(attributes, "type", place), place, types)
    if kind is None:
        return []  # a type mapped to null: not about SLAs
    body = _data_object(data, place)
    origins = {str(key): f"{place.data}/{key}" for key in body}
    origins["event"] = place.data or "body"
    payload: dict[str, Any] = {**body, "type": kind}
    payload["id"] = (
        f"{_attribute(attributes, 'source', place)}#{_attribute(attributes, 'id', place)}"
    )
    origins["id"] = place.attribute("id")
    subject = attributes.get("subject")
    if subject is not None:
        _check_subject(subject, body, place)
        payload["ticket"], origins["ticket"] = subject, place.attribute("subject")
    if attributes.get("time") is not None:
        payload["at"] = parse_instant(attributes["time"], place.attribute("time"))
        origins["at"] = place.attribute("time")
    elif "at" not in body:
        raise PayloadError(place.attribute("time"), "required: when it happened (or `data.at`)")
    return [build_event(payload, origins)]


def _attribute(attributes: Mapping[str, Any], name: str, place: _Place) -> str:
    value = attributes.get(name)
    if not isinstance(value, str) or not value:
        got = "missing" if value is None else f"not a non-empty text (`{value!r}`)"
        raise PayloadError(place.attribute(name), f"required CloudEvents attribute: {got}")
    return value


def _event_type(cloud_type: str, place: _Place, types: Mapping[str, str | None]) -> str | None:
    if cloud_type in types:
        return types[cloud_type]
    if cloud_type in EVENT_TYPES:
        return cloud_type
    mapped = ", ".join(f"`{known}`" for known in types)
    raise PayloadError(
        place.attribute("type"),
        f"unknown CloudEvent type `{cloud_type}`: not an event type ({', '.join(EVENT_TYPES)})"
        + (f" nor one of the mapping's `cloudevents.types` ({mapped})" if mapped else "")
        + "; translate it in the mapping's `cloudevents.types`",
    )


def _data_of(document: Mapping[str, Any], place: _Place) -> Any:
    if all(key in document for key in _DATA_KEYS):
        raise PayloadError(place.data, "give `data` or `data_base64`, not both")
    if "data_base64" not in document:
        return document.get("data")
    where = place.attribute("data_base64")
    encoded = document["data_base64"]
    try:
        return json.loads(base64.b64decode(str(encoded), validate=True))
    except (binascii.Error, ValueError):
        raise PayloadError(where, "not the base64 of a JSON document") from None


def _data_object(data: Any, place: _Place) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        where = place.data or "body"
        raise PayloadError(
            where, f"`data` is a normalized event body (an object), got {_kind(data)}"
        )
    for key in _ENVELOPE_ONLY:
        if key in data:
            raise PayloadError(
                f"{place.data}/{key}",
                f"the CloudEvent's own `{key}` is the event's {key}; leave it out of `data`",
            )
    return dict(data)


def _check_subject(subject: Any, body: Mapping[str, Any], place: _Place) -> None:
    if not isinstance(subject, str) or not subject:
        raise PayloadError(place.attribute("subject"), "the ticket's id, as a non-empty text")
    if "ticket" in body and body["ticket"] != subject:
        raise PayloadError(
            f"{place.data}/ticket",
            f"`{body['ticket']}` differs from the CloudEvent's subject `{subject}`",
        )


def _check_content_type(content_type: Any, where: str) -> None:
    if content_type is not None and not is_json_type(str(content_type)):
        raise PayloadError(where, f"`{content_type}`: slarules reads JSON data only")


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__
