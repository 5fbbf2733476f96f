"""Subscriptions over WebSocket: the graphql-transport-ws protocol on `/graphql`, with our authentication,
limits, logs and metrics (docs/subscriptions.md lists the limits and every close code).

Strawberry's handler speaks the protocol; this one adds what a public endpoint needs:
- every message is checked before it is acted on: anything but a JSON object of a known type with a
  string id and query closes the connection with 4400, never with a crash;
- the bearer token comes in the `connection_init` payload (`{"Authorization": "Bearer …"}`) under the
  rules of HTTP; a refused token closes with 4403, and so does the token's expiry, when it comes;
- a subscription that needs a token on a connection without one closes it with 4401 (a token can only
  come with `connection_init`), a refused one (someone else's order) gets the protocol's `error` message;
- only subscriptions run here: queries and mutations go over HTTP, where their budgets and limits are;
- each subscription has a cost budget of its own, priced before it starts, as an HTTP request has.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import suppress
from datetime import datetime, timedelta

from graphql import GraphQLError, OperationType, parse
from graphql.language import FieldNode, OperationDefinitionNode
from graphql.utilities import get_operation_ast
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, Operation
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage, Message
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from api.auth import LEEWAY_SECONDS, InvalidBearerToken, actor_from_header
from api.context import Context
from api.cost import RequestBudget
from api.observation import Observation, coded, observation_of
from api.services import services_of

logger = logging.getLogger("twofold.requests")

MAX_ID_LENGTH = 128
SUBSCRIPTION_FIELDS = frozenset({"orderUpdated", "productUpdated", "events"})
_KNOWN_TYPES = frozenset({"connection_init", "ping", "pong", "subscribe", "complete"})
# Close codes of our own beside the protocol's (4400, 4401, 4403, 4406, 4408, 4409, 4429).
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013


class MessageTooBig(Exception):
    pass


class BoundedWebSocketAdapter(ASGIWebSocketAdapter):
    """Reads each message as text, refusing one longer than the connection's limit before decoding it, and
    sends each as text: graphql-transport-ws messages are text frames, whatever bytes the encoder makes."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        limit = services_of(self.ws).settings.ws_max_message_bytes
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                if len(text) > limit:  # characters, at most 4 bytes each: bounded either way
                    raise MessageTooBig
                try:
                    yield self.view.decode_json(text)
                except (ValueError, RecursionError) as exc:
                    raise NonJsonMessageReceived from exc
        except KeyError as exc:  # a binary frame
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass


class TransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """One WebSocket connection speaking graphql-transport-ws; `context` is the connection's."""

    async def handle(self) -> None:
        services = services_of(self.context.request)
        observation = observation_of(self.context.request)
        live = self.context.live
        assert live is not None
        started = time.perf_counter()
        self.sent = 0
        self.close_code: int | None = None
        self.expiry: asyncio.Task[None] | None = None
        if len(live.connections) >= services.settings.ws_max_connections:
            limit = services.settings.ws_max_connections
            await self.close(TRY_AGAIN_LATER, f"Try again later: this server holds its {limit} connections")
            self._log(observation, started)
            return
        live.connections.add(self)
        services.metrics.ws_connections.inc()
        try:
            await super().handle()
        except MessageTooBig:
            limit = services.settings.ws_max_message_bytes
            await self.close(MESSAGE_TOO_BIG, f"A message may be at most {limit} bytes")
        finally:
            if self.expiry is not None:
                self.expiry.cancel()
            live.connections.discard(self)
            services.metrics.ws_connections.dec()
            self._log(observation, started)

    async def close(self, code: int, reason: str) -> None:
        if self.close_code is not None:
            return
        self.close_code = code
        services_of(self.context.request).metrics.ws_closes.labels(str(code)).inc()
        with suppress(RuntimeError, WebSocketDisconnect):  # the client may be gone already
            await self.websocket.close(code=code, reason=reason[:120])  # a close reason is at most 123 bytes

    async def handle_invalid_message(self, error_message: str) -> None:
        await self.close(4400, error_message)

    async def handle_message(self, message: Message) -> None:
        problem = _malformed(message)
        if problem is not None:
            await self.close(4400, problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            await self.close(4400, "The connection_init payload must be an object")
            return
        if self.connection_init_received:
            await self.close(4429, "Too many initialisation requests")
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        self.connection_init_received = True
        services = services_of(self.context.request)
        authorization = (payload or {}).get("Authorization", (payload or {}).get("authorization"))
        try:
            if authorization is not None and not isinstance(authorization, str):
                raise InvalidBearerToken("Authorization must be a string, 'Bearer <token>'")
            actor = actor_from_header(authorization, services.settings.jwt_secret, now=services.clock())
        except InvalidBearerToken as exc:
            await self.close(4403, f"Forbidden: {exc}")
            return
        self.context.actor = actor
        observation_of(self.context.request).actor = actor.label
        if actor.expires_at is not None:
            self.expiry = asyncio.create_task(self._close_at(actor.expires_at + timedelta(seconds=LEEWAY_SECONDS)))
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def _close_at(self, expires_at: datetime) -> None:
        clock = services_of(self.context.request).clock
        while True:  # checked every second against the server's clock, which tests may move
            left = (expires_at - clock()).total_seconds()
            if left <= 0:
                break
            await asyncio.sleep(min(left, 1.0))
        await self.close(4403, "Forbidden: the token has expired; connect again with a new one")
        await self.shutdown()

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Runs one subscription with a budget and a log line of its own; refuses anything else."""
        settings = self.context.settings
        services = services_of(self.context.request)
        try:
            field = _subscription_field(operation.query, operation.operation_name, settings.max_tokens)
        except GraphQLError as unparsed:  # the protocol's answer to a document that does not parse
            self.operations.pop(operation.id, None)
            await self.close(4400, unparsed.message)
            return
        if field is None:
            message = "Only subscriptions run over WebSocket: send queries and mutations as HTTP POST to /graphql."
            await operation.send_initial_errors([GraphQLError(message, extensions={"code": "BAD_REQUEST"})])
            return
        context = dataclasses.replace(
            self.context,
            budget=RequestBudget(settings.max_cost),
            searches=asyncio.Semaphore(settings.max_request_searches),
            request_id=f"{self.context.request_id}/{operation.id[:MAX_ID_LENGTH]}",
        )
        gauge = services.metrics.ws_subscriptions.labels(field)
        gauge.inc()
        started, delivered, outcome = time.perf_counter(), 0, "ok"
        try:
            stream = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
            )
            async with aclosing(stream):
                async for result in stream:
                    if isinstance(result, PreExecutionError):
                        await self._refuse(operation, result.errors or [])
                        outcome = _code_of(result.errors)
                        return
                    if not isinstance(result, ExecutionResult):  # @defer and @stream have no place here
                        await operation.send_initial_errors([GraphQLError("Incremental delivery is not served")])
                        return
                    await operation.send_next(result)
                    delivered += 1
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except asyncio.CancelledError:
            outcome = "completed by client" if self.close_code is None else "closed"
            raise
        except Exception:
            outcome = "INTERNAL_SERVER_ERROR"
            logger.exception("subscription failed", extra={"request_id": context.request_id})
            with suppress(Exception):
                internal = GraphQLError("Internal server error.", extensions={"code": "INTERNAL_SERVER_ERROR"})
                await operation.send_initial_errors([internal])
            raise
        finally:
            gauge.dec()
            logger.info(
                "SUBSCRIPTION %s %s",
                field,
                outcome,
                extra={
                    "request_id": context.request_id,
                    "path": "/graphql",
                    "operation": field,
                    "actor": context.actor.label,
                    "outcome": "ok" if outcome in ("ok", "completed by client", "closed") else "error",
                    "detail": outcome,
                    "messages": delivered,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )

    async def _refuse(self, operation: Operation[Context, None], errors: list[GraphQLError]) -> None:
        # Refused before it ran: the pipeline codes errors as the stream ends, so these get theirs here.
        mask = self.context.settings.production
        errors = [coded(error, mask_internal_errors=mask) for error in errors]
        if _code_of(errors) == "UNAUTHENTICATED":
            self.operations.pop(operation.id, None)
            await self.close(4401, "Unauthorized: this subscription needs a bearer token in connection_init")
            return
        await operation.send_initial_errors(errors)

    async def send_message(self, message: Message) -> None:
        await super().send_message(message)
        self.sent += 1
        services_of(self.context.request).metrics.ws_messages.labels(message["type"]).inc()

    def _log(self, observation: Observation, started: float) -> None:
        logger.info(
            "WEBSOCKET /graphql %s",
            self.close_code if self.close_code is not None else 1000,
            extra={
                "request_id": observation.request_id,
                "method": "WEBSOCKET",
                "path": "/graphql",
                "status": self.close_code if self.close_code is not None else 1000,
                "actor": observation.actor,
                "outcome": "ok" if self.close_code in (None, 1000) else "error",
                "messages": self.sent,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )


def _malformed(message: object) -> str | None:
    """What is wrong with a message, or `None` when it is one this server can act on."""
    if not isinstance(message, dict):
        return "A message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in _KNOWN_TYPES:
        return f"Unknown message type: {str(kind)[:40]!r}"
    if kind in ("subscribe", "complete"):
        identifier = message.get("id")
        if not isinstance(identifier, str) or not 1 <= len(identifier) <= MAX_ID_LENGTH:
            return f"A {kind} message needs an id: a string of 1 to {MAX_ID_LENGTH} characters"
    if kind == "subscribe":
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return "A subscribe message needs a payload with a query string"
        if not isinstance(payload.get("variables") or {}, dict):
            return "variables must be an object"
        if not isinstance(payload.get("operationName") or "", str):
            return "operationName must be a string"
    return None


def _subscription_field(query: str, operation_name: str | None, max_tokens: int) -> str | None:
    """The root field of the subscription `query` asks for (a label for the metrics: one of ours, or
    `other`), or `None` when it asks for a query or a mutation; raises the `GraphQLError` of a document that
    does not parse (or has over `max_tokens` tokens)."""
    document = parse(query, max_tokens=max_tokens)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return "other"
    if operation.operation is not OperationType.SUBSCRIPTION:
        return None
    return _first_field(operation)


def _first_field(operation: OperationDefinitionNode) -> str:
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            return name if name in SUBSCRIPTION_FIELDS else "other"
    return "other"


def _code_of(errors: list[GraphQLError] | None) -> str:
    for error in errors or []:
        if error.extensions and "code" in error.extensions:
            return str(error.extensions["code"])
    return "GRAPHQL_VALIDATION_FAILED"
