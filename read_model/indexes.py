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

    def is_version_of(self, index: str, definition: IndexDefinition) -> bool:
        """Whether `index` holds `definition`'s version: its first index, or one a rebuild made of it."""
        versioned = self.versioned(definition)
        return index == versioned or index.startswith(f"{versioned}_")


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

_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date"}
# Money: the exact decimal text kept in `_source` only, and integer cents for sorting, ranges and sums.
_MONEY_TEXT = {"type": "keyword", "index": False, "doc_values": False}
# Kept in the source, neither indexed nor mapped field by field.
_UNINDEXED = {"type": "object", "enabled": False}

CUSTOMERS = IndexDefinition(
    name="customers",
    version=3,
    settings={"number_of_shards": 1, "number_of_replicas": 0, **_TEXT_ANALYSIS},
    mappings={
        "dynamic": "strict",
        "properties": {
            "id": _KEYWORD,
            "name": {"type": "text", "fields": {"keyword": {"type": "keyword", "normalizer": "folded"}}},
            "email": {"type": "keyword", "normalizer": "folded"},
            "version": {"type": "integer"},
            "order_count": {"type": "integer"},
            "lifetime_value": _MONEY_TEXT,
            "lifetime_value_cents": {"type": "long"},
            "average_order_value": _MONEY_TEXT,
            "average_order_value_cents": {"type": "long"},
            "first_order_at": _DATE,
            "last_order_at": _DATE,
            "created_at": _DATE,
            "updated_at": _DATE,
            # Fed by the customer's events and by its orders': the version applied of each order (with what
            # was paid and refunded, and its placing time), and a revision counting the changes (the
            # document's external version).
            "orders": _UNINDEXED,
            "revision": {"type": "long"},
        },
    },
)

ORDERS = IndexDefinition(
    name="orders",
    version=3,
    settings={"number_of_shards": 1, "number_of_replicas": 0, **_TEXT_ANALYSIS},
    mappings={
        "dynamic": "strict",
        "properties": {
            "id": _KEYWORD,
            "customer": {
                "properties": {
                    "id": _KEYWORD,
                    "name": {"type": "text", "fields": {"keyword": {"type": "keyword", "normalizer": "folded"}}},
                    "email": {"type": "keyword", "normalizer": "folded", "fields": {"text": {"type": "text"}}},
                    # The customer's version the name and email are from (a profile change raises it).
                    "version": {"type": "integer"},
                }
            },
            "lines": {
                "type": "nested",
                "properties": {
                    "product_id": _KEYWORD,
                    "sku": {"type": "keyword", "normalizer": "folded"},
                    "name": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
                    "unit_price": _MONEY_TEXT,
                    "unit_price_cents": {"type": "long"},
                    "quantity": {"type": "integer"},
                    "line_total": _MONEY_TEXT,
                    "line_total_cents": {"type": "long"},
                },
            },
            # The lines' products flattened, for filters and full text without nested queries.
            "product_ids": _KEYWORD,
            "skus": {"type": "keyword", "normalizer": "folded"},
            "product_names": {"type": "text"},
            "total": _MONEY_TEXT,
            "total_cents": {"type": "long"},
            "status": _KEYWORD,
            "refund": _MONEY_TEXT,
            "version": {"type": "integer"},
            "placed_at": _DATE,
            "updated_at": _DATE,
            "paid_at": _DATE,
            "shipped_at": _DATE,
            "delivered_at": _DATE,
            "cancelled_at": _DATE,
            # The journey: shown as stored, never searched.
            "shipping_address": _UNINDEXED,
            "payments": _UNINDEXED,
            "refunds": _UNINDEXED,
            "shipment": _UNINDEXED,
            "cancellation_reason": _UNINDEXED,
            "amount_paid": _MONEY_TEXT,
            "amount_paid_cents": {"type": "long"},
            "amount_refunded": _MONEY_TEXT,
            "amount_refunded_cents": {"type": "long"},
        },
    },
)

EVENTS = IndexDefinition(
    name="events",
    version=1,
    settings={"number_of_shards": 1, "number_of_replicas": 0},
    mappings={
        "dynamic": "strict",
        "properties": {
            "transaction_id": {"type": "long"},
            "position": {"type": "long"},
            "aggregate_type": _KEYWORD,
            "aggregate_id": _KEYWORD,
            "version": {"type": "integer"},
            "type": _KEYWORD,
            "occurred_at": _DATE,
            # For the audit trail: kept as written, never searched.
            "payload": _UNINDEXED,
            "metadata": _UNINDEXED,
        },
    },
)

PROJECTION_STATUS = IndexDefinition(
    name="projection_status",
    version=3,
    settings={"number_of_shards": 1, "number_of_replicas": 0},
    mappings={
        "dynamic": "strict",
        "properties": {
            "name": {"type": "keyword"},
            "transaction_id": {"type": "long"},
            "position": {"type": "long"},
            "lag_events": {"type": "long"},
            "lag_seconds": {"type": "double"},
            "dead_letters": {"type": "integer"},
            "updated_at": {"type": "date"},
            # The outbox consumers other than the projector (read_model/consumers.py) report here too.
            "kind": {"type": "keyword"},
            "pending": {"type": "long"},
            "overdue": {"type": "long"},
        },
    },
)
