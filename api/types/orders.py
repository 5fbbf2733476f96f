"""Order and sales-report read-model types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.ids import to_global_id
from api.types.customers import CustomerSummary
from api.types.enums import OrderSortField, OrderStatus, SortDirection
from api.types.node import Node, PageInfo
from api.types.scalars import Decimal, decimal_text
from read_model.views import OrderView


@strawberry.type
class OrderLine:
    product_id: strawberry.ID
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal


@strawberry.type
class Order(Node):
    customer: CustomerSummary
    lines: list[OrderLine]
    total: Decimal
    status: OrderStatus
    version: int
    placed_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: OrderView) -> Order:
        return cls(
            id=strawberry.ID(to_global_id("Order", view.id)),
            customer=CustomerSummary(
                id=strawberry.ID(to_global_id("Customer", view.customer_id)),
                name=view.customer_name,
                email=view.customer_email,
            ),
            lines=[
                OrderLine(
                    product_id=strawberry.ID(to_global_id("Product", line.product_id)),
                    sku=line.sku,
                    name=line.name,
                    unit_price=decimal_text(line.unit_price),
                    quantity=line.quantity,
                    line_total=decimal_text(line.line_total),
                )
                for line in view.lines
            ],
            total=decimal_text(view.total),
            status=OrderStatus(view.status),
            version=view.version,
            placed_at=view.placed_at,
            updated_at=view.updated_at,
        )


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class StatusCount:
    status: OrderStatus
    count: int


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    total_count: int
    status_counts: list[StatusCount]


@strawberry.input
class OrderFilter:
    customer_id: strawberry.ID | None = None
    product_id: strawberry.ID | None = None
    statuses: list[OrderStatus] | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None


@strawberry.input
class OrderSort:
    field: OrderSortField
    direction: SortDirection | None = None


@strawberry.type
class SalesBucket:
    start: datetime
    revenue: Decimal
    order_count: int


@strawberry.type
class ProductSales:
    product_id: strawberry.ID
    name: str
    units_sold: int
    revenue: Decimal


@strawberry.type
class SalesReport:
    total_revenue: Decimal
    order_count: int
    buckets: list[SalesBucket]
    top_products: list[ProductSales]
