from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from write_model.events import ProductCreated, UnknownEvent, decode_event, encode_payload


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
