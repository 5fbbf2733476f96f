"""The projector's Elasticsearch adapter: versioned indexes behind aliases, bulk writes with external versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from read_model.checkpoint import Checkpoint
from read_model.document_store import AbstractDocumentStore, VersionedDocument
from read_model.errors import DocumentsRejected, SearchUnavailable
from read_model.indexes import PROJECTION_STATUS, IndexDefinition, IndexNames
from read_model.projections import Document


class ElasticsearchDocumentStore(AbstractDocumentStore):
    def __init__(self, client: Elasticsearch, names: IndexNames) -> None:
        self._client = client
        self._names = names

    def ensure_index(self, definition: IndexDefinition) -> None:
        alias = self._names.alias(definition)
        try:
            if self._client.indices.exists_alias(name=alias):
                return
            index = self._names.versioned(definition)
            if not self._client.indices.exists(index=index):
                self._client.indices.create(index=index, settings=definition.settings, mappings=definition.mappings)
            self._client.indices.update_aliases(actions=[{"add": {"index": index, "alias": alias}}])
        except (ApiError, TransportError) as exc:
            raise SearchUnavailable(f"cannot prepare index {alias}: {exc}") from exc

    def get_many(self, definition: IndexDefinition, ids: list[str]) -> dict[str, Document]:
        try:
            response = self._client.mget(index=self._names.alias(definition), ids=ids)
        except (ApiError, TransportError) as exc:
            raise SearchUnavailable(f"cannot read documents: {exc}") from exc
        return {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}

    def write_many(self, definition: IndexDefinition, documents: list[VersionedDocument]) -> None:
        alias = self._names.alias(definition)
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
        try:
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
                # 409: the document is already at this version or newer; the write is already done.
                if ok or status == 409:
                    continue
                if 400 <= status < 500 and status != 429:
                    rejected[result["_id"]] = str(result.get("error", {}).get("reason", result.get("error")))
                else:
                    failures.append(result)
            self._client.indices.refresh(index=alias)
        except (ApiError, TransportError) as exc:
            raise SearchUnavailable(f"bulk write to {alias} failed: {exc}") from exc
        if failures:
            raise SearchUnavailable(f"{len(failures)} writes to {alias} failed, first: {failures[0]}")
        if rejected:
            raise DocumentsRejected(alias, rejected)

    def publish_checkpoint(self, projection: str, checkpoint: Checkpoint) -> None:
        try:
            self._client.index(
                index=self._names.alias(PROJECTION_STATUS),
                id=projection,
                document={
                    "name": projection,
                    "transaction_id": checkpoint.transaction_id,
                    "position": checkpoint.position,
                    "updated_at": datetime.now(UTC).isoformat(),
                },
            )
        except (ApiError, TransportError) as exc:
            raise SearchUnavailable(f"cannot publish the checkpoint of {projection}: {exc}") from exc
