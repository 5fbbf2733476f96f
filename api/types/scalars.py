"""Custom scalars of the contract, registered with the schema through `SCALARS`."""

from __future__ import annotations

from decimal import Decimal as PyDecimal
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

Decimal = NewType("Decimal", str)
"""An exact decimal as text. Inputs stay text so that the domain reports malformed ones per field."""


def decimal_from_cents(cents: int) -> Decimal:
    """The exact decimal text of an amount in integer cents: 1999 is "19.99", -5 is "-0.05"."""
    sign = "-" if cents < 0 else ""
    return Decimal(f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}")


def _parse_decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | PyDecimal):
        raise ValueError('Decimal must be a string such as "19.99"')
    return Decimal(str(value))


SCALARS: dict[object, ScalarDefinition] = {
    Decimal: strawberry.scalar(
        name="Decimal",
        description='An exact decimal number, as a string on the wire (for example "19.99"). Never a float.',
        serialize=str,
        parse_value=_parse_decimal,
    ),
}
