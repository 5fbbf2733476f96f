"""What the write model raises on purpose, under one root (`WriteModelError`), in two families:

- `DomainError`: a command refused for a reason the caller can act on (bad input, a duplicate, a
  transition the lifecycle forbids). Each is a type the API maps to a GraphQL error type of the contract.
- `StoreFailure`: the store could not do what was asked, through no fault of the command (a conflict with
  concurrent writes that outlasted the retries, a database out of reach). Nothing was written either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID


class WriteModelError(Exception):
    """Root of the write model's own failures."""


class DomainError(WriteModelError):
    """A command was refused for a reason the caller can act on; nothing was written."""

    code: str = "DOMAIN_ERROR"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class ValidationFailed(DomainError):
    """One or more input fields break the rules; `fields` holds one entry per bad field."""

    fields: list[FieldError]
    message: str = "The input is not valid."
    code: str = "VALIDATION_FAILED"

    def __post_init__(self) -> None:
        super().__init__(self.message)


@dataclass
class DuplicateSku(DomainError):
    sku: str
    code: str = "DUPLICATE_SKU"

    def __post_init__(self) -> None:
        super().__init__(f"A product with SKU {self.sku!r} already exists.")


@dataclass
class DuplicateEmail(DomainError):
    email: str
    code: str = "DUPLICATE_EMAIL"

    def __post_init__(self) -> None:
        super().__init__(f"A customer with email {self.email!r} is already registered.")


@dataclass
class NotFound(DomainError):
    """No `aggregate_type` with this id exists."""

    aggregate_type: str
    id: UUID
    code: str = "NOT_FOUND"

    def __post_init__(self) -> None:
        super().__init__(f"{self.aggregate_type} {self.id} does not exist.")


@dataclass
class NotYours(DomainError):
    """A customer acted on an order of another customer's."""

    aggregate_type: str
    id: UUID
    code: str = "FORBIDDEN"

    def __post_init__(self) -> None:
        super().__init__(f"This {self.aggregate_type} belongs to another customer.")


@dataclass
class VersionConflict(DomainError):
    """The command expected the aggregate at `expected_version`, but it has moved on to `actual_version`."""

    expected_version: int
    actual_version: int
    code: str = "VERSION_CONFLICT"

    def __post_init__(self) -> None:
        super().__init__(
            f"Expected version {self.expected_version}, but it is at version {self.actual_version}: "
            "read it again and retry."
        )


@dataclass
class InsufficientStock(DomainError):
    product_id: UUID
    requested: int
    available: int
    code: str = "INSUFFICIENT_STOCK"

    def __post_init__(self) -> None:
        super().__init__(f"Only {self.available} in stock, {self.requested} requested.")


@dataclass
class ProductUnavailable(DomainError):
    """The product is discontinued: it can be neither ordered nor restocked."""

    product_id: UUID
    code: str = "PRODUCT_UNAVAILABLE"

    def __post_init__(self) -> None:
        super().__init__(f"Product {self.product_id} is discontinued.")


@dataclass
class InvalidTransition(DomainError):
    """The order's lifecycle does not allow `action` from `status`."""

    status: str
    action: str
    code: str = "INVALID_TRANSITION"

    def __post_init__(self) -> None:
        super().__init__(f"An order that is {self.status} cannot be {_PAST_TENSE.get(self.action, self.action)}.")


_PAST_TENSE = {
    "pay": "paid",
    "ship": "shipped",
    "deliver": "delivered",
    "cancel": "cancelled",
    "refund": "refunded",
    "expire": "expired",
}


@dataclass
class PaymentMismatch(DomainError):
    """A payment must settle the balance due exactly: `expected` is that balance, `received` what was sent."""

    expected: Decimal
    received: Decimal
    code: str = "PAYMENT_MISMATCH"

    def __post_init__(self) -> None:
        super().__init__(f"The balance due is {self.expected}; a payment of {self.received} does not settle it.")


@dataclass
class RefundExceedsPayment(DomainError):
    """A refund may give back at most what was paid and not yet refunded (`refundable`)."""

    refundable: Decimal
    requested: Decimal
    code: str = "REFUND_EXCEEDS_PAYMENT"

    def __post_init__(self) -> None:
        super().__init__(f"At most {self.refundable} can be refunded; {self.requested} was asked for.")


class StoreFailure(WriteModelError):
    """The store failed the command through no fault of the command's; nothing was written."""


@dataclass
class TransientConflict(StoreFailure):
    """The database aborted the transaction for a reason that a retry can cure (serialization, deadlock)."""

    reason: str = field(default="transient conflict")

    def __post_init__(self) -> None:
        super().__init__(self.reason)


class StoreUnavailable(StoreFailure):
    """The database could not be reached or dropped the connection; nothing was committed."""


class FieldErrors:
    """Collects the field errors of one input so that all of them are reported at once."""

    def __init__(self) -> None:
        self._errors: list[FieldError] = []

    def add(self, field_name: str, message: str) -> None:
        self._errors.append(FieldError(field_name, message))

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_if_any(self) -> None:
        if self._errors:
            raise ValidationFailed(list(self._errors))
