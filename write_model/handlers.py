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
    OrderAction,
    PayOrder,
    PlaceOrder,
    RegisterCustomer,
    RestockProduct,
    ShipOrder,
    UpdateCustomer,
    UpdateProductDetails,
)
from write_model.domain import errors
from write_model.domain.customers import Customer
from write_model.domain.orders import LineRequest, Order, check_reason, merge_lines
from write_model.domain.products import Product
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
    lines = merge_lines([LineRequest(line.product_id, line.quantity) for line in command.lines])
    customer = uow.customers.get(command.customer_id, lock=False)
    products = uow.products.get_many(line.product_id for line in lines)
    order = Order.place(id=new_id(), customer=customer, lines=lines, products=products, now=clock())
    uow.orders.add(order)
    return Outcome(order.id, order.version, order.status.value)


def move_order(command: OrderAction, uow: AbstractUnitOfWork, *, clock: Clock) -> Outcome:
    """The lifecycle commands: `PayOrder`, `ShipOrder`, `DeliverOrder` and `CancelOrder`."""
    reason = check_reason(command.reason)
    order = uow.orders.get(command.order_id)
    if command.on_behalf_of is not None and command.on_behalf_of != order.customer_id:
        raise errors.NotYours("Order", order.id)
    order.check_version(command.expected_version)
    now = clock()
    match command:
        case PayOrder():
            order.pay(reason=reason, now=now)
        case ShipOrder():
            order.ship(reason=reason, now=now)
        case DeliverOrder():
            order.deliver(reason=reason, now=now)
        case CancelOrder():
            # Locked after the order, in id order, like every other command that touches both: no deadlocks.
            products = uow.products.get_many(order.product_ids)
            order.cancel(products=products, reason=reason, now=now)
        case _:
            raise TypeError(f"{type(command).__name__} is not a lifecycle command")
    return Outcome(order.id, order.version, order.status.value)
