"""Relay global ids: opaque strings naming a type and its id, the same in queries and mutation inputs."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID


class InvalidId(ValueError):
    """A string that is not a global id of the expected type."""


def to_global_id(type_name: str, raw_id: UUID | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")


def from_global_id(global_id: str, expected_type: str | None = None) -> tuple[str, UUID]:
    """(type name, id) of a global id; `InvalidId` when it is malformed or of another type."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
        uuid = UUID(raw)
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidId(f"{global_id!r} is not a valid id") from None
    if expected_type is not None and type_name != expected_type:
        raise InvalidId(f"{global_id!r} is not a {expected_type} id")
    return type_name, uuid
