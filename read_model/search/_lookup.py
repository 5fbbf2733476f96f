"""Reading one document by id, in real time."""

from __future__ import annotations

from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError, TransportError

from read_model.errors import SearchUnavailable
from read_model.projections import Document


async def get_document(client: AsyncElasticsearch, index: str, doc_id: str) -> Document | None:
    try:
        response = await client.get(index=index, id=doc_id)
    except NotFoundError:
        return None
    except (ApiError, TransportError) as exc:
        raise SearchUnavailable(f"lookup in {index} failed: {exc}") from exc
    source: Document = response["_source"]
    return source
