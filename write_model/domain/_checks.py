"""Field rules shared by the aggregates. Each check records a field error instead of raising, so that one
command reports every bad field at once."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from write_model.domain.errors import FieldErrors

CENT = Decimal("0.01")
MAX_PRICE = Decimal("1000000000.00")


def check_text(errors: FieldErrors, name: str, value: str, *, required: bool, maximum: int) -> str:
    """`value` without surrounding whitespace; empty (when required) or too long is a field error."""
    value = value.strip()
    if required and not value:
        errors.add(name, "must not be empty")
    elif len(value) > maximum:
        errors.add(name, f"must be at most {maximum} characters")
    return value


def check_range(errors: FieldErrors, name: str, value: int, *, minimum: int, maximum: int) -> None:
    if not minimum <= value <= maximum:
        errors.add(name, f"must be between {minimum} and {maximum}")


def check_price(errors: FieldErrors, name: str, raw: str) -> Decimal | None:
    """Parses a price from its decimal text, so that malformed input is a field error like any other."""
    try:
        price = Decimal(raw.strip())
    except InvalidOperation:
        price = Decimal("NaN")
    if not price.is_finite():
        errors.add(name, "must be a decimal number such as 19.99")
        return None
    if price < 0:
        errors.add(name, "must not be negative")
        return None
    if price > MAX_PRICE:
        errors.add(name, f"must be at most {MAX_PRICE}")
        return None
    if price != price.quantize(CENT):
        errors.add(name, "must have at most 2 decimal places")
        return None
    return price.quantize(CENT)
