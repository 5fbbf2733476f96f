"""Customer read-model types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from api.ids import to_global_id
from api.types.node import Node
from api.types.scalars import Decimal


@strawberry.type
class CustomerSummary:
    id: strawberry.ID
    name: str
    email: str


@strawberry.type
class Customer(Node):
    name: str
    email: str
    version: int
    order_count: int
    lifetime_value: Decimal
    created_at: datetime

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Customer:
        return cls(
            id=strawberry.ID(to_global_id("Customer", doc["id"])),
            name=doc["name"],
            email=doc["email"],
            version=doc["version"],
            order_count=doc["order_count"],
            lifetime_value=Decimal(doc["lifetime_value"]),
            created_at=datetime.fromisoformat(doc["created_at"]),
        )
