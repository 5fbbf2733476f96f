"""Automatic persisted queries over HTTP, in the messages of Apollo's protocol, and queries over GET.

Each test's queries carry a comment of their own, so that no test finds a hash another one registered.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import httpx
import psycopg

from api.settings import Settings
from tests.e2e.conftest import admin_token, bearer, module_service

# Every test reads only what it registers (queries named by a fresh comment) and writes nothing but the
# products of its own SKUs, so the module shares one API.
settings, server = module_service()

JSON = {"content-type": "application/json", "accept": "application/json"}


def outbox_rows(settings: Settings) -> int:
    with psycopg.connect(settings.database_url) as connection:
        row = connection.execute("SELECT count(*) FROM outbox").fetchone()
    assert row is not None
    return int(row[0])


def fresh(query: str) -> tuple[str, str]:
    """`query` made unique by a comment, and its SHA-256."""
    text = f"# {uuid.uuid4()}\n{query}"
    return text, hashlib.sha256(text.encode()).hexdigest()


def persisted(sha256: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


def post(server: str, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{server}/graphql", content=json.dumps(body), headers={**JSON, **(headers or {})}, timeout=30)


def get(server: str, params: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    encoded = {name: value if isinstance(value, str) else json.dumps(value) for name, value in params.items()}
    return httpx.get(f"{server}/graphql", params=encoded, headers={**JSON, **(headers or {})}, timeout=30)


def test_a_hash_the_server_does_not_hold_is_not_found_until_the_client_sends_the_query_with_it(server: str) -> None:
    query, sha256 = fresh("query Typename { __typename }")
    first = post(server, {"extensions": persisted(sha256), "operationName": "Typename"})
    assert first.status_code == 200
    assert first.json()["errors"] == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
    registered = post(server, {"query": query, "extensions": persisted(sha256), "operationName": "Typename"})
    assert registered.status_code == 200
    assert registered.json()["data"] == {"__typename": "Query"}
    again = post(server, {"extensions": persisted(sha256), "operationName": "Typename"})
    assert again.json()["data"] == {"__typename": "Query"}


def test_a_persisted_query_takes_variables_and_runs_with_the_callers_permissions(server: str) -> None:
    query, sha256 = fresh(
        "mutation Create($input: CreateProductInput!) { createProduct(input: $input) { __typename } }"
    )
    variables = {
        "input": {"sku": f"APQ-{uuid.uuid4().hex[:8]}", "name": "Kept", "brand": "B", "category": "C", "price": "2.50"}
    }
    anonymous = post(server, {"query": query, "variables": variables, "extensions": persisted(sha256)})
    assert [error["extensions"]["code"] for error in anonymous.json()["errors"]] == ["UNAUTHENTICATED"]
    by_hash = post(server, {"variables": variables, "extensions": persisted(sha256)}, bearer(admin_token()))
    assert by_hash.json()["data"] == {"createProduct": {"__typename": "ProductChanged"}}


def test_an_anonymous_query_over_get_may_be_kept_by_a_shared_cache_and_a_signed_in_one_may_not(server: str) -> None:
    query, sha256 = fresh("query Count($first: Int) { products(first: $first) { totalCount } }")
    post(server, {"query": query, "extensions": persisted(sha256)})
    anonymous = get(server, {"extensions": persisted(sha256), "variables": {"first": 1}})
    assert anonymous.status_code == 200, anonymous.text
    assert "totalCount" in anonymous.json()["data"]["products"]
    assert anonymous.headers["cache-control"] == "public, max-age=5"
    assert anonymous.headers["vary"] == "Authorization, Accept"
    signed_in = get(server, {"query": query, "variables": {"first": 1}}, bearer(admin_token()))
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.headers["cache-control"] == "private, no-store"


def test_no_cache_keeps_an_answer_with_errors_a_hash_not_found_among_them(server: str) -> None:
    _, sha256 = fresh("{ __typename }")
    missing = get(server, {"extensions": persisted(sha256)})
    assert missing.status_code == 200
    assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert missing.headers["cache-control"] == "no-store"
    refused = get(server, {"query": "{ nothing }"})
    assert refused.headers["cache-control"] == "no-store"
    assert refused.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_a_mutation_over_get_is_refused_and_runs_nothing(server: str, settings: Settings) -> None:
    written = outbox_rows(settings)
    mutation = (
        'mutation { createProduct(input: {sku: "GET-1", name: "N", brand: "B", category: "C", price: "1.00"})'
        " { __typename } }"
    )
    query, sha256 = fresh(mutation)
    post(server, {"query": "{ __typename }"})  # nothing registered: a mutation's hash would not help either
    for params in ({"query": mutation}, {"query": query, "extensions": persisted(sha256)}):
        refused = get(server, params, bearer(admin_token()))
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, POST"
        assert refused.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert outbox_rows(settings) == written


def test_a_browser_get_still_gets_graphiql(server: str) -> None:
    page = httpx.get(f"{server}/graphql", params={"query": "{ __typename }"}, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


def test_a_batch_of_hashes_is_priced_whole_before_any_of_it_runs(server: str) -> None:
    query, sha256 = fresh("{ products(first: 100) { edges { node { id name } } } }")
    post(server, {"query": query, "extensions": persisted(sha256)})
    single = post(server, {"extensions": persisted(sha256)}).json()
    cost = single["extensions"]["cost"]["requested"]
    budget = single["extensions"]["cost"]["budget"]
    over = budget // cost + 1
    answers = post(server, [{"extensions": persisted(sha256)}] * over).json()
    assert len(answers) == over
    assert {error["extensions"]["code"] for answer in answers for error in answer["errors"]} == {"COST_LIMIT_EXCEEDED"}
    assert all(answer["data"] is None for answer in answers)


def test_a_batch_mixes_held_and_unknown_hashes(server: str) -> None:
    query, sha256 = fresh("{ __typename }")
    _, unknown = fresh("{ __typename }")
    post(server, {"query": query, "extensions": persisted(sha256)})
    answers = post(server, [{"extensions": persisted(sha256)}, {"extensions": persisted(unknown)}]).json()
    assert answers[0]["data"] == {"__typename": "Query"}
    assert answers[1]["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
