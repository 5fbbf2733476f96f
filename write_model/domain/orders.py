"""The Order aggregate: lines that snapshot the catalog at order time, and a lifecycle it moves along.

    PLACED ─pay─▶ PAID ─ship─▶ SHIPPED ─deliver─▶ DELIVERED
       └──cancel──┴──cancel──▶ CANCELLED   (stock released; what was paid is refunded)
       └──expire────────────▶ CANCELLED   (only while unpaid: the payment deadline passed)

Placing an order reserves the stock of every line, or fails as a whole. A paid, shipped or delivered order
can be refunded, in part or whole, with returned units going back to stock; the status stays. Money is
conserved: nothing is refunded that was not paid, and a payment settles the balance exactly.
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
from write_model.domain.errors import (
    FieldErrors,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    PaymentMismatch,
    ProductUnavailable,
    RefundExceedsPayment,
)
from write_model.domain.payments import CheckedPayment, Payment, PaymentMethod, Refund
from write_model.domain.products import Product, ProductStatus
from write_model.domain.shipping import Shipment
from write_model.events import (
    OrderCancelled,
    OrderDelivered,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    OrderRefunded,
    OrderShipped,
    ReturnedLine,
    ShippingAddress,
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
    # A cancellation that only an unpaid order takes: a payment that won the race makes it an error.
    "expire": (frozenset({OrderStatus.PLACED}), OrderStatus.CANCELLED),
}
# Why an order the payment deadline cancelled was cancelled.
EXPIRY_REASON = "payment timeout"
# The statuses an order can be refunded in (the status stays).
REFUNDABLE = frozenset({OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED})


@dataclass(frozen=True)
class LineRequest:
    """What the customer asked for: a product and a quantity."""

    product_id: UUID
    quantity: int


def merge_lines(requested: Sequence[LineRequest], errors: FieldErrors | None = None) -> list[LineRequest]:
    """The requested lines with the same product merged into one, in first-seen order; `ValidationFailed`
    when there are no lines, more than 100, or a quantity outside 1 to 1,000 (before or after merging), with
    the errors `errors` already holds."""
    errors = FieldErrors() if errors is None else errors
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


def check_reason(reason: str | None, errors: FieldErrors | None = None) -> str | None:
    """The reason given for a lifecycle action, trimmed; blank means none. A field error when too long: added
    to `errors` when given, else raised as `ValidationFailed`."""
    if reason is None:
        return None
    collected = FieldErrors() if errors is None else errors
    reason = check_text(collected, "reason", reason, required=False, maximum=MAX_REASON)
    if errors is None:
        collected.raise_if_any()
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
    shipping_address: ShippingAddress | None = None
    payments: tuple[Payment, ...] = ()
    refunds: tuple[Refund, ...] = ()
    shipment: Shipment | None = None
    cancellation_reason: str | None = None

    @classmethod
    def place(
        cls,
        *,
        id: UUID,
        customer: Customer,
        lines: Sequence[LineRequest],
        products: Mapping[UUID, Product],
        now: datetime,
        shipping_address: ShippingAddress | None = None,
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
            shipping_address=shipping_address,
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
                shipping_address=shipping_address,
            )
        )
        return order

    @property
    def amount_paid(self) -> Decimal:
        return sum((payment.amount for payment in self.payments), Decimal("0.00"))

    @property
    def amount_refunded(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds), Decimal("0.00"))

    @property
    def refundable(self) -> Decimal:
        """What was paid and not yet refunded."""
        return self.amount_paid - self.amount_refunded

    def payment_with(self, reference: str) -> Payment | None:
        return next((payment for payment in self.payments if payment.reference == reference), None)

    def refund_with(self, reference: str) -> Refund | None:
        return next((refund for refund in self.refunds if refund.reference == reference), None)

    def returned(self, product_id: UUID) -> int:
        """How many units of `product_id` went back to stock with refunds."""
        return sum(
            line.quantity for refund in self.refunds for line in refund.returned_lines if line.product_id == product_id
        )

    def pay(self, *, payment: CheckedPayment | None = None, reason: str | None = None, now: datetime) -> None:
        """Settle the balance due: with `payment`, its amount must be that balance (`PaymentMismatch`);
        without, the balance is recorded as paid by method `OTHER`."""
        self._check_transition("pay")
        balance = self.total - self.amount_paid
        if payment is not None and payment.amount != balance:
            raise PaymentMismatch(expected=balance, received=payment.amount)
        method = PaymentMethod.OTHER if payment is None else payment.method
        reference = None if payment is None else payment.reference
        self._move("pay", now)
        self.payments += (Payment(balance, method, reference, self.version + 1),)
        self.paid_amount = self.amount_paid
        self._record(
            OrderPaid(
                order_id=self.id,
                customer_id=self.customer_id,
                amount=balance,
                reason=reason,
                method=method.value,
                reference=reference,
            )
        )

    def ship(self, *, shipment: Shipment | None = None, reason: str | None = None, now: datetime) -> None:
        self._move("ship", now)
        self.shipment = shipment or Shipment(carrier=None, tracking_number=None)
        self._record(
            OrderShipped(
                order_id=self.id,
                customer_id=self.customer_id,
                reason=reason,
                carrier=self.shipment.carrier,
                tracking_number=self.shipment.tracking_number,
            )
        )

    def deliver(self, *, reason: str | None = None, now: datetime) -> None:
        self._move("deliver", now)
        self._record(OrderDelivered(order_id=self.id, customer_id=self.customer_id, reason=reason))

    def refund(
        self,
        *,
        amount: Decimal,
        reference: str | None,
        returned_lines: Sequence[ReturnedLine] = (),
        products: Mapping[UUID, Product],
        reason: str | None = None,
        now: datetime,
    ) -> None:
        """Give back `amount` of what was paid (`RefundExceedsPayment` beyond what is left), and put the
        `returned_lines` back on their products' stock (`products` holds them): each must be a line of this
        order, with at most the units ordered and not yet returned (`ValidationFailed`)."""
        if self.status not in REFUNDABLE:
            raise InvalidTransition(self.status.value, "refund")
        returned = self._check_returns(returned_lines)
        if amount > self.refundable:
            raise RefundExceedsPayment(refundable=self.refundable, requested=amount)
        self._give_back(amount, reference, returned, products=products, reason=reason, now=now)

    def cancel(self, *, products: Mapping[UUID, Product], reason: str | None = None, now: datetime) -> None:
        """Cancel: what was paid and not yet refunded is refunded (an `OrderRefunded` first, in the same
        transaction), and the units of every line not yet returned are released on their products
        (`products` holds them all)."""
        self._cancel("cancel", products=products, reason=reason, now=now)

    def expire(self, *, products: Mapping[UUID, Product], now: datetime) -> None:
        """Cancel an order still unpaid when its payment deadline passed, with reason `EXPIRY_REASON`; an
        order paid or cancelled meanwhile refuses (`InvalidTransition`), so a late expiry refunds nothing."""
        self._cancel("expire", products=products, reason=EXPIRY_REASON, now=now)

    def _cancel(self, action: str, *, products: Mapping[UUID, Product], reason: str | None, now: datetime) -> None:
        previous = self.status
        self._move(action, now)
        refund = self.refundable
        if refund > 0:
            self._give_back(refund, None, (), products=products, reason=reason, now=now)
        for line in self.lines:
            held = line.quantity - self.returned(line.product_id)
            if held > 0:
                products[line.product_id].release(held, order_id=self.id, now=now)
        self.cancellation_reason = reason
        self._record(
            OrderCancelled(
                order_id=self.id,
                customer_id=self.customer_id,
                previous_status=previous.value,
                total=self.total,
                refund=refund if refund > 0 else None,
                reason=reason,
            )
        )

    @property
    def product_ids(self) -> list[UUID]:
        return [line.product_id for line in self.lines]

    def _give_back(
        self,
        amount: Decimal,
        reference: str | None,
        returned: tuple[ReturnedLine, ...],
        *,
        products: Mapping[UUID, Product],
        reason: str | None,
        now: datetime,
    ) -> None:
        for line in returned:
            products[line.product_id].take_back(line.quantity, order_id=self.id, now=now)
        self.refunds += (Refund(amount, reference, self.version + 1, returned, self.status.value),)
        self.updated_at = now
        self._record(
            OrderRefunded(
                order_id=self.id,
                customer_id=self.customer_id,
                amount=amount,
                reference=reference,
                reason=reason,
                returned_lines=returned,
            )
        )

    def _check_returns(self, requested: Sequence[ReturnedLine]) -> tuple[ReturnedLine, ...]:
        """`requested` merged by product; a field error for a product that is no line of the order, and for
        more units than were ordered and not yet returned."""
        errors = FieldErrors()
        ordered = {line.product_id: line.quantity for line in self.lines}
        merged: dict[UUID, int] = {}
        for index, line in enumerate(requested):
            if line.product_id not in ordered:
                errors.add(f"returnedLines[{index}].productId", "is not a line of this order")
                continue
            merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
            left = ordered[line.product_id] - self.returned(line.product_id)
            if line.quantity < 1 or merged[line.product_id] > left:
                errors.add(
                    f"returnedLines[{index}].quantity", f"must be between 1 and {left} (ordered, not yet returned)"
                )
        errors.raise_if_any()
        return tuple(ReturnedLine(product_id=product_id, quantity=quantity) for product_id, quantity in merged.items())

    def _check_transition(self, action: str) -> None:
        allowed_from, _target = TRANSITIONS[action]
        if self.status not in allowed_from:
            raise InvalidTransition(self.status.value, action)

    def _move(self, action: str, now: datetime) -> None:
        self._check_transition(action)
        self.status = TRANSITIONS[action][1]
        self.updated_at = now
