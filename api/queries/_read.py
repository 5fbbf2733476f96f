"""Shared steps of query resolvers: parse ids, honour `consistentWith`, translate read-model failures."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal as PyDecimal
from enum import Enum
from functools import partial
from typing import Any, Protocol, TypeVar
from uuid import UUID

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

from api.consistency import InvalidConsistencyToken, decode_token
from api.context import Context
from api.errors import bad_cursor, bad_input, consistency_timeout, search_unavailable
from api.ids import InvalidId, from_global_id
from api.pagination import Cursors, page_size
from api.types.enums import Interval
from api.types.node import PageInfo
from read_model.errors import ConsistencyTimeout, InvalidSearchPosition, SearchUnavailable
from read_model.money import cents
from read_model.ports import ReadModel

T = TypeVar("T")


class Page(Protocol):
    """A page of a search's hits, as far as its cursors need: the point in time it was read from, if any."""

    @property
    def snapshot(self) -> str | None: ...


P = TypeVar("P", bound=Page, covariant=True)
MAX_QUERY_LENGTH = 256
# The write model refuses the same characters in what it stores (write_model/domain/_checks.py): a lone
# surrogate has no UTF-8 form, so no search could send it, and no stored text holds a control character.
_UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


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
    except InvalidConsistencyToken as exc:
        raise bad_input(str(exc)) from None
    await _translated(read.consistency.wait(projection, target))


async def read_model_call(context: Context, call: Awaitable[T]) -> T:
    """Await a read-model call, turning its failures into GraphQL errors with a code. At most
    `max_request_searches` calls of one request run at once; the others wait their turn."""
    async with context.searches:
        return await _translated(call)


async def _translated(call: Awaitable[T]) -> T:
    try:
        return await call
    except ConsistencyTimeout as exc:
        raise consistency_timeout(str(exc)) from None
    except InvalidSearchPosition as exc:
        raise bad_cursor(str(exc)) from None
    except SearchUnavailable:
        raise search_unavailable() from None


def selects(info: strawberry.Info[Context, None], name: str) -> bool:
    """Whether the query asks for the field `name` directly under the current one (fragments included):
    some fields cost a search their own, made only when asked for."""
    return any(child.name.value == name for child in _fields_under(info, _selection_sets(info)))


def can_page_on(info: strawberry.Info[Context, None]) -> bool:
    """Whether the client can ask for another page of the connection it asks for: it selects the page info
    or an edge's cursor. Only then is a search worth a point in time."""
    for child in _fields_under(info, _selection_sets(info)):
        if child.name.value == "pageInfo":
            return True
        edges = child.selection_set if child.name.value == "edges" else None
        if edges is not None and any(edge.name.value == "cursor" for edge in _fields_under(info, [edges])):
            return True
    return False


def _selection_sets(info: strawberry.Info[Context, None]) -> list[SelectionSetNode]:
    """The selection sets of the field being resolved. graphql-core's nodes, read where Strawberry keeps them
    (`_raw_info`): its `selected_fields` would convert the whole selection, every argument and directive
    below it included, to answer a question about one level."""
    return [node.selection_set for node in info._raw_info.field_nodes if node.selection_set is not None]


def _fields_under(info: strawberry.Info[Context, None], selection_sets: list[SelectionSetNode]) -> Iterator[FieldNode]:
    """The fields selected directly in `selection_sets`, through fragments and inline fragments (whatever
    their directives say: a field that @skip leaves out is counted, which costs at most a search)."""
    pending = list(selection_sets)
    fragments = info._raw_info.fragments
    while pending:
        for child in pending.pop().selections:
            if isinstance(child, FieldNode):
                yield child
            elif isinstance(child, InlineFragmentNode):
                pending.append(child.selection_set)
            elif isinstance(child, FragmentSpreadNode) and child.name.value in fragments:
                pending.append(fragments[child.name.value].selection_set)


def search_text(query: str | None) -> str | None:
    """The search text of `query`, trimmed (`None` when blank); BAD_USER_INPUT when too long or holding a
    control character or a lone surrogate."""
    text = (query or "").strip() or None
    if text is not None:
        if len(text) > MAX_QUERY_LENGTH:
            raise bad_input(f"query must be at most {MAX_QUERY_LENGTH} characters")
        check_readable("query", text)
    return text


def check_readable(name: str, value: str) -> None:
    """BAD_USER_INPUT naming `name` when `value` holds a control character (but tab, newline and carriage
    return) or a lone surrogate."""
    if _UNREADABLE.search(value):
        raise bad_input(f"{name} must not contain control characters or unpaired UTF-16 surrogates")


def cents_range(low_name: str, low: str | None, high_name: str, high: str | None) -> tuple[int | None, int | None]:
    """An amount filter's bounds in integer cents; BAD_USER_INPUT when one is negative or the low one is
    above the high one."""
    low_cents, high_cents = _filter_cents(low_name, low), _filter_cents(high_name, high)
    if low_cents is not None and high_cents is not None and low_cents > high_cents:
        raise bad_input(f"filter.{low_name} must not exceed filter.{high_name}")
    return low_cents, high_cents


class SortEntry(Protocol):
    """One entry of a `sort` argument (`ProductSort`, `OrderSort`)."""

    @property
    def field(self) -> Enum: ...

    @property
    def direction(self) -> Enum | None: ...


def sort_keys(sort: Sequence[SortEntry] | None) -> tuple[tuple[str, str | None], ...]:
    """Each entry's field and direction (lowercase, `None` for the field's default), in order;
    BAD_USER_INPUT when a field comes twice."""
    keys = tuple(
        (str(entry.field.value), None if entry.direction is None else str(entry.direction.value).lower())
        for entry in sort or []
    )
    if len({field for field, _ in keys}) != len(keys):
        raise bad_input("sort names a field more than once")
    return keys


def _filter_cents(name: str, value: str | None) -> int | None:
    """An amount filter in integer cents; BAD_USER_INPUT when it is negative. The `Decimal` scalar has
    already decoded it (ASCII digits, at most 2 decimals, in range)."""
    if value is None:
        return None
    amount = PyDecimal(value)
    if amount < 0:
        raise bad_input(f"filter.{name} must not be negative")
    return cents(amount)


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


class PagedSearch(Protocol[P]):
    """A read-model port's `search`: one page of the hits of `criteria`."""

    def __call__(
        self,
        criteria: Any,
        /,
        *,
        size: int,
        search_after: list[Any] | None,
        backward: bool,
        snapshot: str | None,
        pageable: bool,
    ) -> Awaitable[P]: ...


async def search_page(
    info: strawberry.Info[Context, None],
    search: PagedSearch[P],
    criteria: Any,
    *,
    projection: str,
    page_of: Paging,
    consistent_with: str | None,
) -> tuple[P, Callable[[list[Any]], str]]:
    """One page of a connection's search, and what makes its edges' cursors (`edge_cursors`, signed for the
    search and its criteria): the cursor decoded (BAD_CURSOR when it was issued for another search),
    `consistentWith` waited for on `projection`, then the page read."""
    scope = f"{projection}:{criteria!r}"
    cursors = info.context.cursors
    search_after, snapshot = (None, None) if page_of.cursor is None else cursors.decode(scope, page_of.cursor)
    await wait_for_token(info.context.read, projection, consistent_with)
    pageable = can_page_on(info)
    page = await read_model_call(
        info.context,
        search(
            criteria,
            size=page_of.size,
            search_after=search_after,
            backward=page_of.backward,
            snapshot=snapshot,
            pageable=pageable,
        ),
    )
    return page, edge_cursors(cursors, scope, page.snapshot, pageable=pageable)


def edge_cursors(
    cursors: Cursors, scope: str, snapshot: str | None = None, *, pageable: bool
) -> Callable[[list[Any]], str]:
    """What makes an edge's cursor from its sort values: signed for `scope` (and the point in time
    `snapshot`) when `pageable` (the client can page on: `can_page_on`); else an empty cursor, which nobody
    selected, and nothing is signed."""
    return partial(cursors.encode, scope, snapshot=snapshot) if pageable else _unselected_cursor


def _unselected_cursor(sort_values: list[Any]) -> str:
    return ""


MAX_BUCKETS = 1_000
APPROXIMATE_LENGTH = {
    Interval.HOUR: timedelta(hours=1),
    Interval.DAY: timedelta(days=1),
    Interval.WEEK: timedelta(weeks=1),
    Interval.MONTH: timedelta(days=28),
}


def report_period(start: datetime, end: datetime, interval: Interval | None) -> tuple[datetime, datetime, Interval]:
    """A report's period and interval (DAY by default); BAD_USER_INPUT when `start` is not before `end` or the
    period holds more than `MAX_BUCKETS` intervals."""
    if start >= end:
        raise bad_input("from must be before to")
    chosen = interval or Interval.DAY
    if (end - start) / APPROXIMATE_LENGTH[chosen] > MAX_BUCKETS:
        raise bad_input(f"at most {MAX_BUCKETS} buckets: choose a longer interval or a shorter period")
    return start, end, chosen
