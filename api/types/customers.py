"""Customer read-model types."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from api.context import Context
from api.ids import to_global_id
from api.types.enums import CustomerSortField, SortDirection
from api.types.node import Highlight, Node, PageInfo
from api.types.scalars import Decimal, decimal_text
from read_model.views import CustomerView

if TYPE_CHECKING:
    from api.types.orders import OrderConnection, OrderFilter, OrderSort


@strawberry.type
class CustomerSummary:
    id: strawberry.ID
    name: str
    email: str


async def _orders(
    root: strawberry.Parent[Customer],
    info: strawberry.Info[Context, None],
    filter: Annotated[OrderFilter, strawberry.lazy("api.types.orders")] | None = None,
    sort: list[Annotated[OrderSort, strawberry.lazy("api.types.orders")]] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Annotated[OrderConnection, strawberry.lazy("api.types.orders")]:
    # Imported here: the orders' modules import this one, for the customer an order shows.
    from api.queries.orders import customer_orders

    return await customer_orders(info, root.record_id, filter, sort, first, after, last, before)


@strawberry.type
class Customer(Node):
    name: str
    email: str
    version: int
    order_count: int
    lifetime_value: Decimal
    created_at: datetime
    updated_at: datetime
    average_order_value: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None
    record_id: strawberry.Private[UUID]

    orders: Annotated[OrderConnection, strawberry.lazy("api.types.orders")] = strawberry.field(
        resolver=_orders, description="This customer's orders: the `orders` search with the customer fixed."
    )

    @classmethod
    def of(cls, view: CustomerView) -> Customer:
        return cls(
            id=strawberry.ID(to_global_id("Customer", view.id)),
            name=view.name,
            email=view.email,
            version=view.version,
            order_count=view.order_count,
            lifetime_value=decimal_text(view.lifetime_value),
            created_at=view.created_at,
            updated_at=view.updated_at,
            average_order_value=decimal_text(view.average_order_value),
            first_order_at=view.first_order_at,
            last_order_at=view.last_order_at,
            record_id=view.id,
        )


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer
    highlights: list[Highlight]


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo
    total_count: int


@strawberry.input
class CustomerFilter:
    registered_from: datetime | None = None
    registered_to: datetime | None = None
    min_order_count: int | None = None
    max_order_count: int | None = None
    min_lifetime_value: Decimal | None = None
    max_lifetime_value: Decimal | None = None


@strawberry.input
class CustomerSort:
    field: CustomerSortField
    direction: SortDirection | None = None


@strawberry.type
class CustomerBucket:
    start: datetime
    new_customers: int
    ordering_customers: int


@strawberry.type
class CustomerSales:
    customer: CustomerSummary
    order_count: int
    revenue: Decimal


@strawberry.type
class CustomerReport:
    new_customers: int
    ordering_customers: int
    repeat_customers: int
    buckets: list[CustomerBucket]
    top_customers: list[CustomerSales]
