"""Index definitions kept in code: each index is read and written through an alias over a versioned index.

The Elasticsearch distribution the project runs has only the server's core analysis: no stemmers, no
asciifolding, no edge n-grams, no scaled_float. Money is therefore indexed as integer cents (exact in
aggregations), while `_source` keeps the exact decimal text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class IndexDefinition:
    name: str
    version: int
    settings: dict[str, Any]
    mappings: dict[str, Any]


@dataclass(frozen=True)
class IndexNames:
    """Concrete names under a prefix, so that tests and several deployments can share one cluster."""

    prefix: str

    def alias(self, definition: IndexDefinition) -> str:
        return f"{self.prefix}{definition.name}"

    def versioned(self, definition: IndexDefinition) -> str:
        return f"{self.prefix}{definition.name}_v{definition.version}"


_TEXT_ANALYSIS = {
    "analysis": {
        "normalizer": {"folded": {"type": "custom", "filter": ["lowercase"]}},
        "analyzer": {
            "shingled": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "shingles"]},
        },
        "filter": {"shingles": {"type": "shingle", "min_shingle_size": 2, "max_shingle_size": 3}},
    }
}

PRODUCTS = IndexDefinition(
    name="products",
    version=1,
    settings={"number_of_shards": 1, "number_of_replicas": 0, **_TEXT_ANALYSIS},
    mappings={
        "dynamic": "strict",
        "properties": {
            "id": {"type": "keyword"},
            "sku": {"type": "keyword", "normalizer": "folded"},
            "name": {
                "type": "text",
                "fields": {
                    "keyword": {"type": "keyword", "normalizer": "folded"},
                    "shingles": {"type": "text", "analyzer": "shingled"},
                },
            },
            "description": {"type": "text"},
            "brand": {"type": "keyword", "fields": {"text": {"type": "text"}}},
            "category": {"type": "keyword", "fields": {"text": {"type": "text"}}},
            "tags": {"type": "keyword", "fields": {"text": {"type": "text"}}},
            "price": {"type": "keyword", "index": False, "doc_values": False},
            "price_cents": {"type": "long"},
            "stock": {"type": "integer"},
            "in_stock": {"type": "boolean"},
            "status": {"type": "keyword"},
            "version": {"type": "integer"},
            "created_at": {"type": "date"},
            "updated_at": {"type": "date"},
            "suggest": {"type": "completion"},
        },
    },
)

PROJECTION_STATUS = IndexDefinition(
    name="projection_status",
    version=1,
    settings={"number_of_shards": 1, "number_of_replicas": 0},
    mappings={
        "dynamic": "strict",
        "properties": {
            "name": {"type": "keyword"},
            "transaction_id": {"type": "long"},
            "position": {"type": "long"},
            "updated_at": {"type": "date"},
        },
    },
)
