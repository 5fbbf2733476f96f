"""What every resolver gets: the read model's services, the command bus, and the request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import anyio
from starlette.requests import Request

from api.auth import Actor
from api.cost import RequestBudget
from api.pagination import Cursors
from api.settings import Settings
from read_model.consistency import ConsistencyWaiter
from read_model.search.customers import AbstractCustomerLookup
from read_model.search.events import AbstractEventSearch
from read_model.search.orders import AbstractOrderSearch
from read_model.search.products import AbstractProductSearch
from read_model.search.sales import AbstractSalesReports
from read_model.status import AbstractProjectionStatus


@dataclass(frozen=True)
class ReadModel:
    """The query side: searches and the read-your-writes waiter. Reads Elasticsearch only."""

    products: AbstractProductSearch
    orders: AbstractOrderSearch
    customers: AbstractCustomerLookup
    events: AbstractEventSearch
    sales: AbstractSalesReports
    consistency: ConsistencyWaiter
    projections: AbstractProjectionStatus


@dataclass
class Context:
    settings: Settings
    read: ReadModel
    # The write side's command bus. Typed as `object` here so that query resolvers, which import this
    # module, stay free of the write model; mutation resolvers narrow it (api/mutations/_dispatch.py).
    command_bus: object
    request: Request
    actor: Actor
    request_id: str
    cursors: Cursors
    # Shared by the operations of a batch: one budget, and a bound on the searches running at once.
    budget: RequestBudget
    searches: asyncio.Semaphore
    # The worker threads commands run in, as many as the database pool has connections.
    write_threads: anyio.CapacityLimiter
