from __future__ import annotations

from decimal import Decimal

import pytest

from api.types.scalars import decimal_from_cents
from read_model.money import cents, from_cents


@pytest.mark.parametrize(
    ("amount", "in_cents", "text"),
    [
        ("19.99", 1999, "19.99"),
        ("0", 0, "0.00"),
        ("-0.05", -5, "-0.05"),
        ("7.5", 750, "7.50"),
        ("1e9", 10**11, "1000000000.00"),
    ],
)
def test_amounts_and_their_cents_round_trip_exactly(amount: str, in_cents: int, text: str) -> None:
    assert cents(Decimal(amount)) == in_cents
    assert from_cents(in_cents) == Decimal(amount)
    assert str(from_cents(in_cents)) == text
    assert decimal_from_cents(in_cents) == text
