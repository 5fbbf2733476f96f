"""The ASGI application: GraphQL (with GraphiQL when introspection is on), health, metrics, on Starlette."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api import bootstrap, graphiql_page
from api._heap import freeze_what_was_built
from api.graphql_view import TwofoldGraphQL
from api.health import healthz, metrics, readyz
from api.live import build_live_services
from api.metrics import Metrics, worker_stopped
from api.migrate import head_revision
from api.observation import RequestObserver
from api.pagination import Cursors
from api.persisted_queries import PersistedQueries
from api.schema import build_schema
from api.services import ApiServices
from api.settings import Settings
from api.write_threads import WriteThreads


def create_serving_app(settings: Settings) -> Starlette:
    """`create_app(settings)` for a process that serves it until it exits (`twofold serve` and each of its
    workers), with what it was built from frozen out of the garbage collector's full collections
    (api/_heap.py). Tests build many apps in one process, and use `create_app`."""
    app = create_app(settings)
    freeze_what_was_built()
    return app


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = bootstrap.utc_now) -> Starlette:
    """The application; its lifespan builds the engine, clients and bus from `settings` (default: env).

    `clock` is the time commands are stamped with and bearer tokens are checked against.
    """
    settings = settings or Settings.from_env()
    app_metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = bootstrap.create_engine(settings)
        health_engine = bootstrap.create_health_engine(settings)
        search_client = bootstrap.create_async_search_client(settings)
        read_model = bootstrap.build_read_model(settings, search_client)
        live = build_live_services(read_model, app_metrics, poll_seconds=settings.live_poll_seconds)
        write_threads = WriteThreads(bootstrap.WRITE_THREADS)
        app.state.services = ApiServices(
            settings=settings,
            clock=clock,
            cursors=Cursors(settings.jwt_secret),
            metrics=app_metrics,
            command_bus=bootstrap.build_command_bus(engine, clock=clock),
            read_model=read_model,
            search_client=search_client,
            health_engine=health_engine,
            health_threads=anyio.CapacityLimiter(2),
            head_revision=head_revision(),
            write_threads=write_threads,
            live=live,
            persisted_queries=PersistedQueries(settings.persisted_queries_max_bytes),
        )
        try:
            yield {}
        finally:
            await live.feed.close()
            await search_client.close()
            # Commands still running finish (a stopping server has answered every request it will), then
            # their connections go.
            await asyncio.to_thread(write_threads.close)
            engine.dispose()
            health_engine.dispose()
            worker_stopped()

    graphql = TwofoldGraphQL(
        build_schema(settings, app_metrics),
        # GraphiQL needs introspection: the two go on and off together (on in development, off in production).
        graphql_ide="graphiql" if settings.introspection else None,
        allow_queries_via_get=True,
        # Subscriptions: graphql-transport-ws only (the legacy graphql-ws lets a client skip connection_init).
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        max_subscriptions_per_connection=settings.ws_max_subscriptions,
        allowed_origins=settings.ws_allowed_origins,
    )
    routes = [
        # Every method reaches the view, so that a wrong one gets its JSON 405 rather than a bare one.
        Route("/graphql", graphql, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
    ]
    if settings.introspection:
        routes.append(Route("/graphiql/{name}", graphiql_page.asset))
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(
                RequestObserver,
                metrics=app_metrics,
                max_body_bytes=settings.max_body_bytes,
                read_timeout=settings.read_timeout_seconds,
            )
        ],
        lifespan=lifespan,
    )
