"""JSON Schemas of the published events, for the services that consume them: one per event type and schema
version, generated from the dataclasses of write_model/events.py (`twofold export-event-schemas`).

A payload is what `encode_payload` makes of an event: UUIDs and Decimals as strings, datetimes as ISO 8601
strings, tuples as arrays, nested dataclasses as objects, plus `schema_version`. A field marked with
`since(N, default)` is absent from the payloads of versions before N, so it is left out of their schemas.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from write_model.events import EVENT_TYPES, Event

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


def schema_id(event_type: str, version: int) -> str:
    """The schema's URI: what the relay sends as a record's CloudEvents `dataschema`."""
    return f"urn:twofold:event-schema:{event_type}:v{version}"


def file_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}.json"


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every schema by file name: each event type at each of its schema versions, 1 to the current one."""
    schemas = {}
    for event_type, cls in sorted(EVENT_TYPES.items()):
        for version in range(1, cls.SCHEMA_VERSION + 1):
            schemas[file_name(event_type, version)] = event_schema(cls, version)
    return schemas


def event_schema(cls: type[Event], version: int) -> dict[str, Any]:
    event_type = cls.__name__
    hints = typing.get_type_hints(cls)
    fields = [field for field in dataclasses.fields(cls) if field.metadata.get("since", 1) <= version]
    properties: dict[str, Any] = {"schema_version": {"const": version}}
    properties.update((field.name, _schema_of(hints[field.name])) for field in fields)
    return {
        "$schema": DRAFT,
        "$id": schema_id(event_type, version),
        "title": f"{event_type}, schema version {version}",
        "description": " ".join((cls.__doc__ or event_type).split()),
        "x-aggregate-type": cls.AGGREGATE,
        "type": "object",
        "properties": properties,
        "required": ["schema_version", *(field.name for field in fields)],
        # A payload of this version holds exactly these fields: a new field makes a new schema version.
        "additionalProperties": False,
    }


def _schema_of(hint: Any) -> dict[str, Any]:
    if isinstance(hint, types.UnionType):
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        (inner,) = members
        return {"anyOf": [_schema_of(inner), {"type": "null"}]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        nested = typing.get_type_hints(hint)
        return {
            "type": "object",
            "properties": {field.name: _schema_of(nested[field.name]) for field in dataclasses.fields(hint)},
            "required": [field.name for field in dataclasses.fields(hint)],
            "additionalProperties": False,
        }
    if typing.get_origin(hint) is tuple:
        item, _ellipsis = typing.get_args(hint)
        return {"type": "array", "items": _schema_of(item)}
    simple: dict[Any, dict[str, Any]] = {
        UUID: {"type": "string", "format": "uuid"},
        Decimal: {"type": "string", "pattern": DECIMAL_PATTERN, "description": "an exact decimal"},
        datetime: {"type": "string", "format": "date-time"},
        str: {"type": "string"},
        int: {"type": "integer"},
        bool: {"type": "boolean"},
    }
    if hint in simple:
        return simple[hint]
    raise TypeError(f"no JSON Schema for {hint!r}")
