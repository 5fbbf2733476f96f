"""Who may read and do what. Resolvers call these before they read or write anything.

Anonymous callers may read the catalog and register; a customer may act on and read only their own
customer record and orders; an admin may do everything. Asking for a protected field without a token is
`UNAUTHENTICATED` (the response is then HTTP 401); asking with a token that does not allow it is `FORBIDDEN`.

A mutation operation is checked whole before any of its fields runs (`mutation_refusal`): when the
caller may not run one of them, or a customer places an order for or changes the record of someone else,
none runs, so a refused request writes nothing. Whose order an action is on takes the write model's record,
so that is checked as the action runs; the fields before it have run, and the answer lists what they wrote
(`extensions.written`, api/mutations/_dispatch.py).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.utilities import get_operation_ast
from strawberry.types import ExecutionContext

from api.auth import Actor, Role
from api.context import Context
from api.errors import graphql_error
from api.ids import InvalidId, from_global_id


def signed_in(info: strawberry.Info[Context, None]) -> Actor:
    """The caller, who must have sent a valid token."""
    actor = info.context.actor
    if actor.role is Role.ANONYMOUS:
        raise unauthenticated()
    return actor


def admin(info: strawberry.Info[Context, None]) -> Actor:
    actor = signed_in(info)
    if not actor.is_admin:
        raise forbidden("Only an admin may do this.")
    return actor


def admin_or_customer(info: strawberry.Info[Context, None], customer_id: uuid.UUID | str) -> Actor:
    """The caller, who must be an admin or the customer `customer_id` themself."""
    actor = signed_in(info)
    if not actor.is_admin and not actor.owns(customer_id):
        raise forbidden(NOT_YOURS)
    return actor


class Who(enum.Enum):
    ANYONE = "anyone"
    SIGNED_IN = "signed in"  # a customer, for their own records (the resolver checks which), or an admin
    ADMIN = "admin"


NOT_YOURS = "A customer may only see and act on their own customer record and orders."
# Who may run each mutation at all; a mutation not listed here is an admin's.
MUTATIONS: Mapping[str, Who] = {
    "registerCustomer": Who.ANYONE,
    "updateCustomer": Who.SIGNED_IN,
    "placeOrder": Who.SIGNED_IN,
    "payOrder": Who.SIGNED_IN,
    "cancelOrder": Who.SIGNED_IN,
}


def refusal(actor: Actor, mutation: str) -> GraphQLError | None:
    """The error `actor` gets for asking to run `mutation`, if the role alone refuses it."""
    who = MUTATIONS.get(mutation, Who.ADMIN)
    if who is Who.ANYONE or actor.is_admin:
        return None
    if actor.role is Role.ANONYMOUS:
        return unauthenticated()
    if who is Who.ADMIN:
        return forbidden(f"Only an admin may run {mutation}: nothing in this operation was run.")
    return None


def mutation_refusal(execution: ExecutionContext) -> GraphQLError | None:
    """Why a mutation operation is refused whole before any of its fields runs (the caller may not run one
    of them, or a customer acts for someone else); `None` when it may run, and for any other operation."""
    actor = getattr(execution.context, "actor", None)
    document = execution.graphql_document
    if not isinstance(actor, Actor) or document is None:
        return None
    fields = mutation_fields(document, execution.operation_name)
    # Only a customer can act for someone else: nobody else's arguments need reading.
    acting_for = (
        _customers_named(execution.schema._schema, document, execution, fields) if actor.role is Role.CUSTOMER else {}
    )
    for field in fields:
        error = refusal(actor, field.name.value) or _someone_elses(actor, acting_for.get(id(field)))
        if error is not None:
            return error
    return None


# The mutations a customer may run only for themself, and the argument naming the customer they act for.
ACTS_FOR_CUSTOMER: Mapping[str, tuple[str, str]] = {
    "placeOrder": ("input", "customerId"),
    "updateCustomer": ("input", "id"),
}


def _customers_named(
    schema: GraphQLSchema, document: DocumentNode, execution: ExecutionContext, fields: list[FieldNode]
) -> dict[int, str]:
    """The customer id each field of `ACTS_FOR_CUSTOMER` names, by the field's node. Empty when the variables
    do not fit: then nothing runs at all."""
    operation = get_operation_ast(document, execution.operation_name)
    acting = [field for field in fields if field.name.value in ACTS_FOR_CUSTOMER]
    if operation is None or schema.mutation_type is None or not acting:
        return {}
    variables = get_variable_values(schema, operation.variable_definitions or (), execution.variables or {})
    if isinstance(variables, list):
        return {}
    found = {}
    for field in acting:
        argument, key = ACTS_FOR_CUSTOMER[field.name.value]
        definition = schema.mutation_type.fields[field.name.value]
        try:
            found[id(field)] = str(get_argument_values(definition, field, variables)[argument][key])
        except (GraphQLError, KeyError, TypeError):
            continue  # an argument that does not fit: the field refuses it itself
    return found


def _someone_elses(actor: Actor, customer_global_id: str | None) -> GraphQLError | None:
    """FORBIDDEN when a customer acts for another customer (a malformed id is the field's own error, and
    writes nothing)."""
    if customer_global_id is None or actor.role is not Role.CUSTOMER:
        return None
    try:
        customer_id = from_global_id(customer_global_id, "Customer")[1]
    except InvalidId:
        return None
    return None if actor.owns(customer_id) else forbidden(NOT_YOURS)


def mutation_fields(document: DocumentNode, operation_name: str | None) -> list[FieldNode]:
    """The mutation fields the operation `operation_name` runs, in order (none for a query)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.MUTATION:
        return []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    names: list[FieldNode] = []
    seen: set[str] = set()

    def collect(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                collect(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                if selection.name.value in fragments:
                    collect(fragments[selection.name.value].selection_set)

    collect(operation.selection_set)
    return names


def unauthenticated() -> GraphQLError:
    return graphql_error(
        "UNAUTHENTICATED", "This needs a bearer token: send 'Authorization: Bearer <token>' (see `twofold token`)."
    )


def forbidden(message: str) -> GraphQLError:
    return graphql_error("FORBIDDEN", message)
