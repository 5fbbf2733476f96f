"""The `products` projection: one search document per product, built from the product's events."""

from __future__ import annotations

from decimal import Decimal

from read_model.indexes import PRODUCTS
from read_model.outbox import OutboxRecord
from read_model.projections import Document
from write_model.events import (
    ProductCreated,
    ProductDetailsUpdated,
    ProductDiscontinued,
    ProductPriceChanged,
    ProductRestocked,
    ProductStockReleased,
    ProductStockReserved,
    decode_event,
)


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
                **_price_fields(event.price),
                **_stock_fields(event.stock),
                "status": event.status,
                "version": record.aggregate_version,
                "created_at": event.created_at.isoformat(),
                "updated_at": record.occurred_at.isoformat(),
                "suggest": _suggest(event.name, event.sku),
            }
        if document is None:
            # Events are applied in commit order, so a product's creation always comes first.
            raise MissingDocument(record.event_type, record.aggregate_id)
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
            case ProductRestocked() | ProductStockReserved() | ProductStockReleased():
                changes = _stock_fields(event.stock)
            case ProductDiscontinued():
                changes = {"status": "DISCONTINUED"}
            case _:
                raise UnhandledEvent(record.event_type)
        return {
            **document,
            **changes,
            "version": record.aggregate_version,
            "updated_at": record.occurred_at.isoformat(),
        }


class UnhandledEvent(Exception):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"the products projection has no rule for {event_type}")


class MissingDocument(Exception):
    def __init__(self, event_type: str, product_id: object) -> None:
        super().__init__(f"{event_type} for product {product_id}, which the products index does not hold")


def _price_fields(price: Decimal) -> Document:
    return {"price": str(price), "price_cents": int(price * 100)}


def _stock_fields(stock: int) -> Document:
    return {"stock": stock, "in_stock": stock > 0}


def _suggest(name: str, sku: str) -> Document:
    return {"input": [name, sku]}
