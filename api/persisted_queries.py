"""Automatic persisted queries: Apollo's protocol, so that clients send a query's hash instead of its text.

A request names its query by `extensions.persistedQuery = {"version": 1, "sha256Hash": "<64 hex>"}`:

- with the query text too, the hash must be the SHA-256 of its UTF-8 bytes; the text is kept under its hash
  and the query runs;
- without it, the kept text runs; when this process does not hold it, the answer is the one error
  `PersistedQueryNotFound` (code `PERSISTED_QUERY_NOT_FOUND`, HTTP 200), and the client sends both.

The texts are held per process in an LRU bounded in bytes (`TWOFOLD_PERSISTED_QUERIES_MAX_BYTES`), so
nothing needs sharing between workers: another worker answers `PersistedQueryNotFound` once and learns
the text. A kept text is parsed and validated once, in the document cache (api/pipeline.py), like any
other. docs/persisted-queries.md has the protocol as served.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from typing import Any

from graphql import GraphQLError

from api.errors import graphql_error

NOT_FOUND_MESSAGE = "PersistedQueryNotFound"  # the protocol's message, which clients match on
NOT_FOUND_CODE = "PERSISTED_QUERY_NOT_FOUND"
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BadPersistedQuery(ValueError):
    """`extensions.persistedQuery` is malformed, or its hash is not the query's; the message says which."""


class PersistedQueries:
    """Query texts by SHA-256, the least recently used forgotten first beyond `max_bytes` of text."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._texts: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._texts)

    def get(self, sha256: str) -> str | None:
        text = self._texts.get(sha256)
        if text is not None:
            self._texts.move_to_end(sha256)
        return text

    def put(self, sha256: str, text: str) -> None:
        size = len(_utf8(text))
        if sha256 in self._texts or size > self.max_bytes:
            return
        self._texts[sha256] = text
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, forgotten = self._texts.popitem(last=False)
            self.bytes -= len(_utf8(forgotten))


def requested_hash(extensions: dict[str, Any] | None) -> str | None:
    """The hash `extensions.persistedQuery` names; `None` when the request uses no persisted query."""
    if extensions is None or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise BadPersistedQuery('extensions.persistedQuery must be an object: {"version": 1, "sha256Hash": "…"}.')
    if persisted.get("version") != 1:
        raise BadPersistedQuery("Unsupported persisted query version: only version 1 is served.")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise BadPersistedQuery("extensions.persistedQuery.sha256Hash must be 64 lowercase hexadecimal digits.")
    return sha256


def resolve(query: str | None, extensions: dict[str, Any] | None, store: PersistedQueries) -> str | None:
    """The query text to run: `query` itself (kept under its hash when the request names one), the kept
    text of the named hash, or `None` when neither is there (the caller answers `not_found()`)."""
    sha256 = requested_hash(extensions)
    if sha256 is None:
        return query
    if query is None:
        return store.get(sha256)
    if hashlib.sha256(_utf8(query)).hexdigest() != sha256:
        raise BadPersistedQuery("The provided sha256Hash does not match the query: it must be the SHA-256 of its text.")
    store.put(sha256, query)
    return query


def _utf8(text: str) -> bytes:
    # A lone surrogate (JSON can carry one) has no UTF-8: its hash matches nothing, and nothing fails.
    return text.encode("utf-8", "surrogatepass")


def not_found() -> GraphQLError:
    return graphql_error(NOT_FOUND_CODE, NOT_FOUND_MESSAGE)
