from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from write_model.events import OrderPlaced, ProductCreated, UnknownEvent, decode_event, encode_payload


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
