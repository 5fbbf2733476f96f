"""Whether Elasticsearch is reachable."""

from __future__ import annotations

from elasticsearch import ApiError, AsyncElasticsearch, TransportError


async def check_search(client: AsyncElasticsearch) -> tuple[bool, str]:
    """(ready, detail). Never raises: an unreachable cluster is an answer, not an error."""
    try:
        health = await client.cluster.health()
    except (ApiError, TransportError) as exc:
        return False, f"unreachable: {type(exc).__name__}"
    status = health["status"]
    return status in ("green", "yellow"), f"cluster {status}"
