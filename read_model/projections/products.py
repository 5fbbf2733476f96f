"""The `products` projection: one search document per product, built from the product's events."""

from __future__ import annotations

from decimal import Decimal

from read_model.indexes import PRODUCTS
from read_model.outbox import OutboxRecord
from read_model.projections import Document
from write_model.events import ProductCreated, decode_event


class ProductProjection:
    name = "products"
    index = PRODUCTS

    def handles(self, record: OutboxRecord) -> bool:
        return record.aggregate_type == ProductCreated.AGGREGATE

    def document_id(self, record: OutboxRecord) -> str:
        return str(record.aggregate_id)

    def apply(self, document: Document | None, record: OutboxRecord) -> Document:
        event = decode_event(record.event_type, record.payload)
        if isinstance(event, ProductCreated):
            return {
                "id": str(event.product_id),
                "sku": event.sku,
                "name": event.name,
                "description": event.description,
                "brand": event.brand,
                "category": event.category,
                "tags": list(event.tags),
                "price": str(event.price),
                "price_cents": _cents(event.price),
                "stock": event.stock,
                "in_stock": event.stock > 0,
                "status": event.status,
                "version": record.aggregate_version,
                "created_at": event.created_at.isoformat(),
                "updated_at": record.occurred_at.isoformat(),
                "suggest": {"input": [event.name, event.sku]},
            }
        raise UnhandledEvent(record.event_type)


class UnhandledEvent(Exception):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"the products projection has no rule for {event_type}")


def _cents(price: Decimal) -> int:
    return int(price * 100)
