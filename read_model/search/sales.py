"""The sales report port: revenue and order counts of a period. The Elasticsearch adapter is
read_model/adapters/elasticsearch_sales.py."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SalesBucketFigures:
    start: datetime
    revenue_cents: int
    order_count: int


@dataclass(frozen=True)
class ProductSalesFigures:
    product_id: str
    name: str
    units_sold: int
    revenue_cents: int


@dataclass(frozen=True)
class SalesFigures:
    revenue_cents: int
    refund_cents: int  # what was refunded of the same orders
    order_count: int
    buckets: list[SalesBucketFigures]
    top_products: list[ProductSalesFigures]


class AbstractSalesReports(abc.ABC):
    @abc.abstractmethod
    async def report(self, start: datetime, end: datetime, interval: str) -> SalesFigures:
        """Orders placed in [start, end), not cancelled: totals (revenue, and what was refunded of them), one
        bucket per `interval` (HOUR, DAY, WEEK from Monday, MONTH; in UTC, empty ones included) and the ten
        products with the most revenue."""
