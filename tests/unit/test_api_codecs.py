from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest
from graphql import GraphQLError

from api.consistency import InvalidConsistencyToken, decode_token, encode_token
from api.ids import InvalidId, from_global_id, to_global_id
from api.pagination import Cursors, page_size
from api.types.scalars import parse_datetime, parse_decimal
from read_model.checkpoint import Checkpoint


def test_tokens_round_trip_and_compare_in_commit_order() -> None:
    assert decode_token(encode_token(123, 45)) == Checkpoint(123, 45)
    assert decode_token(encode_token(5, 900)) < decode_token(encode_token(6, 1))


@pytest.mark.parametrize("token", ["", "garbage", "djE6", encode_token(1, 2) + "x!", "djI6MTox"])
def test_forged_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidConsistencyToken):
        decode_token(token)


def test_global_ids_round_trip_and_check_their_type() -> None:
    raw = uuid.uuid4()
    assert from_global_id(to_global_id("Product", raw), "Product") == ("Product", raw)
    with pytest.raises(InvalidId, match="not a Order id"):
        from_global_id(to_global_id("Product", raw), "Order")
    for bad in ["", "!!!", to_global_id("Product", "not-a-uuid")]:
        with pytest.raises(InvalidId):
            from_global_id(bad)


def test_cursors_round_trip_within_the_search_that_issued_them() -> None:
    cursors = Cursors("a secret of at least thirty-two characters")
    assert cursors.decode("products:a", cursors.encode("products:a", [1.5, "abc"], "pit")) == ([1.5, "abc"], "pit")
    assert cursors.decode("events:x", cursors.encode("events:x", [7])) == ([7], None)


def test_forged_edited_and_foreign_cursors_are_bad_cursor_errors() -> None:
    cursors = Cursors("a secret of at least thirty-two characters")
    issued = cursors.encode("products:a", [1.5, "abc"], "pit")
    raw = base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4))
    edited = base64.urlsafe_b64encode(raw.replace(b"1.5", b"9.5")).decode()
    unsigned = base64.urlsafe_b64encode(b'{"s":[1],"p":null}').decode()
    elsewhere = Cursors("another secret of at least thirty-two characters").encode("products:a", [1.5, "abc"], "pit")
    for scope, bad in [
        ("products:a", ""),
        ("products:a", "nonsense"),
        ("products:a", "\ud800"),
        ("products:a", edited),
        ("products:a", unsigned),
        ("products:a", elsewhere),
        ("products:b", issued),
        ("orders:a", issued),
    ]:
        with pytest.raises(GraphQLError) as caught:
            cursors.decode(scope, bad)
        assert caught.value.extensions == {"code": "BAD_CURSOR"}, bad


def test_page_size_defaults_and_limits() -> None:
    assert page_size(None, default=20, maximum=100) == 20
    assert page_size(100, default=20, maximum=100) == 100
    for bad in (-1, 101):
        with pytest.raises(GraphQLError) as caught:
            page_size(bad, default=20, maximum=100)
        assert caught.value.extensions == {"code": "BAD_USER_INPUT"}


@pytest.mark.parametrize("text", ["0", "19.99", "7", "-0.05", "999999999999.99", "0.5"])
def test_decimal_inputs_are_plain_ascii_decimals(text: str) -> None:
    assert parse_decimal(text) == text


@pytest.mark.parametrize(
    "value",
    [
        "1E+30",
        "NaN",
        "Infinity",
        "1.999",
        "12,50",
        " 7",
        "+7",
        "",
        ".5",
        "1000000000000",
        "\u0663.\u0660\u0660",  # Arabic-Indic digits: Python's Decimal reads them, the API does not
        19.99,
        19,
        True,
        None,
    ],
)
def test_other_decimal_inputs_are_refused_with_what_the_scalar_takes(value: object) -> None:
    with pytest.raises(ValueError, match="Decimal must be a string of ASCII digits"):
        parse_decimal(value)


def test_datetime_inputs_become_utc_and_those_without_an_offset_are_taken_as_utc() -> None:
    assert parse_datetime("2026-01-31T12:00:00+02:00") == datetime(2026, 1, 31, 10, tzinfo=UTC)
    assert parse_datetime("2026-01-31T12:00:00") == datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert parse_datetime("0001-01-01T00:00:00Z") == datetime(1, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "yesterday", "2026-13-01", 1_700_000_000, "x" * 41],
)
def test_datetimes_out_of_range_in_utc_or_malformed_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="DateTime must be an ISO 8601 string"):
        parse_datetime(value)
