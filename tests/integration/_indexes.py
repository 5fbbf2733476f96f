"""Reading whole indexes back, and projecting the whole outbox afresh to compare with them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from elasticsearch import Elasticsearch

from api import bootstrap
from api.settings import Settings

INDEXES = ("products", "customers", "orders", "events")


def sources(es: Elasticsearch, index: str) -> dict[str, dict[str, Any]]:
    """Every document of `index` (an alias or an index name), by id, once searchable."""
    es.indices.refresh(index=index)
    hits = es.search(index=index, size=10_000, query={"match_all": {}})["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


@contextlib.contextmanager
def projected_from_scratch(settings: Settings, es: Elasticsearch) -> Iterator[str]:
    """The prefix of fresh indexes holding the whole outbox of `settings`' database, deleted afterwards."""
    fresh = f"r{uuid.uuid4().hex[:10]}_"
    process = bootstrap.build_projector(Settings(**{**settings.__dict__, "index_prefix": fresh}))
    try:
        process.projector.prepare()
        process.projector.run_until_caught_up()
        yield fresh
    finally:
        process.close()
        names = list(es.indices.get(index=f"{fresh}*", expand_wildcards="all"))
        if names:
            es.indices.delete(index=",".join(names))
