"""The record lookup port: products and customers by id, read together in one request, so that a query
walking the graph (an order's buyer, its lines' products) fetches each level at once.

The Elasticsearch adapter is read_model/adapters/elasticsearch_records.py.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field

from read_model.views import CustomerView, ProductView


@dataclass(frozen=True)
class Records:
    products: dict[str, ProductView] = field(default_factory=dict)
    customers: dict[str, CustomerView] = field(default_factory=dict)


class AbstractRecordLookup(abc.ABC):
    @abc.abstractmethod
    async def many(self, *, products: Sequence[str] = (), customers: Sequence[str] = ()) -> Records:
        """The products and customers with these ids, read in real time in one request; the ids the indexes
        do not hold are left out."""
