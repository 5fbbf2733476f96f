"""What every resolver gets: the read model's services, the command bus, and the request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import HTTPConnection
from strawberry.dataloader import DataLoader

from api.auth import Actor
from api.cost import RequestBudget
from api.live import LiveServices
from api.pagination import Cursors
from api.settings import Settings
from api.write_threads import WriteThreads
from read_model.ports import ReadModel
from read_model.views import CustomerView, ProductView

# A record a query reaches by walking the graph, by its type's name and id: ("Customer", "<uuid>").
RecordKey = tuple[str, str]


class CommandSender(Protocol):
    """What mutations send their commands through: the write model's command bus. Its types are the write
    model's, which query resolvers, importing this module, must not import; api/mutations/_dispatch.py
    calls it with them."""

    def handle(self, command: Any, context: Any) -> Any: ...


@dataclass
class Context:
    settings: Settings
    read: ReadModel
    command_bus: CommandSender
    # The HTTP request, or the WebSocket connection a subscription runs on.
    request: HTTPConnection
    actor: Actor
    request_id: str
    cursors: Cursors
    # Shared by the operations of a batch: one budget, and a bound on the searches running at once.
    budget: RequestBudget
    searches: asyncio.Semaphore
    # The worker threads commands run in, as many as the database pool has connections.
    write_threads: WriteThreads
    # The request's batching loader of the records its query reaches through the graph (api/queries/graph.py).
    records: DataLoader[RecordKey, ProductView | CustomerView | None] | None = None
    # What subscriptions share in this process: set on a WebSocket connection's context only.
    live: LiveServices | None = None
