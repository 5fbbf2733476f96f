"""The price list of api/cost.py: what each field asks of Elasticsearch, and how many items each list may hold."""

from __future__ import annotations

from collections.abc import Mapping

from api.types.enums import Interval

SEARCH, LOOKUP = 10, 2
# What a field asks of Elasticsearch, beside the cost of what it returns.
WORK: Mapping[str, int] = {
    "Query.products": SEARCH,
    "Query.orders": SEARCH,
    "Query.customers": SEARCH,
    "Customer.orders": SEARCH,
    "Query.events": SEARCH,
    "Query.salesReport": 2 * SEARCH,
    "Query.customerReport": 3 * SEARCH,
    "Query.productSuggestions": SEARCH // 2,
    "Query.product": LOOKUP,
    "Query.order": LOOKUP,
    "Query.orderAsOf": 2 * SEARCH,
    "Query.customer": LOOKUP,
    "Query.me": LOOKUP,
    "Query.node": LOOKUP,
    "Query.projections": LOOKUP,
    "Query.outboxConsumers": LOOKUP,
    "ProductConnection.facets": SEARCH,
    "ProductConnection.didYouMean": SEARCH // 2,
    "OrderConnection.statusCounts": SEARCH // 2,
    "ProductChanged.product": LOOKUP,
    "OrderChanged.order": LOOKUP,
    "CustomerChanged.customer": LOOKUP,
}
MUTATION = 10
# How many items each list of objects may hold; the edges of a connection and a report's buckets take
# theirs from the field's arguments (`api.cost._Pricing._extent`).
LIST_BOUNDS: Mapping[str, int] = {
    "Order.lines": 10,
    # An order is paid once; refunds are objects read with the order, priced at a few.
    "Order.payments": 1,
    "Order.refunds": 5,
    "CustomerEdge.highlights": 2,
    "OrderConnection.statusCounts": 6,
    "ProductEdge.highlights": 5,
    "ProductFacets.brands": 100,
    "ProductFacets.categories": 100,
    "ProductFacets.tags": 100,
    "ProductFacets.priceRanges": 7,
    "Query.projections": 4,
    "Query.outboxConsumers": 2,
    "SalesReport.topProducts": 10,
    "CustomerReport.topCustomers": 10,
    "ValidationFailed.fields": 20,
}
SIZED_LISTS = frozenset(
    {
        "CustomerConnection.edges",
        "EventConnection.edges",
        "OrderConnection.edges",
        "ProductConnection.edges",
        "SalesReport.buckets",
        "CustomerReport.buckets",
    }
)
MAX_BUCKETS = 1_000
BUCKET_LENGTH = {
    Interval.HOUR.value: 3_600,
    Interval.DAY.value: 86_400,
    Interval.WEEK.value: 604_800,
    Interval.MONTH.value: 28 * 86_400,
}
DEFAULT_SUGGESTIONS = 10
# The reports, whose buckets are as many as their `from`, `to` and `interval` make.
REPORTS = frozenset({"Query.salesReport", "Query.customerReport"})
