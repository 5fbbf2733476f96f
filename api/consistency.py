"""Consistency tokens: a write's position in the outbox's commit order, as an opaque string."""

from __future__ import annotations

import base64
import binascii

from read_model.checkpoint import Checkpoint

_PREFIX = "v1:"


class InvalidConsistencyToken(ValueError):
    """A string that no mutation of this service issued as a consistency token."""


def encode_token(transaction_id: int, position: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{transaction_id}:{position}".encode()).decode().rstrip("=")


def decode_token(token: str) -> Checkpoint:
    try:
        padded = token + "=" * (-len(token) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(text)
        transaction_id, position = (int(part) for part in text[len(_PREFIX) :].split(":"))
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidConsistencyToken("consistentWith is not a consistency token issued by this service") from None
    if transaction_id < 0 or position < 0:
        raise InvalidConsistencyToken("consistentWith is not a consistency token issued by this service")
    return Checkpoint(transaction_id, position)
