"""The `products` projection: one search document per product, built from the product's events."""

from __future__ import annotations

from decimal import Decimal

from read_model.indexes import PRODUCTS
from read_model.money import cents
from read_model.outbox import OutboxRecord
from read_model.projections import AggregateProjection, Document, UnhandledEvent
from write_model.events import (
    ProductCreated,
    ProductDetailsUpdated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductRestocked,
    ProductStockReleased,
    ProductStockReserved,
    ProductStockReturned,
    decode_event,
)


class ProductProjection(AggregateProjection):
    name = "products"
    index = PRODUCTS
    aggregate_type = ProductCreated.AGGREGATE

    def _apply(self, document: Document | None, record: OutboxRecord) -> Document:
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
                **_price_fields(event.price),
                **_stock_fields(event.stock),
                "status": event.status,
                "created_at": event.created_at.isoformat(),
                "updated_at": record.occurred_at.isoformat(),
                "suggest": _suggest(event.name, event.sku),
            }
        assert document is not None  # AggregateProjection.apply: only the first event has none
        changes: Document
        match event:
            case ProductDetailsUpdated():
                changes = {
                    "name": event.name,
                    "description": event.description,
                    "brand": event.brand,
                    "category": event.category,
                    "tags": list(event.tags),
                    "suggest": _suggest(event.name, document["sku"]),
                }
            case ProductPriceChanged():
                changes = _price_fields(event.price)
            case ProductRestocked() | ProductStockReserved() | ProductStockReleased() | ProductStockReturned():
                changes = _stock_fields(event.stock)
            case ProductDiscontinued():
                changes = {"status": "DISCONTINUED"}
            case _:
                raise UnhandledEvent(self.name, record.event_type)
        return {**document, **changes, "updated_at": record.occurred_at.isoformat()}


def _price_fields(price: Decimal) -> Document:
    return {"price": str(price), "price_cents": cents(price)}


def _stock_fields(stock: int) -> Document:
    return {"stock": stock, "in_stock": stock > 0}


def _suggest(name: str, sku: str) -> Document:
    return {"input": [name, sku]}
