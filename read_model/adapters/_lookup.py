"""Reading one document by id, in real time, as its view."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from elasticsearch import AsyncElasticsearch, NotFoundError

from read_model.adapters._search_errors import search_failures
from read_model.projections import Document

V = TypeVar("V")


async def get_view(client: AsyncElasticsearch, index: str, doc_id: str, view: Callable[[Document], V]) -> V | None:
    """The document `doc_id` of `index` as `view` makes it; `None` when the index does not hold it."""
    with search_failures(f"lookup in {index} failed"):
        try:
            response = await client.get(index=index, id=doc_id)
        except NotFoundError:
            return None
    return view(response["_source"])
