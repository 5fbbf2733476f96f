"""What was paid for an order and what was given back: payments, refunds, and the rules of their fields."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from write_model.commands import PaymentRequest
from write_model.domain._checks import check_price, check_text
from write_model.domain.errors import FieldErrors
from write_model.events import ReturnedLine

MAX_REFERENCE = 200


class PaymentMethod(StrEnum):
    CARD = "CARD"
    BANK_TRANSFER = "BANK_TRANSFER"
    WALLET = "WALLET"
    OTHER = "OTHER"


@dataclass(frozen=True)
class Payment:
    """One payment; `version` is the order's version its event recorded, the answer a retry gets again."""

    amount: Decimal
    method: PaymentMethod
    reference: str | None
    version: int


@dataclass(frozen=True)
class Refund:
    """One refund, with the units that went back to stock; `version` as for `Payment`, and `status` the
    order's then (a refund leaves it as it is), both part of the answer a retry gets again."""

    amount: Decimal
    reference: str | None
    version: int
    returned_lines: tuple[ReturnedLine, ...]
    status: str


@dataclass(frozen=True)
class CheckedPayment:
    amount: Decimal
    method: PaymentMethod
    reference: str


def check_payment(errors: FieldErrors, field: str, request: PaymentRequest) -> CheckedPayment:
    """The payment's fields as the domain keeps them, with a field error for each bad one."""
    amount = check_amount(errors, f"{field}.amount", request.amount)
    try:
        method = PaymentMethod(request.method)
    except ValueError:
        errors.add(f"{field}.method", f"must be one of {', '.join(PaymentMethod)}")
        method = PaymentMethod.OTHER
    reference = check_reference(errors, f"{field}.reference", request.reference)
    return CheckedPayment(amount or Decimal(0), method, reference)


def check_amount(errors: FieldErrors, field: str, raw: str) -> Decimal | None:
    """An amount of money greater than zero, with at most 2 decimals."""
    amount = check_price(errors, field, raw)
    if amount is not None and amount == 0:
        errors.add(field, "must be greater than 0")
        return None
    return amount


def check_reference(errors: FieldErrors, field: str, raw: str) -> str:
    """A payment provider's id: 1 to 200 characters, trimmed."""
    return check_text(errors, field, raw, required=True, maximum=MAX_REFERENCE)
