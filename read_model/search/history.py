"""The port for orders as they stood at a past moment, folded from the audit trail.

The Elasticsearch adapter is read_model/adapters/elasticsearch_order_history.py.
"""

from __future__ import annotations

import abc
from datetime import datetime

from read_model.views import OrderView


class AbstractOrderHistory(abc.ABC):
    @abc.abstractmethod
    async def as_of(self, order_id: str, at: datetime) -> OrderView | None:
        """The order as it stood at `at`: its events that occurred until then, and its customer's profile
        changes until then, folded by the orders projection's own code. `None` before it was placed (and for
        an order the audit trail does not hold)."""
