"""Expected failures of commands. Each is a type the API maps to a GraphQL error type of the contract."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
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
class TransientConflict(DomainError):
    """The database aborted the transaction for a reason that a retry can cure (serialization, deadlock)."""

    reason: str = field(default="transient conflict")
    code: str = "TRANSIENT_CONFLICT"

    def __post_init__(self) -> None:
        super().__init__(self.reason)


class FieldErrors:
    """Collects the field errors of one input so that all of them are reported at once."""

    def __init__(self) -> None:
        self._errors: list[FieldError] = []

    def add(self, field_name: str, message: str) -> None:
        self._errors.append(FieldError(field_name, message))

    def raise_if_any(self) -> None:
        if self._errors:
            raise ValidationFailed(list(self._errors))
