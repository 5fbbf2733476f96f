"""Order and sales-report read-model types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from api.ids import to_global_id
from api.types.customers import CustomerSummary
from api.types.enums import OrderSortField, OrderStatus, SortDirection
from api.types.node import Node, PageInfo
from api.types.scalars import Decimal


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
    def from_document(cls, doc: dict[str, Any]) -> Order:
        customer = doc["customer"]
        return cls(
            id=strawberry.ID(to_global_id("Order", doc["id"])),
            customer=CustomerSummary(
                id=strawberry.ID(to_global_id("Customer", customer["id"])),
                name=customer["name"],
                email=customer["email"],
            ),
            lines=[
                OrderLine(
                    product_id=strawberry.ID(to_global_id("Product", line["product_id"])),
                    sku=line["sku"],
                    name=line["name"],
                    unit_price=Decimal(line["unit_price"]),
                    quantity=line["quantity"],
                    line_total=Decimal(line["line_total"]),
                )
                for line in doc["lines"]
            ],
            total=Decimal(doc["total"]),
            status=OrderStatus(doc["status"]),
            version=doc["version"],
            placed_at=datetime.fromisoformat(doc["placed_at"]),
            updated_at=datetime.fromisoformat(doc["updated_at"]),
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
