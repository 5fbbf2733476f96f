"""Running a command from a resolver: request metadata in, typed outcome out."""

from __future__ import annotations

import re
import uuid

import strawberry
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from api.consistency import encode_token
from api.context import Context
from api.types import errors as gql
from write_model.bus import CommandBus
from write_model.commands import Command
from write_model.domain.errors import ValidationFailed
from write_model.handlers import Changed
from write_model.outbox import CommandContext

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(request: Request) -> str:
    """The client's X-Request-ID when it is a sane token, else a fresh one."""
    header = request.headers.get("x-request-id", "")
    return header if _REQUEST_ID.fullmatch(header) else str(uuid.uuid4())


async def dispatch(
    info: strawberry.Info[Context, None], command: Command, *, idempotency_key: str | None = None
) -> Changed:
    """Run `command` on the write model (in a worker thread: the write side is synchronous)."""
    bus = info.context.command_bus
    if not isinstance(bus, CommandBus):
        raise TypeError("the context carries no command bus")
    context = CommandContext(
        actor="anonymous",
        correlation_id=request_id(info.context.request),
        idempotency_key=idempotency_key,
    )
    return await run_in_threadpool(bus.handle, command, context)


def token_of(changed: Changed) -> str:
    return encode_token(changed.position.transaction_id, changed.position.position)


def validation_failed(error: ValidationFailed) -> gql.ValidationFailed:
    return gql.ValidationFailed(
        message=error.message,
        code=error.code,
        fields=[gql.FieldError(field=f.field, message=f.message) for f in error.fields],
    )
