"""`node(id)`: any Node by its global id, under the same rules as the field that serves its type."""

from __future__ import annotations

import strawberry

from api.context import Context
from api.errors import bad_input
from api.ids import InvalidId, from_global_id
from api.queries import customers as customer_queries
from api.queries import orders as order_queries
from api.queries import products as product_queries
from api.types.node import Node


async def node(info: strawberry.Info[Context, None], id: strawberry.ID) -> Node | None:
    try:
        type_name, _ = from_global_id(id)
    except InvalidId as exc:
        raise bad_input(str(exc)) from None
    if type_name == "Product":
        return await product_queries.product(info, id)
    if type_name == "Customer":
        return await customer_queries.customer(info, id)
    if type_name == "Order":
        return await order_queries.order(info, id)
    raise bad_input(f"{id!r} is not the id of any type this service serves")
