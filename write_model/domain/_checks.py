"""Field rules shared by the aggregates. Each check records a field error instead of raising, so that one
command reports every bad field at once."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from write_model.domain.errors import FieldErrors

CENT = Decimal("0.01")
MAX_PRICE = Decimal("1000000000.00")
# Control characters but tab, newline and carriage return, and UTF-16 surrogates: a lone surrogate has no
# UTF-8 form, so neither PostgreSQL nor Elasticsearch can store it, and NUL is refused by PostgreSQL text.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
UNSTORABLE = "must not contain control characters or unpaired UTF-16 surrogates"


def storable(value: str) -> bool:
    """Whether `value` is text that can be stored and shown as it is: no control characters (but tab,
    newline, carriage return) and no lone surrogates."""
    return _UNSTORABLE.search(value) is None


def check_text(errors: FieldErrors, name: str, value: str, *, required: bool, maximum: int) -> str:
    """`value` without surrounding whitespace; empty (when required), too long or holding what cannot be
    stored (`storable`) is a field error."""
    value = value.strip()
    if not storable(value):
        errors.add(name, UNSTORABLE)
    elif required and not value:
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
