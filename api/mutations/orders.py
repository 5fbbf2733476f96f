"""Order mutations: `placeOrder` and the lifecycle actions `payOrder`, `shipOrder`, `deliverOrder`,
`cancelOrder`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api import permissions
from api.context import Context
from api.errors import bad_input
from api.ids import to_global_id
from api.mutations._dispatch import (
    IdFields,
    decode_or_not_found,
    dispatch,
    insufficient_stock,
    invalid_transition,
    not_found,
    not_yours,
    product_unavailable,
    token_of,
    validation_failed,
    version_conflict,
)
from api.queries import orders as order_queries
from api.types import errors as gql
from api.types.enums import OrderStatus
from api.types.orders import Order
from api.types.results import MutationSuccess
from write_model.commands import (
    CancelOrder,
    DeliverOrder,
    OrderAction,
    OrderLineRequest,
    PayOrder,
    PlaceOrder,
    ShipOrder,
)
from write_model.domain import errors
from write_model.results import Changed


@strawberry.input
class OrderLineInput:
    product_id: strawberry.ID
    quantity: int


@strawberry.input
class PlaceOrderInput:
    customer_id: strawberry.ID
    lines: list[OrderLineInput]
    idempotency_key: str | None = None


@strawberry.input
class OrderActionInput:
    id: strawberry.ID
    expected_version: int | None = None
    reason: str | None = None


async def _order_after_write(
    root: strawberry.Parent[OrderChanged], info: strawberry.Info[Context, None]
) -> Order | None:
    return await order_queries.order(info, root.order_id, root.consistency_token)


@strawberry.type
class OrderChanged(MutationSuccess):
    order_id: strawberry.ID
    version: int
    status: OrderStatus

    order: Order | None = strawberry.field(
        resolver=_order_after_write,
        description="The order as the read model shows it once it reflects this write.",
    )


PlaceOrderResult = Annotated[
    OrderChanged | gql.ValidationFailed | gql.NotFound | gql.InsufficientStock | gql.ProductUnavailable,
    strawberry.union("PlaceOrderResult"),
]
OrderActionResult = Annotated[
    OrderChanged | gql.NotFound | gql.VersionConflict | gql.InvalidTransition,
    strawberry.union("OrderActionResult"),
]


async def place_order(info: strawberry.Info[Context, None], input: PlaceOrderInput) -> PlaceOrderResult:
    permissions.signed_in(info)
    ids = IdFields()
    customer_id = ids.decode("customerId", input.customer_id, "Customer")
    if not ids.errors:
        permissions.admin_or_customer(info, customer_id)
    lines = tuple(
        OrderLineRequest(
            product_id=ids.decode(f"lines[{index}].productId", line.product_id, "Product"), quantity=line.quantity
        )
        for index, line in enumerate(input.lines)
    )
    try:
        ids.errors.raise_if_any()
        changed = await dispatch(
            info, PlaceOrder(customer_id=customer_id, lines=lines), idempotency_key=input.idempotency_key
        )
    except errors.ValidationFailed as error:
        return validation_failed(error)
    except errors.NotFound as error:
        return not_found(error)
    except errors.InsufficientStock as error:
        return insufficient_stock(error)
    except errors.ProductUnavailable as error:
        return product_unavailable(error)
    return _order_changed(changed)


async def pay_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    return await _act(info, input, PayOrder)


async def ship_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    permissions.admin(info)
    return await _act(info, input, ShipOrder)


async def deliver_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    permissions.admin(info)
    return await _act(info, input, DeliverOrder)


async def cancel_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    return await _act(info, input, CancelOrder)


async def _act(
    info: strawberry.Info[Context, None], input: OrderActionInput, action: type[OrderAction]
) -> OrderActionResult:
    """Run a lifecycle action; a customer's runs on their own orders only (the handler checks the owner)."""
    actor = permissions.signed_in(info)
    order_id = decode_or_not_found(input.id, "Order")
    if isinstance(order_id, gql.NotFound):
        return order_id
    command = action(
        order_id=order_id, expected_version=input.expected_version, reason=input.reason, on_behalf_of=actor.customer_id
    )
    try:
        changed = await dispatch(info, command)
    except errors.ValidationFailed as error:
        # The contract's union has no ValidationFailed: the only field to get wrong here is `reason`.
        raise bad_input("; ".join(f"{f.field} {f.message}" for f in error.fields)) from None
    except errors.NotFound as error:
        return not_found(error)
    except errors.VersionConflict as error:
        return version_conflict(error)
    except errors.InvalidTransition as error:
        return invalid_transition(error)
    except errors.NotYours as error:
        raise not_yours(error) from None
    return _order_changed(changed)


def _order_changed(changed: Changed) -> OrderChanged:
    assert changed.status is not None  # an order command always reports the order's status
    return OrderChanged(
        consistency_token=token_of(changed),
        order_id=strawberry.ID(to_global_id("Order", changed.aggregate_id)),
        version=changed.version,
        status=OrderStatus(changed.status),
    )
