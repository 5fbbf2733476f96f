"""The order search port: order lookups, and order search with status counts.

The Elasticsearch adapter is read_model/adapters/elasticsearch_orders.py.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from read_model.views import OrderView


@dataclass(frozen=True, kw_only=True)
class OrderCriteria:
    text: str | None = None
    customer_id: str | None = None
    product_id: str | None = None
    statuses: tuple[str, ...] = ()
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    min_total_cents: int | None = None
    max_total_cents: int | None = None
    sort: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class OrderPage:
    hits: list[tuple[OrderView, list[Any]]]
    total: int
    has_more: bool
    status_counts: dict[str, int]
    snapshot: str | None = None


class AbstractOrderSearch(abc.ABC):
    @abc.abstractmethod
    async def get(self, order_id: str) -> OrderView | None:
        """The order with this id, read in real time; `None` when the index does not hold it."""

    @abc.abstractmethod
    async def many(self, order_ids: list[str]) -> dict[str, OrderView]:
        """The orders with these ids, read in real time in one request; the ids the index lacks are left out."""

    @abc.abstractmethod
    async def search(
        self,
        criteria: OrderCriteria,
        *,
        size: int,
        search_after: list[Any] | None = None,
        backward: bool = False,
        snapshot: str | None = None,
        pageable: bool = True,
    ) -> OrderPage:
        """One page of the orders matching `criteria` (newest first by default), with the count of each status
        under every criterion but the statuses (so that each status shows what choosing it would give). The
        pages of one search read one point in time, like the product search's."""
