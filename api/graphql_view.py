"""The `/graphql` endpoint: Strawberry's ASGI view, with our authentication, error bodies and GraphiQL page.

Queries come as a JSON POST, or as a GET (`?query=`, `variables`, `operationName`, `extensions`) that a
shared cache may keep when it is anonymous; either may name its query by hash (automatic persisted
queries, api/persisted_queries.py). Answers are encoded with orjson.

Every refusal is JSON in the GraphQL error shape, `{"errors": [{"message", "extensions": {"code"}}]}`:
400 `BAD_REQUEST` (malformed JSON, no query, too many operations, a bad persisted query), 401
`UNAUTHENTICATED` (a bad token, or a field that needs one without it), 405 `METHOD_NOT_ALLOWED` (a
mutation over GET, a method other than GET and POST), 414 `URI_TOO_LONG`, 415 `UNSUPPORTED_MEDIA_TYPE` (a
POST that is not `application/json`). docs/security.md lists them with the limits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Mapping, MutableMapping
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.http.types import QueryParams
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api import graphiql_page
from api.auth import ANONYMOUS, InvalidBearerToken, actor_from_header
from api.context import Context
from api.cost import Paging, RequestBudget, batch_cost, over_budget
from api.errors import error_body
from api.observation import Observation, observation_of, request_id
from api.persisted_queries import BadPersistedQuery, not_found, requested_hash, resolve
from api.schema import TwofoldSchema
from api.services import services_of
from api.websocket import BoundedWebSocketAdapter, TransportHandler

_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    414: "URI_TOO_LONG",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="twofold"'}
# What each method may carry: only GET and POST get as far as an operation.
_ALLOWED = {"GET": OperationType.from_http("GET"), "POST": OperationType.from_http("POST")}
# A GET's query string: more than proxies and CDNs pass on; a longer query goes by POST, or by its hash.
MAX_QUERY_STRING_BYTES = 32 * 1024


class TwofoldGraphQL(GraphQL[Context, None]):
    """Strawberry's view for GETs (GraphiQL's page and cacheable queries) and WebSockets; a POST, nearly
    every request, takes a way of its own (`_post`) that does what Strawberry's `run` does for it."""

    graphql_transport_ws_handler_class = TransportHandler
    websocket_adapter_class = BoundedWebSocketAdapter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self._stream_transport_map:
            raise ValueError("no streaming HTTP transport is served: subscriptions go over graphql-transport-ws")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            headers = dict(scope.get("headers") or [])
            header = headers.get(b"x-request-id")
            observation = Observation(request_id(None if header is None else header.decode("latin-1")))
            scope.setdefault("state", {})["observation"] = observation
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(_media_type_in_lowercase(scope), receive)
        try:
            if request.method == "POST" and not _is_json(request.headers.get("content-type", "")):
                raise HTTPException(415, "Send the GraphQL request as JSON: Content-Type: application/json.")
            if len(scope["query_string"]) > MAX_QUERY_STRING_BYTES:
                limit = MAX_QUERY_STRING_BYTES
                raise HTTPException(414, f"The URL's query is over {limit} bytes: send the request with POST.")
            response = await (self._post(request) if request.method == "POST" else self.run(request))
        except ClientDisconnect:
            observation_of(request).error_codes.append("CLIENT_DISCONNECTED")
            return  # nobody is left to answer
        except HTTPException as exc:
            code = _CODES.get(exc.status_code, "BAD_REQUEST")
            observation_of(request).error_codes.append(code)
            response = error_response(exc.status_code, code, exc.reason)
            if exc.status_code == 405:
                response.headers["Allow"] = "GET, POST"
        await response(scope, receive, send)

    async def _post(self, request: Request) -> Response:
        """A POST, in the order of Strawberry's `run`: the context (a bad token is refused before the body is
        read), the body's operations, their results, the response. Without what only other methods and
        transports need: request adapters, a sub-response, the GraphiQL check, streamed results."""
        context = await self.get_context(request, None)
        data = self.parse_json(await request.body())
        headers: dict[str, str] = {}  # a POST's answer is not for shared caches: nothing to add
        if isinstance(data, list):
            batch = [_request_data(item) for item in data]
            self._validate_batch_request(batch, protocol="http")
            results = await self._execute_batch(request, batch, context, headers)
            return self._response([process_result(result) for result in results], headers)
        result = await self._execute(request, _request_data(data, checked=True), context, headers)
        return self._response(process_result(result), headers)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        services = services_of(request)
        observation = observation_of(request)
        if isinstance(request, WebSocket):
            # The connection's: the actor is set by its connection_init, each subscription gets its own budget.
            actor, live = ANONYMOUS, services.live
        else:
            try:
                actor = actor_from_header(
                    request.headers.get("authorization"), services.settings.jwt_secret, now=services.clock()
                )
            except InvalidBearerToken as exc:
                raise HTTPException(401, f"The bearer token was refused: {exc}.") from None
            observation.actor, live = actor.label, None
        return Context(
            settings=services.settings,
            read=services.read_model,
            command_bus=services.command_bus,
            request=request,
            actor=actor,
            request_id=observation.request_id,
            cursors=services.cursors,
            budget=RequestBudget(services.settings.max_cost),
            searches=asyncio.Semaphore(services.settings.max_request_searches),
            write_threads=services.write_threads,
            live=live,
        )

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult]:
        headers: dict[str, str] = {}
        if isinstance(request_data, list):
            result: ExecutionResult | list[ExecutionResult] = await self._execute_batch(
                request, request_data, context, headers
            )
        else:
            result = await self._execute(request, request_data, context, headers)
        sub_response.headers.update(headers)
        return result

    async def _execute(
        self, request: Request, data: GraphQLRequestData, context: Context, headers: MutableMapping[str, str]
    ) -> ExecutionResult:
        data = self._resolved(request, data, context, headers)
        return await self._execute_single(request, data, context)

    async def _execute_batch(
        self, request: Request, batch: list[GraphQLRequestData], context: Context, headers: MutableMapping[str, str]
    ) -> list[ExecutionResult]:
        """A batch is priced whole before any of it runs: over the request's budget, none of it runs."""
        batch = [self._resolved(request, data, context, headers) for data in batch]
        if isinstance(self.schema, TwofoldSchema):
            settings, documents = context.settings, self.schema.policy.documents
            total = batch_cost(
                self.schema._schema,
                [(item.query, item.operation_name, item.variables) for item in batch],
                Paging(default=settings.default_page_size, maximum=settings.max_page_size),
                lambda query: documents.get(query).document,
            )
            if total > context.budget.remaining:
                observation_of(request).error_codes.append("COST_LIMIT_EXCEEDED")
                error = over_budget(total, context.budget, what=f"batch of {len(batch)} operations")
                cost = {"requested": total, "budget": context.budget.budget, "remaining": context.budget.remaining}
                return [ExecutionResult(data=None, errors=[error], extensions={"cost": cost}) for _ in batch]
        return list(await asyncio.gather(*(self._execute_single(request, item, context) for item in batch)))

    def _resolved(
        self, request: Request, data: GraphQLRequestData, context: Context, headers: MutableMapping[str, str]
    ) -> GraphQLRequestData:
        """`data` with its persisted query, if it names one by hash. A GET's answer says in `headers` how
        long a shared cache may keep it."""
        try:
            data = _with_query(data, resolve(data.query, data.extensions, services_of(request).persisted_queries))
        except BadPersistedQuery as exc:
            raise HTTPException(400, str(exc)) from None
        if request.method == "GET":
            anonymous = "authorization" not in request.headers
            max_age = context.settings.get_max_age_seconds
            headers["Cache-Control"] = f"public, max-age={max_age}" if anonymous else "private, no-store"
            headers["Vary"] = "Authorization, Accept"
        return data

    async def _execute_single(self, request: Request, data: GraphQLRequestData, context: Context) -> ExecutionResult:
        """One operation. `PersistedQueryNotFound` for a hash this process does not hold; 405 for a mutation
        over GET; 400 for no query, an operation name the document does not hold, or an operation type the
        method does not carry."""
        if data.query is None and requested_hash(data.extensions) is not None:
            error = not_found()
            observation_of(request).error_codes.append(str((error.extensions or {})["code"]))
            return ExecutionResult(data=None, errors=[error])
        method = request.method
        allowed = _ALLOWED[method]
        if not self.allow_queries_via_get and method == "GET":
            allowed = allowed - {OperationType.QUERY}
        try:
            return await self.schema.execute(
                data.query,
                variable_values=data.variables,
                context_value=context,
                operation_name=data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            if method == "GET":
                raise HTTPException(405, "Only queries may be sent with GET: send mutations with POST.") from None
            raise HTTPException(400, exc.as_http_error_reason(method)) from exc
        except MissingQueryError as exc:
            raise HTTPException(400, "No GraphQL query found in the request") from exc

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        """A GET's parameters; `variables` and `extensions`, when given, must be JSON objects."""
        data: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            raw = data.pop(name, None)
            if not raw:
                continue
            try:
                value = json.loads(raw)
            except (ValueError, RecursionError):
                value = None
            if not isinstance(value, dict):
                raise HTTPException(400, f"The `{name}` parameter must be a JSON object.")
            data[name] = value
        return data

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def parse_json(self, data: str | bytes) -> Any:
        """The body, which must be one JSON object (an operation) or a non-empty array of them (a batch)."""
        try:
            parsed = super().parse_json(data)
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not UTF-8.") from None
        except RecursionError:
            raise HTTPException(400, "The request body's JSON is nested too deeply.") from None
        if isinstance(parsed, dict) or (
            isinstance(parsed, list) and parsed and all(isinstance(item, dict) for item in parsed)
        ):
            return parsed
        raise HTTPException(400, "The body must be a JSON object, or a non-empty array of them for a batch.")

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A browser's GET is for the page, `?query=` included (GraphiQL reads it); clients ask for JSON.
        return bool(request.method == "GET" and "text/html" in request.headers.get("accept", ""))

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page.page()

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        return self._response(response_data, sub_response.headers)

    def _response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], headers: Mapping[str, str]
    ) -> Response:
        response = Response(orjson.dumps(response_data), media_type="application/json", headers=headers)
        if "cache-control" in response.headers and _has_errors(response_data):
            response.headers["Cache-Control"] = "no-store"  # an error, PersistedQueryNotFound among them, is not kept
        if _needs_token(response_data):
            # A field that needs a token was asked for without one: HTTP says so too, the body says which.
            response.status_code = 401
            response.headers.update(_CHALLENGE)
        return response


def error_response(status: int, code: str, message: str) -> Response:
    body = error_body(code, message)
    headers = {"Cache-Control": "no-store", **(_CHALLENGE if status == 401 else {})}
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


def _media_type_in_lowercase(scope: Scope) -> Scope:
    """`scope` with its Content-Type's media type in lowercase, as Strawberry compares it: media types are
    case-insensitive (RFC 9110), so `APPLICATION/JSON` is JSON too."""

    def lowered(value: bytes) -> bytes:
        media_type, semicolon, parameters = value.partition(b";")
        return media_type.lower() + semicolon + parameters

    headers = [(name, lowered(value) if name == b"content-type" else value) for name, value in scope["headers"]]
    return {**scope, "headers": headers}


def _request_data(data: dict[str, Any], *, checked: bool = False) -> GraphQLRequestData:
    """The operation `data` holds; with `checked`, BAD_REQUEST when a member has the wrong JSON type (as
    Strawberry checks a single operation; a batch's items go unchecked there too, and fail in execution)."""
    if checked:
        for name, kinds, what in (
            ("query", (str, type(None)), "a string or null"),
            ("variables", (dict, type(None)), "an object or null"),
            ("extensions", (dict, type(None)), "an object or null"),
        ):
            if not isinstance(data.get(name), kinds):
                raise HTTPException(400, f"The GraphQL operation's `{name}` must be {what}, if provided.")
    return GraphQLRequestData(
        query=data.get("query"),
        variables=data.get("variables"),
        operation_name=data.get("operationName"),
        extensions=data.get("extensions"),
        protocol="http",
    )


def _with_query(data: GraphQLRequestData, query: str | None) -> GraphQLRequestData:
    return data if query is data.query else dataclasses.replace(data, query=query)


def _has_errors(data: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> bool:
    return any(response.get("errors") for response in (data if isinstance(data, list) else [data]))


def _needs_token(data: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> bool:
    responses = data if isinstance(data, list) else [data]
    return any(
        isinstance(error, dict) and (error.get("extensions") or {}).get("code") == "UNAUTHENTICATED"
        for response in responses
        for error in response.get("errors") or []
    )
