from __future__ import annotations

import uuid

import pytest
from graphql import GraphQLError

from api.consistency import InvalidToken, decode_token, encode_token
from api.ids import InvalidId, from_global_id, to_global_id
from api.pagination import decode_cursor, encode_cursor, page_size
from read_model.checkpoint import Checkpoint


def test_tokens_round_trip_and_compare_in_commit_order() -> None:
    assert decode_token(encode_token(123, 45)) == Checkpoint(123, 45)
    assert decode_token(encode_token(5, 900)) < decode_token(encode_token(6, 1))


@pytest.mark.parametrize("token", ["", "garbage", "djE6", encode_token(1, 2) + "x!", "djI6MTox"])
def test_forged_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        decode_token(token)


def test_global_ids_round_trip_and_check_their_type() -> None:
    raw = uuid.uuid4()
    assert from_global_id(to_global_id("Product", raw), "Product") == ("Product", raw)
    with pytest.raises(InvalidId, match="not a Order id"):
        from_global_id(to_global_id("Product", raw), "Order")
    for bad in ["", "!!!", to_global_id("Product", "not-a-uuid")]:
        with pytest.raises(InvalidId):
            from_global_id(bad)


def test_cursors_round_trip_and_forged_ones_are_bad_cursor_errors() -> None:
    assert decode_cursor(encode_cursor([1.5, "abc"])) == [1.5, "abc"]
    for bad in ["", "nonsense", encode_cursor([]), "eyJhIjoxfQ"]:
        with pytest.raises(GraphQLError) as caught:
            decode_cursor(bad)
        assert caught.value.extensions == {"code": "BAD_CURSOR"}


def test_page_size_defaults_and_limits() -> None:
    assert page_size(None, default=20, maximum=100) == 20
    assert page_size(100, default=20, maximum=100) == 100
    for bad in (-1, 101):
        with pytest.raises(GraphQLError) as caught:
            page_size(bad, default=20, maximum=100)
        assert caught.value.extensions == {"code": "BAD_USER_INPUT"}
