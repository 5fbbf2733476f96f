"""URL-safe base64 without padding: the text of every opaque value the API hands out (ids, consistency
tokens, cursors)."""

from __future__ import annotations

import base64
import binascii


class NotBase64(ValueError):
    """Text that is not unpadded URL-safe base64 of ours."""


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode(text: str) -> bytes:
    """The bytes `text` encodes; `NotBase64` when it is not URL-safe base64 (non-ASCII text included)."""
    try:
        return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))
    except (binascii.Error, UnicodeError) as exc:
        raise NotBase64(str(exc)) from None
