"""`order`, `orders` and `salesReport`."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from api import permissions
from api.context import Context
from api.errors import bad_input
from api.ids import InvalidId, from_global_id, to_global_id
from api.queries._read import (
    cents_range,
    paging,
    parse_id,
    read_model_call,
    report_period,
    search_page,
    search_text,
    sort_keys,
    wait_for_token,
)
from api.types.enums import Interval, OrderStatus
from api.types.orders import (
    Order,
    OrderConnection,
    OrderEdge,
    OrderFilter,
    OrderSort,
    ProductSales,
    SalesBucket,
    SalesReport,
    StatusCount,
)
from api.types.scalars import decimal_from_cents
from read_model.search.orders import OrderCriteria


async def order(
    info: strawberry.Info[Context, None], id: strawberry.ID, consistent_with: str | None = None
) -> Order | None:
    order_id = parse_id(id, "Order")
    permissions.signed_in(info)
    read = info.context.read
    await wait_for_token(read, "orders", consistent_with)
    document = await read_model_call(info.context, read.orders.get(str(order_id)))
    if document is None:
        return None
    permissions.admin_or_customer(info, document.customer_id)
    return Order.of(document)


async def order_as_of(
    info: strawberry.Info[Context, None],
    id: strawberry.ID,
    as_of: datetime,
    consistent_with: str | None = None,
) -> Order | None:
    """The order as it stood at `as_of`, folded from its events in the audit trail; null before it was
    placed. The permissions of `order`."""
    order_id = parse_id(id, "Order")
    permissions.signed_in(info)
    read = info.context.read
    await wait_for_token(read, "events", consistent_with)
    view = await read_model_call(info.context, read.order_history.as_of(str(order_id), as_of))
    if view is None:
        return None
    permissions.admin_or_customer(info, view.customer_id)
    return Order.of(view)


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
    actor = permissions.signed_in(info)
    criteria = order_criteria(query, filter, sort)
    if not actor.is_admin:
        # A customer searches their own orders only, whatever the filter says.
        if criteria.customer_id is not None:
            permissions.admin_or_customer(info, criteria.customer_id)
        criteria = replace(criteria, customer_id=str(actor.customer_id))
    return await _order_page(info, criteria, first, after, last, before, consistent_with)


async def customer_orders(
    info: strawberry.Info[Context, None],
    customer_id: UUID,
    filter: OrderFilter | None,
    sort: list[OrderSort] | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> OrderConnection:
    """`Customer.orders`: the orders search with the customer fixed, for an admin or that customer."""
    permissions.admin_or_customer(info, customer_id)
    criteria = order_criteria(None, filter, sort)
    if criteria.customer_id not in (None, str(customer_id)):
        raise bad_input("filter.customerId must be this customer's, or left out")
    return await _order_page(info, replace(criteria, customer_id=str(customer_id)), first, after, last, before, None)


async def _order_page(
    info: strawberry.Info[Context, None],
    criteria: OrderCriteria,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    consistent_with: str | None,
) -> OrderConnection:
    page_of = paging(info, first, after, last, before)
    page, cursor = await search_page(
        info,
        info.context.read.orders.search,
        criteria,
        projection="orders",
        page_of=page_of,
        consistent_with=consistent_with,
    )
    edges = [OrderEdge(cursor=cursor(sort_values), node=Order.of(doc)) for doc, sort_values in page.hits]
    return OrderConnection(
        edges=edges,
        page_info=page_of.page_info([edge.cursor for edge in edges], page.has_more),
        total_count=page.total,
        status_counts=[
            StatusCount(status=status, count=page.status_counts.get(status.value, 0)) for status in OrderStatus
        ],
    )


def order_criteria(query: str | None, filter: OrderFilter | None, sort: list[OrderSort] | None) -> OrderCriteria:
    text = _order_id_as_indexed(search_text(query))
    chosen = filter or OrderFilter()
    low, high = cents_range("minTotal", chosen.min_total, "maxTotal", chosen.max_total)
    placed_from, placed_to = chosen.placed_from, chosen.placed_to
    if placed_from is not None and placed_to is not None and placed_from >= placed_to:
        raise bad_input("filter.placedFrom must be before filter.placedTo")
    return OrderCriteria(
        text=text,
        customer_id=None if chosen.customer_id is None else str(parse_id(chosen.customer_id, "Customer")),
        product_id=None if chosen.product_id is None else str(parse_id(chosen.product_id, "Product")),
        statuses=tuple(dict.fromkeys(status.value for status in chosen.statuses or [])),
        placed_from=placed_from,
        placed_to=placed_to,
        min_total_cents=low,
        max_total_cents=high,
        sort=sort_keys(sort),
    )


def _order_id_as_indexed(text: str | None) -> str | None:
    """An order's global id, as the API shows it, searched as the bare id the index holds."""
    if text is None:
        return None
    try:
        return str(from_global_id(text, "Order")[1])
    except InvalidId:
        return text


async def sales_report(
    info: strawberry.Info[Context, None],
    from_: Annotated[datetime, strawberry.argument(name="from")],
    to: datetime,
    interval: Interval | None = None,
    consistent_with: str | None = None,
) -> SalesReport:
    permissions.admin(info)
    start, end, chosen = report_period(from_, to, interval)
    read = info.context.read
    await wait_for_token(read, "orders", consistent_with)
    figures = await read_model_call(info.context, read.sales.report(start, end, chosen.value))
    return SalesReport(
        total_revenue=decimal_from_cents(figures.revenue_cents),
        refund_total=decimal_from_cents(figures.refund_cents),
        net_revenue=decimal_from_cents(figures.revenue_cents - figures.refund_cents),
        order_count=figures.order_count,
        buckets=[
            SalesBucket(
                start=bucket.start, revenue=decimal_from_cents(bucket.revenue_cents), order_count=bucket.order_count
            )
            for bucket in figures.buckets
        ],
        top_products=[
            ProductSales(
                product_id=strawberry.ID(to_global_id("Product", product.product_id)),
                name=product.name,
                units_sold=product.units_sold,
                revenue=decimal_from_cents(product.revenue_cents),
            )
            for product in figures.top_products
        ],
    )
