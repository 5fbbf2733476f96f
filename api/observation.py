"""What each request did, for the logs and the metrics: request ids, one log line per request, body limits.

`RequestObserver` wraps the whole application. It gives every request an id (the client's `X-Request-ID`
when it is a sane token, else a fresh one), echoes it in the response, refuses bodies over the configured
size with 413, a body that stalls with 408, says in `Server-Timing: app;dur=<ms>` how long it took to
answer, and when the response is done writes one JSON log line: request id, operation names,
duration, actor, outcome and status. The GraphQL layer fills in what only it knows through the request's
`Observation` (`observation_of`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.types import ExecutionContext

from api.errors import error_body
from api.metrics import Metrics

logger = logging.getLogger("twofold.requests")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Probes and scrapes arrive every few seconds; their lines are debug, not info.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
INTERNAL_ERROR_MESSAGE = "Internal server error."


@dataclass
class Observation:
    request_id: str
    actor: str = "anonymous"
    operations: list[str] = field(default_factory=list)
    error_codes: list[str] = field(default_factory=list)


def observation_of(connection: HTTPConnection) -> Observation:
    found = connection.scope.get("state", {}).get("observation")
    if not isinstance(found, Observation):
        raise RuntimeError("the request passed no RequestObserver")
    return found


# A random UUID's version (4) and variant (RFC 9562) bits.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def request_id(header: str | None) -> str:
    """The client's X-Request-ID when it is a sane token, else a fresh random UUID (version 4). An
    identifier, not a secret: drawn from `random` (seeded from the OS by each process), without uuid4's
    system call, and written out without building a `uuid.UUID` (a third of the time)."""
    if header is not None and _REQUEST_ID.fullmatch(header):
        return header
    digits = "%032x" % ((random.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


# Not a response but a record of one never sent: the client left first (nginx's convention).
CLIENT_CLOSED = 499


class BodyTooLarge(Exception):
    pass


class BodyTooSlow(Exception):
    pass


class ReadDeadlines:
    """The body reads in progress, each with the time by which it must have been answered, and one timer.

    Every read gets the same `timeout`, so the reads in the order they started (a dict's insertion order)
    are in deadline order too: one timer, set for the first, serves them all, and a late read's task is
    cancelled, which its `receive` turns into `BodyTooSlow`. A read answered at once, nearly every one,
    costs two dict operations instead of a timer of its own in the event loop's heap (`asyncio.timeout`):
    0.3 µs instead of 3.8."""

    # A timer may run this much before its time (the loop's clock resolution); a read is late after it.
    _SLACK_SECONDS = 0.001

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._reading: dict[asyncio.Task[Any], float] = {}
        self._late: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def receive(self, receive: Receive) -> Message:
        """`receive()`'s message; `BodyTooSlow` when it did not come within the timeout."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a body is read in a task")
        loop = task.get_loop()
        deadline = self._reading[task] = loop.time() + self.timeout
        if self._timer is None or self._loop is not loop:
            self._loop, self._timer = loop, loop.call_at(deadline, self._expire)
        cancelling = task.cancelling()
        try:
            return await receive()
        except asyncio.CancelledError:
            if task in self._late:
                self._late.discard(task)
                if task.uncancel() <= cancelling:  # cancelled by this timer alone, not from outside too
                    raise BodyTooSlow from None
            raise
        finally:
            del self._reading[task]

    def _expire(self) -> None:
        self._timer = None
        loop = self._loop
        if loop is None:
            return
        now = loop.time() + self._SLACK_SECONDS
        for task, deadline in self._reading.items():
            if deadline > now:
                self._timer = loop.call_at(deadline, self._expire)
                return
            if task not in self._late:
                self._late.add(task)
                task.cancel()


class RequestObserver:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int, read_timeout: float) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.read_timeout = read_timeout
        self.reads = ReadDeadlines(read_timeout)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        observation = Observation(request_id(connection.headers.get("x-request-id")))
        scope.setdefault("state", {})["observation"] = observation
        started = time.perf_counter()
        status = 500
        response_started = False
        received = 0
        body_done = False

        async def counted_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # what follows the body is the wait for a disconnect: no bound on that
                return await receive()
            message = await self.reads.receive(receive)
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def tagged_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", observation.request_id.encode()))
                # How long the server took until it answered, for clients and tests to see without logs.
                took = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", f"app;dur={took:.1f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            declared = connection.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                raise BodyTooLarge
            await self.app(scope, counted_receive, tagged_send)
        except BodyTooLarge:
            if response_started:
                raise
            observation.error_codes.append("PAYLOAD_TOO_LARGE")
            await _send_json_error(
                tagged_send, 413, "PAYLOAD_TOO_LARGE", f"The request body exceeds {self.max_body_bytes} bytes."
            )
        except BodyTooSlow:
            if response_started:
                raise
            observation.error_codes.append("REQUEST_TIMEOUT")
            message = f"The request body did not arrive: nothing came for {self.read_timeout:g} seconds."
            await _send_json_error(tagged_send, 408, "REQUEST_TIMEOUT", message)
        finally:
            if not response_started and "CLIENT_DISCONNECTED" in observation.error_codes:
                status = CLIENT_CLOSED
            self._record(scope, observation, status, time.perf_counter() - started)

    def _record(self, scope: Scope, observation: Observation, status: int, seconds: float) -> None:
        path: str = scope.get("path", "")
        route = path if path in QUIET_PATHS or path == "/graphql" or path.startswith("/graphiql/") else "other"
        if route.startswith("/graphiql/"):
            route = "/graphiql"
        self.metrics.count_http_request(route, status)
        if status >= 400 and not observation.operations:
            # Refused before any operation ran (bad JSON, no token, too large): count its code here.
            for code in observation.error_codes:
                self.metrics.errors.labels(code).inc()
        outcome = "ok" if status < 400 and not observation.error_codes else "error"
        logger.log(
            logging.DEBUG if path in QUIET_PATHS else logging.INFO,
            "%s %s %d",
            scope.get("method", ""),
            path,
            status,
            extra={
                "request_id": observation.request_id,
                "method": scope.get("method", ""),
                "path": path,
                "status": status,
                "operation": ",".join(observation.operations) or None,
                "duration_ms": round(seconds * 1000, 2),
                "actor": observation.actor,
                "outcome": outcome,
                "error_codes": sorted(set(observation.error_codes)),
            },
        )


async def _send_json_error(send: Send, status: int, code: str, message: str) -> None:
    body = error_body(code, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def record_operation(metrics: Metrics, execution: ExecutionContext, seconds: float, errors: list[GraphQLError]) -> None:
    """Counts the operation and its error codes in the metrics, and names both in its request's log line."""
    codes = [str(error.extensions["code"]) for error in errors if error.extensions and "code" in error.extensions]
    try:
        name = execution.operation_name
    except (AttributeError, RuntimeError, GraphQLError):  # the document did not parse
        name = None
    metrics.record_operation(name, seconds, codes)
    request = getattr(execution.context, "request", None)
    if request is not None:
        observation = observation_of(request)
        observation.operations.append(metrics.operation_label(name))
        observation.error_codes.extend(codes)


def coded(error: GraphQLError, *, mask_internal_errors: bool) -> GraphQLError:
    """`error` with a code: its own (`FORBIDDEN`, `BAD_USER_INPUT`, ...); `GRAPHQL_PARSE_FAILED`,
    `GRAPHQL_VALIDATION_FAILED` or `BAD_USER_INPUT` for a request at fault (`request_error_code`);
    `INTERNAL_SERVER_ERROR` for anything unexpected, whose message is replaced by a generic one when
    `mask_internal_errors` is on (production)."""
    if error.extensions and "code" in error.extensions:
        return error
    if error.path is None:
        # Not raised while resolving a field: the request itself is at fault, and the message says how.
        error.extensions = {**(error.extensions or {}), "code": request_error_code(error)}
        return error
    if not mask_internal_errors:
        error.extensions = {**(error.extensions or {}), "code": "INTERNAL_SERVER_ERROR"}
        return error
    return GraphQLError(
        INTERNAL_ERROR_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )


def request_error_code(error: GraphQLError) -> str:
    """The code of an error in the request itself (raised outside any field): the document does not parse,
    a variable does not fit its type, or the document does not validate."""
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "BAD_USER_INPUT" if is_bad_variable(error.message) else "GRAPHQL_VALIDATION_FAILED"


def is_bad_variable(message: str) -> bool:
    """A variable's value that does not fit its type (the document itself is fine)."""
    return message.startswith("Variable '$") and any(
        phrase in message for phrase in ("has invalid value", "got invalid value", "was not provided")
    )
