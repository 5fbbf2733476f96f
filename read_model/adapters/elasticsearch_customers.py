"""Customer lookups over the `customers` alias."""

from __future__ import annotations

from elasticsearch import AsyncElasticsearch

from read_model.adapters._lookup import get_view
from read_model.indexes import CUSTOMERS, IndexNames
from read_model.search.customers import AbstractCustomerLookup
from read_model.views import CustomerView


class ElasticsearchCustomerLookup(AbstractCustomerLookup):
    def __init__(self, client: AsyncElasticsearch, names: IndexNames) -> None:
        self._client = client
        self._alias = names.alias(CUSTOMERS)

    async def get(self, customer_id: str) -> CustomerView | None:
        return await get_view(self._client, self._alias, customer_id, CustomerView.of)
