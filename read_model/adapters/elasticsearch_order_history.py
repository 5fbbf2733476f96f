"""Orders as they stood at a past moment: their events read back from the `events` index (the audit
trail) and folded by the orders projection's own code (read_model/projections/orders.py `order_as_of`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from elasticsearch import AsyncElasticsearch

from read_model.adapters._search_errors import search_failures
from read_model.indexes import EVENTS, IndexNames
from read_model.outbox import OutboxRecord
from read_model.projections.orders import CUSTOMER, order_as_of
from read_model.search.history import AbstractOrderHistory
from read_model.views import OrderView

# The events of one aggregate read at once: an order records a handful; a customer's profile changes are as
# many as its renames. Beyond this, the oldest are kept.
MAX_EVENTS = 1_000


class ElasticsearchOrderHistory(AbstractOrderHistory):
    def __init__(self, client: AsyncElasticsearch, names: IndexNames) -> None:
        self._client = client
        self._alias = names.alias(EVENTS)

    async def as_of(self, order_id: str, at: datetime) -> OrderView | None:
        events = await self._events_until(order_id, at, types=())
        if not events or events[0].event_type != "OrderPlaced":
            return None
        customer_id = str(events[0].payload["customer_id"])
        profile_changes = await self._events_until(customer_id, at, types=tuple(sorted(CUSTOMER.event_types)))
        document = order_as_of(events, profile_changes)
        return None if document is None else OrderView.of(document)

    async def _events_until(self, aggregate_id: str, at: datetime, *, types: tuple[str, ...]) -> list[OutboxRecord]:
        filters: list[dict[str, Any]] = [
            {"term": {"aggregate_id": aggregate_id}},
            {"range": {"occurred_at": {"lte": at.isoformat()}}},
        ]
        if types:
            filters.append({"terms": {"type": list(types)}})
        with search_failures("order history failed"):
            response = await self._client.search(
                index=self._alias,
                query={"bool": {"filter": filters}},
                sort=[{"version": "asc"}],
                size=MAX_EVENTS,
                track_total_hits=False,
            )
        # Elasticsearch keeps dates to the millisecond: the events of `at`'s millisecond that came after it are
        # found too, and left out here, to the microsecond the outbox records.
        records = [_record(hit["_source"]) for hit in response["hits"]["hits"]]
        return [record for record in records if record.occurred_at <= at]


def _record(source: dict[str, Any]) -> OutboxRecord:
    return OutboxRecord(
        transaction_id=source["transaction_id"],
        position=source["position"],
        aggregate_type=source["aggregate_type"],
        aggregate_id=UUID(source["aggregate_id"]),
        aggregate_version=source["version"],
        event_type=source["type"],
        payload=source["payload"],
        metadata=source["metadata"],
        occurred_at=datetime.fromisoformat(source["occurred_at"]),
    )
