"""Customer read-model types."""

from __future__ import annotations

from datetime import datetime

import strawberry

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
