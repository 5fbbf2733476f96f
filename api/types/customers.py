"""Customer read-model types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.ids import to_global_id
from api.types.node import Node
from api.types.scalars import Decimal, decimal_text
from read_model.views import CustomerView


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
    def of(cls, view: CustomerView) -> Customer:
        return cls(
            id=strawberry.ID(to_global_id("Customer", view.id)),
            name=view.name,
            email=view.email,
            version=view.version,
            order_count=view.order_count,
            lifetime_value=decimal_text(view.lifetime_value),
            created_at=view.created_at,
        )
