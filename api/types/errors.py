"""Expected failures as data: every mutation result is a union of its success type and these."""

from __future__ import annotations

import strawberry

from api.types.enums import OrderStatus
from api.types.scalars import Decimal


@strawberry.interface(description="An expected failure the client can act on. `code` is stable.")
class UserError:
    message: str
    code: str


@strawberry.type
class FieldError:
    field: str
    message: str


@strawberry.type
class ValidationFailed(UserError):
    fields: list[FieldError]


@strawberry.type
class NotFound(UserError):
    id: strawberry.ID


@strawberry.type
class VersionConflict(UserError):
    expected_version: int
    actual_version: int


@strawberry.type
class DuplicateSku(UserError):
    sku: str


@strawberry.type
class DuplicateEmail(UserError):
    email: str


@strawberry.type
class InsufficientStock(UserError):
    product_id: strawberry.ID
    requested: int
    available: int


@strawberry.type
class ProductUnavailable(UserError):
    product_id: strawberry.ID


@strawberry.type
class InvalidTransition(UserError):
    status: OrderStatus
    action: str


@strawberry.type
class PaymentMismatch(UserError):
    expected: Decimal
    received: Decimal


@strawberry.type
class RefundExceedsPayment(UserError):
    refundable: Decimal
    requested: Decimal
