"""`node(id)`: any Node by its global id."""

from __future__ import annotations

import strawberry

from api.context import Context
from api.errors import bad_input, not_implemented
from api.ids import InvalidId, from_global_id
from api.queries._read import read_model_call
from api.types.node import Node
from api.types.products import Product


async def node(info: strawberry.Info[Context, None], id: strawberry.ID) -> Node | None:
    try:
        type_name, raw_id = from_global_id(id)
    except InvalidId as exc:
        raise bad_input(str(exc)) from None
    if type_name == "Product":
        document = await read_model_call(info.context.read.products.get(str(raw_id)))
        return None if document is None else Product.from_document(document)
    if type_name in ("Customer", "Order"):
        raise not_implemented(f"node for {type_name}", 5)
    raise bad_input(f"{id!r} is not the id of any type this service serves")
