"""Running a command from a resolver: request metadata in, typed outcome out.

The write model's expected failures become the contract's error types here, one small function each, so a
resolver lists exactly the errors its union allows. Unexpected failures become top-level errors with a code.

What each command of a mutation operation wrote is recorded as it commits (`record_writes`; the operation
pipeline, api/pipeline.py, reports it in `extensions.written`): a later field's top-level error nulls the
whole `data` (root mutation fields are non-null), and the answer must still say what was written.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token
from typing import Any

import strawberry
from graphql import GraphQLError

from api.consistency import encode_token
from api.context import Context
from api.errors import graphql_error
from api.ids import InvalidId, from_global_id, to_global_id
from api.types import errors as gql
from api.types.enums import OrderStatus
from api.types.scalars import decimal_text
from write_model.commands import Command, OrderAction, PlaceOrder, RefundOrder, RegisterCustomer, UpdateCustomer
from write_model.domain import errors
from write_model.outbox import CommandContext
from write_model.results import Changed


async def dispatch(
    info: strawberry.Info[Context, None], command: Command, *, idempotency_key: str | None = None
) -> Changed:
    """Run `command` on the write model, in one of the worker threads the context's `write_threads` bounds
    (the write side is synchronous); when all are busy, the command waits its turn without a thread.

    Raises the command's `DomainError`; a database that stays unreachable or keeps conflicting becomes a
    top-level GraphQL error (`DATABASE_UNAVAILABLE`, `WRITE_CONFLICT`) after nothing was written.
    """
    bus = info.context.command_bus
    context = CommandContext(
        actor=info.context.actor.label, request_id=info.context.request_id, idempotency_key=idempotency_key
    )
    try:
        changed: Changed = await info.context.write_threads.run(bus.handle, command, context)
    except errors.TransientConflict:
        raise write_conflict() from None
    except errors.StoreUnavailable:
        raise graphql_error("DATABASE_UNAVAILABLE", "The database is unavailable; nothing was written.") from None
    log = _written.get()
    if log is not None and not changed.replayed:
        log.append(
            {
                "field": str(info.path.key),
                "id": to_global_id(_aggregate_type(command), changed.aggregate_id),
                "version": changed.version,
                "consistencyToken": token_of(changed),
            }
        )
    return changed


# The writes of the mutation operation running in this task (each operation of a batch runs in its own).
_written: ContextVar[list[dict[str, Any]] | None] = ContextVar("written", default=None)


def record_writes(log: list[dict[str, Any]]) -> Token[list[dict[str, Any]] | None]:
    """From now on in this task, the writes of its mutation fields go to `log`: `field` (its alias, if
    any), `id`, `version` and `consistencyToken`. `stop_recording_writes(token)` ends it."""
    return _written.set(log)


def stop_recording_writes(token: Token[list[dict[str, Any]] | None]) -> None:
    _written.reset(token)


def _aggregate_type(command: Command) -> str:
    if isinstance(command, PlaceOrder | OrderAction | RefundOrder):
        return "Order"
    if isinstance(command, RegisterCustomer | UpdateCustomer):
        return "Customer"
    return "Product"


def write_conflict() -> GraphQLError:
    return graphql_error("WRITE_CONFLICT", "The write kept colliding with concurrent writes; nothing was written.")


def token_of(changed: Changed) -> str:
    return encode_token(changed.position.transaction_id, changed.position.position)


class IdFields:
    """Decodes the global ids of one input, collecting a field error for each malformed one."""

    def __init__(self) -> None:
        self.errors = errors.FieldErrors()

    def decode(self, field: str, global_id: str, type_name: str) -> uuid.UUID:
        try:
            return from_global_id(global_id, type_name)[1]
        except InvalidId:
            self.errors.add(field, f"is not a {type_name} id")
            return uuid.UUID(int=0)


def decode_or_not_found(global_id: str, type_name: str) -> uuid.UUID | gql.NotFound:
    """The id inside `global_id`, or the `NotFound` a malformed id deserves (no such thing can exist)."""
    try:
        return from_global_id(global_id, type_name)[1]
    except InvalidId:
        return gql.NotFound(
            message=f"No {type_name} has the id {global_id!r}.", code="NOT_FOUND", id=strawberry.ID(global_id)
        )


def validation_failed(error: errors.ValidationFailed) -> gql.ValidationFailed:
    return gql.ValidationFailed(
        message=error.message,
        code=error.code,
        fields=[gql.FieldError(field=f.field, message=f.message) for f in error.fields],
    )


def not_found(error: errors.NotFound) -> gql.NotFound:
    return gql.NotFound(message=str(error), code=error.code, id=_global(error.aggregate_type, error.id))


def version_conflict(error: errors.VersionConflict) -> gql.VersionConflict:
    return gql.VersionConflict(
        message=str(error),
        code=error.code,
        expected_version=error.expected_version,
        actual_version=error.actual_version,
    )


def duplicate_sku(error: errors.DuplicateSku) -> gql.DuplicateSku:
    return gql.DuplicateSku(message=str(error), code=error.code, sku=error.sku)


def duplicate_email(error: errors.DuplicateEmail) -> gql.DuplicateEmail:
    return gql.DuplicateEmail(message=str(error), code=error.code, email=error.email)


def insufficient_stock(error: errors.InsufficientStock) -> gql.InsufficientStock:
    return gql.InsufficientStock(
        message=str(error),
        code=error.code,
        product_id=_global("Product", error.product_id),
        requested=error.requested,
        available=error.available,
    )


def product_unavailable(error: errors.ProductUnavailable) -> gql.ProductUnavailable:
    return gql.ProductUnavailable(message=str(error), code=error.code, product_id=_global("Product", error.product_id))


def payment_mismatch(error: errors.PaymentMismatch) -> gql.PaymentMismatch:
    return gql.PaymentMismatch(
        message=str(error),
        code=error.code,
        expected=decimal_text(error.expected),
        received=decimal_text(error.received),
    )


def refund_exceeds_payment(error: errors.RefundExceedsPayment) -> gql.RefundExceedsPayment:
    return gql.RefundExceedsPayment(
        message=str(error),
        code=error.code,
        refundable=decimal_text(error.refundable),
        requested=decimal_text(error.requested),
    )


def not_yours(error: errors.NotYours) -> GraphQLError:
    return graphql_error(error.code, str(error))


def invalid_transition(error: errors.InvalidTransition) -> gql.InvalidTransition:
    return gql.InvalidTransition(
        message=str(error), code=error.code, status=OrderStatus(error.status), action=error.action
    )


def _global(type_name: str, id: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(to_global_id(type_name, id))
