"""The persisted queries' store and the protocol's decoding, without a server (the HTTP side is in
tests/e2e/test_persisted_queries_http.py)."""

from __future__ import annotations

import hashlib

import pytest

from api.persisted_queries import BadPersistedQuery, PersistedQueries, requested_hash, resolve


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def named(sha256: object, version: object = 1) -> dict[str, object]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256}}


def test_the_store_forgets_the_least_recently_used_beyond_its_bytes() -> None:
    store = PersistedQueries(max_bytes=10)
    store.put("a", "aaaa")
    store.put("b", "bbbb")
    assert store.get("a") == "aaaa"  # now the most recently used
    store.put("c", "cccc")
    assert (store.get("a"), store.get("b"), store.get("c")) == ("aaaa", None, "cccc")
    assert store.bytes == 8


def test_a_text_larger_than_the_store_is_not_kept_and_a_store_of_zero_keeps_nothing() -> None:
    store = PersistedQueries(max_bytes=3)
    store.put("a", "aaaa")
    assert (len(store), store.bytes) == (0, 0)
    empty = PersistedQueries(max_bytes=0)
    assert resolve("{ a }", named(sha("{ a }")), empty) == "{ a }"
    assert resolve(None, named(sha("{ a }")), empty) is None


def test_the_store_counts_bytes_not_characters() -> None:
    store = PersistedQueries(max_bytes=5)
    store.put("e", "ééé")  # 6 bytes in UTF-8
    assert len(store) == 0


def test_a_query_is_kept_under_its_hash_and_found_by_it() -> None:
    store = PersistedQueries(max_bytes=1000)
    query = "{ __typename }"
    assert resolve(None, named(sha(query)), store) is None
    assert resolve(query, named(sha(query)), store) == query
    assert resolve(None, named(sha(query)), store) == query
    assert resolve(query, None, store) == query
    assert resolve(query, {"other": 1}, store) == query


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        ({"persistedQuery": "x"}, "must be an object"),
        ({"persistedQuery": None}, "must be an object"),
        (named("0" * 64, version=2), "Unsupported persisted query version"),
        (named("0" * 64, version="1"), "Unsupported persisted query version"),
        (named("0" * 63), "64 lowercase hexadecimal digits"),
        (named("A" * 64), "64 lowercase hexadecimal digits"),
        (named(64), "64 lowercase hexadecimal digits"),
    ],
)
def test_a_malformed_persisted_query_says_what_is_wrong(extensions: dict[str, object], message: str) -> None:
    with pytest.raises(BadPersistedQuery, match=message):
        requested_hash(extensions)


def test_a_hash_that_is_not_the_querys_is_refused_and_nothing_is_kept() -> None:
    store = PersistedQueries(max_bytes=1000)
    with pytest.raises(BadPersistedQuery, match="does not match the query"):
        resolve("{ a }", named(sha("{ b }")), store)
    with pytest.raises(BadPersistedQuery, match="does not match the query"):
        resolve("\ud800", named(sha("{ b }")), store)  # a lone surrogate has no UTF-8, and fails nothing
    assert len(store) == 0
