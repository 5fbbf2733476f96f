"""Command handlers: load the aggregates (locked), call the domain, stage the result. One function per command.

A handler runs inside a unit of work the command bus opened; the bus commits it. Whatever a handler raises,
nothing it staged is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from write_model.commands import (
    CancelOrder,
    ChangeProductPrice,
    CreateProduct,
    DeliverOrder,
    DiscontinueProduct,
    ExpireOrder,
    OrderAction,
    PayOrder,
    PlaceOrder,
    RefundOrder,
    RegisterCustomer,
    RestockProduct,
    ShipOrder,
    UpdateCustomer,
    UpdateProductDetails,
)
from write_model.domain import errors
from write_model.domain.customers import Customer
from write_model.domain.errors import FieldErrors
from write_model.domain.orders import LineRequest, Order, check_reason, merge_lines
from write_model.domain.payments import CheckedPayment, check_amount, check_payment, check_reference
from write_model.domain.products import Product
from write_model.domain.shipping import Shipment, check_address, check_shipment
from write_model.events import ReturnedLine
from write_model.results import Outcome
from write_model.unit_of_work import AbstractUnitOfWork

Clock = Callable[[], datetime]
IdFactory = Callable[[], UUID]


def create_product(command: CreateProduct, uow: AbstractUnitOfWork, *, clock: Clock, new_id: IdFactory) -> Outcome:
    product = Product.create(
        id=new_id(),
        sku=command.sku,
        name=command.name,
        description=command.description,
        brand=command.brand,
        category=command.category,
        tags=command.tags,
        price=command.price,
        initial_stock=command.initial_stock,
        now=clock(),
    )
    uow.products.add(product)
    return Outcome(product.id, product.version)


def update_product_details(command: UpdateProductDetails, uow: AbstractUnitOfWork, *, clock: Clock) -> Outcome:
    product = uow.products.get(command.product_id)
    product.check_version(command.expected_version)
    product.update_details(
        name=command.name,
        description=command.description,
        brand=command.brand,
        category=command.category,
        tags=command.tags,
        now=clock(),
    )
    return Outcome(product.id, product.version)


def change_product_price(command: ChangeProductPrice, uow: AbstractUnitOfWork, *, clock: Clock) -> Outcome:
    product = uow.products.get(command.product_id)
    product.check_version(command.expected_version)
    product.change_price(command.price, now=clock())
    return Outcome(product.id, product.version)


def restock_product(command: RestockProduct, uow: AbstractUnitOfWork, *, clock: Clock) -> Outcome:
    product = uow.products.get(command.product_id)
    product.check_version(command.expected_version)
    product.restock(command.quantity, now=clock())
    return Outcome(product.id, product.version)


def discontinue_product(command: DiscontinueProduct, uow: AbstractUnitOfWork, *, clock: Clock) -> Outcome:
    product = uow.products.get(command.product_id)
    product.check_version(command.expected_version)
    product.discontinue(now=clock())
    return Outcome(product.id, product.version)


def register_customer(
    command: RegisterCustomer, uow: AbstractUnitOfWork, *, clock: Clock, new_id: IdFactory
) -> Outcome:
    customer = Customer.register(id=new_id(), name=command.name, email=command.email, now=clock())
    uow.customers.add(customer)
    return Outcome(customer.id, customer.version)


def update_customer(command: UpdateCustomer, uow: AbstractUnitOfWork) -> Outcome:
    customer = uow.customers.get(command.customer_id)
    customer.check_version(command.expected_version)
    customer.update(name=command.name, email=command.email)
    return Outcome(customer.id, customer.version)


def place_order(command: PlaceOrder, uow: AbstractUnitOfWork, *, clock: Clock, new_id: IdFactory) -> Outcome:
    fields = FieldErrors()
    address = None
    if command.shipping_address is not None:
        address = check_address(fields, "shippingAddress", command.shipping_address)
    lines = merge_lines([LineRequest(line.product_id, line.quantity) for line in command.lines], fields)
    customer = uow.customers.get(command.customer_id, lock=False)
    products = uow.products.get_many(line.product_id for line in lines)
    order = Order.place(
        id=new_id(), customer=customer, lines=lines, products=products, now=clock(), shipping_address=address
    )
    uow.orders.add(order)
    return Outcome(order.id, order.version, order.status.value)


def move_order(command: OrderAction, uow: AbstractUnitOfWork, *, clock: Clock) -> Outcome:
    """The lifecycle commands: `PayOrder`, `ShipOrder`, `DeliverOrder`, `CancelOrder` and `ExpireOrder`.

    A payment whose reference the order already recorded answers as that payment did, and writes nothing."""
    fields = FieldErrors()
    reason = check_reason(command.reason, fields)
    payment: CheckedPayment | None = None
    shipment: Shipment | None = None
    if isinstance(command, PayOrder) and command.payment is not None:
        payment = check_payment(fields, "payment", command.payment)
    if isinstance(command, ShipOrder) and command.shipment is not None:
        shipment = check_shipment(fields, "shipment", command.shipment)
    fields.raise_if_any()
    order = uow.orders.get(command.order_id)
    if command.on_behalf_of is not None and command.on_behalf_of != order.customer_id:
        raise errors.NotYours("Order", order.id)
    if payment is not None and (paid := order.payment_with(payment.reference)) is not None:
        return Outcome(order.id, paid.version, "PAID")
    order.check_version(command.expected_version)
    now = clock()
    match command:
        case PayOrder():
            order.pay(payment=payment, reason=reason, now=now)
        case ShipOrder():
            order.ship(shipment=shipment, reason=reason, now=now)
        case DeliverOrder():
            order.deliver(reason=reason, now=now)
        case ExpireOrder():
            order.expire(products=uow.products.get_many(order.product_ids), now=now)
        case CancelOrder():
            # Locked after the order, in id order, like every other command that touches both: no deadlocks.
            products = uow.products.get_many(order.product_ids)
            order.cancel(products=products, reason=reason, now=now)
        case _:
            raise TypeError(f"{type(command).__name__} is not a lifecycle command")
    return Outcome(order.id, order.version, order.status.value)


def refund_order(command: RefundOrder, uow: AbstractUnitOfWork, *, clock: Clock) -> Outcome:
    """Refund part or all of what was paid; a refund whose reference the order already recorded answers as
    that refund did, and writes nothing."""
    fields = FieldErrors()
    amount = check_amount(fields, "amount", command.amount)
    reference = check_reference(fields, "reference", command.reference)
    reason = check_reason(command.reason, fields)
    for index, line in enumerate(command.returned_lines):
        if line.quantity < 1:
            fields.add(f"returnedLines[{index}].quantity", "must be at least 1")
    fields.raise_if_any()
    assert amount is not None  # no field error: it parsed
    order = uow.orders.get(command.order_id)
    if (refunded := order.refund_with(reference)) is not None:
        return Outcome(order.id, refunded.version, refunded.status)
    order.check_version(command.expected_version)
    # Locked after the order, in id order, like every other command that touches both: no deadlocks.
    products = uow.products.get_many(line.product_id for line in command.returned_lines)
    order.refund(
        amount=amount,
        reference=reference,
        returned_lines=[
            ReturnedLine(product_id=line.product_id, quantity=line.quantity) for line in command.returned_lines
        ],
        products=products,
        reason=reason,
        now=clock(),
    )
    return Outcome(order.id, order.version, order.status.value)
