"""Products and customers by id, in one multi-get over both aliases."""

from __future__ import annotations

from collections.abc import Sequence

from elasticsearch import AsyncElasticsearch

from read_model.adapters._search_errors import search_failures
from read_model.indexes import CUSTOMERS, PRODUCTS, IndexNames
from read_model.search.records import AbstractRecordLookup, Records
from read_model.views import CustomerView, ProductView


class ElasticsearchRecordLookup(AbstractRecordLookup):
    def __init__(self, client: AsyncElasticsearch, names: IndexNames) -> None:
        self._client = client
        self._products = names.alias(PRODUCTS)
        self._customers = names.alias(CUSTOMERS)

    async def many(self, *, products: Sequence[str] = (), customers: Sequence[str] = ()) -> Records:
        wanted = [(self._products, doc_id) for doc_id in dict.fromkeys(products)]
        wanted += [(self._customers, doc_id) for doc_id in dict.fromkeys(customers)]
        if not wanted:
            return Records()
        with search_failures("record lookup failed"):
            response = await self._client.mget(docs=[{"_index": index, "_id": doc_id} for index, doc_id in wanted])
        records = Records()
        # The answer names the concrete index behind each alias: each doc is matched to its request by place.
        for (index, doc_id), doc in zip(wanted, response["docs"], strict=True):
            if not doc.get("found"):
                continue
            if index == self._products:
                records.products[doc_id] = ProductView.of(doc["_source"])
            else:
                records.customers[doc_id] = CustomerView.of(doc["_source"])
        return records
