"""The projector's Elasticsearch adapter: versioned indexes behind aliases, bulk writes with external versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from read_model.adapters._search_errors import search_failures
from read_model.checkpoint import ProjectionState
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.errors import DocumentsRejected, ReadModelError, SearchUnavailable
from read_model.indexes import PROJECTION_STATUS, IndexDefinition, IndexNames
from read_model.projections import Document
from read_model.rebuild import AbstractIndexAdmin


class IndexOutdated(ReadModelError):
    """The alias points at another version of the index than the code defines: the index must be rebuilt."""

    def __init__(self, alias: str, current: list[str], wanted: str, projection: str) -> None:
        super().__init__(
            f"{alias} points at {', '.join(current)}, but this version of Twofold defines {wanted}: "
            f"run `twofold rebuild {projection}` with this version"
        )


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
            current = _indexes_behind(self._client, alias)
            if len(current) == 1 and self._names.is_version_of(current[0], definition):
                return
            if current and definition.name != PROJECTION_STATUS.name:
                raise IndexOutdated(alias, current, index, definition.name)
            if not self._client.indices.exists(index=index):
                self._client.indices.create(index=index, settings=definition.settings, mappings=definition.mappings)
            # The status index only holds what the projector republishes at once: it moves to a new version
            # as soon as the code has one.
            _point_alias(self._client, alias, index, current)

    def get_many(self, definition: IndexDefinition, ids: list[str]) -> dict[str, Document]:
        with search_failures("cannot read documents"):
            response = self._client.mget(index=self._target(definition), ids=ids)
        return {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}

    def write_many(self, definition: IndexDefinition, documents: list[VersionedDocument]) -> set[str]:
        alias = self._target(definition)
        actions = (
            {
                "_op_type": "index",
                "_index": alias,
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
        with search_failures(f"bulk write to {alias} failed"):
            for ok, item in helpers.streaming_bulk(
                self._client,
                actions,
                raise_on_error=False,
                max_retries=5,
                initial_backoff=0.2,
                max_backoff=5,
                retry_on_status=(429, 502, 503, 504),
            ):
                result = item["index"]
                status = result.get("status", 500)
                if ok:
                    continue
                if status == 409:  # the document is already at this version or newer
                    conflicts.add(result["_id"])
                    continue
                if 400 <= status < 500 and status != 429:
                    rejected[result["_id"]] = str(result.get("error", {}).get("reason", result.get("error")))
                else:
                    failures.append(result)
            self._client.indices.refresh(index=alias)
        if failures:
            raise SearchUnavailable(f"{len(failures)} writes to {alias} failed, first: {failures[0]}")
        if rejected:
            raise DocumentsRejected(alias, rejected)
        return conflicts

    def publish_status(self, state: ProjectionState) -> None:
        with search_failures(f"cannot publish the status of {state.name}"):
            self._client.index(
                index=self._names.alias(PROJECTION_STATUS),
                id=state.name,
                document={
                    "name": state.name,
                    "transaction_id": state.checkpoint.transaction_id,
                    "position": state.checkpoint.position,
                    "lag_events": state.lag_events,
                    "lag_seconds": state.lag_seconds,
                    "dead_letters": state.dead_letters,
                    "updated_at": datetime.now(UTC).isoformat(),
                },
            )


class ElasticsearchIndexAdmin(AbstractIndexAdmin):
    def __init__(self, client: Elasticsearch, names: IndexNames) -> None:
        self._client = client
        self._names = names

    def create_version(self, definition: IndexDefinition, suffix: str) -> str:
        index = f"{self._names.versioned(definition)}_{suffix}"
        with search_failures(f"cannot create {index}"):
            self._client.indices.create(index=index, settings=definition.settings, mappings=definition.mappings)
        return index

    def swap_alias(self, definition: IndexDefinition, index: str) -> list[str]:
        alias = self._names.alias(definition)
        with search_failures(f"cannot move {alias} to {index}"):
            self._client.indices.refresh(index=index)
            previous = _indexes_behind(self._client, alias)
            _point_alias(self._client, alias, index, previous)
        return previous


def _indexes_behind(client: Elasticsearch, alias: str) -> list[str]:
    """The indexes `alias` points at (none when there is no such alias)."""
    return list(client.indices.get_alias(name=alias)) if client.indices.exists_alias(name=alias) else []


def _point_alias(client: Elasticsearch, alias: str, index: str, previous: list[str]) -> None:
    """Moves `alias` from `previous` to `index` in one request: readers see the old index or the new one,
    never neither."""
    actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": alias}} for old in previous]
    client.indices.update_aliases(actions=[*actions, {"add": {"index": index, "alias": alias}}])
