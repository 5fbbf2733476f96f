from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from api.auth import ANONYMOUS, Actor, InvalidToken, Role, actor_from_header, actor_from_token, mint_token
from api.ids import to_global_id

SECRET = "unit-test-secret-0123456789abcdef-xyz"
CUSTOMER = uuid.uuid4()


def test_an_admin_token_stands_for_an_admin() -> None:
    token = mint_token(SECRET, role=Role.ADMIN, subject="ops", ttl=timedelta(minutes=5))
    actor = actor_from_header(f"Bearer {token}", SECRET)
    assert actor == Actor(Role.ADMIN, subject="ops")
    assert actor.is_admin
    assert actor.label == "admin:ops"


@pytest.mark.parametrize("subject", [to_global_id("Customer", CUSTOMER), str(CUSTOMER)])
def test_a_customer_token_carries_the_customer_id_as_sub(subject: str) -> None:
    token = mint_token(SECRET, role=Role.CUSTOMER, subject=subject, ttl=timedelta(minutes=5))
    actor = actor_from_token(token, SECRET)
    assert actor.customer_id == CUSTOMER
    assert not actor.is_admin
    assert actor.owns(CUSTOMER)
    assert actor.owns(str(CUSTOMER))
    assert not actor.owns(uuid.uuid4())


def test_no_header_is_anonymous() -> None:
    assert actor_from_header(None, SECRET) is ANONYMOUS
    assert actor_from_header("  ", SECRET) is ANONYMOUS
    assert ANONYMOUS.label == "anonymous"
    assert not ANONYMOUS.owns(CUSTOMER)


def _signed(claims: dict[str, object], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


NOW = datetime.now(UTC)
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
    with pytest.raises(InvalidToken, match=reason):
        actor_from_header(header, SECRET)
