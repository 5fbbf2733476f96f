"""Relay global ids: opaque strings naming a type and its id, the same in queries and mutation inputs."""

from __future__ import annotations

from uuid import UUID

from api import _base64url as base64url


class InvalidId(ValueError):
    """A string that is not a global id of the expected type."""


def to_global_id(type_name: str, raw_id: UUID | str) -> str:
    return base64url.encode(f"{type_name}:{raw_id}".encode())


def from_global_id(global_id: str, expected_type: str | None = None) -> tuple[str, UUID]:
    """(type name, id) of a global id; `InvalidId` when it is malformed or of another type."""
    try:
        type_name, _, raw = base64url.decode(global_id).decode().partition(":")
        uuid = UUID(raw)
    except ValueError:  # not base64, not UTF-8 (UnicodeDecodeError is one), or no UUID
        raise InvalidId(f"{global_id!r} is not a valid id") from None
    if expected_type is not None and type_name != expected_type:
        raise InvalidId(f"{global_id!r} is not a {expected_type} id")
    return type_name, uuid
