"""Payments, refunds, shipping and the compensation a cancellation makes, on the Order aggregate alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.test_orders_domain import NOW, place, product
from write_model.commands import AddressRequest, PaymentRequest, ShipmentRequest
from write_model.domain.errors import (
    FieldErrors,
    InvalidTransition,
    PaymentMismatch,
    RefundExceedsPayment,
    ValidationFailed,
)
from write_model.domain.payments import CheckedPayment, PaymentMethod, check_payment
from write_model.domain.shipping import check_address, check_shipment
from write_model.events import (
    OrderCancelled,
    OrderPaid,
    OrderRefunded,
    OrderShipped,
    ProductStockReleased,
    ProductStockReturned,
    ReturnedLine,
)


def card(amount: str, reference: str = "psp-1") -> CheckedPayment:
    return CheckedPayment(Decimal(amount), PaymentMethod.CARD, reference)


def test_a_payment_settles_the_balance_exactly_and_is_recorded_with_its_method_and_reference() -> None:
    order = place((product("2.50"), 2))
    with pytest.raises(PaymentMismatch) as mismatch:
        order.pay(payment=card("4.99"), now=NOW)
    assert (mismatch.value.expected, mismatch.value.received) == (Decimal("5.00"), Decimal("4.99"))
    assert (order.status.value, order.version) == ("PLACED", 1)
    order.pay(payment=card("5.00"), now=NOW)
    paid = order.pending_events[-1]
    assert isinstance(paid, OrderPaid)
    assert (paid.amount, paid.method, paid.reference) == (Decimal("5.00"), "CARD", "psp-1")
    assert order.payment_with("psp-1") == order.payments[0]
    assert (order.payments[0].version, order.amount_paid) == (2, Decimal("5.00"))


def test_a_payment_without_details_records_the_balance_by_method_other() -> None:
    order = place((product("2.50"), 1))
    order.pay(now=NOW)
    paid = order.pending_events[-1]
    assert isinstance(paid, OrderPaid)
    assert (paid.amount, paid.method, paid.reference) == (Decimal("2.50"), "OTHER", None)


def test_a_refund_gives_back_at_most_what_is_left_and_returns_units_to_stock_even_when_discontinued() -> None:
    mug = product("2.50", stock=10)
    order = place((mug, 4))
    with pytest.raises(InvalidTransition) as unpaid:
        order.refund(amount=Decimal("1.00"), reference="r-0", products={}, now=NOW)
    assert (unpaid.value.status, unpaid.value.action) == ("PLACED", "refund")
    order.pay(now=NOW)
    mug.discontinue(now=NOW)
    mug.pending_events.clear()
    order.refund(
        amount=Decimal("2.50"),
        reference="r-1",
        returned_lines=[ReturnedLine(product_id=mug.id, quantity=1)],
        products={mug.id: mug},
        reason="broken",
        now=NOW,
    )
    refunded = order.pending_events[-1]
    assert isinstance(refunded, OrderRefunded)
    assert (refunded.amount, refunded.reference, refunded.reason) == (Decimal("2.50"), "r-1", "broken")
    (returned,) = mug.pending_events
    assert isinstance(returned, ProductStockReturned)
    assert (returned.quantity, returned.stock, mug.stock) == (1, 7, 7)
    with pytest.raises(RefundExceedsPayment) as exceeds:
        order.refund(amount=Decimal("7.51"), reference="r-2", products={}, now=NOW)
    assert (exceeds.value.refundable, exceeds.value.requested) == (Decimal("7.50"), Decimal("7.51"))
    assert (order.status.value, order.amount_refunded, order.refundable) == ("PAID", Decimal("2.50"), Decimal("7.50"))


def test_returned_lines_must_be_lines_of_the_order_with_units_not_yet_returned() -> None:
    mug, cup = product(), product()
    order = place((mug, 2))
    order.pay(now=NOW)
    order.refund(
        amount=Decimal("1.00"),
        reference="r-1",
        returned_lines=[ReturnedLine(product_id=mug.id, quantity=1)],
        products={mug.id: mug},
        now=NOW,
    )
    with pytest.raises(ValidationFailed) as caught:
        order.refund(
            amount=Decimal("1.00"),
            reference="r-2",
            returned_lines=[ReturnedLine(product_id=cup.id, quantity=1), ReturnedLine(product_id=mug.id, quantity=2)],
            products={mug.id: mug, cup.id: cup},
            now=NOW,
        )
    assert {f.field: f.message for f in caught.value.fields} == {
        "returnedLines[0].productId": "is not a line of this order",
        "returnedLines[1].quantity": "must be between 1 and 1 (ordered, not yet returned)",
    }
    assert len(order.refunds) == 1


def test_cancelling_a_paid_order_refunds_what_is_left_then_releases_only_the_units_not_returned() -> None:
    mug = product("2.50", stock=10)
    order = place((mug, 4))
    order.pay(now=NOW)
    order.refund(
        amount=Decimal("3.00"),
        reference="r-1",
        returned_lines=[ReturnedLine(product_id=mug.id, quantity=1)],
        products={mug.id: mug},
        now=NOW,
    )
    order.pending_events.clear()
    mug.pending_events.clear()
    order.cancel(products={mug.id: mug}, reason="lost in transit", now=NOW)
    refunded, cancelled = order.pending_events
    assert isinstance(refunded, OrderRefunded)
    assert (refunded.amount, refunded.reference, refunded.reason) == (Decimal("7.00"), None, "lost in transit")
    assert isinstance(cancelled, OrderCancelled)
    assert (cancelled.refund, cancelled.reason) == (Decimal("7.00"), "lost in transit")
    (released,) = mug.pending_events
    assert isinstance(released, ProductStockReleased)
    assert (released.quantity, mug.stock) == (3, 10)
    assert (order.amount_paid, order.amount_refunded, order.cancellation_reason) == (
        Decimal("10.00"),
        Decimal("10.00"),
        "lost in transit",
    )


def test_a_shipment_is_recorded_with_its_carrier_and_tracking_number() -> None:
    order = place((product(), 1))
    order.pay(now=NOW)
    order.ship(
        shipment=check_shipment(FieldErrors(), "shipment", ShipmentRequest(carrier=" DHL ", tracking_number="JJD1")),
        now=NOW,
    )
    shipped = order.pending_events[-1]
    assert isinstance(shipped, OrderShipped)
    assert (shipped.carrier, shipped.tracking_number) == ("DHL", "JJD1")


def test_each_bad_field_of_an_address_a_shipment_and_a_payment_is_named() -> None:
    errors = FieldErrors()
    address = check_address(
        errors,
        "shippingAddress",
        AddressRequest(name=" ", line1="Main St 1", city="x" * 201, postal_code="10115", country="XX", line2="  "),
    )
    check_shipment(errors, "shipment", ShipmentRequest(carrier="c" * 10_000, tracking_number=""))
    check_payment(errors, "payment", PaymentRequest(amount="-1.00", method="CHEQUE", reference=""))
    check_payment(errors, "again", PaymentRequest(amount="1.005", method="CARD", reference="ok"))
    assert address.line2 is None
    with pytest.raises(ValidationFailed) as caught:
        errors.raise_if_any()
    assert {f.field: f.message for f in caught.value.fields} == {
        "shippingAddress.name": "must not be empty",
        "shippingAddress.city": "must be at most 200 characters",
        "shippingAddress.country": "must be an ISO 3166-1 alpha-2 country code such as DE",
        "shipment.carrier": "must be at most 200 characters",
        "shipment.trackingNumber": "must not be empty",
        "payment.amount": "must not be negative",
        "payment.method": "must be one of CARD, BANK_TRANSFER, WALLET, OTHER",
        "payment.reference": "must not be empty",
        "again.amount": "must have at most 2 decimal places",
    }


def test_a_country_code_is_taken_in_either_case_and_kept_in_capitals() -> None:
    errors = FieldErrors()
    address = check_address(
        errors, "a", AddressRequest(name="Ada", line1="1 Main St", city="Berlin", postal_code="10115", country="de")
    )
    assert (address.country, bool(errors)) == ("DE", False)
