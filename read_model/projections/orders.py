"""The `orders` projection: one search document per order, with its lines and its customer denormalized.

The customer's name and email are the customer's as they are now, not as they were when the order was
placed: a profile change reaches every order of the customer (`CUSTOMER`, fanned out by the applier), and
the document's external version counts both the order's changes and the customer's (`version_of`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from read_model.indexes import ORDERS
from read_model.money import cents, from_cents
from read_model.outbox import OutboxRecord
from read_model.projections import AggregateProjection, Document, EarlierEventsFirst, Embedding, UnhandledEvent
from write_model.events import (
    CustomerUpdated,
    OrderCancelled,
    OrderDelivered,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    OrderShipped,
    decode_event,
)

# The customer's profile, which every order of the customer carries.
CUSTOMER = Embedding(
    field="customer", aggregate_type=CustomerUpdated.AGGREGATE, event_types=frozenset({"CustomerUpdated"})
)
# The customer's version fills the low bits of the external version, the order's the high ones.
CUSTOMER_VERSION_BITS = 32


class OrderProjection(AggregateProjection):
    name = "orders"
    index = ORDERS
    aggregate_type = OrderPlaced.AGGREGATE
    embedding = CUSTOMER

    def handles(self, record: OutboxRecord) -> bool:
        return super().handles(record) or CUSTOMER.fans_out(record)

    def apply(self, document: Document | None, record: OutboxRecord) -> Document | None:
        if not CUSTOMER.fans_out(record):
            return super().apply(document, record)
        event = decode_event(record.event_type, record.payload)
        assert isinstance(event, CustomerUpdated)
        if document is None or document["customer"]["id"] != str(event.customer_id):
            raise ValueError(f"{record.event_type} of {event.customer_id} is not for this order's customer")
        if CUSTOMER.carried_version(document) >= record.aggregate_version:
            return None
        return {**document, "customer": _customer(event.customer_id, event.name, event.email, record.aggregate_version)}

    def version_of(self, document: Document) -> int:
        """Grows with every change of the order and of its customer's profile, whichever comes first."""
        return (int(document["version"]) << CUSTOMER_VERSION_BITS) | CUSTOMER.carried_version(document)

    def _apply(self, document: Document | None, record: OutboxRecord) -> Document:
        event = decode_event(record.event_type, record.payload)
        at = record.occurred_at.isoformat()
        if isinstance(event, OrderPlaced):
            return {
                "id": str(event.order_id),
                "customer": _customer(
                    event.customer_id, event.customer_name, event.customer_email, event.customer_version
                ),
                "lines": [
                    {
                        "product_id": str(line.product_id),
                        "sku": line.sku,
                        "name": line.name,
                        "unit_price": str(line.unit_price),
                        "unit_price_cents": cents(line.unit_price),
                        "quantity": line.quantity,
                        "line_total": str(line.line_total),
                        "line_total_cents": cents(line.line_total),
                    }
                    for line in event.lines
                ],
                "product_ids": [str(line.product_id) for line in event.lines],
                "skus": [line.sku for line in event.lines],
                "product_names": [line.name for line in event.lines],
                "total": str(event.total),
                "total_cents": cents(event.total),
                "status": "PLACED",
                "refund": None,
                "shipping_address": None
                if event.shipping_address is None
                else dataclasses.asdict(event.shipping_address),
                "payments": [],
                "refunds": [],
                "shipment": None,
                "cancellation_reason": None,
                **_money("amount_paid", 0),
                **_money("amount_refunded", 0),
                "placed_at": event.placed_at.isoformat(),
                "updated_at": at,
                "paid_at": None,
                "shipped_at": None,
                "delivered_at": None,
                "cancelled_at": None,
            }
        assert document is not None  # AggregateProjection.apply: only the first event has none
        match event:
            case OrderPaid():
                payment = {"amount": str(event.amount), "method": event.method, "reference": event.reference, "at": at}
                payments = [*document["payments"], payment]
                changes: Document = {
                    "status": "PAID",
                    "paid_at": at,
                    "payments": payments,
                    **_money("amount_paid", sum(cents(Decimal(p["amount"])) for p in payments)),
                }
            case OrderShipped():
                shipment = {"carrier": event.carrier, "tracking_number": event.tracking_number, "shipped_at": at}
                changes = {"status": "SHIPPED", "shipped_at": at, "shipment": {**shipment, "delivered_at": None}}
            case OrderDelivered():
                shipment = document["shipment"] or {"carrier": None, "tracking_number": None, "shipped_at": None}
                changes = {"status": "DELIVERED", "delivered_at": at, "shipment": {**shipment, "delivered_at": at}}
            case OrderRefunded():
                changes = _refunded(document, event.amount, event.reference, event.reason, at)
            case OrderCancelled():
                refund = None if event.refund is None else str(event.refund)
                changes = {
                    "status": "CANCELLED",
                    "cancelled_at": at,
                    "refund": refund,
                    "cancellation_reason": event.reason,
                }
                if record.payload["schema_version"] == 1 and event.refund is not None:
                    # Before OrderRefunded existed, the cancellation alone recorded its refund.
                    changes |= _refunded(document, event.refund, None, event.reason, at)
            case _:
                raise UnhandledEvent(self.name, record.event_type)
        return {**document, **changes, "updated_at": at}


def _refunded(document: Document, amount: Decimal, reference: str | None, reason: str | None, at: str) -> Document:
    refund = {"amount": str(amount), "reference": reference, "reason": reason, "at": at}
    refunds = [*document["refunds"], refund]
    return {"refunds": refunds, **_money("amount_refunded", sum(cents(Decimal(r["amount"])) for r in refunds))}


def _money(field: str, amount_cents: int) -> Document:
    """An amount as exact text and as integer cents (for sums and ranges)."""
    return {field: str(from_cents(amount_cents)), f"{field}_cents": amount_cents}


def _customer(customer_id: UUID, name: str, email: str, version: int) -> Document:
    return {"id": str(customer_id), "name": name, "email": email, "version": version}


def order_as_of(events: Sequence[OutboxRecord], profile_changes: Sequence[OutboxRecord]) -> Document | None:
    """The document the projection makes of an order's `events` and then of its customer's
    `profile_changes` (each in version order), as a rebuild would; `None` without its placing. A version
    missing from `events` is passed over, as the live projection passes over a refused one."""
    projection = OrderProjection()
    document: Document | None = None
    for record in events:
        try:
            applied = projection.apply(document, record)
        except EarlierEventsFirst as gap:
            if document is None or gap.over_gap is None:
                continue  # nothing to apply it to: the order's placing is not there
            applied = gap.over_gap(document)
        document = applied or document
    for record in profile_changes if document is not None else ():
        document = projection.apply(document, record) or document
    return document
