"""The customer report, from the `customers` index (registrations) and the `orders` index (who ordered).

Distinct customers are counted exactly, not estimated: the orders of the period are read as (period,
customer) pairs through a composite aggregation, `PAIRS_PER_PAGE` at a time, so the request count grows
with the customers who ordered in the period (one request per 10,000 pairs) and memory with the distinct
customers among them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from elasticsearch import AsyncElasticsearch

from read_model.adapters._reports import INTERVALS, period_start, periods, whole
from read_model.adapters._search_errors import search_failures
from read_model.indexes import CUSTOMERS, ORDERS, IndexNames
from read_model.search.customers import (
    AbstractCustomerReports,
    CustomerBucketFigures,
    CustomerFigures,
    CustomerSalesFigures,
)

PAIRS_PER_PAGE = 10_000
TOP_CUSTOMERS = 10


class ElasticsearchCustomerReports(AbstractCustomerReports):
    def __init__(self, client: AsyncElasticsearch, names: IndexNames) -> None:
        self._client = client
        self._customers = names.alias(CUSTOMERS)
        self._orders = names.alias(ORDERS)

    async def report(self, start: datetime, end: datetime, interval: str) -> CustomerFigures:
        window = {"gte": start.isoformat(), "lt": end.isoformat()}
        registered = await self._search(
            self._customers,
            {
                "size": 0,
                "track_total_hits": True,
                "query": {"range": {"created_at": window}},
                "aggs": {"periods": periods("created_at", start, end, interval)},
            },
        )
        customers_by_period: Counter[int] = Counter()
        orders_by_customer: Counter[str] = Counter()
        top: list[CustomerSalesFigures] = []
        after: dict[str, Any] | None = None
        while True:
            body: dict[str, Any] = {
                "size": 0,
                "query": {
                    "bool": {
                        "filter": [{"range": {"placed_at": window}}],
                        "must_not": [{"term": {"status": "CANCELLED"}}],
                    }
                },
                "aggs": {"pairs": _pairs(interval, after)},
            }
            if after is None:
                body["aggs"]["top"] = _top_customers()
            page = (await self._search(self._orders, body))["aggregations"]
            for pair in page["pairs"]["buckets"]:
                customers_by_period[pair["key"]["period"]] += 1
                orders_by_customer[pair["key"]["customer"]] += pair["doc_count"]
            if after is None:
                top = [_sales(bucket) for bucket in page["top"]["buckets"]]
            after = page["pairs"].get("after_key")
            if after is None or len(page["pairs"]["buckets"]) < PAIRS_PER_PAGE:
                break
        return CustomerFigures(
            new_customers=registered["hits"]["total"]["value"],
            ordering_customers=len(orders_by_customer),
            repeat_customers=sum(1 for count in orders_by_customer.values() if count >= 2),
            buckets=[
                CustomerBucketFigures(
                    period_start(bucket["key"]), bucket["doc_count"], customers_by_period[bucket["key"]]
                )
                for bucket in registered["aggregations"]["periods"]["buckets"]
            ],
            top_customers=top,
        )

    async def _search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        with search_failures("customer report failed"):
            response = await self._client.search(index=index, body=body)
        found: dict[str, Any] = response.body
        return found


def _pairs(interval: str, after: dict[str, Any] | None) -> dict[str, Any]:
    """One bucket per (period, customer) of the orders: how many orders each customer placed in each."""
    composite: dict[str, Any] = {
        "size": PAIRS_PER_PAGE,
        "sources": [
            {
                "period": {
                    "date_histogram": {
                        "field": "placed_at",
                        "calendar_interval": INTERVALS[interval],
                        "time_zone": "UTC",
                    }
                }
            },
            {"customer": {"terms": {"field": "customer.id"}}},
        ],
    }
    if after is not None:
        composite["after"] = after
    return {"composite": composite}


def _top_customers() -> dict[str, Any]:
    return {
        "terms": {"field": "customer.id", "size": TOP_CUSTOMERS, "order": [{"revenue": "desc"}, {"_key": "asc"}]},
        "aggs": {
            "revenue": {"sum": {"field": "total_cents"}},
            # The name and email the customer's latest order in the period carries.
            "latest": {
                "top_hits": {"size": 1, "sort": [{"placed_at": "desc"}], "_source": ["customer.name", "customer.email"]}
            },
        },
    }


def _sales(bucket: dict[str, Any]) -> CustomerSalesFigures:
    customer = bucket["latest"]["hits"]["hits"][0]["_source"]["customer"]
    return CustomerSalesFigures(
        customer_id=bucket["key"],
        name=customer["name"],
        email=customer["email"],
        order_count=bucket["doc_count"],
        revenue_cents=whole(bucket["revenue"]["value"]),
    )
