from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from write_model.domain.errors import InsufficientStock, ProductUnavailable, ValidationFailed, VersionConflict
from write_model.domain.products import Product, ProductStatus
from write_model.events import ProductCreated, ProductDetailsUpdated, ProductDiscontinued, ProductPriceChanged

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


def test_details_change_only_the_fields_given_and_record_which() -> None:
    product = create()
    product.pending_events.clear()
    product.update_details(name=" Red Mug ", tags=["mug", "red"], now=NOW)
    assert (product.name, product.brand, product.tags, product.version) == ("Red Mug", "Acme", ("mug", "red"), 2)
    (event,) = product.pending_events
    assert isinstance(event, ProductDetailsUpdated)
    assert event.changed == ("name", "tags")
    assert event.brand == "Acme"


def test_a_change_that_changes_nothing_records_nothing() -> None:
    product = create()
    product.pending_events.clear()
    product.update_details(name="Blue Mug", now=NOW)
    product.change_price("12.5", now=NOW)
    product.discontinue(now=NOW)
    product.discontinue(now=NOW)
    assert product.version == 2
    assert [type(e) for e in product.pending_events] == [ProductDiscontinued]


def test_details_need_at_least_one_field_and_are_validated_together() -> None:
    product = create()
    with pytest.raises(ValidationFailed) as nothing:
        product.update_details(now=NOW)
    assert [f.field for f in nothing.value.fields] == ["input"]
    with pytest.raises(ValidationFailed) as bad:
        product.update_details(name="", brand="x" * 101, tags=[""], now=NOW)
    assert {f.field for f in bad.value.fields} == {"name", "brand", "tags"}
    assert (product.name, product.version) == ("Blue Mug", 1)


def test_a_price_change_records_old_and_new_price() -> None:
    product = create()
    product.change_price("9.99", now=NOW)
    event = product.pending_events[-1]
    assert isinstance(event, ProductPriceChanged)
    assert (event.price, event.previous_price) == (Decimal("9.99"), Decimal("12.50"))
    with pytest.raises(ValidationFailed):
        product.change_price("-1", now=NOW)
    assert product.price == Decimal("9.99")


def test_restock_is_bounded_and_refused_once_discontinued() -> None:
    product = create()
    product.restock(7, now=NOW)
    assert product.stock == 10
    for quantity in (0, 1_000_001):
        with pytest.raises(ValidationFailed):
            product.restock(quantity, now=NOW)
    product.discontinue(now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        product.restock(1, now=NOW)
    assert caught.value.code == "PRODUCT_DISCONTINUED"
    assert product.stock == 10


def test_reserving_never_takes_stock_below_zero() -> None:
    product = create(initial_stock=2)
    order_id = uuid.uuid4()
    with pytest.raises(InsufficientStock) as caught:
        product.reserve(3, order_id=order_id, now=NOW)
    assert (caught.value.requested, caught.value.available) == (3, 2)
    product.reserve(2, order_id=order_id, now=NOW)
    assert product.stock == 0
    product.release(2, order_id=order_id, now=NOW)
    product.discontinue(now=NOW)
    with pytest.raises(ProductUnavailable):
        product.reserve(1, order_id=order_id, now=NOW)
    assert product.stock == 2


def test_a_stale_expected_version_is_a_conflict() -> None:
    product = create()
    product.check_version(1)
    product.check_version(None)
    with pytest.raises(VersionConflict) as caught:
        product.check_version(3)
    assert (caught.value.expected_version, caught.value.actual_version) == (3, 1)


def test_descriptions_and_tags_that_cannot_be_stored_are_field_errors() -> None:
    errors = field_errors(description="fine\x00", tags=["ok", "\ud83d"])
    assert errors == {
        "description": "must not contain control characters or unpaired UTF-16 surrogates",
        "tags": "must not contain control characters or unpaired UTF-16 surrogates",
    }
