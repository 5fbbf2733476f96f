"""The sales report: revenue and order counts per UTC interval, and the best-selling products, from the
`orders` index. Cancelled orders are left out; money is summed in integer cents, so totals are exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import AsyncElasticsearch

from read_model.adapters._search_errors import search_failures
from read_model.indexes import ORDERS, IndexNames
from read_model.search.sales import AbstractSalesReports, ProductSalesFigures, SalesBucketFigures, SalesFigures

INTERVALS = {"HOUR": "hour", "DAY": "day", "WEEK": "week", "MONTH": "month"}
TOP_PRODUCTS = 10


class ElasticsearchSalesReports(AbstractSalesReports):
    def __init__(self, client: AsyncElasticsearch, names: IndexNames) -> None:
        self._client = client
        self._alias = names.alias(ORDERS)

    async def report(self, start: datetime, end: datetime, interval: str) -> SalesFigures:
        last = end - timedelta(milliseconds=1)
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
                "buckets": {
                    "date_histogram": {
                        "field": "placed_at",
                        "calendar_interval": INTERVALS[interval],
                        "time_zone": "UTC",
                        "min_doc_count": 0,
                        "extended_bounds": {"min": start.isoformat(), "max": last.isoformat()},
                    },
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
            revenue_cents=_cents(aggs["revenue"]["value"]),
            order_count=response["hits"]["total"]["value"],
            buckets=[
                SalesBucketFigures(
                    datetime.fromtimestamp(bucket["key"] / 1000, tz=UTC),
                    _cents(bucket["revenue"]["value"]),
                    bucket["doc_count"],
                )
                for bucket in aggs["buckets"]["buckets"]
            ],
            top_products=[
                ProductSalesFigures(
                    product_id=bucket["key"],
                    name=bucket["name"]["buckets"][0]["key"] if bucket["name"]["buckets"] else "",
                    units_sold=_cents(bucket["units"]["value"]),
                    revenue_cents=_cents(bucket["revenue"]["value"]),
                )
                for bucket in aggs["lines"]["products"]["buckets"]
            ],
        )


def _cents(value: float | None) -> int:
    """Sums of integers come back as doubles: exact below 2**53, so rounding only drops the '.0'."""
    return round(value or 0)
