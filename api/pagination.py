"""Opaque cursors over search positions, and page-size rules shared by every connection."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

from api import _base64url as base64url
from api.errors import bad_cursor, bad_input

# 128 bits of HMAC-SHA256: enough that no client forges one by trying.
_MAC_BYTES = 16


class Cursors:
    """Issues and reads the cursors of every connection: a position in a search's sort, and the point in
    time the search reads, if any, signed with a key of the server's own.

    A cursor is bound to the search that issued it: `scope` names the search and every argument that
    decides its results (text, filter, sort, whose orders), never the page size or direction, so an end
    cursor can page back and a start cursor forward. A cursor that was edited, forged, or issued for
    another search or other arguments is BAD_CURSOR.
    """

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"twofold cursors v1", hashlib.sha256).digest()

    def encode(self, scope: str, sort_values: list[Any], snapshot: str | None = None) -> str:
        payload = orjson.dumps({"s": sort_values, "p": snapshot})
        return base64url.encode(self._mac(scope, payload) + payload)

    def decode(self, scope: str, cursor: str) -> tuple[list[Any], str | None]:
        """The search position and point in time `cursor` holds, when this server issued it for `scope`."""
        try:
            raw = base64url.decode(cursor)
        except base64url.NotBase64:
            raise bad_cursor() from None
        mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(scope, payload)):
            raise bad_cursor()
        content = orjson.loads(payload)
        return content["s"], content["p"]

    def _mac(self, scope: str, payload: bytes) -> bytes:
        """The first bytes of HMAC-SHA256 over the scope and the payload (OpenSSL's one-shot HMAC: each edge
        of a page has a cursor, and this was most of their cost)."""
        message = scope.encode("utf-8", "surrogatepass") + b"\0" + payload
        return hmac.digest(self._key, message, "sha256")[:_MAC_BYTES]


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    if first is None:
        return default
    if first < 0:
        raise bad_input("first must not be negative")
    if first > maximum:
        raise bad_input(f"first must be at most {maximum}")
    return first
