"""Reading one document by id, in real time."""

from __future__ import annotations

from elasticsearch import AsyncElasticsearch, NotFoundError

from read_model.adapters._search_errors import search_failures
from read_model.projections import Document


async def get_document(client: AsyncElasticsearch, index: str, doc_id: str) -> Document | None:
    with search_failures(f"lookup in {index} failed"):
        try:
            response = await client.get(index=index, id=doc_id)
        except NotFoundError:
            return None
    source: Document = response["_source"]
    return source
