"""Order and sales-report read-model types."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from api.context import Context
from api.ids import to_global_id
from api.queries import graph
from api.types.customers import Customer, CustomerSummary
from api.types.enums import OrderSortField, OrderStatus, PaymentMethod, SortDirection
from api.types.node import Node, PageInfo
from api.types.products import Product
from api.types.scalars import Decimal, decimal_text
from read_model.views import AddressView, OrderView, ShipmentView


async def _product(root: strawberry.Parent[OrderLine], info: strawberry.Info[Context, None]) -> Product | None:
    found = await graph.product(info, root.product_uuid)
    return None if found is None else Product.of(found)


async def _buyer(root: strawberry.Parent[Order], info: strawberry.Info[Context, None]) -> Customer | None:
    found = await graph.buyer(info, root.customer_uuid)
    return None if found is None else Customer.of(found)


@strawberry.type
class OrderLine:
    product_id: strawberry.ID
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    product_uuid: strawberry.Private[UUID]
    product: Product | None = strawberry.field(
        resolver=_product, description="The product as the catalog shows it now; null when it is not in the read model."
    )


@strawberry.type
class Address:
    name: str
    line1: str
    line2: str | None
    city: str
    postal_code: str
    region: str | None
    country: str

    @classmethod
    def of(cls, view: AddressView) -> Address:
        return cls(
            name=view.name,
            line1=view.line1,
            line2=view.line2,
            city=view.city,
            postal_code=view.postal_code,
            region=view.region,
            country=view.country,
        )


@strawberry.type
class Payment:
    amount: Decimal
    method: PaymentMethod
    reference: str | None
    at: datetime


@strawberry.type
class Refund:
    amount: Decimal
    reference: str | None
    reason: str | None
    at: datetime


@strawberry.type
class Shipment:
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, view: ShipmentView) -> Shipment:
        return cls(
            carrier=view.carrier,
            tracking_number=view.tracking_number,
            shipped_at=view.shipped_at,
            delivered_at=view.delivered_at,
        )


@strawberry.type
class Order(Node):
    customer: CustomerSummary
    lines: list[OrderLine]
    total: Decimal
    status: OrderStatus
    version: int
    placed_at: datetime
    updated_at: datetime
    shipping_address: Address | None
    payments: list[Payment]
    refunds: list[Refund]
    amount_paid: Decimal
    amount_refunded: Decimal
    shipment: Shipment | None
    cancellation_reason: str | None
    customer_uuid: strawberry.Private[UUID]
    buyer: Customer | None = strawberry.field(
        resolver=_buyer,
        description="The customer's live record (the `customer` summary is what the order itself carries).",
    )

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
                    product_uuid=line.product_id,
                )
                for line in view.lines
            ],
            total=decimal_text(view.total),
            status=OrderStatus(view.status),
            version=view.version,
            placed_at=view.placed_at,
            updated_at=view.updated_at,
            shipping_address=None if view.shipping_address is None else Address.of(view.shipping_address),
            payments=[
                Payment(amount=decimal_text(p.amount), method=PaymentMethod(p.method), reference=p.reference, at=p.at)
                for p in view.payments
            ],
            refunds=[
                Refund(amount=decimal_text(r.amount), reference=r.reference, reason=r.reason, at=r.at)
                for r in view.refunds
            ],
            amount_paid=decimal_text(view.amount_paid),
            amount_refunded=decimal_text(view.amount_refunded),
            shipment=None if view.shipment is None else Shipment.of(view.shipment),
            cancellation_reason=view.cancellation_reason,
            customer_uuid=view.customer_id,
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
    refund_total: Decimal = strawberry.field(description="What was refunded of the orders counted here.")
    net_revenue: Decimal = strawberry.field(description="totalRevenue - refundTotal.")
    order_count: int
    buckets: list[SalesBucket]
    top_products: list[ProductSales]
