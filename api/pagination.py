"""Opaque cursors over search positions, and page-size rules shared by every connection."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from api.errors import bad_cursor, bad_input


def encode_cursor(sort_values: list[Any], snapshot: str | None = None) -> str:
    """An opaque cursor: a position in a search's sort, and the point in time the search reads, if any."""
    content: object = sort_values if snapshot is None else {"s": sort_values, "p": snapshot}
    return base64.urlsafe_b64encode(json.dumps(content, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The search position a cursor holds; a GraphQL error with code BAD_CURSOR when it is not one of ours."""
    values, _ = decode_position(cursor)
    return values


def decode_position(cursor: str) -> tuple[list[Any], str | None]:
    """The search position and point in time a cursor holds; BAD_CURSOR when it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        content = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise bad_cursor() from None
    snapshot = None
    if isinstance(content, dict):
        values, snapshot = content.get("s"), content.get("p")
        if not isinstance(snapshot, str) or not snapshot:
            raise bad_cursor()
    else:
        values = content
    if not isinstance(values, list) or not values or not all(isinstance(v, str | int | float) for v in values):
        raise bad_cursor()
    return values, snapshot


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    if first is None:
        return default
    if first < 0:
        raise bad_input("first must not be negative")
    if first > maximum:
        raise bad_input(f"first must be at most {maximum}")
    return first
