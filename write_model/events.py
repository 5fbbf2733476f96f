"""The published event contract: what the write model records in the outbox and the read model consumes.

Each event is a frozen dataclass. Its payload is the JSON object `encode_payload` makes of it: UUIDs and
Decimals as strings, tuples as lists, plus `schema_version`. `decode_event` turns an outbox row's type and
payload back into the event. `docs/events.md` documents every event; a change to a payload bumps its
`SCHEMA_VERSION` and keeps older versions decodable.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events. `AGGREGATE` names the aggregate type recorded with the event in the outbox."""

    AGGREGATE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1

    @property
    def aggregate_id(self) -> UUID:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class ProductCreated(Event):
    """A product entered the catalog. Carries its whole initial state."""

    AGGREGATE: ClassVar[str] = "Product"

    product_id: UUID
    sku: str
    name: str
    description: str
    brand: str
    category: str
    tags: tuple[str, ...]
    price: Decimal
    stock: int
    status: str
    created_at: datetime

    @property
    def aggregate_id(self) -> UUID:
        return self.product_id


EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in (ProductCreated,)}


def event_type(event: Event) -> str:
    return type(event).__name__


def encode_payload(event: Event) -> dict[str, Any]:
    """The JSON-ready payload of `event`, with its schema version."""
    payload: dict[str, Any] = {"schema_version": event.SCHEMA_VERSION}
    for field in dataclasses.fields(event):
        payload[field.name] = _encode_value(getattr(event, field.name))
    return payload


def decode_event(type_name: str, payload: dict[str, Any]) -> Event:
    """The event an outbox row holds. Raises `UnknownEvent` for a type this contract does not define."""
    try:
        cls = EVENT_TYPES[type_name]
    except KeyError:
        raise UnknownEvent(type_name) from None
    hints = typing.get_type_hints(cls)
    values = {field.name: _decode_value(hints[field.name], payload[field.name]) for field in dataclasses.fields(cls)}
    return cls(**values)


class UnknownEvent(Exception):
    def __init__(self, type_name: str) -> None:
        super().__init__(f"unknown event type {type_name!r}")
        self.type_name = type_name


def _encode_value(value: object) -> object:
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode_value(item) for item in value]
    return value


def _decode_value(hint: object, value: Any) -> object:
    if value is None:
        return None
    if hint is UUID:
        return UUID(value)
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if typing.get_origin(hint) is tuple:
        (item_hint, _ellipsis) = typing.get_args(hint)
        return tuple(_decode_value(item_hint, item) for item in value)
    return value
