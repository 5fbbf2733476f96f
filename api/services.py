"""What the API's requests use, built once by the application's lifespan (api/app.py) and typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import anyio
import sqlalchemy as sa
from elasticsearch import AsyncElasticsearch
from starlette.requests import HTTPConnection

from api.pagination import Cursors
from api.persisted_queries import PersistedQueries
from api.settings import Settings
from api.write_threads import WriteThreads
from read_model.ports import ReadModel
from write_model.bus import CommandBus

if TYPE_CHECKING:  # api.metrics and api.live read their services from here
    from api.live import LiveServices
    from api.metrics import Metrics


@dataclass(frozen=True)
class ApiServices:
    settings: Settings
    # The time commands are stamped with and bearer tokens are checked against.
    clock: Callable[[], datetime]
    cursors: Cursors
    metrics: Metrics
    command_bus: CommandBus
    read_model: ReadModel
    search_client: AsyncElasticsearch
    # The readiness check's own connection and threads: it never queues behind commands (api/health.py).
    health_engine: sa.Engine
    health_threads: anyio.CapacityLimiter
    head_revision: str
    # The threads commands run in, as many as the pool has connections; beyond them, commands wait here.
    write_threads: WriteThreads
    # What the process's subscriptions share: its one watcher of the projections' progress.
    live: LiveServices
    # The query texts automatic persisted queries name by hash, this process's (api/persisted_queries.py).
    persisted_queries: PersistedQueries


def services_of(connection: HTTPConnection) -> ApiServices:
    services = connection.app.state.services
    if not isinstance(services, ApiServices):
        raise RuntimeError("the application's lifespan has not run")
    return services
