"""The sales report: revenue and order counts per UTC interval, and the best-selling products, from the
`orders` index. Cancelled orders are left out; money is summed in integer cents, so totals are exact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from elasticsearch import AsyncElasticsearch

from read_model.adapters._reports import period_start, periods, whole
from read_model.adapters._search_errors import search_failures
from read_model.indexes import ORDERS, IndexNames
from read_model.search.sales import AbstractSalesReports, ProductSalesFigures, SalesBucketFigures, SalesFigures

TOP_PRODUCTS = 10


class ElasticsearchSalesReports(AbstractSalesReports):
    def __init__(self, client: AsyncElasticsearch, names: IndexNames) -> None:
        self._client = client
        self._alias = names.alias(ORDERS)

    async def report(self, start: datetime, end: datetime, interval: str) -> SalesFigures:
        body: dict[str, Any] = {
            "size": 0,
            "track_total_hits": True,
            "query": {
                "bool": {
                    "filter": [{"range": {"placed_at": {"gte": start.isoformat(), "lt": end.isoformat()}}}],
                    "must_not": [{"term": {"status": "CANCELLED"}}],
                }
            },
            "aggs": {
                "revenue": {"sum": {"field": "total_cents"}},
                "refunds": {"sum": {"field": "amount_refunded_cents"}},
                "buckets": {
                    **periods("placed_at", start, end, interval),
                    "aggs": {"revenue": {"sum": {"field": "total_cents"}}},
                },
                "lines": {
                    "nested": {"path": "lines"},
                    "aggs": {
                        "products": {
                            "terms": {
                                "field": "lines.product_id",
                                "size": TOP_PRODUCTS,
                                "order": [{"revenue": "desc"}, {"_key": "asc"}],
                            },
                            "aggs": {
                                "revenue": {"sum": {"field": "lines.line_total_cents"}},
                                "units": {"sum": {"field": "lines.quantity"}},
                                "name": {"terms": {"field": "lines.name.keyword", "size": 1}},
                            },
                        }
                    },
                },
            },
        }
        with search_failures("sales report failed"):
            response = await self._client.search(index=self._alias, body=body)
        aggs = response["aggregations"]
        return SalesFigures(
            revenue_cents=whole(aggs["revenue"]["value"]),
            refund_cents=whole(aggs["refunds"]["value"]),
            order_count=response["hits"]["total"]["value"],
            buckets=[
                SalesBucketFigures(period_start(bucket["key"]), whole(bucket["revenue"]["value"]), bucket["doc_count"])
                for bucket in aggs["buckets"]["buckets"]
            ],
            top_products=[
                ProductSalesFigures(
                    product_id=bucket["key"],
                    name=bucket["name"]["buckets"][0]["key"] if bucket["name"]["buckets"] else "",
                    units_sold=whole(bucket["units"]["value"]),
                    revenue_cents=whole(bucket["revenue"]["value"]),
                )
                for bucket in aggs["lines"]["products"]["buckets"]
            ],
        )
