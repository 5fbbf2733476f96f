"""Consistency tokens: a write's position in the outbox's commit order, as an opaque string."""

from __future__ import annotations

from api import _base64url as base64url
from read_model.checkpoint import Checkpoint

_PREFIX = "v1:"


class InvalidConsistencyToken(ValueError):
    """A string that no mutation of this service issued as a consistency token."""


def encode_token(transaction_id: int, position: int) -> str:
    return base64url.encode(f"{_PREFIX}{transaction_id}:{position}".encode())


def decode_token(token: str) -> Checkpoint:
    try:
        text = base64url.decode(token).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(text)
        transaction_id, position = (int(part) for part in text[len(_PREFIX) :].split(":"))
    except ValueError:  # not base64, not UTF-8, not two numbers
        raise InvalidConsistencyToken("consistentWith is not a consistency token issued by this service") from None
    if transaction_id < 0 or position < 0:
        raise InvalidConsistencyToken("consistentWith is not a consistency token issued by this service")
    return Checkpoint(transaction_id, position)
