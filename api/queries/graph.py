"""Walking the graph: an order's buyer, its lines' products, a customer's orders.

Records reached this way are fetched in batches: the request's loader gathers every buyer and product one
level of the query asks for and reads them in one multi-get (read_model/search/records.py), never one
request per node.
"""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader

from api import permissions
from api.context import Context, RecordKey
from api.queries._read import read_model_call
from read_model.views import CustomerView, ProductView


async def buyer(info: strawberry.Info[Context, None], customer_id: UUID) -> CustomerView | None:
    """The live record of an order's customer, for an admin or that customer (`FORBIDDEN` for others)."""
    permissions.admin_or_customer(info, customer_id)
    found = await _records(info).load(("Customer", str(customer_id)))
    return found if isinstance(found, CustomerView) else None


async def product(info: strawberry.Info[Context, None], product_id: UUID) -> ProductView | None:
    """The product as the catalog shows it now; `None` when the read model does not hold it."""
    found = await _records(info).load(("Product", str(product_id)))
    return found if isinstance(found, ProductView) else None


def _records(info: strawberry.Info[Context, None]) -> DataLoader[RecordKey, ProductView | CustomerView | None]:
    context = info.context
    if context.records is None:

        async def load(keys: list[RecordKey]) -> list[ProductView | CustomerView | None]:
            found = await read_model_call(
                context,
                context.read.records.many(
                    products=[doc_id for kind, doc_id in keys if kind == "Product"],
                    customers=[doc_id for kind, doc_id in keys if kind == "Customer"],
                ),
            )
            return [
                found.products.get(doc_id) if kind == "Product" else found.customers.get(doc_id)
                for kind, doc_id in keys
            ]

        # A request reads each record once; a subscription lives on, and reads them anew for each delivery.
        context.records = DataLoader(load_fn=load, cache=context.live is None)
    return context.records
