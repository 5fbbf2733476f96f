"""Customer mutations: `registerCustomer`, `updateCustomer`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api import permissions
from api.auth import Role
from api.context import Context
from api.ids import from_global_id, to_global_id
from api.mutations._dispatch import (
    decode_or_not_found,
    dispatch,
    duplicate_email,
    not_found,
    token_of,
    validation_failed,
    version_conflict,
)
from api.queries import customers as customer_queries
from api.types import errors as gql
from api.types.customers import Customer
from api.types.results import MutationSuccess
from write_model.commands import RegisterCustomer, UpdateCustomer
from write_model.domain import errors
from write_model.results import Changed


@strawberry.input
class RegisterCustomerInput:
    name: str
    email: str
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Send the same key again to get the first result back instead of a second registration.",
    )


@strawberry.input
class UpdateCustomerInput:
    id: strawberry.ID
    expected_version: int | None = None
    name: str | None = None
    email: str | None = None


async def _customer_after_write(
    root: strawberry.Parent[CustomerChanged], info: strawberry.Info[Context, None]
) -> Customer | None:
    # Whoever was allowed to register the customer may see what they registered (anonymous callers included).
    # But every anonymous caller shares one set of idempotency keys: a replay, which may be someone else's,
    # gets the ids and token it was first given and no live data, which takes the customer's own token.
    if root.replayed and info.context.actor.role is Role.ANONYMOUS:
        return None
    customer_id = from_global_id(root.customer_id, "Customer")[1]
    return await customer_queries.customer_record(info, customer_id, root.consistency_token)


@strawberry.type
class CustomerChanged(MutationSuccess):
    customer_id: strawberry.ID
    version: int
    replayed: strawberry.Private[bool] = False

    customer: Customer | None = strawberry.field(
        resolver=_customer_after_write,
        description="The customer as the read model shows it once it reflects this write.",
    )


RegisterCustomerResult = Annotated[
    CustomerChanged | gql.ValidationFailed | gql.DuplicateEmail, strawberry.union("RegisterCustomerResult")
]


UpdateCustomerResult = Annotated[
    CustomerChanged | gql.ValidationFailed | gql.NotFound | gql.VersionConflict | gql.DuplicateEmail,
    strawberry.union("UpdateCustomerResult"),
]


async def register_customer(
    info: strawberry.Info[Context, None], input: RegisterCustomerInput
) -> RegisterCustomerResult:
    try:
        changed = await dispatch(
            info, RegisterCustomer(name=input.name, email=input.email), idempotency_key=input.idempotency_key
        )
    except errors.ValidationFailed as error:
        return validation_failed(error)
    except errors.DuplicateEmail as error:
        return duplicate_email(error)
    return _customer_changed(changed)


async def update_customer(info: strawberry.Info[Context, None], input: UpdateCustomerInput) -> UpdateCustomerResult:
    """Change a customer's name and/or email. An admin may change anyone; a customer only themself (a
    mutation operation in which a customer names someone else runs no field at all: api/permissions.py)."""
    permissions.signed_in(info)
    customer_id = decode_or_not_found(input.id, "Customer")
    if isinstance(customer_id, gql.NotFound):
        return customer_id
    permissions.admin_or_customer(info, customer_id)
    command = UpdateCustomer(
        customer_id=customer_id, expected_version=input.expected_version, name=input.name, email=input.email
    )
    try:
        changed = await dispatch(info, command)
    except errors.ValidationFailed as error:
        return validation_failed(error)
    except errors.NotFound as error:
        return not_found(error)
    except errors.VersionConflict as error:
        return version_conflict(error)
    except errors.DuplicateEmail as error:
        return duplicate_email(error)
    return _customer_changed(changed)


def _customer_changed(changed: Changed) -> CustomerChanged:
    return CustomerChanged(
        consistency_token=token_of(changed),
        customer_id=strawberry.ID(to_global_id("Customer", changed.aggregate_id)),
        version=changed.version,
        replayed=changed.replayed,
    )
