"""Custom scalars of the contract, registered with the schema through `SCALARS`.

Each input scalar decodes at the edge into a value with its bounds, so that a resolver never sees one it
cannot use: a `Decimal` is plain ASCII decimal text in range, a `DateTime` is an aware time in UTC. A value
that does not fit is the standard GraphQL coercion error (`BAD_USER_INPUT` for a variable,
`GRAPHQL_VALIDATION_FAILED` for a literal), whose message says what the scalar takes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal as PyDecimal
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from read_model.money import from_cents

Decimal = NewType("Decimal", str)
"""An exact decimal as text: on input, at most 12 digits before the point and 2 after it."""

DECIMAL_PATTERN = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")
DECIMAL_RULE = (
    'Decimal must be a string of ASCII digits with at most 12 before the point and 2 after it, such as "19.99"'
)
MAX_DATETIME_LENGTH = 40
DATETIME_RULE = 'DateTime must be an ISO 8601 string such as "2026-01-31T12:00:00Z"'


def decimal_text(amount: PyDecimal) -> Decimal:
    """The exact decimal text the API shows of `amount`: Decimal("19.90") is "19.90"."""
    return Decimal(str(amount))


def decimal_from_cents(cents: int) -> Decimal:
    """The exact decimal text of an amount in integer cents: 1999 is "19.99", -5 is "-0.05"."""
    return decimal_text(from_cents(cents))


def parse_decimal(value: object) -> Decimal:
    """Decimal text as the client sent it, when it is one: never a JSON number (a float has lost its
    exactness before we see it), an exponent, NaN, or digits of another script."""
    if not isinstance(value, str) or not DECIMAL_PATTERN.fullmatch(value):
        raise ValueError(DECIMAL_RULE)
    return Decimal(value)


def parse_datetime(value: object) -> datetime:
    """An aware time in UTC: one without an offset is taken as UTC, like every time this API shows, and
    one whose offset takes it outside the years 1 to 9999 is refused."""
    if not isinstance(value, str) or len(value) > MAX_DATETIME_LENGTH:
        raise ValueError(DATETIME_RULE)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(DATETIME_RULE) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{DATETIME_RULE}, within the years 1 to 9999 once in UTC") from None


def serialize_datetime(value: datetime) -> str:
    return value.isoformat()


SCALARS: dict[object, ScalarDefinition] = {
    Decimal: strawberry.scalar(
        name="Decimal",
        description='An exact decimal number, as a string on the wire (for example "19.99"). Never a float.',
        serialize=str,
        parse_value=parse_decimal,
    ),
    datetime: strawberry.scalar(
        name="DateTime",
        description="A date with time as ISO 8601 text: in UTC on output; taken as UTC on input without an offset.",
        serialize=serialize_datetime,
        parse_value=parse_datetime,
    ),
}
