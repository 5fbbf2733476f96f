"""The customer ports: a lookup by id, and the back office's customer search.

Their Elasticsearch adapters are read_model/adapters/elasticsearch_customers.py and
read_model/adapters/elasticsearch_customer_search.py.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from read_model.views import CustomerView


class AbstractCustomerLookup(abc.ABC):
    @abc.abstractmethod
    async def get(self, customer_id: str) -> CustomerView | None:
        """The customer with this id, read in real time; `None` when the index does not hold it."""


@dataclass(frozen=True, kw_only=True)
class CustomerCriteria:
    text: str | None = None
    registered_from: datetime | None = None  # included
    registered_to: datetime | None = None  # excluded
    min_order_count: int | None = None
    max_order_count: int | None = None
    min_lifetime_value_cents: int | None = None
    max_lifetime_value_cents: int | None = None
    sort: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class CustomerHit:
    customer: CustomerView
    sort: list[Any]
    highlights: dict[str, list[str]]


@dataclass(frozen=True)
class CustomerPage:
    hits: list[CustomerHit]
    total: int
    has_more: bool
    snapshot: str | None = None


class AbstractCustomerSearch(abc.ABC):
    @abc.abstractmethod
    async def search(
        self,
        criteria: CustomerCriteria,
        *,
        size: int,
        search_after: list[Any] | None = None,
        backward: bool = False,
        snapshot: str | None = None,
        pageable: bool = True,
    ) -> CustomerPage:
        """One page of the customers matching `criteria`: the best match first when there is text (a name
        within typos, an exact email, the start of the part before the @), else the newest registration
        first; the id breaks ties. Highlights name the fields that matched, HTML-escaped around `<em>`.
        The pages of one search read one point in time, like the product search's."""


@dataclass(frozen=True)
class CustomerBucketFigures:
    start: datetime
    new_customers: int
    ordering_customers: int


@dataclass(frozen=True)
class CustomerSalesFigures:
    customer_id: str
    name: str
    email: str
    order_count: int
    revenue_cents: int


@dataclass(frozen=True)
class CustomerFigures:
    new_customers: int
    ordering_customers: int
    repeat_customers: int
    buckets: list[CustomerBucketFigures]
    top_customers: list[CustomerSalesFigures]


class AbstractCustomerReports(abc.ABC):
    @abc.abstractmethod
    async def report(self, start: datetime, end: datetime, interval: str) -> CustomerFigures:
        """Customers over [start, end): those who registered, those who placed at least one order that is not
        cancelled (ordering) and two or more (repeat), counted exactly; one bucket per `interval` (the same
        periods as the sales report's) with the first two; and the ten customers with the most revenue from
        their orders placed in the period and not cancelled."""
