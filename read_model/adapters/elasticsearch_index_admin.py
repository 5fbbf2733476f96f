"""A rebuild's Elasticsearch adapter: a new concrete index beside the live one, then the alias moved to it."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from read_model.adapters._aliases import indexes_behind, point_alias
from read_model.adapters._search_errors import search_failures
from read_model.indexes import IndexDefinition, IndexNames
from read_model.rebuild import AbstractIndexAdmin


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
            previous = indexes_behind(self._client, alias)
            point_alias(self._client, alias, index, previous)
        return previous
