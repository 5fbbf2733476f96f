"""Money as the read model stores it: beside each amount's exact decimal text, its integer cents, which
Elasticsearch sorts, filters and sums exactly."""

from __future__ import annotations

from decimal import Decimal


def cents(amount: Decimal) -> int:
    """Exact integer cents of an amount with at most two decimals: 19.99 is 1999."""
    return int(amount * 100)


def from_cents(cents: int) -> Decimal:
    """The amount `cents` stand for, with its two decimals: 1999 is 19.99, -5 is -0.05, 0 is 0.00."""
    return Decimal(cents).scaleb(-2)
