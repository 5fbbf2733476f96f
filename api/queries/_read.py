"""Shared steps of query resolvers: parse ids, honour `consistentWith`, translate read-model failures."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from decimal import Decimal as PyDecimal
from decimal import InvalidOperation
from typing import TypeVar
from uuid import UUID

import strawberry

from api.consistency import InvalidToken, decode_token
from api.context import Context, ReadModel
from api.errors import bad_cursor, bad_input, consistency_timeout, search_unavailable
from api.ids import InvalidId, from_global_id
from api.pagination import page_size
from api.types.node import PageInfo
from read_model.errors import ConsistencyTimeout, InvalidSearchPosition, SearchUnavailable

T = TypeVar("T")
CENT = PyDecimal("0.01")


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


def filter_cents(name: str, value: str | None) -> int | None:
    """An amount filter in integer cents; BAD_USER_INPUT unless it is a non-negative decimal with at most 2
    decimals."""
    if value is None:
        return None
    try:
        amount = PyDecimal(value)
    except InvalidOperation:
        raise bad_input(f"filter.{name} must be a decimal number such as 19.99") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise bad_input(f"filter.{name} must be a non-negative amount with at most 2 decimals")
    return int(amount * 100)


@dataclass(frozen=True)
class Paging:
    """Which page a connection asks for: its size, the cursor it starts from, and the direction."""

    size: int
    cursor: str | None
    backward: bool

    def page_info(self, cursors: list[str], has_more: bool) -> PageInfo:
        """The page info of a page holding `cursors`, when the search found more beyond it (`has_more`)."""
        return PageInfo(
            has_next_page=self.cursor is not None if self.backward else has_more,
            has_previous_page=has_more if self.backward else self.cursor is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


def paging(
    info: strawberry.Info[Context, None], first: int | None, after: str | None, last: int | None, before: str | None
) -> Paging:
    """The page `first`/`after` or `last`/`before` ask for; BAD_USER_INPUT when they mix both directions."""
    backward = last is not None or before is not None
    if backward and (first is not None or after is not None):
        raise bad_input("page forward (first, after) or backward (last, before), not both at once")
    settings = info.context.settings
    size = page_size(last if backward else first, default=settings.default_page_size, maximum=settings.max_page_size)
    return Paging(size, before if backward else after, backward)
