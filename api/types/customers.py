"""Customer read-model types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.ids import to_global_id
from api.types.enums import CustomerSortField, SortDirection
from api.types.node import Highlight, Node, PageInfo
from api.types.scalars import Decimal, decimal_text
from read_model.views import CustomerView


@strawberry.type
class CustomerSummary:
    id: strawberry.ID
    name: str
    email: str


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
