"""Top-level GraphQL errors, each with the `extensions.code` that clients dispatch on."""

from __future__ import annotations

import json

from graphql import GraphQLError


def error_body(code: str, message: str) -> bytes:
    """A refusal made before any GraphQL ran, in the GraphQL error shape: `{"errors": [{"message",
    "extensions": {"code"}}]}` as JSON."""
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


def graphql_error(code: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def bad_input(message: str) -> GraphQLError:
    return graphql_error("BAD_USER_INPUT", message)


def bad_cursor(detail: str | None = None) -> GraphQLError:
    if detail is None:
        return graphql_error("BAD_CURSOR", "The cursor is malformed, expired or belongs to another search.")
    return graphql_error("BAD_CURSOR", f"The cursor cannot be followed: {detail}. Search again from the first page.")


def consistency_timeout(message: str) -> GraphQLError:
    return graphql_error("CONSISTENCY_TIMEOUT", message)


def search_unavailable() -> GraphQLError:
    return graphql_error("SEARCH_UNAVAILABLE", "The search service is unavailable; try again shortly.")
