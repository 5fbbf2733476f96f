from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from write_model.domain.errors import ValidationFailed
from write_model.domain.products import Product, ProductStatus
from write_model.events import ProductCreated

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def create(**overrides: Any) -> Product:
    fields: dict[str, Any] = {
        "id": uuid.UUID(int=1),
        "sku": "MUG-1",
        "name": "Blue Mug",
        "description": "Enamel.",
        "brand": "Acme",
        "category": "Kitchen",
        "tags": ["mug"],
        "price": "12.50",
        "initial_stock": 3,
        "now": NOW,
    }
    fields.update(overrides)
    return Product.create(**fields)


def field_errors(**overrides: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        create(**overrides)
    return {error.field: error.message for error in caught.value.fields}


def test_a_new_product_is_active_at_version_1_and_records_its_creation() -> None:
    product = create()
    assert product.status is ProductStatus.ACTIVE
    assert product.version == 1
    assert product.price == Decimal("12.50")
    (event,) = product.pending_events
    assert isinstance(event, ProductCreated)
    assert event.product_id == product.id
    assert event.price == Decimal("12.50")
    assert event.stock == 3
    assert event.created_at == NOW


def test_every_bad_field_is_reported_at_once() -> None:
    errors = field_errors(sku="bad sku!", name="  ", brand="", category="", price="-1", initial_stock=-5)
    assert set(errors) == {"sku", "name", "brand", "category", "price", "initialStock"}
    assert errors["name"] == "must not be empty"
    assert errors["price"] == "must not be negative"


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("abc", "must be a decimal number such as 19.99"),
        ("", "must be a decimal number such as 19.99"),
        ("NaN", "must be a decimal number such as 19.99"),
        ("Infinity", "must be a decimal number such as 19.99"),
        ("1.999", "must have at most 2 decimal places"),
        ("1000000000.01", "must be at most 1000000000.00"),
    ],
)
def test_a_malformed_or_out_of_range_price_is_a_field_error(price: str, message: str) -> None:
    assert field_errors(price=price) == {"price": message}


@pytest.mark.parametrize(("price", "stored"), [("0", "0.00"), ("19.9", "19.90"), (" 7 ", "7.00"), ("1E+1", "10.00")])
def test_prices_are_normalised_to_cents(price: str, stored: str) -> None:
    assert str(create(price=price).price) == stored


def test_limits_on_text_fields() -> None:
    assert field_errors(name="x" * 201) == {"name": "must be at most 200 characters"}
    assert field_errors(description="x" * 5001) == {"description": "must be at most 5000 characters"}
    assert field_errors(sku="x" * 65) == {"sku": "must be 1 to 64 letters, digits, '-' or '_'"}
    assert create(name="x" * 200).name == "x" * 200


def test_tags_are_trimmed_and_deduplicated_and_bounded() -> None:
    assert create(tags=[" mug ", "mug", "tea"]).tags == ("mug", "tea")
    assert field_errors(tags=["ok", ""]) == {"tags": "each tag must be 1 to 40 characters"}
    assert field_errors(tags=[f"t{i}" for i in range(21)]) == {"tags": "at most 20 distinct tags"}


def test_initial_stock_is_bounded() -> None:
    assert field_errors(initial_stock=1_000_001) == {"initialStock": "must be between 0 and 1000000"}
    assert create(initial_stock=0).stock == 0
