"""The Product aggregate: a catalog entry with a price and a stock level."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from uuid import UUID

from write_model.domain.errors import FieldErrors
from write_model.events import Event, ProductCreated

SKU_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_NAME = 200
MAX_DESCRIPTION = 5_000
MAX_LABEL = 100
MAX_TAGS = 20
MAX_TAG = 40
MAX_PRICE = Decimal("1000000000.00")
MAX_STOCK = 1_000_000
CENT = Decimal("0.01")


class ProductStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISCONTINUED = "DISCONTINUED"


@dataclass(kw_only=True)
class Product:
    """A product. Mutated only through its methods, each of which records the event it causes."""

    id: UUID
    sku: str
    name: str
    description: str
    brand: str
    category: str
    tags: tuple[str, ...]
    price: Decimal
    stock: int
    status: ProductStatus
    version: int
    created_at: datetime
    updated_at: datetime
    pending_events: list[Event] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        sku: str,
        name: str,
        description: str,
        brand: str,
        category: str,
        tags: tuple[str, ...] | list[str],
        price: str,
        initial_stock: int,
        now: datetime,
    ) -> Product:
        """A new ACTIVE product at version 1, or `ValidationFailed` naming every bad field."""
        errors = FieldErrors()
        sku = _check_sku(errors, sku)
        name = _check_text(errors, "name", name, required=True, maximum=MAX_NAME)
        description = _check_text(errors, "description", description, required=False, maximum=MAX_DESCRIPTION)
        brand = _check_text(errors, "brand", brand, required=True, maximum=MAX_LABEL)
        category = _check_text(errors, "category", category, required=True, maximum=MAX_LABEL)
        clean_tags = _check_tags(errors, tags)
        money = _check_price(errors, price)
        _check_quantity(errors, "initialStock", initial_stock, minimum=0, maximum=MAX_STOCK)
        errors.raise_if_any()
        assert money is not None  # guaranteed by raise_if_any
        product = cls(
            id=id,
            sku=sku,
            name=name,
            description=description,
            brand=brand,
            category=category,
            tags=clean_tags,
            price=money,
            stock=initial_stock,
            status=ProductStatus.ACTIVE,
            version=1,
            created_at=now,
            updated_at=now,
        )
        product.pending_events.append(
            ProductCreated(
                product_id=id,
                sku=sku,
                name=name,
                description=description,
                brand=brand,
                category=category,
                tags=clean_tags,
                price=money,
                stock=initial_stock,
                status=product.status.value,
                created_at=now,
            )
        )
        return product


def _check_sku(errors: FieldErrors, sku: str) -> str:
    sku = sku.strip()
    if not SKU_PATTERN.fullmatch(sku):
        errors.add("sku", "must be 1 to 64 letters, digits, '-' or '_'")
    return sku


def _check_text(errors: FieldErrors, name: str, value: str, *, required: bool, maximum: int) -> str:
    value = value.strip()
    if required and not value:
        errors.add(name, "must not be empty")
    elif len(value) > maximum:
        errors.add(name, f"must be at most {maximum} characters")
    return value


def _check_tags(errors: FieldErrors, tags: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    clean = tuple(dict.fromkeys(tag.strip() for tag in tags))
    if any(not tag or len(tag) > MAX_TAG for tag in clean):
        errors.add("tags", f"each tag must be 1 to {MAX_TAG} characters")
    elif len(clean) > MAX_TAGS:
        errors.add("tags", f"at most {MAX_TAGS} distinct tags")
    return clean


def _check_price(errors: FieldErrors, raw: str) -> Decimal | None:
    """Parses the price from its decimal text, so that malformed input is a field error like any other."""
    try:
        price = Decimal(raw.strip())
    except InvalidOperation:
        errors.add("price", "must be a decimal number such as 19.99")
        return None
    if not price.is_finite():
        errors.add("price", "must be a decimal number such as 19.99")
        return None
    if price < 0:
        errors.add("price", "must not be negative")
        return None
    if price > MAX_PRICE:
        errors.add("price", f"must be at most {MAX_PRICE}")
        return None
    if price != price.quantize(CENT):
        errors.add("price", "must have at most 2 decimal places")
        return None
    return price.quantize(CENT)


def _check_quantity(errors: FieldErrors, name: str, value: int, *, minimum: int, maximum: int) -> None:
    if not minimum <= value <= maximum:
        errors.add(name, f"must be between {minimum} and {maximum}")
