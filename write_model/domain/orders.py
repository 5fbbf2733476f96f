"""The Order aggregate: lines that snapshot the catalog at order time, and a lifecycle it moves along.

    PLACED ─pay─▶ PAID ─ship─▶ SHIPPED ─deliver─▶ DELIVERED
       └──cancel──┴──cancel──▶ CANCELLED   (stock released; a paid order records its refund)

Placing an order reserves the stock of every line, or fails as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from write_model.domain._checks import check_range, check_text
from write_model.domain.aggregate import Aggregate
from write_model.domain.customers import Customer
from write_model.domain.errors import FieldErrors, InsufficientStock, InvalidTransition, NotFound, ProductUnavailable
from write_model.domain.products import Product, ProductStatus
from write_model.events import (
    OrderCancelled,
    OrderDelivered,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    OrderShipped,
)

MAX_LINES = 100
MAX_QUANTITY = 1_000
MAX_REASON = 500


class OrderStatus(StrEnum):
    PLACED = "PLACED"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[OrderStatus], OrderStatus]] = {
    "pay": (frozenset({OrderStatus.PLACED}), OrderStatus.PAID),
    "ship": (frozenset({OrderStatus.PAID}), OrderStatus.SHIPPED),
    "deliver": (frozenset({OrderStatus.SHIPPED}), OrderStatus.DELIVERED),
    "cancel": (frozenset({OrderStatus.PLACED, OrderStatus.PAID}), OrderStatus.CANCELLED),
}


@dataclass(frozen=True)
class LineRequest:
    """What the customer asked for: a product and a quantity."""

    product_id: UUID
    quantity: int


def merge_lines(requested: Sequence[LineRequest]) -> list[LineRequest]:
    """The requested lines with the same product merged into one, in first-seen order; `ValidationFailed`
    when there are no lines, more than 100, or a quantity outside 1 to 1,000 (before or after merging)."""
    errors = FieldErrors()
    if not 1 <= len(requested) <= MAX_LINES:
        errors.add("lines", f"must hold 1 to {MAX_LINES} lines")
    merged: dict[UUID, int] = {}
    first_index: dict[UUID, int] = {}
    for index, line in enumerate(requested):
        check_range(errors, f"lines[{index}].quantity", line.quantity, minimum=1, maximum=MAX_QUANTITY)
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
        first_index.setdefault(line.product_id, index)
    if not errors:
        for product_id, quantity in merged.items():
            if quantity > MAX_QUANTITY:
                errors.add(
                    f"lines[{first_index[product_id]}].quantity",
                    f"the lines of this product add up to {quantity}, more than {MAX_QUANTITY}",
                )
    errors.raise_if_any()
    return [LineRequest(product_id, quantity) for product_id, quantity in merged.items()]


def check_reason(reason: str | None) -> str | None:
    """The reason given for a lifecycle action, trimmed; blank means none. `ValidationFailed` when too long."""
    if reason is None:
        return None
    errors = FieldErrors()
    reason = check_text(errors, "reason", reason, required=False, maximum=MAX_REASON)
    errors.raise_if_any()
    return reason or None


@dataclass(kw_only=True)
class Order(Aggregate):
    customer_id: UUID
    lines: tuple[OrderLine, ...]
    total: Decimal
    status: OrderStatus
    paid_amount: Decimal | None
    placed_at: datetime
    updated_at: datetime

    @classmethod
    def place(
        cls,
        *,
        id: UUID,
        customer: Customer,
        lines: Sequence[LineRequest],
        products: Mapping[UUID, Product],
        now: datetime,
    ) -> Order:
        """A PLACED order at version 1 with the stock of every line reserved on its product.

        `lines` come from `merge_lines`. Refused as a whole, with no product changed, by `NotFound` (a product
        missing from `products`), `ProductUnavailable` or `InsufficientStock`, checked line by line.
        """
        for line in lines:
            product = products.get(line.product_id)
            if product is None:
                raise NotFound("Product", line.product_id)
            if product.status is ProductStatus.DISCONTINUED:
                raise ProductUnavailable(product.id)
            if line.quantity > product.stock:
                raise InsufficientStock(product.id, requested=line.quantity, available=product.stock)
        snapshot = tuple(
            OrderLine(
                product_id=line.product_id,
                sku=products[line.product_id].sku,
                name=products[line.product_id].name,
                unit_price=products[line.product_id].price,
                quantity=line.quantity,
                line_total=products[line.product_id].price * line.quantity,
            )
            for line in lines
        )
        total = sum((line.line_total for line in snapshot), Decimal("0.00"))
        order = cls(
            id=id,
            version=0,
            customer_id=customer.id,
            lines=snapshot,
            total=total,
            status=OrderStatus.PLACED,
            paid_amount=None,
            placed_at=now,
            updated_at=now,
        )
        for line in lines:
            products[line.product_id].reserve(line.quantity, order_id=id, now=now)
        order._record(
            OrderPlaced(
                order_id=id,
                customer_id=customer.id,
                customer_name=customer.name,
                customer_email=customer.email,
                customer_version=customer.version,
                lines=snapshot,
                total=total,
                placed_at=now,
            )
        )
        return order

    def pay(self, *, reason: str | None = None, now: datetime) -> None:
        self._move("pay", now)
        self.paid_amount = self.total
        self._record(OrderPaid(order_id=self.id, customer_id=self.customer_id, amount=self.total, reason=reason))

    def ship(self, *, reason: str | None = None, now: datetime) -> None:
        self._move("ship", now)
        self._record(OrderShipped(order_id=self.id, customer_id=self.customer_id, reason=reason))

    def deliver(self, *, reason: str | None = None, now: datetime) -> None:
        self._move("deliver", now)
        self._record(OrderDelivered(order_id=self.id, customer_id=self.customer_id, reason=reason))

    def cancel(self, *, products: Mapping[UUID, Product], reason: str | None = None, now: datetime) -> None:
        """Cancel, releasing every line's stock on its product (`products` holds them all). A paid order's
        event records the refund of what was paid."""
        previous = self.status
        self._move("cancel", now)
        for line in self.lines:
            products[line.product_id].release(line.quantity, order_id=self.id, now=now)
        self._record(
            OrderCancelled(
                order_id=self.id,
                customer_id=self.customer_id,
                previous_status=previous.value,
                total=self.total,
                refund=self.paid_amount,
                reason=reason,
            )
        )

    @property
    def product_ids(self) -> list[UUID]:
        return [line.product_id for line in self.lines]

    def _move(self, action: str, now: datetime) -> None:
        allowed_from, target = TRANSITIONS[action]
        if self.status not in allowed_from:
            raise InvalidTransition(self.status.value, action)
        self.status = target
        self.updated_at = now
