"""The Product aggregate: a catalog entry with a price and a stock level that never goes negative."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from write_model.domain._checks import UNSTORABLE, check_price, check_range, check_text, storable
from write_model.domain.aggregate import Aggregate
from write_model.domain.errors import FieldError, FieldErrors, InsufficientStock, ProductUnavailable, ValidationFailed
from write_model.events import (
    ProductCreated,
    ProductDetailsUpdated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductRestocked,
    ProductStockReleased,
    ProductStockReserved,
    ProductStockReturned,
)

SKU_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_NAME = 200
MAX_DESCRIPTION = 5_000
MAX_LABEL = 100
MAX_TAGS = 20
MAX_TAG = 40
MAX_INITIAL_STOCK = 1_000_000
MAX_RESTOCK = 1_000_000
# Far above any real shelf, and far below PostgreSQL's integer limit however often a product is restocked.
MAX_STOCK = 1_000_000_000


class ProductStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DISCONTINUED = "DISCONTINUED"


@dataclass(kw_only=True)
class Product(Aggregate):
    """A product. Changed only through its methods, each of which records the one event it causes.

    A method that would change nothing records nothing: the caller gets the current version back.
    """

    sku: str
    name: str
    description: str
    brand: str
    category: str
    tags: tuple[str, ...]
    price: Decimal
    stock: int
    status: ProductStatus
    created_at: datetime
    updated_at: datetime

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
        name = check_text(errors, "name", name, required=True, maximum=MAX_NAME)
        description = check_text(errors, "description", description, required=False, maximum=MAX_DESCRIPTION)
        brand = check_text(errors, "brand", brand, required=True, maximum=MAX_LABEL)
        category = check_text(errors, "category", category, required=True, maximum=MAX_LABEL)
        clean_tags = _check_tags(errors, tags)
        money = check_price(errors, "price", price)
        check_range(errors, "initialStock", initial_stock, minimum=0, maximum=MAX_INITIAL_STOCK)
        errors.raise_if_any()
        assert money is not None  # guaranteed by raise_if_any
        product = cls(
            id=id,
            version=0,
            sku=sku,
            name=name,
            description=description,
            brand=brand,
            category=category,
            tags=clean_tags,
            price=money,
            stock=initial_stock,
            status=ProductStatus.ACTIVE,
            created_at=now,
            updated_at=now,
        )
        product._record(
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

    def update_details(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        brand: str | None = None,
        category: str | None = None,
        tags: tuple[str, ...] | list[str] | None = None,
        now: datetime,
    ) -> None:
        """Replace the given descriptive fields (`None` keeps a field as it is). At least one must be given."""
        errors = FieldErrors()
        if name is None and description is None and brand is None and category is None and tags is None:
            errors.add("input", "give at least one of name, description, brand, category, tags")
        new = {
            "name": self.name if name is None else check_text(errors, "name", name, required=True, maximum=MAX_NAME),
            "description": self.description
            if description is None
            else check_text(errors, "description", description, required=False, maximum=MAX_DESCRIPTION),
            "brand": self.brand
            if brand is None
            else check_text(errors, "brand", brand, required=True, maximum=MAX_LABEL),
            "category": self.category
            if category is None
            else check_text(errors, "category", category, required=True, maximum=MAX_LABEL),
        }
        new_tags = self.tags if tags is None else _check_tags(errors, tags)
        errors.raise_if_any()
        changed = tuple(key for key, value in new.items() if getattr(self, key) != value)
        if new_tags != self.tags:
            changed += ("tags",)
        if not changed:
            return
        self.name, self.description, self.brand, self.category = (
            new["name"],
            new["description"],
            new["brand"],
            new["category"],
        )
        self.tags = new_tags
        self.updated_at = now
        self._record(
            ProductDetailsUpdated(
                product_id=self.id,
                name=self.name,
                description=self.description,
                brand=self.brand,
                category=self.category,
                tags=self.tags,
                changed=changed,
            )
        )

    def change_price(self, price: str, *, now: datetime) -> None:
        errors = FieldErrors()
        money = check_price(errors, "price", price)
        errors.raise_if_any()
        assert money is not None  # guaranteed by raise_if_any
        if money == self.price:
            return
        previous, self.price, self.updated_at = self.price, money, now
        self._record(ProductPriceChanged(product_id=self.id, price=money, previous_price=previous))

    def restock(self, quantity: int, *, now: datetime) -> None:
        """Add `quantity` (1 to 1,000,000) units. A discontinued product is refused with `ValidationFailed`
        coded `PRODUCT_DISCONTINUED`."""
        errors = FieldErrors()
        check_range(errors, "quantity", quantity, minimum=1, maximum=MAX_RESTOCK)
        if not errors and self.stock + quantity > MAX_STOCK:
            errors.add("quantity", f"would bring the stock above {MAX_STOCK}")
        errors.raise_if_any()
        if self.status is ProductStatus.DISCONTINUED:
            raise ValidationFailed(
                [FieldError("id", "the product is discontinued: it cannot be restocked")],
                message="A discontinued product cannot be restocked.",
                code="PRODUCT_DISCONTINUED",
            )
        self.stock += quantity
        self.updated_at = now
        self._record(ProductRestocked(product_id=self.id, quantity=quantity, stock=self.stock))

    def discontinue(self, *, now: datetime) -> None:
        if self.status is ProductStatus.DISCONTINUED:
            return
        self.status = ProductStatus.DISCONTINUED
        self.updated_at = now
        self._record(ProductDiscontinued(product_id=self.id))

    def reserve(self, quantity: int, *, order_id: UUID, now: datetime) -> None:
        """Take `quantity` units for an order: `ProductUnavailable` when discontinued, `InsufficientStock`
        when fewer are left. Either way nothing changes."""
        if self.status is ProductStatus.DISCONTINUED:
            raise ProductUnavailable(self.id)
        if quantity > self.stock:
            raise InsufficientStock(self.id, requested=quantity, available=self.stock)
        self.stock -= quantity
        self.updated_at = now
        self._record(ProductStockReserved(product_id=self.id, order_id=order_id, quantity=quantity, stock=self.stock))

    def release(self, quantity: int, *, order_id: UUID, now: datetime) -> None:
        """Give back units a cancelled order had reserved, whatever the product's status is now."""
        self.stock += quantity
        self.updated_at = now
        self._record(ProductStockReleased(product_id=self.id, order_id=order_id, quantity=quantity, stock=self.stock))

    def take_back(self, quantity: int, *, order_id: UUID, now: datetime) -> None:
        """Put back units a customer returned with a refund, whatever the product's status is now."""
        self.stock += quantity
        self.updated_at = now
        self._record(ProductStockReturned(product_id=self.id, order_id=order_id, quantity=quantity, stock=self.stock))


def _check_sku(errors: FieldErrors, sku: str) -> str:
    sku = sku.strip()
    if not SKU_PATTERN.fullmatch(sku):
        errors.add("sku", "must be 1 to 64 letters, digits, '-' or '_'")
    return sku


def _check_tags(errors: FieldErrors, tags: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    clean = tuple(dict.fromkeys(tag.strip() for tag in tags))
    if not all(storable(tag) for tag in clean):
        errors.add("tags", UNSTORABLE)
    elif any(not tag or len(tag) > MAX_TAG for tag in clean):
        errors.add("tags", f"each tag must be 1 to {MAX_TAG} characters")
    elif len(clean) > MAX_TAGS:
        errors.add("tags", f"at most {MAX_TAGS} distinct tags")
    return clean
