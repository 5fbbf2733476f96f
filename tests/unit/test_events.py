from __future__ import annotations

import dataclasses
import json
import types
import typing
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from write_model.events import (
    EVENT_TYPES,
    OrderPlaced,
    ProductCreated,
    UnknownEvent,
    decode_event,
    encode_payload,
    payload_json,
)


def test_an_event_survives_its_json_payload_exactly() -> None:
    event = ProductCreated(
        product_id=uuid.uuid4(),
        sku="A-1",
        name="A",
        description="",
        brand="B",
        category="C",
        tags=("x", "y"),
        price=Decimal("0.10"),
        stock=2,
        status="ACTIVE",
        created_at=datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
    )
    payload = encode_payload(event)
    assert payload["schema_version"] == 1
    assert payload["price"] == "0.10"
    assert decode_event("ProductCreated", payload) == event


def test_an_unknown_event_type_is_refused_by_name() -> None:
    with pytest.raises(UnknownEvent, match="NoSuchEvent"):
        decode_event("NoSuchEvent", {})


def test_an_order_placed_before_customers_could_change_decodes_at_customer_version_one_without_an_address() -> None:
    order, customer, product = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    payload = {
        "schema_version": 1,
        "order_id": str(order),
        "customer_id": str(customer),
        "customer_name": "Ada",
        "customer_email": "ada@example.com",
        "lines": [
            {
                "product_id": str(product),
                "sku": "A-1",
                "name": "A",
                "unit_price": "1.00",
                "quantity": 2,
                "line_total": "2.00",
            }
        ],
        "total": "2.00",
        "placed_at": "2026-05-06T07:08:09+00:00",
    }
    event = decode_event("OrderPlaced", payload)
    assert isinstance(event, OrderPlaced)
    assert (event.customer_version, event.shipping_address) == (1, None)
    assert encode_payload(event)["schema_version"] == OrderPlaced.SCHEMA_VERSION


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
@pytest.mark.parametrize("optional", ["present", "absent"])
def test_the_outbox_json_of_every_event_is_its_payload(event_type: str, optional: str) -> None:
    event = _example(EVENT_TYPES[event_type], optional == "present")
    assert json.loads(payload_json(event)) == encode_payload(event)
    assert decode_event(event_type, json.loads(payload_json(event))) == event


def _example(cls: type[Any], present: bool) -> Any:
    """An instance of the dataclass `cls` with a value of its type in every field (optional ones left None
    unless `present`): money with trailing zeros, a datetime with microseconds and one without."""
    hints = typing.get_type_hints(cls)
    return cls(**{field.name: _value(hints[field.name], present, n) for n, field in enumerate(dataclasses.fields(cls))})


def _value(hint: Any, present: bool, n: int) -> object:
    if isinstance(hint, types.UnionType):
        (inner,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
        return _value(inner, present, n) if present else None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _example(hint, present)
    if typing.get_origin(hint) is tuple:
        return tuple(_value(typing.get_args(hint)[0], present, n + i) for i in range(2))
    examples: dict[Any, object] = {
        uuid.UUID: uuid.uuid4(),
        Decimal: Decimal("1234.50") + n,
        datetime: datetime(2026, 5, 6, 7, 8, 9, 123456 * (n % 2), tzinfo=UTC) + timedelta(days=n),
        int: 7 + n,
        str: f'text {n} \u00e9\U0001f600 "quoted"',
    }
    return examples[hint]
