"""The ASGI application: GraphQL (with GraphiQL in development) and health routes on Starlette."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api import bootstrap
from api.context import Context
from api.health import healthz, readyz
from api.metrics import metrics
from api.migrate import head_revision
from api.schema import build_schema
from api.settings import Environment, Settings


class TwofoldGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = request.app.state
        assert isinstance(request, Request)  # subscriptions are not served
        return Context(settings=state.settings, read=state.read_model, command_bus=state.command_bus, request=request)


def create_app(settings: Settings | None = None) -> Starlette:
    """The application; its lifespan builds the engine, clients and bus from `settings` (default: env)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = bootstrap.create_engine(settings)
        search_client = bootstrap.create_async_search_client(settings)
        app.state.settings = settings
        app.state.engine = engine
        app.state.search_client = search_client
        app.state.head_revision = head_revision()
        app.state.command_bus = bootstrap.build_command_bus(engine)
        app.state.read_model = bootstrap.build_read_model(settings, search_client)
        try:
            yield {}
        finally:
            await search_client.close()
            engine.dispose()

    graphql = TwofoldGraphQL(
        build_schema(),
        graphql_ide="graphiql" if settings.environment is Environment.DEVELOPMENT else None,
        allow_queries_via_get=False,
    )
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
    )
