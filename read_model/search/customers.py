"""The customer lookup port. The Elasticsearch adapter is read_model/adapters/elasticsearch_customers.py."""

from __future__ import annotations

import abc

from read_model.views import CustomerView


class AbstractCustomerLookup(abc.ABC):
    @abc.abstractmethod
    async def get(self, customer_id: str) -> CustomerView | None:
        """The customer with this id, read in real time; `None` when the index does not hold it."""
