"""Opaque cursors over search positions, and page-size rules shared by every connection."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from api.errors import bad_cursor, bad_input


def encode_cursor(sort_values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The search position a cursor holds; a GraphQL error with code BAD_CURSOR when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise bad_cursor() from None
    if not isinstance(values, list) or not values or not all(isinstance(v, str | int | float) for v in values):
        raise bad_cursor()
    return values


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    if first is None:
        return default
    if first < 0:
        raise bad_input("first must not be negative")
    if first > maximum:
        raise bad_input(f"first must be at most {maximum}")
    return first
