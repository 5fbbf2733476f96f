"""How the projector's Elasticsearch adapters read and move an alias."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch


def indexes_behind(client: Elasticsearch, alias: str) -> list[str]:
    """The indexes `alias` points at (none when there is no such alias)."""
    return list(client.indices.get_alias(name=alias)) if client.indices.exists_alias(name=alias) else []


def point_alias(client: Elasticsearch, alias: str, index: str, previous: list[str]) -> None:
    """Moves `alias` from `previous` to `index` in one request: readers see the old index or the new one,
    never neither."""
    actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": alias}} for old in previous]
    client.indices.update_aliases(actions=[*actions, {"add": {"index": index, "alias": alias}}])
