"""`customer`, `customers` and `me`, and the customer record a mutation's payload shows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from api import permissions
from api.context import Context
from api.errors import bad_input
from api.ids import to_global_id
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
from api.types.customers import (
    Customer,
    CustomerBucket,
    CustomerConnection,
    CustomerEdge,
    CustomerFilter,
    CustomerReport,
    CustomerSales,
    CustomerSort,
    CustomerSummary,
)
from api.types.enums import Interval
from api.types.node import Highlight
from api.types.scalars import decimal_from_cents
from read_model.search.customers import CustomerCriteria

PROJECTION = "customers"


async def customer(
    info: strawberry.Info[Context, None], id: strawberry.ID, consistent_with: str | None = None
) -> Customer | None:
    customer_id = parse_id(id, "Customer")
    permissions.admin_or_customer(info, customer_id)
    return await customer_record(info, customer_id, consistent_with)


async def me(info: strawberry.Info[Context, None], consistent_with: str | None = None) -> Customer | None:
    customer_id = info.context.actor.customer_id
    if customer_id is None:
        return None  # an admin or an anonymous caller is no customer
    return await customer_record(info, customer_id, consistent_with)


async def customer_record(
    info: strawberry.Info[Context, None], customer_id: UUID, consistent_with: str | None
) -> Customer | None:
    """The customer, for a caller already allowed to see it."""
    read = info.context.read
    await wait_for_token(read, PROJECTION, consistent_with)
    document = await read_model_call(info.context, read.customers.get(str(customer_id)))
    return None if document is None else Customer.of(document)


async def customers(
    info: strawberry.Info[Context, None],
    query: str | None = None,
    filter: CustomerFilter | None = None,
    sort: list[CustomerSort] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    consistent_with: str | None = None,
) -> CustomerConnection:
    permissions.admin(info)
    criteria = customer_criteria(query, filter, sort)
    page_of = paging(info, first, after, last, before)
    search = info.context.read.customer_search.search
    page, cursor = await search_page(
        info, search, criteria, projection=PROJECTION, page_of=page_of, consistent_with=consistent_with
    )
    edges = [
        CustomerEdge(
            cursor=cursor(hit.sort),
            node=Customer.of(hit.customer),
            highlights=[Highlight(field=name, snippets=snippets) for name, snippets in hit.highlights.items()],
        )
        for hit in page.hits
    ]
    return CustomerConnection(
        edges=edges,
        page_info=page_of.page_info([edge.cursor for edge in edges], page.has_more),
        total_count=page.total,
    )


def customer_criteria(
    query: str | None, filter: CustomerFilter | None, sort: list[CustomerSort] | None
) -> CustomerCriteria:
    """The search criteria of the arguments, or a BAD_USER_INPUT error naming what is wrong with them."""
    chosen = filter or CustomerFilter()
    low, high = cents_range(
        "minLifetimeValue", chosen.min_lifetime_value, "maxLifetimeValue", chosen.max_lifetime_value
    )
    for name, count in (("minOrderCount", chosen.min_order_count), ("maxOrderCount", chosen.max_order_count)):
        if count is not None and count < 0:
            raise bad_input(f"filter.{name} must not be negative")
    fewest, most = chosen.min_order_count, chosen.max_order_count
    if fewest is not None and most is not None and fewest > most:
        raise bad_input("filter.minOrderCount must not exceed filter.maxOrderCount")
    registered_from, registered_to = chosen.registered_from, chosen.registered_to
    if registered_from is not None and registered_to is not None and registered_from >= registered_to:
        raise bad_input("filter.registeredFrom must be before filter.registeredTo")
    return CustomerCriteria(
        text=search_text(query),
        registered_from=registered_from,
        registered_to=registered_to,
        min_order_count=chosen.min_order_count,
        max_order_count=chosen.max_order_count,
        min_lifetime_value_cents=low,
        max_lifetime_value_cents=high,
        sort=sort_keys(sort),
    )


async def customer_report(
    info: strawberry.Info[Context, None],
    from_: Annotated[datetime, strawberry.argument(name="from")],
    to: datetime,
    interval: Interval | None = None,
    consistent_with: str | None = None,
) -> CustomerReport:
    permissions.admin(info)
    start, end, chosen = report_period(from_, to, interval)
    read = info.context.read
    await wait_for_token(read, PROJECTION, consistent_with)
    await wait_for_token(read, "orders", consistent_with)
    figures = await read_model_call(info.context, read.customer_reports.report(start, end, chosen.value))
    return CustomerReport(
        new_customers=figures.new_customers,
        ordering_customers=figures.ordering_customers,
        repeat_customers=figures.repeat_customers,
        buckets=[
            CustomerBucket(
                start=bucket.start, new_customers=bucket.new_customers, ordering_customers=bucket.ordering_customers
            )
            for bucket in figures.buckets
        ],
        top_customers=[
            CustomerSales(
                customer=CustomerSummary(
                    id=strawberry.ID(to_global_id("Customer", sales.customer_id)), name=sales.name, email=sales.email
                ),
                order_count=sales.order_count,
                revenue=decimal_from_cents(sales.revenue_cents),
            )
            for sales in figures.top_customers
        ],
    )
