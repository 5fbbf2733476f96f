"""Builders of test data shared by the unit and integration tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from write_model.events import ProductCreated


def product_created(sku: str, *, product_id: uuid.UUID | None = None, price: str = "1.00") -> ProductCreated:
    return ProductCreated(
        product_id=product_id or uuid.uuid4(),
        sku=sku,
        name=f"Name {sku}",
        description="",
        brand="B",
        category="C",
        tags=(),
        price=Decimal(price),
        stock=1,
        status="ACTIVE",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
