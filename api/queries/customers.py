"""`customer`, and the customer record a mutation's payload shows."""

from __future__ import annotations

from uuid import UUID

import strawberry

from api import permissions
from api.context import Context
from api.queries._read import parse_id, read_model_call, wait_for_token
from api.types.customers import Customer


async def customer(
    info: strawberry.Info[Context, None], id: strawberry.ID, consistent_with: str | None = None
) -> Customer | None:
    customer_id = parse_id(id, "Customer")
    permissions.admin_or_customer(info, customer_id)
    return await customer_record(info, customer_id, consistent_with)


async def customer_record(
    info: strawberry.Info[Context, None], customer_id: UUID, consistent_with: str | None
) -> Customer | None:
    """The customer, for a caller already allowed to see it."""
    read = info.context.read
    await wait_for_token(read, "customers", consistent_with)
    document = await read_model_call(info.context, read.customers.get(str(customer_id)))
    return None if document is None else Customer.of(document)
