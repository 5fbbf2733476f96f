"""Who may read and do what. Resolvers call these before they read or write anything.

Anonymous callers may read the catalog and register; a customer may act on and read only their own
customer record and orders; an admin may do everything. Asking for a protected field without a token is
`UNAUTHENTICATED` (the response is then HTTP 401); asking with a token that does not allow it is `FORBIDDEN`.

A mutation operation is checked whole before any of its fields runs (`MutationPermissions`): when the
caller may not run one of them, none runs, so a refused request never wrote anything it does not report.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator, Mapping

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from api.auth import Actor, Role
from api.context import Context
from api.errors import graphql_error


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
        raise forbidden("A customer may only see and act on their own customer record and orders.")
    return actor


class Who(enum.Enum):
    ANYONE = "anyone"
    SIGNED_IN = "signed in"  # a customer, for their own records (the resolver checks which), or an admin
    ADMIN = "admin"


# Who may run each mutation at all; a mutation not listed here is an admin's.
MUTATIONS: Mapping[str, Who] = {
    "registerCustomer": Who.ANYONE,
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


class MutationPermissions(SchemaExtension):
    """Refuses a mutation operation before any of its fields runs when the caller may not run one of them."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        actor = getattr(execution.context, "actor", None)
        document = execution.graphql_document
        if isinstance(actor, Actor) and document is not None:
            for name in mutation_fields(document, execution.operation_name):
                error = refusal(actor, name)
                if error is not None:
                    execution.result = ExecutionResult(data=None, errors=[error])
                    break
        yield


def mutation_fields(document: DocumentNode, operation_name: str | None) -> list[str]:
    """The names of the mutation fields the operation `operation_name` runs (none for a query)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.MUTATION:
        return []
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    names: list[str] = []
    seen: set[str] = set()

    def collect(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.append(selection.name.value)
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
