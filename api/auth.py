"""Who is asking: bearer JWTs (HS256) and the actor they stand for.

A token names a role, `admin` or `customer`; a customer's `sub` is their customer id. No token at all is the
anonymous actor. A token that is present but malformed, expired or badly signed is never taken for
anonymous: the request is refused with 401 before anything runs (api/app.py).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

import jwt

from api.ids import InvalidId, from_global_id

ALGORITHM = "HS256"
# Tokens are checked with this much slack on `exp` and `iat`, for clocks a little apart.
LEEWAY_SECONDS = 30
# How many tokens a process remembers having verified the signature of (`_verified_claims`).
VERIFIED_TOKENS_CACHED = 1024


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    CUSTOMER = "customer"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    """The caller of one request. `customer_id` is set exactly when the role is `customer`."""

    role: Role
    subject: str | None = None
    customer_id: uuid.UUID | None = None
    # When the token it came with expires (its `exp`); `None` for the anonymous actor.
    expires_at: datetime | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """How logs and the outbox's metadata name this actor: `anonymous`, `admin:<sub>`, `customer:<id>`."""
        return self.role.value if self.subject is None else f"{self.role.value}:{self.subject}"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def owns(self, customer_id: uuid.UUID | str) -> bool:
        """Whether this actor is the customer `customer_id` (admins own nothing; they are allowed everything)."""
        return self.customer_id is not None and str(self.customer_id) == str(customer_id)


ANONYMOUS = Actor(Role.ANONYMOUS)


class InvalidBearerToken(Exception):
    """The bearer token cannot be trusted; the message says why, without echoing the token."""


def actor_from_header(authorization: str | None, secret: str, *, now: datetime) -> Actor:
    """The actor an `Authorization` header stands for: anonymous without one, else its verified token's.

    `now` is the time the token's `exp` and `iat` are checked against (the caller's clock).
    """
    if authorization is None or not authorization.strip():
        return ANONYMOUS
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidBearerToken("the Authorization header must be 'Bearer <token>'")
    return actor_from_token(token.strip(), secret, now=now)


def actor_from_token(token: str, secret: str, *, now: datetime) -> Actor:
    """The actor `token` stands for, if it is signed with `secret` and valid at `now`; else `InvalidBearerToken`."""
    claims = _verified_claims(token, secret)
    _check_times(claims, now)
    role, subject = claims["role"], claims["sub"]
    expires_at = datetime.fromtimestamp(_seconds(claims, "exp"), UTC)
    if not isinstance(subject, str) or not subject:
        raise InvalidBearerToken("the token's 'sub' claim must be a non-empty string")
    if role == Role.ADMIN.value:
        return Actor(Role.ADMIN, subject=subject, expires_at=expires_at)
    if role == Role.CUSTOMER.value:
        customer_id = customer_id_of(subject)
        if customer_id is None:
            raise InvalidBearerToken("a customer token's 'sub' must be the customer's id") from None
        return Actor(Role.CUSTOMER, subject=subject, customer_id=customer_id, expires_at=expires_at)
    raise InvalidBearerToken("the token's 'role' claim must be 'admin' or 'customer'")


@functools.lru_cache(maxsize=VERIFIED_TOKENS_CACHED)
def _verified_claims(token: str, secret: str) -> Mapping[str, object]:
    """The claims of `token` once its signature is verified with `secret`: a client sends the same token
    with every request, so each is verified once (the cache keeps the most recent; a token that fails is
    never kept). Its times are checked on every request, against the caller's clock."""
    try:
        # PyJWT checks times against its own wall clock; ours are checked by the caller, against theirs.
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={
                "require": ["exp", "iat", "sub", "role"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise InvalidBearerToken("the token's signature is not valid") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidBearerToken(f"the token lacks the {exc.claim!r} claim") from None
    except jwt.InvalidTokenError:
        raise InvalidBearerToken("the token is malformed or not an HS256 JWT") from None
    return MappingProxyType(claims)


def _check_times(claims: Mapping[str, object], now: datetime) -> None:
    instant = now.timestamp()
    if _seconds(claims, "exp") <= instant - LEEWAY_SECONDS:
        raise InvalidBearerToken("the token has expired")
    if _seconds(claims, "iat") > instant + LEEWAY_SECONDS:
        raise InvalidBearerToken("the token's 'iat' claim lies in the future")
    if "nbf" in claims and _seconds(claims, "nbf") > instant + LEEWAY_SECONDS:
        raise InvalidBearerToken("the token is not valid yet ('nbf')")


def _seconds(claims: Mapping[str, object], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidBearerToken(f"the token's {name!r} claim must be a number of seconds since the epoch")
    return float(value)


def customer_id_of(text: str) -> uuid.UUID | None:
    """The customer id in `text`: a Customer global id (as the API shows it) or a bare UUID; else None."""
    try:
        return from_global_id(text, "Customer")[1]
    except InvalidId:
        pass
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def mint_token(secret: str, *, role: Role, subject: str, ttl: timedelta, now: datetime) -> str:
    """A signed token for `role` and `subject` (a customer's id for `customer`), issued at `now`, valid for `ttl`."""
    claims = {"sub": subject, "role": role.value, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
