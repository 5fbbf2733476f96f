"""Order mutations: `placeOrder` and the lifecycle actions `payOrder`, `shipOrder`, `deliverOrder`,
`cancelOrder`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Context
from api.errors import not_implemented
from api.queries import orders as order_queries
from api.types import errors as gql
from api.types.enums import OrderStatus
from api.types.orders import Order
from api.types.results import MutationSuccess


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
    raise not_implemented("placeOrder", 3)


async def pay_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    raise not_implemented("payOrder", 3)


async def ship_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    raise not_implemented("shipOrder", 3)


async def deliver_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    raise not_implemented("deliverOrder", 3)


async def cancel_order(info: strawberry.Info[Context, None], input: OrderActionInput) -> OrderActionResult:
    raise not_implemented("cancelOrder", 3)
