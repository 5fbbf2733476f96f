"""The projector's Elasticsearch adapter: versioned indexes behind aliases, bulk writes with external versions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from read_model.adapters._aliases import indexes_behind, point_alias
from read_model.adapters._search_errors import search_failures
from read_model.checkpoint import ProjectionState
from read_model.consumers import ConsumerState
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.errors import DocumentsRejected, IndexOutdated, SearchUnavailable
from read_model.indexes import PROJECTION_STATUS, IndexDefinition, IndexNames
from read_model.projections import Document

# A bulk request is retried on these statuses (Elasticsearch is busy or restarting), with backoff.
RETRY_ON_STATUS = (429, 502, 503, 504)


class ElasticsearchDocumentStore(AbstractDocumentStore):
    """Reads and writes each index through its alias, or through the concrete index `targets` names for
    it (a rebuild fills a new index before the alias moves to it)."""

    def __init__(self, client: Elasticsearch, names: IndexNames, targets: dict[str, str] | None = None) -> None:
        self._client = client
        self._names = names
        self._targets = dict(targets or {})

    def _target(self, definition: IndexDefinition) -> str:
        return self._targets.get(definition.name) or self._names.alias(definition)

    def ensure_index(self, definition: IndexDefinition) -> None:
        alias = self._names.alias(definition)
        index = self._names.versioned(definition)
        with search_failures(f"cannot prepare index {alias}"):
            current = indexes_behind(self._client, alias)
            if len(current) == 1 and self._names.is_version_of(current[0], definition):
                return
            if current and definition.name != PROJECTION_STATUS.name:
                raise IndexOutdated(alias, current, index, definition.name)
            if not self._client.indices.exists(index=index):
                self._client.indices.create(index=index, settings=definition.settings, mappings=definition.mappings)
            # The status index only holds what the projector republishes at once: it moves to a new version
            # as soon as the code has one.
            point_alias(self._client, alias, index, current)

    def get_many(self, definition: IndexDefinition, ids: list[str]) -> dict[str, Document]:
        with search_failures("cannot read documents"):
            response = self._client.mget(index=self._target(definition), ids=ids)
        return {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}

    def write_many(self, definition: IndexDefinition, documents: list[VersionedDocument]) -> set[str]:
        target = self._target(definition)
        actions = (
            {
                "_op_type": "index",
                "_index": target,
                "_id": document.id,
                "version": document.version,
                "version_type": "external",
                "_source": document.source,
            }
            for document in documents
        )
        failures: list[dict[str, Any]] = []
        rejected: dict[str, str] = {}
        conflicts: set[str] = set()
        with search_failures(f"bulk write to {target} failed"):
            for result in _failed_items(self._client, actions):
                status = result.get("status", 500)
                if status == 409:  # the document is already at this version or newer
                    conflicts.add(result["_id"])
                elif 400 <= status < 500 and status != 429:
                    rejected[result["_id"]] = str(result.get("error", {}).get("reason", result.get("error")))
                else:
                    failures.append(result)
        if failures:
            raise SearchUnavailable(f"{len(failures)} writes to {target} failed, first: {failures[0]}")
        if rejected:
            raise DocumentsRejected(target, rejected)
        return conflicts

    def carrying(
        self, definition: IndexDefinition, field: str, id: str, *, below: int, after: str | None, size: int
    ) -> list[tuple[str, Document]]:
        # `_id` cannot be sorted on (no field data): the documents' own `id` keyword orders the pages.
        with search_failures(f"cannot find the documents carrying {id}"):
            response = self._client.search(
                index=self._target(definition),
                query={
                    "bool": {"filter": [{"term": {f"{field}.id": id}}, {"range": {f"{field}.version": {"lt": below}}}]}
                },
                sort=[{"id": "asc"}],
                search_after=None if after is None else [after],
                size=size,
                track_total_hits=False,
            )
        return [(hit["_id"], hit["_source"]) for hit in response["hits"]["hits"]]

    def make_searchable(self, definitions: Sequence[IndexDefinition]) -> None:
        targets = sorted({self._target(definition) for definition in definitions})
        if not targets:
            return
        with search_failures(f"cannot refresh {', '.join(targets)}"):
            self._client.indices.refresh(index=",".join(targets))

    def publish_status(self, states: Sequence[ProjectionState]) -> None:
        if not states:
            return
        published_at = datetime.now(UTC).isoformat()
        actions = (
            {
                "_op_type": "index",
                "_index": self._names.alias(PROJECTION_STATUS),
                "_id": state.name,
                "_source": {
                    "name": state.name,
                    "transaction_id": state.checkpoint.transaction_id,
                    "position": state.checkpoint.position,
                    "lag_events": state.lag_events,
                    "lag_seconds": state.lag_seconds,
                    "dead_letters": state.dead_letters,
                    "updated_at": published_at,
                },
            }
            for state in states
        )
        with search_failures(f"cannot publish the status of {', '.join(state.name for state in states)}"):
            failed = list(_failed_items(self._client, actions))
        if failed:
            raise SearchUnavailable(f"cannot publish the status of {len(failed)} projections, first: {failed[0]}")

    def publish_consumers(self, states: Sequence[ConsumerState]) -> None:
        if not states:
            return
        actions = (
            {
                "_op_type": "index",
                "_index": self._names.alias(PROJECTION_STATUS),
                "_id": state.name,
                "_source": {
                    "name": state.name,
                    "kind": state.kind,
                    "transaction_id": state.checkpoint.transaction_id,
                    "position": state.checkpoint.position,
                    "lag_events": state.lag_events,
                    "lag_seconds": state.lag_seconds,
                    "dead_letters": state.dead_letters,
                    "pending": state.pending,
                    "overdue": state.overdue,
                    "updated_at": state.updated_at.isoformat(),
                },
            }
            for state in states
        )
        with search_failures(f"cannot publish the reports of {', '.join(state.name for state in states)}"):
            failed = list(_failed_items(self._client, actions))
        if failed:
            raise SearchUnavailable(f"cannot publish {len(failed)} outbox consumers' reports, first: {failed[0]}")


def _failed_items(client: Elasticsearch, actions: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Send `actions` in bulk (retrying whole chunks on a busy or restarting cluster); the items that failed."""
    for ok, item in helpers.streaming_bulk(
        client,
        actions,
        raise_on_error=False,
        max_retries=5,
        initial_backoff=0.2,
        max_backoff=5,
        retry_on_status=RETRY_ON_STATUS,
    ):
        if not ok:
            yield item["index"]
