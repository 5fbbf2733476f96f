"""`customer`, `order`, `orders` and `salesReport`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from api.context import Context
from api.errors import not_implemented
from api.types.customers import Customer
from api.types.enums import Interval
from api.types.orders import Order, OrderConnection, OrderFilter, OrderSort, SalesReport


async def customer(
    info: strawberry.Info[Context, None], id: strawberry.ID, consistent_with: str | None = None
) -> Customer | None:
    raise not_implemented("customer", 5)


async def order(
    info: strawberry.Info[Context, None], id: strawberry.ID, consistent_with: str | None = None
) -> Order | None:
    raise not_implemented("order", 5)


async def orders(
    info: strawberry.Info[Context, None],
    query: str | None = None,
    filter: OrderFilter | None = None,
    sort: list[OrderSort] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    consistent_with: str | None = None,
) -> OrderConnection:
    raise not_implemented("orders", 5)


async def sales_report(
    info: strawberry.Info[Context, None],
    from_: Annotated[datetime, strawberry.argument(name="from")],
    to: datetime,
    interval: Interval | None = None,
    consistent_with: str | None = None,
) -> SalesReport:
    raise not_implemented("salesReport", 5)
