"""Shared steps of query resolvers: parse ids, honour `consistentWith`, translate read-model failures."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar
from uuid import UUID

import strawberry

from api.consistency import InvalidToken, decode_token
from api.context import Context, ReadModel
from api.errors import bad_cursor, bad_input, consistency_timeout, search_unavailable
from api.ids import InvalidId, from_global_id
from read_model.errors import ConsistencyTimeout, InvalidSearchPosition, SearchUnavailable

T = TypeVar("T")


def parse_id(global_id: str, type_name: str) -> UUID:
    try:
        return from_global_id(global_id, type_name)[1]
    except InvalidId as exc:
        raise bad_input(str(exc)) from None


async def wait_for_token(read: ReadModel, projection: str, token: str | None) -> None:
    """When the client passed `consistentWith`, wait until `projection` reflects that write."""
    if token is None:
        return
    try:
        target = decode_token(token)
    except InvalidToken as exc:
        raise bad_input(str(exc)) from None
    await read_model_call(read.consistency.wait(projection, target))


async def read_model_call(call: Awaitable[T]) -> T:
    """Await a read-model call, turning its failures into GraphQL errors with a code."""
    try:
        return await call
    except ConsistencyTimeout as exc:
        raise consistency_timeout(str(exc)) from None
    except InvalidSearchPosition:
        raise bad_cursor() from None
    except SearchUnavailable:
        raise search_unavailable() from None


def selects(info: strawberry.Info[Context, None], name: str) -> bool:
    """Whether the query asks for the field `name` directly under the current one (fragments included):
    some fields cost a search their own, made only when asked for."""
    pending = list(info.selected_fields)
    while pending:
        node = pending.pop()
        for child in getattr(node, "selections", []):
            if getattr(child, "name", None) == name:
                return True
            if not hasattr(child, "name") or child.__class__.__name__ in ("FragmentSpread", "InlineFragment"):
                pending.append(child)
    return False
