"""Who may read and do what. Resolvers call these before they read or write anything.

Anonymous callers may read the catalog and register; a customer may act on and read only their own
customer record and orders; an admin may do everything. Asking for a protected field without a token is
`UNAUTHENTICATED` (the response is then HTTP 401); asking with a token that does not allow it is `FORBIDDEN`.
"""

from __future__ import annotations

import uuid

import strawberry
from graphql import GraphQLError

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


def unauthenticated() -> GraphQLError:
    return graphql_error(
        "UNAUTHENTICATED", "This needs a bearer token: send 'Authorization: Bearer <token>' (see `twofold token`)."
    )


def forbidden(message: str) -> GraphQLError:
    return graphql_error("FORBIDDEN", message)
