"""The published event contract: what the write model records in the outbox and the read model consumes.

Each event is a frozen dataclass. Its payload is the JSON object `encode_payload` makes of it: UUIDs and
Decimals as strings, tuples as lists, nested dataclasses as objects, plus `schema_version`; `payload_json`
writes the same object as JSON text, for the outbox. `decode_event`
turns an outbox row's type and payload back into the event. `docs/events.md` documents every event; a change
to a payload bumps its `SCHEMA_VERSION` and keeps older versions decodable.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import orjson

T = TypeVar("T")


def since(version: int, default: T) -> T:
    """A field new in schema `version` of its event, and its value in the payloads of older versions (the
    event schemas for consumers, write_model/event_schemas.py, leave it out of those versions)."""
    return dataclasses.field(default=default, metadata={"since": version})


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events. `AGGREGATE` names the aggregate type recorded with the event in the outbox."""

    AGGREGATE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1

    @property
    def aggregate_id(self) -> UUID:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class ProductEvent(Event):
    """Base of the product's events."""

    AGGREGATE: ClassVar[str] = "Product"

    product_id: UUID

    @property
    def aggregate_id(self) -> UUID:
        return self.product_id


@dataclass(frozen=True, kw_only=True)
class ProductCreated(ProductEvent):
    """A product entered the catalog. Carries its whole initial state."""

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


@dataclass(frozen=True, kw_only=True)
class ProductDetailsUpdated(ProductEvent):
    """A product's descriptive fields changed. Carries all of them as they are now, and which ones changed."""

    name: str
    description: str
    brand: str
    category: str
    tags: tuple[str, ...]
    changed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ProductPriceChanged(ProductEvent):
    price: Decimal
    previous_price: Decimal


@dataclass(frozen=True, kw_only=True)
class ProductRestocked(ProductEvent):
    """`quantity` units arrived; `stock` is the level after them."""

    quantity: int
    stock: int


@dataclass(frozen=True, kw_only=True)
class ProductDiscontinued(ProductEvent):
    """The product can no longer be ordered or restocked. Its stock is kept as it was."""


@dataclass(frozen=True, kw_only=True)
class ProductStockReserved(ProductEvent):
    """An order took `quantity` units; `stock` is the level after it. Recorded with the `OrderPlaced`."""

    order_id: UUID
    quantity: int
    stock: int


@dataclass(frozen=True, kw_only=True)
class ProductStockReleased(ProductEvent):
    """A cancelled order gave back `quantity` units; `stock` is the level after them."""

    order_id: UUID
    quantity: int
    stock: int


@dataclass(frozen=True, kw_only=True)
class ProductStockReturned(ProductEvent):
    """`quantity` units a customer sent back with a refund went back to stock (a discontinued product's
    too); `stock` is the level after them. Recorded with the `OrderRefunded`."""

    order_id: UUID
    quantity: int
    stock: int


@dataclass(frozen=True, kw_only=True)
class CustomerEvent(Event):
    """Base of the customer's events."""

    AGGREGATE: ClassVar[str] = "Customer"

    customer_id: UUID

    @property
    def aggregate_id(self) -> UUID:
        return self.customer_id


@dataclass(frozen=True, kw_only=True)
class CustomerRegistered(CustomerEvent):
    name: str
    email: str
    registered_at: datetime


@dataclass(frozen=True, kw_only=True)
class CustomerUpdated(CustomerEvent):
    """A customer's profile changed. Carries all of it as it is now, and which fields changed."""

    name: str
    email: str
    changed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    """One line of an order as it was at order time: the product's sku, name and price are snapshots."""

    product_id: UUID
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal


@dataclass(frozen=True, kw_only=True)
class ShippingAddress:
    """Where an order's parcel goes; `country` is an ISO 3166-1 alpha-2 code."""

    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str


@dataclass(frozen=True, kw_only=True)
class ReturnedLine:
    """Units of one of the order's products sent back with a refund."""

    product_id: UUID
    quantity: int


@dataclass(frozen=True, kw_only=True)
class OrderEvent(Event):
    """Base of the order's events. Each names the order's customer, so customer views need no lookup."""

    AGGREGATE: ClassVar[str] = "Order"

    order_id: UUID
    customer_id: UUID

    @property
    def aggregate_id(self) -> UUID:
        return self.order_id


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(OrderEvent):
    """An order was placed and its stock reserved. The customer's name and email are snapshots, taken at the
    customer's `customer_version` (schema version 1 has none: every customer was then at version 1).
    `shipping_address` is new in schema version 3 (none before)."""

    SCHEMA_VERSION: ClassVar[int] = 3

    customer_name: str
    customer_email: str
    lines: tuple[OrderLine, ...]
    total: Decimal
    placed_at: datetime
    customer_version: int = since(2, 1)
    shipping_address: ShippingAddress | None = since(3, None)


@dataclass(frozen=True, kw_only=True)
class OrderPaid(OrderEvent):
    """The balance was paid: `amount` by `method`, under the payment provider's `reference` (none when the
    payment was recorded without one). Schema version 1 has neither: method `OTHER`, no reference."""

    SCHEMA_VERSION: ClassVar[int] = 2

    amount: Decimal
    reason: str | None
    method: str = since(2, "OTHER")
    reference: str | None = since(2, None)


@dataclass(frozen=True, kw_only=True)
class OrderShipped(OrderEvent):
    """The parcel left, with `carrier` and `tracking_number` when given (schema version 2; none before)."""

    SCHEMA_VERSION: ClassVar[int] = 2

    reason: str | None
    carrier: str | None = since(2, None)
    tracking_number: str | None = since(2, None)


@dataclass(frozen=True, kw_only=True)
class OrderDelivered(OrderEvent):
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEvent):
    """The order was cancelled from `previous_status`; the stock of its lines, but for units already
    returned, was released (one `ProductStockReleased` per such line, in the same transaction). `refund` is
    the amount paid back by the cancellation (recorded just before it as an `OrderRefunded` since that
    event exists: schema version 2; in schema version 1 this field alone records that refund), or null when
    nothing paid was left to pay back."""

    SCHEMA_VERSION: ClassVar[int] = 2

    previous_status: str
    total: Decimal
    refund: Decimal | None
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class OrderRefunded(OrderEvent):
    """`amount` of what was paid went back to the customer (`reference`: the payment provider's id of the
    refund, none for the refund a cancellation makes); `returned_lines` went back to stock (one
    `ProductStockReturned` each, in the same transaction)."""

    amount: Decimal
    reference: str | None
    reason: str | None
    returned_lines: tuple[ReturnedLine, ...]


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        ProductCreated,
        ProductDetailsUpdated,
        ProductPriceChanged,
        ProductRestocked,
        ProductDiscontinued,
        ProductStockReserved,
        ProductStockReleased,
        ProductStockReturned,
        CustomerRegistered,
        CustomerUpdated,
        OrderPlaced,
        OrderPaid,
        OrderShipped,
        OrderDelivered,
        OrderCancelled,
        OrderRefunded,
    )
}


def event_type(event: Event) -> str:
    return type(event).__name__


def encode_payload(event: Event) -> dict[str, Any]:
    """The JSON-ready payload of `event`, with its schema version."""
    payload: dict[str, Any] = {"schema_version": event.SCHEMA_VERSION}
    for field in dataclasses.fields(event):
        payload[field.name] = _encode_value(getattr(event, field.name))
    return payload


def payload_json(event: Event) -> str:
    """`encode_payload(event)` as JSON text, written by orjson: it encodes the nested dataclasses, UUIDs,
    datetimes (ISO 8601, as `isoformat`) and tuples itself, in a tenth of the time (docs/benchmarks.md)."""
    payload: dict[str, Any] = {"schema_version": event.SCHEMA_VERSION}
    for name in _field_names(type(event)):
        payload[name] = getattr(event, name)
    return orjson.dumps(payload, default=_decimal_text).decode()


def _field_names(cls: type) -> tuple[str, ...]:
    """The dataclass `cls`'s field names, looked up once per class."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(field.name for field in dataclasses.fields(cls))
    return names


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    """`typing.get_type_hints(cls)`, resolved once per class: it evaluates every annotation's string each
    time (about 100 µs for an event, most of a decode; the projections decode every record they read)."""
    hints = _TYPE_HINTS.get(cls)
    if hints is None:
        hints = _TYPE_HINTS[cls] = typing.get_type_hints(cls)
    return hints


_TYPE_HINTS: dict[type, dict[str, Any]] = {}


def _decimal_text(value: object) -> str:
    """What orjson does not encode itself: money, as the exact decimal string `encode_payload` makes."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not part of an event payload")


def decode_event(type_name: str, payload: dict[str, Any]) -> Event:
    """The event an outbox row holds. Raises `UnknownEvent` for a type this contract does not define."""
    try:
        cls = EVENT_TYPES[type_name]
    except KeyError:
        raise UnknownEvent(type_name) from None
    hints = _type_hints(cls)
    values = {
        field.name: _decode_value(hints[field.name], payload[field.name])
        for field in dataclasses.fields(cls)
        if field.name in payload or field.default is dataclasses.MISSING  # absent from older schema versions
    }
    return cls(**values)


class UnknownEvent(Exception):
    def __init__(self, type_name: str) -> None:
        super().__init__(f"unknown event type {type_name!r}")
        self.type_name = type_name


def _encode_value(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _encode_value(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode_value(item) for item in value]
    return value


def _decode_value(hint: Any, value: Any) -> object:
    if value is None:
        return None
    if isinstance(hint, types.UnionType):
        (inner,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
        return _decode_value(inner, value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = _type_hints(hint)
        return hint(
            **{field.name: _decode_value(hints[field.name], value[field.name]) for field in dataclasses.fields(hint)}
        )
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
