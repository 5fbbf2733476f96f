"""What the read model's searches and lookups hand back: typed views of its documents.

Each view is built here, and only here, from the document its projection writes
(read_model/projections/), with amounts as `Decimal`, times as aware `datetime` and ids as `UUID`, so that
no caller indexes into a document or parses its text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from read_model.projections import Document


@dataclass(frozen=True, kw_only=True)
class ProductView:
    id: UUID
    sku: str
    name: str
    description: str
    brand: str
    category: str
    tags: tuple[str, ...]
    price: Decimal
    stock: int
    status: str
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, doc: Document) -> ProductView:
        return cls(
            id=UUID(doc["id"]),
            sku=doc["sku"],
            name=doc["name"],
            description=doc["description"],
            brand=doc["brand"],
            category=doc["category"],
            tags=tuple(doc["tags"]),
            price=Decimal(doc["price"]),
            stock=doc["stock"],
            status=doc["status"],
            version=doc["version"],
            created_at=datetime.fromisoformat(doc["created_at"]),
            updated_at=datetime.fromisoformat(doc["updated_at"]),
        )


@dataclass(frozen=True, kw_only=True)
class ProductSuggestionView:
    id: UUID
    sku: str
    name: str

    @classmethod
    def of(cls, doc: Document) -> ProductSuggestionView:
        return cls(id=UUID(doc["id"]), sku=doc["sku"], name=doc["name"])


@dataclass(frozen=True, kw_only=True)
class OrderLineView:
    product_id: UUID
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal


@dataclass(frozen=True, kw_only=True)
class AddressView:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str


@dataclass(frozen=True, kw_only=True)
class PaymentView:
    amount: Decimal
    method: str
    reference: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class RefundView:
    amount: Decimal
    reference: str | None
    reason: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class ShipmentView:
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class OrderView:
    id: UUID
    customer_id: UUID
    customer_name: str
    customer_email: str
    lines: tuple[OrderLineView, ...]
    total: Decimal
    status: str
    version: int
    placed_at: datetime
    updated_at: datetime
    shipping_address: AddressView | None
    payments: tuple[PaymentView, ...]
    refunds: tuple[RefundView, ...]
    amount_paid: Decimal
    amount_refunded: Decimal
    shipment: ShipmentView | None
    cancellation_reason: str | None

    @classmethod
    def of(cls, doc: Document) -> OrderView:
        customer = doc["customer"]
        return cls(
            id=UUID(doc["id"]),
            customer_id=UUID(customer["id"]),
            customer_name=customer["name"],
            customer_email=customer["email"],
            lines=tuple(
                OrderLineView(
                    product_id=UUID(line["product_id"]),
                    sku=line["sku"],
                    name=line["name"],
                    unit_price=Decimal(line["unit_price"]),
                    quantity=line["quantity"],
                    line_total=Decimal(line["line_total"]),
                )
                for line in doc["lines"]
            ),
            total=Decimal(doc["total"]),
            status=doc["status"],
            version=doc["version"],
            placed_at=datetime.fromisoformat(doc["placed_at"]),
            updated_at=datetime.fromisoformat(doc["updated_at"]),
            shipping_address=None if doc["shipping_address"] is None else AddressView(**doc["shipping_address"]),
            payments=tuple(
                PaymentView(
                    amount=Decimal(p["amount"]),
                    method=p["method"],
                    reference=p["reference"],
                    at=datetime.fromisoformat(p["at"]),
                )
                for p in doc["payments"]
            ),
            refunds=tuple(
                RefundView(
                    amount=Decimal(r["amount"]),
                    reference=r["reference"],
                    reason=r["reason"],
                    at=datetime.fromisoformat(r["at"]),
                )
                for r in doc["refunds"]
            ),
            amount_paid=Decimal(doc["amount_paid"]),
            amount_refunded=Decimal(doc["amount_refunded"]),
            shipment=_shipment(doc["shipment"]),
            cancellation_reason=doc["cancellation_reason"],
        )


def _shipment(shipment: Document | None) -> ShipmentView | None:
    # An order shipped before shipments were recorded shows none; one delivered since, its delivery.
    if shipment is None or shipment["shipped_at"] is None:
        return None
    delivered = shipment["delivered_at"]
    return ShipmentView(
        carrier=shipment["carrier"],
        tracking_number=shipment["tracking_number"],
        shipped_at=datetime.fromisoformat(shipment["shipped_at"]),
        delivered_at=None if delivered is None else datetime.fromisoformat(delivered),
    )


@dataclass(frozen=True, kw_only=True)
class CustomerView:
    id: UUID
    name: str
    email: str
    version: int
    order_count: int
    lifetime_value: Decimal
    average_order_value: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, doc: Document) -> CustomerView:
        return cls(
            id=UUID(doc["id"]),
            name=doc["name"],
            email=doc["email"],
            version=doc["version"],
            order_count=doc["order_count"],
            lifetime_value=Decimal(doc["lifetime_value"]),
            average_order_value=Decimal(doc["average_order_value"]),
            first_order_at=_time_or_none(doc["first_order_at"]),
            last_order_at=_time_or_none(doc["last_order_at"]),
            created_at=datetime.fromisoformat(doc["created_at"]),
            updated_at=datetime.fromisoformat(doc["updated_at"]),
        )


@dataclass(frozen=True, kw_only=True)
class EventView:
    """One outbox event as the audit trail shows it; `payload` is as it was written."""

    transaction_id: int
    position: int
    aggregate_type: str
    aggregate_id: UUID
    version: int
    type: str
    occurred_at: datetime
    payload: dict[str, Any]

    @classmethod
    def of(cls, doc: Document) -> EventView:
        return cls(
            transaction_id=int(doc["transaction_id"]),
            position=int(doc["position"]),
            aggregate_type=doc["aggregate_type"],
            aggregate_id=UUID(doc["aggregate_id"]),
            version=doc["version"],
            type=doc["type"],
            occurred_at=datetime.fromisoformat(doc["occurred_at"]),
            payload=doc["payload"],
        )


def _time_or_none(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
