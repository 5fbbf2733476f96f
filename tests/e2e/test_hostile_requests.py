"""Hostile and malformed requests: each gets its documented refusal, never a 500, and the service stays up.

docs/security.md lists the same cases with the same answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from api.auth import Role, mint_token
from api.settings import Settings
from tests.e2e.conftest import (
    OUTPUT,
    SECRET,
    GraphQLClient,
    admin_token,
    bearer,
    issued_now,
    module_service,
    running_service,
)

JSON = {"content-type": "application/json"}
PRODUCTS = "{ products(first: 1) { totalCount } }"


# A database of each test's own: the counts below are over everything in it.
# One server for the module, on an empty store of its own: its tests write nothing.
settings, server = module_service(own_database=True)


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    code: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    method: str = "POST"
    message: str = ""
    chunked: bool = False  # sent without Content-Length, so only counting the body as it streams can stop it

    @classmethod
    def query(cls, name: str, query: str, status: int, code: str, message: str = "", **variables: object) -> Case:
        body = json.dumps({"query": query, "variables": variables}).encode()
        return cls(name, status, code, body, message=message)


def _expired() -> str:
    issued = issued_now() - timedelta(hours=2)
    return mint_token(SECRET, role=Role.ADMIN, subject="old", ttl=timedelta(hours=1), now=issued)


def _forged() -> str:
    return mint_token(
        "somebody-elses-secret-0123456789abcdef",
        role=Role.ADMIN,
        subject="me",
        ttl=timedelta(hours=1),
        now=issued_now(),
    )


def _unsigned() -> str:
    now = issued_now()
    return jwt.encode({"sub": "me", "role": "admin", "iat": now, "exp": now + timedelta(hours=1)}, None, "none")


def _with_token(token: str) -> dict[str, str]:
    return {**JSON, **bearer(token)}


DEEP = "{ " + "a { " * 50 + "b" + " }" * 50 + " }"
DEEP_INTROSPECTION = '{ __type(name: "Query") { fields { type { ' + "ofType { " * 14 + "name" + " }" * 14 + " } } } }"
FRAGMENT_FAN_OUT = (
    "{ ...F0 } "
    + " ".join(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(40))
    + " fragment F40 on Query { __typename }"
)
ALIASES = "{ " + " ".join(f"a{n}: __typename" for n in range(500)) + " }"
TOKENS = "{ products(first: 1) { " + "totalCount " * 3000 + "} }"
ORDERS = "{ orders(first: 1) { totalCount } }"

CASES = [
    Case("malformed JSON", 400, "BAD_REQUEST", b'{"query": '),
    Case("not UTF-8", 400, "BAD_REQUEST", b"\xff\xfe{"),
    Case("JSON nested 20,000 deep", 400, "BAD_REQUEST", b'{"variables": {"a": ' + b"[" * 20000 + b"]" * 20000 + b"}}"),
    Case("a JSON string, not an object", 400, "BAD_REQUEST", b'"query"'),
    Case("an empty batch", 400, "BAD_REQUEST", b"[]"),
    Case("empty body", 400, "BAD_REQUEST", b""),
    Case("no query", 400, "BAD_REQUEST", b"{}"),
    Case("query is not a string", 400, "BAD_REQUEST", b'{"query": 5}'),
    Case("variables are not an object", 400, "BAD_REQUEST", json.dumps({"query": PRODUCTS, "variables": 1}).encode()),
    Case("wrong content type", 415, "UNSUPPORTED_MEDIA_TYPE", PRODUCTS.encode(), {"content-type": "text/plain"}),
    Case("form post", 415, "UNSUPPORTED_MEDIA_TYPE", b"query=x", {"content-type": "application/x-www-form-urlencoded"}),
    Case("PUT", 405, "METHOD_NOT_ALLOWED", b"{}", method="PUT"),
    Case("a query over GET", 400, "BAD_REQUEST", method="GET", headers={"accept": "application/json"}),
    Case("1 MB query", 413, "PAYLOAD_TOO_LARGE", json.dumps({"query": "{" + " " * 1_000_000 + "}"}).encode()),
    Case(
        "1 MB query, chunked",
        413,
        "PAYLOAD_TOO_LARGE",
        json.dumps({"query": "{" + " " * 1_000_000 + "}"}).encode(),
        chunked=True,
    ),
    Case("11 operations in a batch", 400, "BAD_REQUEST", json.dumps([{"query": PRODUCTS}] * 11).encode()),
    Case.query("depth 50", DEEP, 200, "GRAPHQL_VALIDATION_FAILED", "exceeds maximum operation depth of 12"),
    Case.query(
        "17-level introspection",
        DEEP_INTROSPECTION,
        200,
        "GRAPHQL_VALIDATION_FAILED",
        "exceeds maximum introspection depth of 14",
    ),
    Case.query("500 aliases", ALIASES, 200, "GRAPHQL_VALIDATION_FAILED", "500 aliases found. Allowed: 30"),
    Case.query("3,000 tokens", TOKENS, 200, "GRAPHQL_PARSE_FAILED", "more than 2000 tokens"),
    Case.query("an empty selection", "{ products { } }", 200, "GRAPHQL_PARSE_FAILED", "at least one field"),
    Case.query("syntax error", "{ products(", 200, "GRAPHQL_PARSE_FAILED", "Syntax Error"),
    Case.query("invalid id", '{ product(id: "nope") { id } }', 200, "BAD_USER_INPUT", "not a valid id"),
    Case.query("invalid node id", '{ node(id: "bm9wZQ") { id } }', 200, "BAD_USER_INPUT"),
    Case.query("invalid cursor", '{ products(after: "garbage") { totalCount } }', 200, "BAD_CURSOR"),
    Case.query("negative first", "{ products(first: -1) { totalCount } }", 200, "BAD_USER_INPUT", "negative"),
    Case.query("first over the maximum", "{ products(first: 100000) { totalCount } }", 200, "BAD_USER_INPUT"),
    Case.query(
        "unknown enum value", "{ products(sort: [{field: NOPE}]) { totalCount } }", 200, "GRAPHQL_VALIDATION_FAILED"
    ),
    Case.query(
        "unknown enum value in a variable",
        "query($s: [ProductSort!]) { products(sort: $s) { totalCount } }",
        200,
        "BAD_USER_INPUT",
        s=[{"field": "NOPE"}],
    ),
    Case.query(
        "a variable of the wrong type",
        "query($n: Int) { products(first: $n) { totalCount } }",
        200,
        "BAD_USER_INPUT",
        n="ten",
    ),
    Case(
        "not a bearer",
        401,
        "UNAUTHENTICATED",
        json.dumps({"query": PRODUCTS}).encode(),
        {**JSON, "Authorization": "Basic YWRtaW46YWRtaW4="},
    ),
    Case.query("orders without a token", ORDERS, 401, "UNAUTHENTICATED", "bearer token"),
]


def token_cases() -> list[Case]:
    """The cases that carry a token: signed when the test runs, since the server checks them by its clock."""
    body = json.dumps({"query": PRODUCTS}).encode()
    return [
        Case("forged token", 401, "UNAUTHENTICATED", body, _with_token(_forged())),
        Case("expired token", 401, "UNAUTHENTICATED", body, _with_token(_expired())),
        Case("unsigned token", 401, "UNAUTHENTICATED", body, _with_token(_unsigned())),
    ]


def send(server: str, case: Case) -> httpx.Response:
    content: bytes | Iterator[bytes] = case.body
    if case.chunked:
        content = iter([case.body[start : start + 16_384] for start in range(0, len(case.body), 16_384)])
    return httpx.request(case.method, f"{server}/graphql", content=content, headers=case.headers, timeout=30)


def codes_of(response: httpx.Response) -> list[str]:
    body = response.json()
    items = body if isinstance(body, list) else [body]
    return [error["extensions"]["code"] for item in items for error in item.get("errors") or []]


def test_each_hostile_request_gets_its_documented_answer_and_the_service_stays_up(server: str) -> None:
    wrong = []
    for case in [*CASES, *token_cases()]:
        response = send(server, case)
        codes = codes_of(response) if response.headers.get("content-type", "").startswith("application/json") else []
        if response.status_code != case.status or case.code not in codes or case.message not in response.text:
            wrong.append(f"{case.name}: HTTP {response.status_code} {response.text[:300]}")
        if response.status_code == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert wrong == []

    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    assert GraphQLClient(server)(PRODUCTS) == {"data": {"products": {"totalCount": 0}}}
    assert GraphQLClient(server, admin_token())(ORDERS) == {"data": {"orders": {"totalCount": 0}}}


def test_fragments_doubling_forty_times_are_answered_at_once_and_the_service_stays_up(server: str) -> None:
    # 2**40 paths through the spreads: a limiter that followed each one never finished and froze the server.
    assert GraphQLClient(server)(FRAGMENT_FAN_OUT) == {"data": {"__typename": "Query"}}
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}


def test_a_batch_within_the_limit_runs_every_operation(server: str) -> None:
    response = httpx.post(f"{server}/graphql", json=[{"query": PRODUCTS}] * 3, timeout=30)
    assert response.status_code == 200
    # One budget for the batch: each operation costs 11 (a search and its connection), in the order they started.
    assert response.json() == [
        {
            "data": {"products": {"totalCount": 0}},
            "extensions": {"cost": {"requested": 11, "budget": 2000, "remaining": left}},
        }
        for left in (1989, 1978, 1967)
    ]


@pytest.fixture
def production(settings: Settings, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    logs = OUTPUT / "e2e" / request.node.name
    with running_service(settings, logs, TWOFOLD_ENV="production") as base:
        yield base, logs


def test_production_turns_introspection_and_graphiql_off(production: tuple[str, Path]) -> None:
    server, _ = production
    introspection = GraphQLClient(server)("{ __schema { queryType { name } } }")
    assert introspection["data"] is None
    assert {error["extensions"]["code"] for error in introspection["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert all("introspection has been disabled" in error["message"] for error in introspection["errors"])
    page = httpx.get(f"{server}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert httpx.get(f"{server}/graphiql/graphiql.js").status_code == 404
    assert GraphQLClient(server)(PRODUCTS) == {"data": {"products": {"totalCount": 0}}}


def test_development_serves_graphiql_and_introspection(server: str) -> None:
    introspection = GraphQLClient(server)("{ __schema { queryType { name } } }")
    assert introspection == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    page = httpx.get(f"{server}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("graphiql.js", "graphiql.css", "react.js", "react-dom.js", "start.js"):
        assert httpx.get(f"{server}/graphiql/{asset}").status_code == 200, asset
