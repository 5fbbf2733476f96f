"""Customer mutations: `registerCustomer`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.context import Context
from api.errors import not_implemented
from api.queries import orders as order_queries
from api.types import errors as gql
from api.types.customers import Customer
from api.types.results import MutationSuccess


@strawberry.input
class RegisterCustomerInput:
    name: str
    email: str


async def _customer_after_write(
    root: strawberry.Parent[CustomerChanged], info: strawberry.Info[Context, None]
) -> Customer | None:
    return await order_queries.customer(info, root.customer_id, root.consistency_token)


@strawberry.type
class CustomerChanged(MutationSuccess):
    customer_id: strawberry.ID
    version: int

    customer: Customer | None = strawberry.field(
        resolver=_customer_after_write,
        description="The customer as the read model shows it once it reflects this write.",
    )


RegisterCustomerResult = Annotated[
    CustomerChanged | gql.ValidationFailed | gql.DuplicateEmail, strawberry.union("RegisterCustomerResult")
]


async def register_customer(
    info: strawberry.Info[Context, None], input: RegisterCustomerInput
) -> RegisterCustomerResult:
    raise not_implemented("registerCustomer", 3)
