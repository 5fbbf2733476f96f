"""`node(id)`: any Node by its global id."""

from __future__ import annotations

import strawberry

from api.context import Context
from api.errors import bad_input
from api.ids import InvalidId, from_global_id
from api.queries._read import read_model_call
from api.types.customers import Customer
from api.types.node import Node
from api.types.orders import Order
from api.types.products import Product


async def node(info: strawberry.Info[Context, None], id: strawberry.ID) -> Node | None:
    try:
        type_name, raw_id = from_global_id(id)
    except InvalidId as exc:
        raise bad_input(str(exc)) from None
    if type_name == "Product":
        document = await read_model_call(info.context.read.products.get(str(raw_id)))
        return None if document is None else Product.from_document(document)
    if type_name == "Customer":
        document = await read_model_call(info.context.read.customers.get(str(raw_id)))
        return None if document is None else Customer.from_document(document)
    if type_name == "Order":
        document = await read_model_call(info.context.read.orders.get(str(raw_id)))
        return None if document is None else Order.from_document(document)
    raise bad_input(f"{id!r} is not the id of any type this service serves")
