from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from api.auth import (
    ANONYMOUS,
    LEEWAY_SECONDS,
    Actor,
    InvalidBearerToken,
    Role,
    _verified_claims,
    actor_from_header,
    actor_from_token,
    mint_token,
)
from api.ids import to_global_id

SECRET = "unit-test-secret-0123456789abcdef-xyz"
CUSTOMER = uuid.uuid4()
# Every token here is signed and checked against this instant, never against the wall clock.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_an_admin_token_stands_for_an_admin() -> None:
    token = mint_token(SECRET, role=Role.ADMIN, subject="ops", ttl=timedelta(minutes=5), now=NOW)
    actor = actor_from_header(f"Bearer {token}", SECRET, now=NOW)
    assert actor == Actor(Role.ADMIN, subject="ops")
    assert actor.is_admin
    assert actor.label == "admin:ops"


@pytest.mark.parametrize("subject", [to_global_id("Customer", CUSTOMER), str(CUSTOMER)])
def test_a_customer_token_carries_the_customer_id_as_sub(subject: str) -> None:
    token = mint_token(SECRET, role=Role.CUSTOMER, subject=subject, ttl=timedelta(minutes=5), now=NOW)
    actor = actor_from_token(token, SECRET, now=NOW)
    assert actor.customer_id == CUSTOMER
    assert not actor.is_admin
    assert actor.owns(CUSTOMER)
    assert actor.owns(str(CUSTOMER))
    assert not actor.owns(uuid.uuid4())


def test_no_header_is_anonymous() -> None:
    assert actor_from_header(None, SECRET, now=NOW) is ANONYMOUS
    assert actor_from_header("  ", SECRET, now=NOW) is ANONYMOUS
    assert ANONYMOUS.label == "anonymous"
    assert not ANONYMOUS.owns(CUSTOMER)


def _signed(claims: dict[str, object], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


GOOD = {"sub": "ops", "role": "admin", "iat": NOW, "exp": NOW + timedelta(minutes=5)}


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Basic dXNlcjpwYXNz", "must be 'Bearer <token>'"),
        ("Bearer", "must be 'Bearer <token>'"),
        ("Bearer not-a-jwt", "malformed"),
        (f"Bearer {_signed({**GOOD, 'exp': NOW - timedelta(minutes=5)})}", "expired"),
        (f"Bearer {_signed(GOOD, secret='another-secret-0123456789abcdef-xyz')}", "signature is not valid"),
        (f"Bearer {_signed(GOOD, secret='x' * 64, algorithm='HS512')}", "malformed or not an HS256 JWT"),
        (f"Bearer {jwt.encode(GOOD, None, algorithm='none')}", "malformed or not an HS256 JWT"),
        (f"Bearer {_signed({k: v for k, v in GOOD.items() if k != 'exp'})}", "lacks the 'exp' claim"),
        (f"Bearer {_signed({k: v for k, v in GOOD.items() if k != 'role'})}", "lacks the 'role' claim"),
        (f"Bearer {_signed({**GOOD, 'role': 'root'})}", "'role' claim must be"),
        (f"Bearer {_signed({**GOOD, 'role': 'customer', 'sub': 'somebody'})}", "must be the customer's id"),
    ],
)
def test_a_token_that_cannot_be_trusted_is_refused_with_the_reason(header: str, reason: str) -> None:
    with pytest.raises(InvalidBearerToken, match=reason):
        actor_from_header(header, SECRET, now=NOW)


def test_a_token_is_good_until_its_expiry_plus_the_leeway_by_the_clock_it_is_checked_against() -> None:
    token = mint_token(SECRET, role=Role.ADMIN, subject="ops", ttl=timedelta(minutes=5), now=NOW)
    last_good = NOW + timedelta(minutes=5, seconds=LEEWAY_SECONDS - 1)
    assert actor_from_token(token, SECRET, now=last_good).role is Role.ADMIN
    with pytest.raises(InvalidBearerToken, match="expired"):
        actor_from_token(token, SECRET, now=last_good + timedelta(seconds=1))
    # Years later by the wall clock, a test that owns its clock still sees a good token.
    assert actor_from_token(token, SECRET, now=NOW + timedelta(minutes=1)).subject == "ops"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({**GOOD, "iat": NOW + timedelta(minutes=1)}, "'iat' claim lies in the future"),
        ({**GOOD, "nbf": NOW + timedelta(minutes=1)}, "not valid yet"),
        ({**GOOD, "exp": "tomorrow"}, "'exp' claim must be a number"),
        ({**GOOD, "iat": True}, "'iat' claim must be a number"),
    ],
)
def test_times_in_a_token_are_checked_against_the_given_clock(claims: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidBearerToken, match=reason):
        actor_from_token(_signed(claims), SECRET, now=NOW)


def test_a_token_is_verified_once_and_its_times_are_still_checked_at_every_use() -> None:
    token = mint_token(SECRET, role=Role.ADMIN, subject="cached", ttl=timedelta(minutes=5), now=NOW)
    before = _verified_claims.cache_info()
    for _ in range(3):
        assert actor_from_header(f"Bearer {token}", SECRET, now=NOW).subject == "cached"
    after = _verified_claims.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)
    with pytest.raises(InvalidBearerToken, match="expired"):  # remembered, yet expired by this clock
        actor_from_header(f"Bearer {token}", SECRET, now=NOW + timedelta(hours=1))


def test_a_token_that_fails_verification_is_not_remembered_and_another_secret_verifies_afresh() -> None:
    token = mint_token(SECRET, role=Role.ADMIN, subject="other", ttl=timedelta(minutes=5), now=NOW)
    other_secret = SECRET[::-1]
    before = _verified_claims.cache_info()
    for _ in range(2):
        with pytest.raises(InvalidBearerToken, match="signature"):
            actor_from_header(f"Bearer {token}", other_secret, now=NOW)
    assert _verified_claims.cache_info().misses - before.misses == 2  # verified, and refused, each time
    assert actor_from_header(f"Bearer {token}", SECRET, now=NOW).subject == "other"
